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
    pub group: Vec<RawGroup>,
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
    pub max_gated_body_bytes: Option<Spanned<i64>>,
    pub max_pending_per_app: Option<Spanned<i64>>,
    pub upstream_timeout: Option<Spanned<String>>,
    pub execution_lease: Option<Spanned<String>>,
    pub allow_bearer_apps: Option<Spanned<bool>>,
}

/// `[[approver]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApprover {
    pub id: Spanned<String>,
    pub name: Spanned<String>,
}

/// `[[group]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    pub id: Spanned<String>,
    pub members: Spanned<Vec<Spanned<String>>>,
}

/// `[[app]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApp {
    pub id: Spanned<String>,
    pub auth: Option<Spanned<String>>,
    pub api_key_env: Option<Spanned<String>>,
    pub api_key_sha256: Option<Spanned<String>>,
    pub secret_env: Option<Spanned<String>>,
    pub public_key: Option<Spanned<String>>,
    pub grants: Option<Spanned<Vec<Spanned<String>>>>,
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

/// `[[policy]]`. `require_approval`, `approvers` and `quorum` are the form before gates;
/// they are read only to refuse them with a message showing the new form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub id: Spanned<String>,
    pub window: Option<Spanned<String>>,
    pub require: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub gate: Vec<RawGate>,
    #[serde(default)]
    pub rule: Vec<RawRule>,
    pub require_approval: Option<Spanned<toml::Value>>,
    pub approvers: Option<Spanned<toml::Value>>,
    pub quorum: Option<Spanned<toml::Value>>,
}

/// `[[policy.gate]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGate {
    pub id: Spanned<String>,
    #[serde(default)]
    pub approvers: Vec<Spanned<String>>,
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
    pub quorum: Option<Spanned<i64>>,
}

/// `[[policy.rule]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub id: Option<Spanned<String>>,
    #[serde(default)]
    pub methods: Vec<Spanned<String>>,
    pub path: Spanned<String>,
    #[serde(default)]
    pub when: Vec<Spanned<RawCondition>>,
    pub at_most: Option<Spanned<String>>,
    pub action: Option<Spanned<String>>,
    pub gates: Option<Spanned<Vec<Spanned<String>>>>,
}

/// One `when = [{ pointer = "/amount", le = 5000 }]` entry: a pointer and exactly one test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCondition {
    pub pointer: String,
    pub eq: Option<toml::Value>,
    pub ne: Option<toml::Value>,
    pub lt: Option<toml::Value>,
    pub le: Option<toml::Value>,
    pub gt: Option<toml::Value>,
    pub ge: Option<toml::Value>,
    #[serde(rename = "in")]
    pub in_: Option<Vec<toml::Value>>,
    pub matches: Option<String>,
}
