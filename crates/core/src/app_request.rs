//! Signed app requests: an app proves who it is by signing each HTTP request it sends to the
//! service, instead of presenting a bearer key.
//!
//! The signed bytes are the UTF-8 text of eight lines joined by `\n` (no trailing newline):
//!
//! ```text
//! countersign/app-request/v1
//! <app id>
//! <method, as sent>
//! <path, as sent: percent-escapes untouched, below the service's root>
//! <query, as sent: the bytes after '?', or empty>
//! <timestamp: YYYY-MM-DDTHH:MM:SSZ>
//! <nonce>
//! <lowercase hex SHA-256 of the HTTP request body>
//! ```
//!
//! No field can hold a line feed (each is checked or cannot carry one in an HTTP request
//! line), so the text has one reading. The signature is HMAC-SHA256 with the app's shared
//! secret, or Ed25519 (strict verification) with the app's key, sent as base64url without
//! padding in [`HEADER_SIGNATURE`] beside [`HEADER_APP`], [`HEADER_TIMESTAMP`] and
//! [`HEADER_NONCE`].

use crate::decision::SignatureError;
use crate::encoding::{b64_decode, b64_encode, random_bytes, sha256_hex};
use crate::keys::{decode_signature, encode_signature, SigningKey, VerifyingKey};
use crate::Timestamp;
use ed25519_dalek::Signer;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// The first line of every string to sign (domain separation from decisions and sessions).
pub const APP_REQUEST_DOMAIN: &str = "countersign/app-request/v1";
/// The header naming the app that signed.
pub const HEADER_APP: &str = "countersign-app";
/// The header carrying the signing time.
pub const HEADER_TIMESTAMP: &str = "countersign-timestamp";
/// The header carrying the request's nonce.
pub const HEADER_NONCE: &str = "countersign-nonce";
/// The header carrying the signature (base64url, no padding).
pub const HEADER_SIGNATURE: &str = "countersign-signature";
/// Every signature header, in the order the SDKs send them.
pub const HEADERS: [&str; 4] = [HEADER_APP, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE];
/// How far a request's timestamp may be from the service's clock, either way.
pub const MAX_SKEW_SECS: i64 = 300;
/// Shortest nonce accepted.
pub const NONCE_MIN_LEN: usize = 16;
/// Longest nonce accepted.
pub const NONCE_MAX_LEN: usize = 64;
/// Shortest HMAC secret accepted, in bytes.
pub const MIN_HMAC_SECRET_BYTES: usize = 32;

/// A shared HMAC secret: the bytes of the configured text. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct HmacSecret(Vec<u8>);

impl HmacSecret {
    /// Wraps a secret; refused when shorter than [`MIN_HMAC_SECRET_BYTES`].
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, AppKeyError> {
        let secret = secret.into();
        if secret.len() < MIN_HMAC_SECRET_BYTES {
            return Err(AppKeyError::ShortSecret);
        }
        Ok(Self(secret))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length; this cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC accepts any key length")
    }
}

impl fmt::Debug for HmacSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacSecret([redacted])")
    }
}

/// A signing credential an app can not use.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AppKeyError {
    /// The HMAC secret is too short to resist guessing.
    #[error("an HMAC secret must be at least {MIN_HMAC_SECRET_BYTES} bytes")]
    ShortSecret,
    /// The private key is not base64url of a 32-byte Ed25519 seed.
    #[error("an Ed25519 private key is base64url (no padding) of its 32-byte seed")]
    PrivateKey,
}

/// What an app signs with.
#[derive(Clone)]
pub enum AppSigner {
    /// HMAC-SHA256 with a shared secret.
    Hmac(HmacSecret),
    /// Ed25519 with the app's private key.
    Ed25519(SigningKey),
}

impl fmt::Debug for AppSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppSigner::Hmac(_) => f.write_str("AppSigner::Hmac([redacted])"),
            AppSigner::Ed25519(_) => f.write_str("AppSigner::Ed25519([redacted])"),
        }
    }
}

/// What the service checks an app's signature with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppVerifier {
    /// HMAC-SHA256 with the shared secret.
    Hmac(HmacSecret),
    /// Ed25519 with the app's public key.
    Ed25519(VerifyingKey),
}

/// Reads an Ed25519 private key: base64url (no padding) of its 32-byte seed.
pub fn decode_private_key(text: &str) -> Result<SigningKey, AppKeyError> {
    let bytes = b64_decode(text.trim()).map_err(|_| AppKeyError::PrivateKey)?;
    let seed: [u8; 32] = bytes.try_into().map_err(|_| AppKeyError::PrivateKey)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// A nonce that may not be sent.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a nonce is {NONCE_MIN_LEN} to {NONCE_MAX_LEN} characters of A-Z, a-z, 0-9, '-' and '_'")]
pub struct NonceError;

/// Checks a nonce's form: [`NONCE_MIN_LEN`] to [`NONCE_MAX_LEN`] base64url characters.
pub fn check_nonce(nonce: &str) -> Result<(), NonceError> {
    let ok = (NONCE_MIN_LEN..=NONCE_MAX_LEN).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(()).ok_or(NonceError)
}

/// A fresh random nonce (16 bytes, 22 base64url characters).
pub fn fresh_nonce() -> String {
    b64_encode(random_bytes::<16>())
}

/// One request as it is signed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest<'a> {
    /// The app id (`[A-Za-z0-9_.-]{1,64}` in the service's configuration).
    pub app: &'a str,
    /// The HTTP method, exactly as sent.
    pub method: &'a str,
    /// The path, exactly as sent, starting with `/`.
    pub path: &'a str,
    /// The query, exactly as sent, without the `?` (empty when there is none).
    pub query: &'a str,
    /// The signing time.
    pub timestamp: Timestamp,
    /// The nonce (see [`check_nonce`]).
    pub nonce: &'a str,
    /// Lowercase hex SHA-256 of the body.
    pub body_sha256: String,
}

impl<'a> SignedRequest<'a> {
    /// The request with the SHA-256 of `body`.
    pub fn new(
        app: &'a str,
        method: &'a str,
        path: &'a str,
        query: &'a str,
        timestamp: Timestamp,
        nonce: &'a str,
        body: &[u8],
    ) -> Self {
        Self {
            app,
            method,
            path,
            query,
            timestamp,
            nonce,
            body_sha256: sha256_hex(body),
        }
    }

    /// The text that is signed (see the module docs).
    pub fn string_to_sign(&self) -> String {
        [
            APP_REQUEST_DOMAIN,
            self.app,
            self.method,
            self.path,
            self.query,
            &self.timestamp.to_string(),
            self.nonce,
            &self.body_sha256,
        ]
        .join("\n")
    }

    /// The signature by `signer`, in wire form.
    pub fn sign(&self, signer: &AppSigner) -> String {
        let text = self.string_to_sign();
        match signer {
            AppSigner::Hmac(secret) => {
                let mut mac = secret.mac();
                mac.update(text.as_bytes());
                b64_encode(mac.finalize().into_bytes())
            }
            AppSigner::Ed25519(key) => encode_signature(&key.sign(text.as_bytes())),
        }
    }

    /// The four headers to send: `(name, value)` in [`HEADERS`] order.
    pub fn headers(&self, signer: &AppSigner) -> [(&'static str, String); 4] {
        [
            (HEADER_APP, self.app.to_string()),
            (HEADER_TIMESTAMP, self.timestamp.to_string()),
            (HEADER_NONCE, self.nonce.to_string()),
            (HEADER_SIGNATURE, self.sign(signer)),
        ]
    }

    /// Checks `signature` (wire form) with `verifier`. HMAC tags are compared in constant
    /// time; Ed25519 is verified strictly.
    pub fn verify(&self, verifier: &AppVerifier, signature: &str) -> Result<(), SignatureError> {
        let text = self.string_to_sign();
        match verifier {
            AppVerifier::Hmac(secret) => {
                let tag = b64_decode(signature)
                    .map_err(|_| SignatureError::Malformed(crate::keys::KeyError::Encoding))?;
                let mut mac = secret.mac();
                mac.update(text.as_bytes());
                mac.verify_slice(&tag).map_err(|_| SignatureError::Invalid)
            }
            AppVerifier::Ed25519(key) => {
                let sig = decode_signature(signature)?;
                key.verify_strict(text.as_bytes(), &sig)
                    .map_err(|_| SignatureError::Invalid)
            }
        }
    }
}

impl AppSigner {
    /// The verifier that accepts this signer's signatures.
    pub fn verifier(&self) -> AppVerifier {
        match self {
            AppSigner::Hmac(secret) => AppVerifier::Hmac(secret.clone()),
            AppSigner::Ed25519(key) => AppVerifier::Ed25519(key.verifying_key()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::generate_signing_key;

    fn request(nonce: &str) -> SignedRequest<'_> {
        SignedRequest::new(
            "agent",
            "POST",
            "/v1/proxy",
            "",
            "2026-11-24T12:00:00Z".parse().unwrap(),
            nonce,
            b"{}",
        )
    }

    #[test]
    fn both_kinds_sign_and_verify_and_refuse_other_bytes() {
        let signers = [
            AppSigner::Hmac(HmacSecret::new([7u8; 32]).unwrap()),
            AppSigner::Ed25519(generate_signing_key()),
        ];
        for signer in signers {
            let req = request("nonce-0123456789ab");
            let sig = req.sign(&signer);
            assert_eq!(req.verify(&signer.verifier(), &sig), Ok(()));
            let other = request("nonce-0123456789ac");
            assert_eq!(
                other.verify(&signer.verifier(), &sig),
                Err(SignatureError::Invalid)
            );
            assert!(req.verify(&signer.verifier(), "not base64!").is_err());
            assert!(req.verify(&signer.verifier(), "").is_err());
        }
    }

    #[test]
    fn the_string_to_sign_has_eight_lines() {
        let text = request("nonce-0123456789ab").string_to_sign();
        assert_eq!(
            text,
            "countersign/app-request/v1\nagent\nPOST\n/v1/proxy\n\n2026-11-24T12:00:00Z\nnonce-0123456789ab\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn nonces_and_secrets_are_checked() {
        assert!(check_nonce(&fresh_nonce()).is_ok());
        assert!(check_nonce(&"a".repeat(NONCE_MIN_LEN)).is_ok());
        assert!(check_nonce(&"a".repeat(NONCE_MAX_LEN)).is_ok());
        for bad in [
            "a".repeat(NONCE_MIN_LEN - 1),
            "a".repeat(NONCE_MAX_LEN + 1),
            "abcdefghijklmnop\n".into(),
            "abcdefghijklmnop=".into(),
            "abcdefghijklmno p".into(),
            "abcdefghijklmnopé".into(),
        ] {
            assert_eq!(check_nonce(&bad), Err(NonceError), "{bad:?}");
        }
        assert_eq!(HmacSecret::new([0u8; 31]), Err(AppKeyError::ShortSecret));
        assert!(decode_private_key(&b64_encode([1u8; 32])).is_ok());
        assert!(decode_private_key(&b64_encode([1u8; 31])).is_err());
        let shown = format!(
            "{:?} {:?}",
            HmacSecret::new(*b"a-very-secret-value-of-32-bytes!").unwrap(),
            AppSigner::Ed25519(generate_signing_key())
        );
        assert!(!shown.contains("secret-value"), "{shown}");
    }
}
