//! Pairing a device with a service: [`Pairing`] records the result (no secrets), and
//! [`ApproverClient::preview`] / [`ApproverClient::pair`] talk to `POST /v1/pair/preview` and
//! `POST /v1/pair`.
//!
//! The caller generates and keeps the device key; this crate never stores it. The headless
//! approver writes it to a [`KeyFile`](crate::KeyFile); the desktop Wallet keeps it in the OS
//! keychain.

use crate::client::{read_json, ApproverClient};
use crate::error::ApproverError;
use countersign_core::api::{PairPreview, PairPreviewRequest, PairResponse};
use countersign_core::keys::{key_id_for, SigningKey, VerifyingKey};
use countersign_core::pairing::signed_pair_request;
use countersign_core::{DeepLink, ServerUrl};
use serde::{Deserialize, Serialize};

/// What a device knows about the service it is paired with. Contains no secrets.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pairing {
    /// The service's base URL.
    pub server: ServerUrl,
    /// The service's id; every statement this device signs for must name it.
    pub service_id: String,
    /// The approver the device belongs to.
    pub approver_id: String,
    /// The approver's display name.
    pub approver_name: String,
    /// The id the service gave this device's key.
    pub key_id: String,
}

impl Pairing {
    /// Checks a pairing the service answered against what the device knows: its key id must be
    /// the id of `key` (the key the device registered), and its service and approver those
    /// of `preview` (what the person confirmed). Anything else is
    /// [`ApproverError::PairingMismatch`], and the pairing must not be stored.
    pub fn check_against(
        &self,
        preview: &PairPreview,
        key: &VerifyingKey,
    ) -> Result<(), ApproverError> {
        let checks = [
            ("key_id", key_id_for(key), &self.key_id),
            ("service_id", preview.service_id.clone(), &self.service_id),
            (
                "approver_id",
                preview.approver_id.clone(),
                &self.approver_id,
            ),
        ];
        for (field, expected, got) in checks {
            if &expected != got {
                return Err(ApproverError::PairingMismatch {
                    field,
                    expected,
                    got: got.clone(),
                });
            }
        }
        Ok(())
    }

    /// The pairing recorded from the service's answer to `POST /v1/pair`.
    pub fn from_response(server: ServerUrl, answer: PairResponse) -> Self {
        Self {
            server,
            service_id: answer.service_id,
            approver_id: answer.approver_id,
            approver_name: answer.approver_name,
            key_id: answer.key_id,
        }
    }
}

impl ApproverClient {
    /// Who `code` would pair this device as, without using the code up
    /// (`POST {server}/v1/pair/preview`). Plain `http://` is refused unless the server is a
    /// loopback address ([`ApproverError::InsecureServer`]).
    pub async fn preview(
        http: &reqwest::Client,
        server: &ServerUrl,
        code: &str,
    ) -> Result<PairPreview, ApproverError> {
        server.require_secure_transport()?;
        let answer = http
            .post(server.endpoint("/v1/pair/preview"))
            .json(&PairPreviewRequest {
                code: code.to_string(),
            })
            .send()
            .await?;
        read_json(answer).await
    }

    /// Previews `code` ([`preview`](Self::preview)), then registers `key`'s public half with
    /// it ([`pair_previewed`](Self::pair_previewed)).
    pub async fn pair(
        http: &reqwest::Client,
        server: &ServerUrl,
        code: &str,
        device_name: &str,
        key: &SigningKey,
    ) -> Result<Pairing, ApproverError> {
        let preview = Self::preview(http, server, code).await?;
        Self::pair_previewed(http, server, code, &preview, device_name, key).await
    }

    /// Registers `key`'s public half with the service using the one-time `code`
    /// (`POST {server}/v1/pair`), for the service `preview` (the answer to
    /// [`preview`](Self::preview) of the same code, as shown to the person) named.
    ///
    /// The request carries the key's proof of possession over the code, the public key and
    /// the preview's `service_id` ([`countersign_core::pairing`]). The answer must name this
    /// key's id and the preview's service and approver, else
    /// [`ApproverError::PairingMismatch`]. Plain `http://` is refused unless the server is a
    /// loopback address. The code is used up even if the caller then fails to store the key,
    /// so store the key before relying on the pairing.
    pub async fn pair_previewed(
        http: &reqwest::Client,
        server: &ServerUrl,
        code: &str,
        preview: &PairPreview,
        device_name: &str,
        key: &SigningKey,
    ) -> Result<Pairing, ApproverError> {
        server.require_secure_transport()?;
        let answer = http
            .post(server.endpoint("/v1/pair"))
            .json(&signed_pair_request(
                key,
                code,
                &preview.service_id,
                device_name,
            ))
            .send()
            .await?;
        let answer: PairResponse = read_json(answer).await?;
        let pairing = Pairing::from_response(server.clone(), answer);
        pairing.check_against(preview, &key.verifying_key())?;
        Ok(pairing)
    }

    /// [`pair`](Self::pair) with the server and code of a `countersign://pair` link; any other
    /// link is refused with [`ApproverError::WrongLink`].
    pub async fn pair_link(
        http: &reqwest::Client,
        link: &DeepLink,
        device_name: &str,
        key: &SigningKey,
    ) -> Result<Pairing, ApproverError> {
        match link {
            DeepLink::Pair { server, code } => {
                Self::pair(http, server, code, device_name, key).await
            }
            DeepLink::Approval { .. } => Err(ApproverError::WrongLink(
                "this is an approval link, not a pairing link".to_string(),
            )),
        }
    }
}
