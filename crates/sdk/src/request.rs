//! [`ProxyRequest`]: the call an app asks Countersign to make with a grant.

use crate::error::Error;
use countersign_core::api::ProxyRequestBody;
use serde::Serialize;
use std::collections::BTreeMap;

/// An HTTP call to make through a grant (`POST /v1/proxy`).
///
/// The grant names the upstream and holds the secret; the app never sees it. `path` is
/// relative to the grant's base URL. Headers must not carry credentials: the service injects
/// the grant's secret itself.
///
/// ```
/// use countersign_sdk::ProxyRequest;
///
/// let request = ProxyRequest::post("stripe", "/v1/refunds", "Refund order #1042")
///     .json(&serde_json::json!({"charge": "ch_123", "amount": 1500}))?
///     .header("stripe-version", "2024-06-20")
///     .query("expand", "charge");
/// assert_eq!(request.headers["content-type"], "application/json");
/// # Ok::<(), countersign_sdk::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRequest {
    /// The grant (upstream and secret) to use.
    pub grant: String,
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Path below the grant's base URL, starting with `/`.
    pub path: String,
    /// Query parameters (appended in name order).
    pub query: BTreeMap<String, String>,
    /// Extra request headers (never credentials).
    pub headers: BTreeMap<String, String>,
    /// Request body.
    pub body: Option<Vec<u8>>,
    /// Why the app needs this call; shown to the approver.
    pub reason: String,
}

impl ProxyRequest {
    /// A request without query, headers or body.
    pub fn new(
        grant: impl Into<String>,
        method: impl Into<String>,
        path: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            grant: grant.into(),
            method: method.into(),
            path: path.into(),
            query: BTreeMap::new(),
            headers: BTreeMap::new(),
            body: None,
            reason: reason.into(),
        }
    }

    /// A `GET` request.
    pub fn get(
        grant: impl Into<String>,
        path: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::new(grant, "GET", path, reason)
    }

    /// A `POST` request.
    pub fn post(
        grant: impl Into<String>,
        path: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::new(grant, "POST", path, reason)
    }

    /// A `PUT` request.
    pub fn put(
        grant: impl Into<String>,
        path: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::new(grant, "PUT", path, reason)
    }

    /// A `PATCH` request.
    pub fn patch(
        grant: impl Into<String>,
        path: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::new(grant, "PATCH", path, reason)
    }

    /// A `DELETE` request.
    pub fn delete(
        grant: impl Into<String>,
        path: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::new(grant, "DELETE", path, reason)
    }

    /// Sets the body to `value` as JSON and the `content-type` header to `application/json`.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Result<Self, Error> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| Error::InvalidRequest(format!("body is not serialisable as JSON: {e}")))?;
        self.body = Some(bytes);
        self.headers
            .insert("content-type".to_string(), "application/json".to_string());
        Ok(self)
    }

    /// Sets the raw body (set a `content-type` with [`header`](Self::header)).
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = Some(bytes.into());
        self
    }

    /// Adds a header (the name is stored lower-case; a second value replaces the first).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers
            .insert(name.into().to_ascii_lowercase(), value.into());
        self
    }

    /// Adds a query parameter (a second value replaces the first).
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.insert(name.into(), value.into());
        self
    }

    /// Checks what can be checked locally and builds the wire body.
    pub(crate) fn into_body(self) -> Result<ProxyRequestBody, Error> {
        self.validate()?;
        Ok(ProxyRequestBody {
            grant: self.grant,
            method: self.method,
            path: self.path,
            query: self.query,
            headers: self.headers,
            body: self.body,
            reason: self.reason,
        })
    }

    fn validate(&self) -> Result<(), Error> {
        let invalid = |m: String| Err(Error::InvalidRequest(m));
        if self.grant.trim().is_empty() {
            return invalid("grant is empty".into());
        }
        if self.method.is_empty() || !self.method.bytes().all(is_token_byte) {
            return invalid(format!("method {:?} is not an HTTP method", self.method));
        }
        if !self.path.starts_with('/') {
            return invalid(format!("path {:?} must start with '/'", self.path));
        }
        if self.path.chars().any(char::is_control) {
            return invalid("path contains control characters".into());
        }
        if self.reason.trim().is_empty() {
            return invalid("reason is empty; the approver needs to know why".into());
        }
        for (name, value) in &self.headers {
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return invalid(format!("header name {name:?} is not valid"));
            }
            if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return invalid(format!("header {name:?} has a line break in its value"));
            }
        }
        Ok(())
    }
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_fill_the_wire_body() {
        let body = ProxyRequest::post("gh", "/repos/x/issues", "open an issue")
            .json(&serde_json::json!({"title": "hi"}))
            .unwrap()
            .header("X-Trace", "1")
            .query("per_page", "10")
            .into_body()
            .unwrap();
        assert_eq!(body.method, "POST");
        assert_eq!(body.headers["x-trace"], "1");
        assert_eq!(body.headers["content-type"], "application/json");
        assert_eq!(body.query["per_page"], "10");
        assert_eq!(body.body.as_deref(), Some(&br#"{"title":"hi"}"#[..]));
    }

    #[test]
    fn obvious_mistakes_are_refused_locally() {
        let ok = ProxyRequest::get("gh", "/user", "who am I");
        assert!(ok.clone().into_body().is_ok());
        let bad = [
            ProxyRequest {
                grant: " ".into(),
                ..ok.clone()
            },
            ProxyRequest {
                method: "GE T".into(),
                ..ok.clone()
            },
            ProxyRequest {
                path: "user".into(),
                ..ok.clone()
            },
            ProxyRequest {
                reason: String::new(),
                ..ok.clone()
            },
            ok.clone().header("bad name", "x"),
            ok.clone().header("x-ok", "a\r\nb: c"),
        ];
        for request in bad {
            assert!(
                matches!(request.clone().into_body(), Err(Error::InvalidRequest(_))),
                "{request:?} was accepted"
            );
        }
    }
}
