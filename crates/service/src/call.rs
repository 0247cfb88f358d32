//! Checking an app's requested call and resolving it against its grant.
//!
//! Only the service injects secrets: credentials and hop-by-hop headers from the app are
//! refused. Policy rules see only the method and the path, so the path must have one spelling
//! (see [`path`]) and headers or query parameters that can change the method or route the
//! provider sees are refused. The path can only extend the grant's base URL.

use crate::config::GrantConfig;
use crate::error::{ApiError, ErrorCode};
use countersign_core::api::ProxyRequestBody;
use std::collections::BTreeMap;
use url::Url;

mod path;

/// Checks that `path` has one spelling, so policy rules see what the provider sees.
pub fn check_path(path: &str) -> Result<(), ApiError> {
    path::check_path(path)
}

/// The most bytes a reason may have.
pub const MAX_REASON_BYTES: usize = 16 * 1024;
/// The most headers an app may pass.
pub const MAX_HEADERS: usize = 64;
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Headers an app may never set: credentials and framing.
const FORBIDDEN_HEADERS: [&str; 13] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "host",
    "idempotency-key",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "expect",
];

/// Headers an app may never set because the provider, or a proxy or framework in front of it,
/// may take the method or route from them instead of the request line: policy rules see only
/// the method and path, so these would let a call escape a rule.
const ROUTING_HEADERS: [&str; 12] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-original-method",
    "x-original-url",
    "x-rewrite-url",
    "x-override-url",
    "x-envoy-original-path",
    "x-real-ip",
    "x-host",
    "forwarded",
    "via",
];
/// Every header with this prefix is a routing header (`x-forwarded-prefix`, `-proto`, …).
const ROUTING_HEADER_PREFIX: &str = "x-forwarded-";

/// Query parameters (compared trimmed and case-insensitively) that frameworks read as the
/// method, for the same reason as [`ROUTING_HEADERS`].
const ROUTING_QUERY_PARAMETERS: [&str; 4] = [
    "_method",
    "_httpmethod",
    "x-http-method-override",
    "x-method-override",
];

/// A checked call, ready to become a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedCall {
    /// Upper-case method.
    pub method: String,
    /// The path as given (for policy rules).
    pub path: String,
    /// The resolved upstream URL.
    pub url: Url,
    /// Lower-case header names.
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
    /// The reason, trimmed.
    pub reason: String,
}

/// Checks `req` against `grant`; `max_body` caps the decoded body.
pub fn check(
    req: &ProxyRequestBody,
    grant: &GrantConfig,
    max_body: usize,
) -> Result<CheckedCall, ApiError> {
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MissingReason,
            "a concrete reason is required",
        ));
    }
    if reason.len() > MAX_REASON_BYTES {
        return Err(ApiError::new(
            ErrorCode::ReasonTooLong,
            format!("the reason is over {MAX_REASON_BYTES} bytes"),
        ));
    }
    let method = req.method.to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(ApiError::new(
            ErrorCode::InvalidMethod,
            format!(
                "method {:?} is not one of {}",
                req.method,
                METHODS.join(", ")
            ),
        ));
    }
    path::check_path(&req.path)?;
    let body = req.body.clone().unwrap_or_default();
    if body.len() > max_body {
        return Err(ApiError::new(
            ErrorCode::BodyTooLarge,
            format!("the body is over {max_body} bytes"),
        ));
    }
    let headers = check_headers(&req.headers, &grant.inject.header)?;
    check_query(&req.query)?;
    let url = resolve(&grant.base_url, &req.path, &req.query)?;
    Ok(CheckedCall {
        method,
        path: req.path.clone(),
        url,
        headers,
        body,
        reason: reason.to_string(),
    })
}

/// Checks that the approvers of a call that needs approval can review what they sign: its
/// body is sent as is (no `content-encoding` but `identity`: nobody can read compressed
/// bytes) and is at most `max_body` bytes.
pub fn check_reviewable(call: &CheckedCall, max_body: usize) -> Result<(), ApiError> {
    if let Some(coding) = call.headers.get("content-encoding") {
        if !coding.trim().eq_ignore_ascii_case("identity") {
            return Err(ApiError::new(
                ErrorCode::UnsupportedEncoding,
                format!(
                    "content-encoding {coding:?}: a call that needs approval must send its body uncompressed (identity), so approvers can read it"
                ),
            ));
        }
    }
    if call.body.len() > max_body {
        return Err(ApiError::new(
            ErrorCode::BodyTooLargeForReview,
            format!(
                "the body is over {max_body} bytes, the most a call that needs approval may send (server.max_gated_body_bytes)"
            ),
        ));
    }
    Ok(())
}

fn check_headers(
    given: &BTreeMap<String, String>,
    injected: &str,
) -> Result<BTreeMap<String, String>, ApiError> {
    if given.len() > MAX_HEADERS {
        return Err(ApiError::new(
            ErrorCode::TooManyHeaders,
            format!("at most {MAX_HEADERS} headers"),
        ));
    }
    let mut out = BTreeMap::new();
    for (name, value) in given {
        let lower = name.to_ascii_lowercase();
        if http::HeaderName::from_bytes(lower.as_bytes()).is_err() {
            return Err(ApiError::new(
                ErrorCode::InvalidHeader,
                format!("{name:?} is not a header name"),
            ));
        }
        if http::HeaderValue::from_str(value).is_err() {
            return Err(ApiError::new(
                ErrorCode::InvalidHeader,
                format!("the value of {name:?} is not a valid header value"),
            ));
        }
        if FORBIDDEN_HEADERS.contains(&lower.as_str()) || lower == injected.to_ascii_lowercase() {
            return Err(ApiError::new(ErrorCode::ForbiddenHeader,
                format!("header {lower:?} may not be set by the app: the service injects credentials and framing"),
            ));
        }
        if ROUTING_HEADERS.contains(&lower.as_str()) || lower.starts_with(ROUTING_HEADER_PREFIX) {
            return Err(ApiError::new(ErrorCode::ForbiddenHeader,
                format!("header {lower:?} may not be set by the app: it can change the method or route the provider sees"),
            ));
        }
        if out.insert(lower.clone(), value.clone()).is_some() {
            return Err(ApiError::new(
                ErrorCode::InvalidHeader,
                format!("header {lower:?} is given twice"),
            ));
        }
    }
    Ok(out)
}

fn check_query(query: &BTreeMap<String, String>) -> Result<(), ApiError> {
    for name in query.keys() {
        let lower = name.trim().to_ascii_lowercase();
        if ROUTING_QUERY_PARAMETERS.contains(&lower.as_str()) {
            return Err(ApiError::new(ErrorCode::ForbiddenHeader,
                format!("query parameter {name:?} may not be set by the app: it can change the method or route the provider sees"),
            ));
        }
    }
    Ok(())
}

fn resolve(base: &Url, path: &str, query: &BTreeMap<String, String>) -> Result<Url, ApiError> {
    let mut url = base.clone();
    let joined = format!("{}{}", base.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    url.set_query(None);
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query.iter());
    }
    if url.host_str() != base.host_str()
        || url.port_or_known_default() != base.port_or_known_default()
    {
        return Err(ApiError::new(
            ErrorCode::InvalidPath,
            "the path leaves the grant's base URL",
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> GrantConfig {
        GrantConfig {
            id: "payments".into(),
            base_url: "http://127.0.0.1:9000/api/".parse().unwrap(),
            secret_env: "S".into(),
            inject: crate::config::Injection {
                header: "x-api-key".into(),
                value: "{secret}".into(),
            },
            policy: "p".into(),
            timeout: None,
        }
    }

    fn req(path: &str) -> ProxyRequestBody {
        ProxyRequestBody {
            grant: "payments".into(),
            method: "post".into(),
            path: path.into(),
            query: BTreeMap::new(),
            headers: BTreeMap::new(),
            body: Some(b"{}".to_vec()),
            reason: "  Refund order 42 ".into(),
        }
    }

    #[test]
    fn a_good_call_resolves_below_the_base() {
        let mut r = req("/v1/refunds");
        r.query.insert("b".into(), "2 3".into());
        r.query.insert("a".into(), "1".into());
        r.headers
            .insert("Content-Type".into(), "application/json".into());
        let c = check(&r, &grant(), 1024).unwrap();
        assert_eq!(
            c.url.as_str(),
            "http://127.0.0.1:9000/api/v1/refunds?a=1&b=2+3"
        );
        assert_eq!(c.method, "POST");
        assert_eq!(c.reason, "Refund order 42");
        assert_eq!(c.headers.get("content-type").unwrap(), "application/json");
    }

    #[test]
    fn credentials_and_framing_headers_are_refused() {
        for name in [
            "Authorization",
            "HOST",
            "x-api-key",
            "Cookie",
            "Transfer-Encoding",
            "Idempotency-Key",
        ] {
            let mut r = req("/v1/refunds");
            r.headers.insert(name.into(), "x".into());
            let err = check(&r, &grant(), 1024).unwrap_err();
            assert_eq!(err.code, "forbidden_header", "{name}");
        }
    }

    #[test]
    fn routing_and_method_override_headers_are_refused() {
        for name in [
            "X-HTTP-Method-Override",
            "x-http-method-override",
            "X-HTTP-Method",
            "x-method-override",
            "X-Method-Override",
            "X-Original-Method",
            "X-Original-URL",
            "x-original-url",
            "X-Rewrite-URL",
            "x-override-url",
            "X-Envoy-Original-Path",
            "X-Real-IP",
            "X-Host",
            "Forwarded",
            "VIA",
            "X-Forwarded-For",
            "X-Forwarded-Host",
            "X-Forwarded-Prefix",
            "x-forwarded-proto",
            "X-Forwarded-Path",
            "X-Forwarded-Port",
            "X-Forwarded-Scheme",
            "X-FORWARDED-URI",
        ] {
            let mut r = req("/v1/refunds");
            r.headers.insert(name.into(), "POST".into());
            let err = check(&r, &grant(), 1024).unwrap_err();
            assert_eq!(err.code, "forbidden_header", "{name}");
            assert!(
                err.message.contains("change the method or route"),
                "{name}: {}",
                err.message
            );
        }
        // Names that merely resemble them are passed on.
        for name in ["X-Forwarded", "X-Request-Id", "X-Method"] {
            let mut r = req("/v1/refunds");
            r.headers.insert(name.into(), "x".into());
            assert!(check(&r, &grant(), 1024).is_ok(), "{name}");
        }
    }

    #[test]
    fn method_override_query_parameters_are_refused() {
        for name in [
            "_method",
            "_METHOD",
            " _method ",
            "_HttpMethod",
            "_httpmethod",
            "X-HTTP-Method-Override",
            "x-http-method-override",
            "X-Method-Override",
            "x-method-override",
        ] {
            let mut r = req("/v1/refunds");
            r.method = "GET".into();
            r.query.insert(name.into(), "POST".into());
            let err = check(&r, &grant(), 1024).unwrap_err();
            assert_eq!(err.code, "forbidden_header", "{name:?}");
            assert!(
                err.message.contains("change the method or route"),
                "{name:?}: {}",
                err.message
            );
        }
        for name in ["method", "method_", "limit"] {
            let mut r = req("/v1/refunds");
            r.query.insert(name.into(), "POST".into());
            assert!(check(&r, &grant(), 1024).is_ok(), "{name:?}");
        }
    }

    #[test]
    fn the_provider_sees_the_accepted_path_as_given() {
        for path in [
            "/",
            "/v1/refunds",
            "/files/a%20b%3Fc",
            "/a-b_c.d~e",
            "/a..b",
            "/a:b@c!$&'()*+,=",
            "/a%22b%3C%7B%60",
            "/a%5Bb%5D%5E%7C",
            "/v1/refunds:cancel",
        ] {
            let c = check(&req(path), &grant(), 1024).unwrap();
            assert_eq!(c.url.path(), format!("/api{path}"), "{path:?}");
            assert_eq!(c.path, path);
        }
    }

    #[test]
    fn escaping_paths_are_refused() {
        for path in [
            "v1",
            "//evil.example/x",
            "/a/../b",
            "/a/%2e%2e/b",
            "/a?x=1",
            "/a b",
            "/a\\b",
            "/a#f",
            "/v1//refunds",
            "/v1;x/refunds",
            "/v1/refunds%2Fx",
            "/v1/refunds%3Acancel",
            "/a%3fb",
            "/x%252e",
            "/a[b]",
        ] {
            assert_eq!(
                check(&req(path), &grant(), 1024).unwrap_err().code,
                "invalid_path",
                "{path}"
            );
        }
    }

    #[test]
    fn escapes_of_reserved_characters_are_kept() {
        let c = check(&req("/files/a%20b%3Fc"), &grant(), 1024).unwrap();
        assert_eq!(c.url.path(), "/api/files/a%20b%3Fc");
    }

    #[test]
    fn approvers_review_only_plain_bodies_within_the_cap() {
        let with = |coding: Option<&str>, body: &[u8]| {
            let mut r = req("/x");
            if let Some(coding) = coding {
                r.headers.insert("Content-Encoding".into(), coding.into());
            }
            r.body = Some(body.to_vec());
            check_reviewable(&check(&r, &grant(), 1024).unwrap(), 8)
        };
        for ok in [None, Some("identity"), Some("IDENTITY"), Some(" Identity ")] {
            assert!(with(ok, b"{}").is_ok(), "{ok:?}");
        }
        for coding in [
            "gzip",
            "br",
            "deflate",
            "zstd",
            "x-gzip",
            "",
            "identity, gzip",
            "gzip, identity",
            "identity,identity",
            "identity;q=1",
        ] {
            assert_eq!(
                with(Some(coding), b"{}").unwrap_err().code,
                "unsupported_encoding",
                "{coding:?}"
            );
        }
        assert!(with(None, b"12345678").is_ok());
        assert_eq!(
            with(None, b"123456789").unwrap_err().code,
            "body_too_large_for_review"
        );
    }

    #[test]
    fn method_reason_and_size_are_checked() {
        let mut r = req("/x");
        r.method = "TRACE".into();
        assert_eq!(
            check(&r, &grant(), 1024).unwrap_err().code,
            "invalid_method"
        );
        let mut r = req("/x");
        r.reason = "   ".into();
        assert_eq!(
            check(&r, &grant(), 1024).unwrap_err().code,
            "missing_reason"
        );
        assert_eq!(
            check(&req("/x"), &grant(), 1).unwrap_err().code,
            "body_too_large"
        );
    }
}
