//! Checks of `[[grant]]` entries.

use super::{positive, Ctx, Result};
use crate::config::raw::RawGrant;
use crate::config::{GrantConfig, Injection};

/// Headers a grant may not inject: they frame the request or belong to the service.
const FORBIDDEN_HEADERS: [&str; 10] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "upgrade",
    "te",
    "trailer",
    "idempotency-key",
];

pub(super) fn check_grant(ctx: &Ctx, raw: &RawGrant, policies: &[String]) -> Result<GrantConfig> {
    let (id, subject) = ctx.id("grant", &raw.id)?;
    let bad_url = |why: &str| ctx.err(&raw.base_url.span(), &subject, "base_url", why);
    let base_url =
        url::Url::parse(raw.base_url.get_ref()).map_err(|e| bad_url(&format!("not a URL: {e}")))?;
    if !matches!(base_url.scheme(), "http" | "https") {
        return Err(bad_url("the scheme must be http or https"));
    }
    if base_url.host_str().is_none_or(str::is_empty) {
        return Err(bad_url("the URL has no host"));
    }
    if !base_url.username().is_empty() || base_url.password().is_some() {
        return Err(bad_url(
            "credentials are not allowed in the URL; use secret_env and inject",
        ));
    }
    if base_url.query().is_some() || base_url.fragment().is_some() {
        return Err(bad_url("a base URL may not have a query or fragment"));
    }
    let secret_env = ctx.env_name(&raw.secret_env, &subject, "secret_env")?;
    let inject = check_injection(ctx, raw, &subject)?;
    let policy = ctx.known_policy(&raw.policy, policies, &subject)?;
    let timeout = raw
        .timeout
        .as_ref()
        .map(|t| positive(ctx, t, &subject, "timeout"))
        .transpose()?;
    Ok(GrantConfig {
        id,
        base_url,
        secret_env,
        inject,
        policy,
        timeout,
    })
}

fn check_injection(ctx: &Ctx, raw: &RawGrant, subject: &str) -> Result<Injection> {
    let header = raw.inject.header.get_ref().to_ascii_lowercase();
    let header_span = raw.inject.header.span();
    if http::HeaderName::from_bytes(header.as_bytes()).is_err() {
        return Err(ctx.err(
            &header_span,
            subject,
            "inject.header",
            format!("{header:?} is not a valid header name"),
        ));
    }
    if FORBIDDEN_HEADERS.contains(&header.as_str()) {
        return Err(ctx.err(
            &header_span,
            subject,
            "inject.header",
            format!("the {header} header may not be injected"),
        ));
    }
    let value = raw.inject.value.get_ref();
    let value_span = raw.inject.value.span();
    if !value.contains("{secret}") {
        return Err(ctx.err(
            &value_span,
            subject,
            "inject.value",
            "the value must contain {secret}, where the secret goes",
        ));
    }
    if http::HeaderValue::from_str(&value.replace("{secret}", "x")).is_err() {
        return Err(ctx.err(
            &value_span,
            subject,
            "inject.value",
            "not a valid header value (control or non-ASCII characters)",
        ));
    }
    Ok(Injection {
        header,
        value: value.clone(),
    })
}
