//! [`Credentials`]: how a [`Client`](crate::Client) proves which app it is — a bearer API key,
//! or a signature over every request (HMAC-SHA256 with a shared secret, or Ed25519).
//!
//! A signed request carries `countersign-app`, `countersign-timestamp`, `countersign-nonce`
//! and `countersign-signature` (see `countersign_core::app_request` and the protocol
//! reference's "Signed app requests"). The path signed is the request's path below the
//! client's base URL (what the service sees when a proxy in front strips a prefix), the query
//! as sent, the current time and a fresh nonce; each retry of a poll is signed anew.

use crate::error::Error;
use countersign_core::app_request::{
    decode_private_key, fresh_nonce, AppSigner, HmacSecret, SignedRequest,
};
use countersign_core::Timestamp;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};
use std::fmt;
use url::Url;

/// How the client authenticates. Never printed.
#[derive(Clone)]
pub struct Credentials(pub(crate) Auth);

#[derive(Clone)]
pub(crate) enum Auth {
    /// The ready `Authorization: Bearer …` header (marked sensitive).
    Bearer(HeaderValue),
    /// Signs every request as `app` (boxed: an Ed25519 key is large).
    Signed { app: String, signer: Box<AppSigner> },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Auth::Bearer(_) => f.write_str("ApiKey(<redacted>)"),
            Auth::Signed { app, signer } => {
                let kind = match signer.as_ref() {
                    AppSigner::Hmac(_) => "Hmac",
                    AppSigner::Ed25519(_) => "Ed25519",
                };
                write!(f, "{kind}(app: {app:?}, key: <redacted>)")
            }
        }
    }
}

impl Credentials {
    /// A bearer API key (`[[app]] api_key_env` / `api_key_sha256` on the service).
    pub fn api_key(key: impl Into<String>) -> Result<Self, Error> {
        let key = key.into();
        if key.trim().is_empty() {
            return Err(Error::InvalidRequest("API key is empty".into()));
        }
        let mut header = HeaderValue::try_from(format!("Bearer {key}")).map_err(|_| {
            Error::InvalidRequest("API key contains characters not allowed in a header".into())
        })?;
        header.set_sensitive(true);
        Ok(Self(Auth::Bearer(header)))
    }

    /// Signs as `app` with HMAC-SHA256 and the shared `secret` (`[[app]] auth = "hmac"`; the
    /// secret is the bytes of the service's `secret_env` value, at least 32).
    pub fn hmac(app: impl Into<String>, secret: impl Into<Vec<u8>>) -> Result<Self, Error> {
        let secret = HmacSecret::new(secret).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        Self::signed(app.into(), AppSigner::Hmac(secret))
    }

    /// Signs as `app` with Ed25519 (`[[app]] auth = "ed25519"`); `private_key` is base64url
    /// (no padding) of the 32-byte seed whose public key the service's config holds.
    pub fn ed25519(app: impl Into<String>, private_key: &str) -> Result<Self, Error> {
        let key =
            decode_private_key(private_key).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        Self::signed(app.into(), AppSigner::Ed25519(key))
    }

    fn signed(app: String, signer: AppSigner) -> Result<Self, Error> {
        let ok = (1..=64).contains(&app.len())
            && app
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !ok {
            return Err(Error::InvalidRequest(format!(
                "app id {app:?} is not 1 to 64 characters from A-Z, a-z, 0-9, '_', '.' and '-'"
            )));
        }
        Ok(Self(Auth::Signed {
            app,
            signer: Box::new(signer),
        }))
    }

    /// Adds the credentials to `request`, a request to a URL below `base`.
    pub(crate) fn apply(&self, request: &mut reqwest::Request, base: &Url) -> Result<(), Error> {
        match &self.0 {
            Auth::Bearer(header) => {
                request.headers_mut().insert(AUTHORIZATION, header.clone());
                Ok(())
            }
            Auth::Signed { app, signer } => {
                sign(request, base, app, signer, Timestamp::now(), &fresh_nonce())
            }
        }
    }
}

/// Signs `request` as `app` at `timestamp` with `nonce`.
pub(crate) fn sign(
    request: &mut reqwest::Request,
    base: &Url,
    app: &str,
    signer: &AppSigner,
    timestamp: Timestamp,
    nonce: &str,
) -> Result<(), Error> {
    let url = request.url();
    let path = url
        .path()
        .strip_prefix(base.path())
        .filter(|_| url.origin() == base.origin())
        .ok_or_else(|| Error::InvalidRequest(format!("{url} is not below {base}")))?;
    let path = format!("/{path}");
    let query = url.query().unwrap_or("").to_string();
    let body = match request.body() {
        None => &[][..],
        Some(body) => body
            .as_bytes()
            .ok_or_else(|| Error::InvalidRequest("a streamed body cannot be signed".into()))?,
    };
    let method = request.method().as_str().to_string();
    let signed = SignedRequest::new(app, &method, &path, &query, timestamp, nonce, body);
    for (name, value) in signed.headers(signer) {
        let value = HeaderValue::try_from(value)
            .map_err(|_| Error::InvalidRequest(format!("{name} is not a header value")))?;
        request
            .headers_mut()
            .insert(HeaderName::from_static(name), value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use countersign_core::encoding::b64_decode;
    use std::collections::BTreeMap;

    #[derive(serde::Deserialize)]
    struct Vector {
        name: String,
        app: String,
        method: String,
        path: String,
        query: String,
        timestamp: String,
        nonce: String,
        body: String,
        secret: Option<String>,
        private_key: Option<String>,
        headers: BTreeMap<String, String>,
    }

    fn vectors() -> Vec<Vector> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/app-signing.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// The SDK's signer, from a real reqwest request to a base URL with and without a path
    /// prefix, sends exactly the headers of every vector.
    #[test]
    fn signs_every_vector_as_the_independent_implementation() {
        let vectors = vectors();
        assert!(!vectors.is_empty());
        for v in vectors {
            let credentials = match (&v.secret, &v.private_key) {
                (Some(secret), None) => Credentials::hmac(&v.app, secret.as_bytes()).unwrap(),
                (None, Some(key)) => Credentials::ed25519(&v.app, key).unwrap(),
                _ => panic!("{}: one of secret and private_key", v.name),
            };
            let Auth::Signed { app, signer } = &credentials.0 else {
                panic!("signed credentials");
            };
            for base in [
                "https://cs.example.com/",
                "https://cs.example.com/behind/a/proxy/",
            ] {
                let base = Url::parse(base).unwrap();
                let mut url = base.join(&v.path[1..]).unwrap();
                url.set_query((!v.query.is_empty()).then_some(v.query.as_str()));
                let method = reqwest::Method::from_bytes(v.method.as_bytes()).unwrap();
                let client = reqwest::Client::new();
                let body = b64_decode(&v.body).unwrap();
                let mut builder = client.request(method, url);
                if !body.is_empty() {
                    builder = builder.body(body);
                }
                let mut request = builder.build().unwrap();
                let ts = v.timestamp.parse().unwrap();
                sign(&mut request, &base, app, signer, ts, &v.nonce).unwrap();
                let sent: BTreeMap<String, String> = request
                    .headers()
                    .iter()
                    .filter(|(n, _)| n.as_str().starts_with("countersign-"))
                    .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
                    .collect();
                assert_eq!(sent, v.headers, "{} at {base}", v.name);
                assert!(request.headers().get(AUTHORIZATION).is_none());
            }
        }
    }

    #[test]
    fn bad_credentials_are_refused_and_never_printed() {
        assert!(Credentials::hmac("app", "short").is_err());
        assert!(Credentials::hmac("bad app", [1u8; 32]).is_err());
        assert!(Credentials::hmac("", [1u8; 32]).is_err());
        assert!(Credentials::ed25519("app", "not a key").is_err());
        assert!(Credentials::api_key(" ").is_err());
        let secret = "a-secret-of-at-least-thirty-two-bytes";
        let shown = format!("{:?}", Credentials::hmac("app", secret).unwrap());
        assert!(!shown.contains(secret), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn a_url_outside_the_base_is_not_signed() {
        let base = Url::parse("https://cs.example.com/prefix/").unwrap();
        let mut request = reqwest::Client::new()
            .get("https://other.example.com/prefix/v1/proxy")
            .build()
            .unwrap();
        let signer = AppSigner::Hmac(HmacSecret::new([1u8; 32]).unwrap());
        let nonce = fresh_nonce();
        assert!(sign(
            &mut request,
            &base,
            "app",
            &signer,
            Timestamp::now(),
            &nonce
        )
        .is_err());
    }
}
