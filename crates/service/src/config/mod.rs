//! The service's configuration file (TOML): server settings, approvers, apps, grants and
//! policies.
//!
//! [`Config::load`] reads and checks the whole file; each refusal names the file, line,
//! column and field (see [`ConfigError`]). Secrets are not part of [`Config`]: they are
//! resolved from the environment by [`Secrets::resolve`], so that admin commands can load a
//! config without them.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8470"
//! public_url = "http://127.0.0.1:8470"
//! database = "sqlite://countersign.db"   # relative to the config file's directory
//!
//! [[approver]]
//! id = "alice"
//! name = "Alice Example"
//!
//! [[app]]
//! id = "support-agent"
//! api_key_env = "SUPPORT_AGENT_KEY"
//!
//! [[grant]]
//! id = "payments"
//! base_url = "http://127.0.0.1:9000"
//! secret_env = "PAYMENTS_SECRET"
//! inject = { header = "Authorization", value = "Bearer {secret}" }
//! policy = "refunds"
//!
//! [[policy]]
//! id = "refunds"
//! approvers = ["alice"]
//! [[policy.rule]]
//! methods = ["POST"]
//! path = "/v1/refunds*"
//! ```

mod duration;
mod error;
mod pattern;
mod raw;
mod secrets;
mod validate;

#[cfg(test)]
mod tests;

pub use duration::{format_duration, parse_duration};
pub use error::{ConfigError, Location};
pub use pattern::PathPattern;
pub use secrets::{hash_api_key, SecretString, Secrets};
pub use validate::{DEFAULT_BODY_LIMIT, DEFAULT_UPSTREAM_TIMEOUT, DEFAULT_WINDOW, MAX_WINDOW};

use countersign_core::ServerUrl;
use serde_json::json;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The checked configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[server]`.
    pub server: ServerConfig,
    /// `[[approver]]` entries, in file order.
    pub approvers: Vec<ApproverConfig>,
    /// `[[app]]` entries, in file order.
    pub apps: Vec<AppConfig>,
    /// `[[grant]]` entries, in file order.
    pub grants: Vec<GrantConfig>,
    /// `[[policy]]` entries, in file order.
    pub policies: Vec<PolicyConfig>,
    /// The file the config came from (the `origin` given to [`Config::parse`]).
    pub source: PathBuf,
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The base of approval links.
    pub public_url: ServerUrl,
    /// Where the store lives.
    pub database: DatabaseUrl,
    /// Largest decoded request body an app may send (default 1 MiB).
    pub max_request_bytes: usize,
    /// Largest provider response body kept (default 1 MiB).
    pub max_response_bytes: usize,
    /// Timeout of upstream calls, unless a grant sets its own (default 30 s).
    pub upstream_timeout: Duration,
}

/// The store's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file; a relative path in the file is resolved against the config file's
    /// directory.
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
        }
    }
}

/// `[[approver]]`: a person who decides approvals from paired Wallet devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApproverConfig {
    /// The approver id.
    pub id: String,
    /// The name shown in the Wallet.
    pub name: String,
}

/// `[[app]]`: an agent or backend that calls `POST /v1/proxy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfig {
    /// The app id.
    pub id: String,
    /// Where its API key's hash comes from.
    pub api_key: ApiKeySource,
    /// A policy that overrides the grant's for this app's calls.
    pub policy: Option<String>,
}

/// How an app's API key is configured.
#[derive(Clone, PartialEq, Eq)]
pub enum ApiKeySource {
    /// The key is in this environment variable; only its hash is kept.
    Env(String),
    /// The SHA-256 of the key, given in the file.
    Sha256([u8; 32]),
}

impl fmt::Debug for ApiKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiKeySource::Env(var) => f.debug_tuple("Env").field(var).finish(),
            ApiKeySource::Sha256(hash) => {
                f.debug_tuple("Sha256").field(&hex::encode(hash)).finish()
            }
        }
    }
}

/// `[[grant]]`: an upstream API, its managed secret and the policy of calls to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantConfig {
    /// The grant id.
    pub id: String,
    /// The upstream's base URL (http or https, no credentials, query or fragment).
    pub base_url: url::Url,
    /// The environment variable holding the secret.
    pub secret_env: String,
    /// How the secret is added to upstream requests.
    pub inject: Injection,
    /// The policy of calls through this grant (an app's own policy overrides it).
    pub policy: String,
    /// Timeout of upstream calls; `None` means `server.upstream_timeout`.
    pub timeout: Option<Duration>,
}

/// A header carrying the secret, e.g. `authorization: Bearer {secret}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    /// The header name, lower-case.
    pub header: String,
    /// The value template; contains `{secret}`.
    pub value: String,
}

/// `[[policy]]`: when calls need approval, by whom, and for how long it may wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    /// The policy id.
    pub id: String,
    /// Whether any call needs approval (default true).
    pub require_approval: bool,
    /// Approver ids who may decide.
    pub approvers: Vec<String>,
    /// Approvals needed (default 1); any deny ends the approval.
    pub quorum: u32,
    /// How long an approval may stay pending (default 1 h, at most 30 d).
    pub window: Duration,
    /// Which calls need approval; none means every call.
    pub rules: Vec<Rule>,
}

/// `[[policy.rule]]`: calls matching it need approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Upper-case methods; empty means any method.
    pub methods: Vec<String>,
    /// The path pattern.
    pub path: PathPattern,
}

impl Rule {
    /// True when the rule covers `method` (compared case-insensitively) on `path`.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        (self.methods.is_empty() || self.methods.iter().any(|m| m.eq_ignore_ascii_case(method)))
            && self.path.matches(path)
    }
}

impl PolicyConfig {
    /// Whether a call needs approval: never when `require_approval` is false; always when
    /// there are no rules; otherwise when any rule matches. `path` is the request path
    /// without the query, as it will be sent upstream (see [`PathPattern`]).
    pub fn needs_approval(&self, method: &str, path: &str) -> bool {
        self.require_approval
            && (self.rules.is_empty() || self.rules.iter().any(|r| r.matches(method, path)))
    }

    /// Whether `approver_id` is one of this policy's approvers.
    pub fn has_approver(&self, approver_id: &str) -> bool {
        self.approvers.iter().any(|a| a == approver_id)
    }
}

impl GrantConfig {
    /// The grant's timeout, or the server's default.
    pub fn timeout_or(&self, server: &ServerConfig) -> Duration {
        self.timeout.unwrap_or(server.upstream_timeout)
    }
}

impl Config {
    /// Reads and checks the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Checks config `text`. `origin` is the file it came from: errors name it, and a
    /// relative SQLite path is resolved against its directory.
    pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let raw: raw::RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::from_toml(origin, text, &e))?;
        validate::validate(raw, text, origin)
    }

    /// The approver with this id.
    pub fn approver(&self, id: &str) -> Option<&ApproverConfig> {
        self.approvers.iter().find(|a| a.id == id)
    }

    /// The app with this id.
    pub fn app(&self, id: &str) -> Option<&AppConfig> {
        self.apps.iter().find(|a| a.id == id)
    }

    /// The grant with this id.
    pub fn grant(&self, id: &str) -> Option<&GrantConfig> {
        self.grants.iter().find(|g| g.id == id)
    }

    /// The policy with this id.
    pub fn policy(&self, id: &str) -> Option<&PolicyConfig> {
        self.policies.iter().find(|p| p.id == id)
    }

    /// The policy governing calls by `app_id` through `grant_id`: the app's own policy if
    /// it has one, else the grant's. `None` when the app or the grant is unknown.
    pub fn effective_policy(&self, app_id: &str, grant_id: &str) -> Option<&PolicyConfig> {
        let app = self.app(app_id)?;
        let grant = self.grant(grant_id)?;
        self.policy(app.policy.as_deref().unwrap_or(&grant.policy))
    }

    /// A secret-free description of approvers, apps, grants and policies, for the audit
    /// log's record of configuration changes. Stable for an unchanged file.
    pub fn fingerprint_json(&self) -> serde_json::Value {
        json!({
            "approvers": self.approvers.iter().map(|a| json!({
                "id": a.id,
                "name": a.name,
            })).collect::<Vec<_>>(),
            "apps": self.apps.iter().map(|a| json!({
                "id": a.id,
                "policy": a.policy,
            })).collect::<Vec<_>>(),
            "grants": self.grants.iter().map(|g| json!({
                "id": g.id,
                "base_url": g.base_url.as_str(),
                "inject_header": g.inject.header,
                "policy": g.policy,
            })).collect::<Vec<_>>(),
            "policies": self.policies.iter().map(|p| json!({
                "id": p.id,
                "require_approval": p.require_approval,
                "approvers": p.approvers,
                "quorum": p.quorum,
                "window_secs": p.window.as_secs(),
                "rules": p.rules.iter().map(|r| json!({
                    "methods": r.methods,
                    "path": r.path.as_str(),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }
}
