//! Wire encodings: base64url without padding for binary, lowercase hex for digests.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Encodes bytes as base64url without padding.
pub fn b64_encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; padding or the standard alphabet are refused.
pub fn b64_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(text)
}

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    hex::encode(Sha256::digest(bytes.as_ref()))
}

/// `n` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).expect("the operating system's random source failed");
    out
}

/// A random token of 32 bytes, base64url encoded (pairing codes, session tokens, nonces).
pub fn random_token() -> String {
    b64_encode(random_bytes::<32>())
}

/// Serde adapter for `Vec<u8>` fields carried as base64url strings.
pub mod b64_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes bytes as base64url.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::b64_encode(bytes))
    }

    /// Deserializes base64url into bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        super::b64_decode(&text)
            .map_err(|e| serde::de::Error::custom(format!("invalid base64url: {e}")))
    }
}

/// Serde adapter for `Option<Vec<u8>>` fields carried as base64url strings.
pub mod b64_bytes_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes optional bytes as base64url or null.
    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_str(&super::b64_encode(b)),
            None => s.serialize_none(),
        }
    }

    /// Deserializes optional base64url into bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => super::b64_decode(&text)
                .map(Some)
                .map_err(|e| serde::de::Error::custom(format!("invalid base64url: {e}"))),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_has_no_padding_and_refuses_it() {
        assert_eq!(b64_encode(b"ab"), "YWI");
        assert_eq!(b64_decode("YWI").unwrap(), b"ab");
        assert!(b64_decode("YWI=").is_err());
        assert!(b64_decode("a+b/").is_err());
    }

    #[test]
    fn sha256_of_empty_input_is_the_known_digest() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 43);
    }
}
