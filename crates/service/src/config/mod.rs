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
//! [[app]]
//! id = "batch"
//! auth = "hmac"                  # or "ed25519" with public_key = "<base64url>"
//! secret_env = "BATCH_SIGNING_SECRET"
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
mod policy;
mod raw;
mod secrets;
mod validate;

#[cfg(test)]
mod tests;

pub use duration::{format_duration, parse_duration};
pub use error::{ConfigError, Location};
pub use pattern::PathPattern;
pub use policy::{
    Action, Condition, Gate, GroupConfig, Literal, PolicyConfig, RateLimit, Rule, Test,
};
pub use secrets::{constant_time_eq, hash_api_key, SecretString, Secrets};
pub use validate::{
    DEFAULT_BODY_LIMIT, DEFAULT_EXECUTION_LEASE, DEFAULT_MAX_PENDING_PER_APP,
    DEFAULT_UPSTREAM_TIMEOUT, DEFAULT_WINDOW, MAX_WINDOW,
};

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
    /// `[[group]]` entries, in file order.
    pub groups: Vec<GroupConfig>,
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
    /// Largest body of a call that needs approval, so a person can review it (default 1 MiB,
    /// or `max_request_bytes` when that is smaller; never more than `max_request_bytes`).
    pub max_gated_body_bytes: usize,
    /// Most approvals an app may have pending at once (default 1,000).
    pub max_pending_per_app: u32,
    /// Timeout of upstream calls, unless a grant sets its own (default 30 s).
    pub upstream_timeout: Duration,
    /// How long an execution counts as running without its replica renewing it (renewed
    /// every third of it; default 30 s). When a replica dies mid-call, another one settles the
    /// approval as outcome unknown once this has passed.
    pub execution_lease: Duration,
    /// Whether apps may authenticate with a bearer API key (default true). When false, every
    /// app must sign its requests and a bearer key is answered 401 `bearer_not_allowed`.
    pub allow_bearer_apps: bool,
}

/// The store's location.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file; a relative path in the file is resolved against the config file's
    /// directory.
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
    /// A PostgreSQL database (`postgres://user:password@host:port/database?options`).
    Postgres {
        /// The connection URL as given (it may hold a password: shown only redacted).
        url: url::Url,
    },
}

impl DatabaseUrl {
    /// The environment variable that, when set, replaces `[server] database`.
    pub const ENV: &'static str = "COUNTERSIGN_DATABASE_URL";
}

/// Shows the URL with any password replaced by `***`.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres { url } => {
                let mut shown = url.clone();
                if shown.password().is_some() {
                    let _ = shown.set_password(Some("***"));
                }
                write!(f, "{shown}")
            }
        }
    }
}

/// As [`Display`](fmt::Display): never prints a password.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
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
    /// How it proves who it is.
    pub auth: AppAuthConfig,
    /// The grants the app may use.
    pub grants: Vec<String>,
    /// A policy evaluated as well as the grant's (the stricter outcome wins).
    pub policy: Option<String>,
}

/// How an app authenticates (`[[app]] auth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppAuthConfig {
    /// A bearer API key (`auth = "bearer"`, the default).
    Bearer(ApiKeySource),
    /// Signed requests, HMAC-SHA256 with the secret in this environment variable.
    Hmac {
        /// The variable (`secret_env`).
        secret_env: String,
    },
    /// Signed requests, Ed25519 with this public key (`public_key`, base64url).
    Ed25519(countersign_core::keys::VerifyingKey),
}

impl AppAuthConfig {
    /// The `auth` value as written.
    pub fn kind(&self) -> &'static str {
        match self {
            AppAuthConfig::Bearer(_) => "bearer",
            AppAuthConfig::Hmac { .. } => "hmac",
            AppAuthConfig::Ed25519(_) => "ed25519",
        }
    }
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
    /// The policy of calls through this grant (an app's own policy is evaluated as well).
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

impl GrantConfig {
    /// The grant's timeout, or the server's default.
    pub fn timeout_or(&self, server: &ServerConfig) -> Duration {
        self.timeout.unwrap_or(server.upstream_timeout)
    }
}

impl Config {
    /// Reads and checks the config file at `path`; `COUNTERSIGN_DATABASE_URL`, when set,
    /// replaces its `[server] database`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        let mut config = Self::parse(&text, path)?;
        if let Some(url) = std::env::var_os(DatabaseUrl::ENV) {
            let url = url.to_str().unwrap_or("\u{fffd}");
            config.server.database =
                validate::parse_database(url, path).map_err(|why| ConfigError::BadDatabaseEnv {
                    file: path.to_path_buf(),
                    var: DatabaseUrl::ENV,
                    why,
                })?;
        }
        Ok(config)
    }

    /// Checks config `text`. `origin` is the file it came from: errors name it, and a
    /// relative SQLite path is resolved against its directory.
    pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let raw: raw::RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::from_toml(origin, text, &e))?;
        validate::validate(raw, text, origin)
    }

    /// Parses a database URL as `[server] database` does (a relative SQLite path against
    /// `origin`'s directory); the error says why not.
    pub fn parse_database_url(text: &str, origin: &Path) -> Result<DatabaseUrl, String> {
        validate::parse_database(text, origin)
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

    /// The group with this id.
    pub fn group(&self, id: &str) -> Option<&GroupConfig> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// Who is eligible in gate `gate` of policy `policy` now; empty when either is gone.
    pub fn gate_members(&self, policy: &str, gate: &str) -> &[String] {
        self.policy(policy)
            .and_then(|p| p.gate(gate))
            .map_or(&[], |g| g.members.as_slice())
    }

    /// `gates` with who is eligible as the configuration is now: each gate keeps only the
    /// people of its snapshot who are still members (a gate or policy that is gone has
    /// nobody), so a removed approver never decides.
    pub fn current_requirement(
        &self,
        gates: &[crate::policy::RequiredGate],
    ) -> Vec<crate::policy::RequiredGate> {
        gates
            .iter()
            .map(|g| {
                let now = self.gate_members(&g.policy, &g.gate);
                crate::policy::RequiredGate {
                    members: g
                        .members
                        .iter()
                        .filter(|m| now.contains(m))
                        .cloned()
                        .collect(),
                    ..g.clone()
                }
            })
            .collect()
    }

    /// A secret-free description of approvers, apps, grants and policies, for the audit
    /// log's record of configuration changes. Stable for an unchanged file.
    pub fn fingerprint_json(&self) -> serde_json::Value {
        json!({
            "approvers": self.approvers.iter().map(|a| json!({
                "id": a.id,
                "name": a.name,
            })).collect::<Vec<_>>(),
            "groups": self.groups.iter().map(|g| json!({
                "id": g.id,
                "members": g.members,
            })).collect::<Vec<_>>(),
            "apps": self.apps.iter().map(|a| {
                let mut app = json!({
                    "id": a.id,
                    "grants": a.grants,
                    "policy": a.policy,
                });
                // Bearer apps keep the description they had before signed requests existed.
                match &a.auth {
                    AppAuthConfig::Bearer(_) => {}
                    AppAuthConfig::Hmac { secret_env } => {
                        app["auth"] = json!({"kind": "hmac", "secret_env": secret_env});
                    }
                    AppAuthConfig::Ed25519(key) => {
                        app["auth"] = json!({
                            "kind": "ed25519",
                            "public_key": countersign_core::keys::encode_public_key(key),
                        });
                    }
                }
                app
            }).collect::<Vec<_>>(),
            "grants": self.grants.iter().map(|g| json!({
                "id": g.id,
                "base_url": g.base_url.as_str(),
                "inject_header": g.inject.header,
                "policy": g.policy,
            })).collect::<Vec<_>>(),
            "policies": self.policies.iter().map(|p| json!({
                "id": p.id,
                "window_secs": p.window.as_secs(),
                "require": p.require,
                "gates": p.gates.iter().map(|g| json!({
                    "id": g.id,
                    "members": g.members,
                    "quorum": g.quorum,
                })).collect::<Vec<_>>(),
                "rules": p.rules.iter().map(Rule::describe).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }
}
