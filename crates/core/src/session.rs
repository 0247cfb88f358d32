//! The Wallet's session signature: a device key signs a service nonce.
//!
//! Signed bytes: `"countersign/session/v1\n"` followed by the nonce string as sent.

use crate::decision::SignatureError;
use crate::keys::{decode_signature, encode_signature, SigningKey, VerifyingKey};
use ed25519_dalek::Signer;

/// Domain separation prefix of session signatures.
pub const SESSION_DOMAIN: &[u8] = b"countersign/session/v1\n";

fn signing_input(nonce: &str) -> Vec<u8> {
    let mut out = SESSION_DOMAIN.to_vec();
    out.extend_from_slice(nonce.as_bytes());
    out
}

/// Signs a session nonce; returns the wire form of the signature.
pub fn sign_nonce(key: &SigningKey, nonce: &str) -> String {
    encode_signature(&key.sign(&signing_input(nonce)))
}

/// Verifies a session signature over `nonce` (strict Ed25519).
pub fn verify_nonce(
    key: &VerifyingKey,
    nonce: &str,
    signature: &str,
) -> Result<(), SignatureError> {
    let sig = decode_signature(signature)?;
    key.verify_strict(&signing_input(nonce), &sig)
        .map_err(|_| SignatureError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::generate_signing_key;

    #[test]
    fn nonce_signature_verifies_and_is_not_a_decision_signature() {
        let key = generate_signing_key();
        let sig = sign_nonce(&key, "nonce-1");
        assert_eq!(verify_nonce(&key.verifying_key(), "nonce-1", &sig), Ok(()));
        assert_eq!(
            verify_nonce(&key.verifying_key(), "nonce-2", &sig),
            Err(SignatureError::Invalid)
        );
        // Domains differ, so a session signature never passes as a decision signature.
        assert!(!signing_input("x").starts_with(crate::decision::DECISION_DOMAIN));
    }
}
