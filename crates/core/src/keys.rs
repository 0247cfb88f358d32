//! Ed25519 device keys: generation, the wire form of public keys, and key ids.

use crate::encoding::{b64_decode, b64_encode, random_bytes, sha256_hex};
pub use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

/// A public key or signature that is not valid on the wire.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// Not base64url without padding.
    #[error("not base64url")]
    Encoding,
    /// Wrong length or not a valid curve point.
    #[error("not a valid Ed25519 public key")]
    PublicKey,
    /// Wrong length for an Ed25519 signature.
    #[error("not a valid Ed25519 signature")]
    Signature,
}

/// A fresh key pair from the operating system's random source.
pub fn generate_signing_key() -> SigningKey {
    SigningKey::from_bytes(&random_bytes::<32>())
}

/// The wire form of a public key: base64url of its 32 bytes.
pub fn encode_public_key(key: &VerifyingKey) -> String {
    b64_encode(key.as_bytes())
}

/// Parses the wire form of a public key; weak (small-order) keys are refused.
pub fn decode_public_key(text: &str) -> Result<VerifyingKey, KeyError> {
    let bytes = b64_decode(text).map_err(|_| KeyError::Encoding)?;
    let array: [u8; 32] = bytes.try_into().map_err(|_| KeyError::PublicKey)?;
    let key = VerifyingKey::from_bytes(&array).map_err(|_| KeyError::PublicKey)?;
    if key.is_weak() {
        return Err(KeyError::PublicKey);
    }
    Ok(key)
}

/// The wire form of a signature: base64url of its 64 bytes.
pub fn encode_signature(sig: &Signature) -> String {
    b64_encode(sig.to_bytes())
}

/// Parses the wire form of a signature.
pub fn decode_signature(text: &str) -> Result<Signature, KeyError> {
    let bytes = b64_decode(text).map_err(|_| KeyError::Encoding)?;
    let array: [u8; 64] = bytes.try_into().map_err(|_| KeyError::Signature)?;
    Ok(Signature::from_bytes(&array))
}

/// The id the service gives a device key: `key_` and the first 16 hex digits of SHA-256(key).
pub fn key_id_for(key: &VerifyingKey) -> String {
    format!("key_{}", &sha256_hex(key.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_round_trip_and_garbage_is_refused() {
        let key = generate_signing_key().verifying_key();
        let text = encode_public_key(&key);
        assert_eq!(decode_public_key(&text).unwrap(), key);
        assert_eq!(decode_public_key("AAAA"), Err(KeyError::PublicKey));
        assert_eq!(decode_public_key("not base64!"), Err(KeyError::Encoding));
        // The identity point is a small-order key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            decode_public_key(&b64_encode(identity)),
            Err(KeyError::PublicKey)
        );
    }

    #[test]
    fn key_ids_are_stable_and_distinct() {
        let a = generate_signing_key().verifying_key();
        let b = generate_signing_key().verifying_key();
        assert_eq!(key_id_for(&a), key_id_for(&a));
        assert_ne!(key_id_for(&a), key_id_for(&b));
        assert_eq!(key_id_for(&a).len(), 20);
    }
}
