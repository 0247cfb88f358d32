//! The file as written: serde structures with spans, checked and converted by
//! [`validate`](super::validate).

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub server: Option<RawServer>,
    #[serde(default)]
    pub approver: Vec<RawApprover>,
    #[serde(default)]
    pub app: Vec<RawApp>,
    #[serde(default)]
    pub grant: Vec<RawGrant>,
    #[serde(default)]
    pub policy: Vec<RawPolicy>,
}

/// `[server]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub listen: Spanned<String>,
    pub public_url: Spanned<String>,
    pub database: Spanned<String>,
    pub max_request_bytes: Option<Spanned<i64>>,
    pub max_response_bytes: Option<Spanned<i64>>,
    pub upstream_timeout: Option<Spanned<String>>,
}

/// `[[approver]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApprover {
    pub id: Spanned<String>,
    pub name: Spanned<String>,
}

/// `[[app]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApp {
    pub id: Spanned<String>,
    pub api_key_env: Option<Spanned<String>>,
    pub api_key_sha256: Option<Spanned<String>>,
    pub policy: Option<Spanned<String>>,
}

/// `[[grant]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrant {
    pub id: Spanned<String>,
    pub base_url: Spanned<String>,
    pub secret_env: Spanned<String>,
    pub inject: RawInjection,
    pub policy: Spanned<String>,
    pub timeout: Option<Spanned<String>>,
}

/// A grant's `inject = { header = "…", value = "…" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInjection {
    pub header: Spanned<String>,
    pub value: Spanned<String>,
}

/// `[[policy]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub id: Spanned<String>,
    pub require_approval: Option<Spanned<bool>>,
    pub approvers: Option<Spanned<Vec<Spanned<String>>>>,
    pub quorum: Option<Spanned<i64>>,
    pub window: Option<Spanned<String>>,
    #[serde(default)]
    pub rule: Vec<RawRule>,
}

/// `[[policy.rule]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    #[serde(default)]
    pub methods: Vec<Spanned<String>>,
    pub path: Spanned<String>,
}
