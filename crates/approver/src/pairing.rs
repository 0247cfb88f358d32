//! Pairing a device with a service: [`Pairing`] records the result (no secrets), and
//! [`ApproverClient::preview`] / [`ApproverClient::pair`] talk to `POST /v1/pair/preview` and
//! `POST /v1/pair`.
//!
//! The caller generates and keeps the device key; this crate never stores it. The headless
//! approver writes it to a [`KeyFile`](crate::KeyFile); the desktop Wallet keeps it in the OS
//! keychain.

use crate::client::{read_json, ApproverClient};
use crate::error::ApproverError;
use countersign_core::api::{PairPreview, PairPreviewRequest, PairRequest, PairResponse};
use countersign_core::keys::{encode_public_key, SigningKey};
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
    /// (`POST {server}/v1/pair/preview`).
    pub async fn preview(
        http: &reqwest::Client,
        server: &ServerUrl,
        code: &str,
    ) -> Result<PairPreview, ApproverError> {
        let answer = http
            .post(server.endpoint("/v1/pair/preview"))
            .json(&PairPreviewRequest {
                code: code.to_string(),
            })
            .send()
            .await?;
        read_json(answer).await
    }

    /// Registers `key`'s public half with the service using the one-time `code`
    /// (`POST {server}/v1/pair`). The code is used up even if the caller then fails to store
    /// the key, so store the key before relying on the pairing.
    pub async fn pair(
        http: &reqwest::Client,
        server: &ServerUrl,
        code: &str,
        device_name: &str,
        key: &SigningKey,
    ) -> Result<Pairing, ApproverError> {
        let answer = http
            .post(server.endpoint("/v1/pair"))
            .json(&PairRequest {
                code: code.to_string(),
                public_key: encode_public_key(&key.verifying_key()),
                device_name: device_name.to_string(),
            })
            .send()
            .await?;
        let answer: PairResponse = read_json(answer).await?;
        Ok(Pairing::from_response(server.clone(), answer))
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
