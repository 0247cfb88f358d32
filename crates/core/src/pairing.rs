//! Proof of possession at pairing: the new device key signs the pairing request, so a device
//! can only register a public key whose private half it holds, and the signature binds the
//! one-time code to the service the device previewed.
//!
//! Signed bytes: `"countersign/pair/v1\n"` followed by the JCS form of
//! `{code, public_key, service_id}`: the code as sent, the public key in its wire form (as
//! sent in the request) and the `service_id` that `POST /v1/pair/preview` returned.

use crate::api::PairRequest;
use crate::decision::SignatureError;
use crate::jcs;
use crate::keys::{
    decode_signature, encode_public_key, encode_signature, SigningKey, VerifyingKey,
};
use ed25519_dalek::Signer;
use serde::Serialize;

/// Domain separation prefix of pairing signatures.
pub const PAIR_DOMAIN: &[u8] = b"countersign/pair/v1\n";

/// The object a pairing signature covers.
#[derive(Serialize)]
struct PairProof<'a> {
    code: &'a str,
    public_key: &'a str,
    service_id: &'a str,
}

/// The bytes a pairing signature covers.
pub fn signing_input(code: &str, public_key: &str, service_id: &str) -> Vec<u8> {
    let mut out = PAIR_DOMAIN.to_vec();
    out.extend(
        jcs::to_canonical_bytes(&PairProof {
            code,
            public_key,
            service_id,
        })
        .expect("three strings always serialize"),
    );
    out
}

/// A `POST /v1/pair` body for `key`, signed by it, for the service `service_id` (the one the
/// preview of `code` named).
pub fn signed_pair_request(
    key: &SigningKey,
    code: &str,
    service_id: &str,
    device_name: &str,
) -> PairRequest {
    let public_key = encode_public_key(&key.verifying_key());
    let signature = encode_signature(&key.sign(&signing_input(code, &public_key, service_id)));
    PairRequest {
        code: code.to_string(),
        public_key,
        device_name: device_name.to_string(),
        service_id: service_id.to_string(),
        signature,
    }
}

/// Verifies the request's signature by `key` (the request's `public_key`, decoded) over its
/// code, public key and service id (strict Ed25519).
pub fn verify_pair_request(req: &PairRequest, key: &VerifyingKey) -> Result<(), SignatureError> {
    let sig = decode_signature(&req.signature)?;
    key.verify_strict(
        &signing_input(&req.code, &req.public_key, &req.service_id),
        &sig,
    )
    .map_err(|_| SignatureError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{decode_public_key, generate_signing_key};

    const CODE: &str = "abcdefghijklmnop_-12";

    #[test]
    fn a_pairing_signature_verifies_only_for_its_code_key_and_service() {
        let key = generate_signing_key();
        let req = signed_pair_request(&key, CODE, "svc_0011223344556677", "laptop");
        let public = decode_public_key(&req.public_key).unwrap();
        assert_eq!(public, key.verifying_key());
        assert_eq!(verify_pair_request(&req, &public), Ok(()));

        let other = generate_signing_key().verifying_key();
        assert_eq!(
            verify_pair_request(&req, &other),
            Err(SignatureError::Invalid)
        );
        let mut moved = req.clone();
        moved.service_id = "svc_ffffffffffffffff".into();
        assert_eq!(
            verify_pair_request(&moved, &public),
            Err(SignatureError::Invalid)
        );
        let mut recoded = req.clone();
        recoded.code = "abcdefghijklmnop_-13".into();
        assert_eq!(
            verify_pair_request(&recoded, &public),
            Err(SignatureError::Invalid)
        );
        // The device name is not signed: it is a label, shown in the audit log only.
        let mut renamed = req.clone();
        renamed.device_name = "phone".into();
        assert_eq!(verify_pair_request(&renamed, &public), Ok(()));
        let mut garbled = req;
        garbled.signature = "short".into();
        assert!(matches!(
            verify_pair_request(&garbled, &public),
            Err(SignatureError::Malformed(_))
        ));
    }

    #[test]
    fn signing_input_is_the_domain_and_jcs() {
        assert_eq!(
            signing_input("c", "k", "s"),
            b"countersign/pair/v1\n{\"code\":\"c\",\"public_key\":\"k\",\"service_id\":\"s\"}"
        );
        // Other domains never overlap.
        assert!(!signing_input("c", "k", "s").starts_with(crate::session::SESSION_DOMAIN));
        assert!(!signing_input("c", "k", "s").starts_with(crate::decision::DECISION_DOMAIN));
    }
}
