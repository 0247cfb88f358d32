//! Checks the [`RawConfig`] and converts it into a [`Config`]; each refusal points at the
//! line and field at fault.

use super::raw::{RawApp, RawApprover, RawConfig, RawServer};
use super::{
    parse_duration, ApiKeySource, AppAuthConfig, AppConfig, ApproverConfig, Config, ConfigError,
    DatabaseUrl, Location, ServerConfig,
};
use countersign_core::ServerUrl;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

mod grant;
mod policy;

use grant::check_grant;
use policy::{check_group, check_policy};

/// Default for `max_request_bytes` and `max_response_bytes`: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// Default for `max_pending_per_app`.
pub const DEFAULT_MAX_PENDING_PER_APP: u32 = 1000;
/// Default for `upstream_timeout`.
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `[server] execution_lease`.
pub const DEFAULT_EXECUTION_LEASE: Duration = Duration::from_secs(30);
/// Default approval window of a policy.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(3600);
/// The longest approval window a policy may set.
pub const MAX_WINDOW: Duration = Duration::from_secs(30 * 86_400);

/// The file and text errors are located in.
struct Ctx<'a> {
    file: &'a Path,
    text: &'a str,
}

type Result<T> = std::result::Result<T, ConfigError>;

impl Ctx<'_> {
    fn err(
        &self,
        span: &Range<usize>,
        subject: &str,
        field: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            at: Location::of_span(self.file, self.text, span),
            subject: subject.to_string(),
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// Checks the id of one `[[kind]]` entry; returns it and the entry's subject name.
    fn id(&self, kind: &str, id: &Spanned<String>) -> Result<(String, String)> {
        let text = id.get_ref();
        let subject = format!("{kind} {text:?}");
        let ok = (1..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !ok {
            return Err(self.err(
                &id.span(),
                &subject,
                "id",
                "an id is 1 to 64 characters from A-Z, a-z, 0-9, '_', '.' and '-'",
            ));
        }
        Ok((text.clone(), subject))
    }

    /// Refuses a second entry of the same kind with the same id.
    fn unique<'i>(&self, kind: &str, ids: impl Iterator<Item = &'i Spanned<String>>) -> Result<()> {
        let mut seen: HashMap<&str, &Range<usize>> = HashMap::new();
        let spans: Vec<(&str, Range<usize>)> =
            ids.map(|id| (id.get_ref().as_str(), id.span())).collect();
        for (id, span) in &spans {
            if let Some(first) = seen.insert(id, span) {
                let line = Location::of_span(self.file, self.text, first).line;
                return Err(self.err(
                    span,
                    &format!("{kind} {id:?}"),
                    "id",
                    format!("duplicate {kind} id {id:?} (first defined on line {line})"),
                ));
            }
        }
        Ok(())
    }

    fn duration(&self, value: &Spanned<String>, subject: &str, field: &str) -> Result<Duration> {
        parse_duration(value.get_ref()).map_err(|e| self.err(&value.span(), subject, field, e))
    }

    fn positive_size(&self, value: &Option<Spanned<i64>>, field: &str) -> Result<usize> {
        let Some(value) = value else {
            return Ok(DEFAULT_BODY_LIMIT);
        };
        usize::try_from(*value.get_ref())
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                self.err(
                    &value.span(),
                    "[server]",
                    field,
                    "must be a positive number of bytes",
                )
            })
    }

    fn env_name(&self, value: &Spanned<String>, subject: &str, field: &str) -> Result<String> {
        let name = value.get_ref();
        let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            return Err(self.err(
                &value.span(),
                subject,
                field,
                format!("{name:?} is not an environment variable name (letters, digits and '_')"),
            ));
        }
        Ok(name.clone())
    }

    fn known_policy(
        &self,
        policy: &Spanned<String>,
        policies: &[String],
        subject: &str,
    ) -> Result<String> {
        let name = policy.get_ref();
        if policies.contains(name) {
            return Ok(name.clone());
        }
        let defined = if policies.is_empty() {
            "no policies are defined".to_string()
        } else {
            format!("defined: {}", policies.join(", "))
        };
        Err(self.err(
            &policy.span(),
            subject,
            "policy",
            format!("unknown policy {name:?} ({defined})"),
        ))
    }
}

/// Checks `raw` (parsed from `text`, the contents of `origin`) and builds the [`Config`].
pub(super) fn validate(raw: RawConfig, text: &str, origin: &Path) -> Result<Config> {
    let ctx = Ctx { file: origin, text };
    let Some(server) = &raw.server else {
        return Err(ctx.err(
            &(0..0),
            "the file",
            "server",
            "the [server] section is missing",
        ));
    };
    let server = check_server(&ctx, server, origin)?;

    ctx.unique("approver", raw.approver.iter().map(|a| &a.id))?;
    ctx.unique("group", raw.group.iter().map(|g| &g.id))?;
    ctx.unique("app", raw.app.iter().map(|a| &a.id))?;
    ctx.unique("grant", raw.grant.iter().map(|g| &g.id))?;
    ctx.unique("policy", raw.policy.iter().map(|p| &p.id))?;

    let approvers = raw
        .approver
        .iter()
        .map(|a| check_approver(&ctx, a))
        .collect::<Result<Vec<_>>>()?;
    let approver_ids: Vec<String> = approvers.iter().map(|a| a.id.clone()).collect();
    let groups = raw
        .group
        .iter()
        .map(|g| check_group(&ctx, g, &approver_ids))
        .collect::<Result<Vec<_>>>()?;
    let policies = raw
        .policy
        .iter()
        .map(|p| check_policy(&ctx, p, &approver_ids, &groups))
        .collect::<Result<Vec<_>>>()?;
    let policy_ids: Vec<String> = policies.iter().map(|p| p.id.clone()).collect();
    let grants = raw
        .grant
        .iter()
        .map(|g| check_grant(&ctx, g, &policy_ids))
        .collect::<Result<Vec<_>>>()?;
    let grant_ids: Vec<String> = grants.iter().map(|g| g.id.clone()).collect();
    let apps = raw
        .app
        .iter()
        .map(|a| check_app(&ctx, a, &policy_ids, &grant_ids))
        .collect::<Result<Vec<_>>>()?;
    if !server.allow_bearer_apps {
        if let Some((raw, app)) = raw
            .app
            .iter()
            .zip(&apps)
            .find(|(_, a)| matches!(a.auth, AppAuthConfig::Bearer(_)))
        {
            return Err(ctx.err(
                &raw.id.span(),
                &format!("app {:?}", app.id),
                "auth",
                "the app authenticates with a bearer key, but [server] allow_bearer_apps = false: give it auth = \"hmac\" or auth = \"ed25519\"",
            ));
        }
    }

    Ok(Config {
        server,
        approvers,
        groups,
        apps,
        grants,
        policies,
        source: origin.to_path_buf(),
    })
}

fn check_server(ctx: &Ctx, raw: &RawServer, origin: &Path) -> Result<ServerConfig> {
    let subject = "[server]";
    let listen: SocketAddr = raw.listen.get_ref().parse().map_err(|_| {
        ctx.err(
            &raw.listen.span(),
            subject,
            "listen",
            format!(
                "{:?} is not an address; expected an IP address and port such as \"127.0.0.1:8470\"",
                raw.listen.get_ref()
            ),
        )
    })?;
    let public_url = ServerUrl::parse(raw.public_url.get_ref())
        .map_err(|e| ctx.err(&raw.public_url.span(), subject, "public_url", e.to_string()))?;
    let database = parse_database(raw.database.get_ref(), origin)
        .map_err(|e| ctx.err(&raw.database.span(), subject, "database", e))?;
    let upstream_timeout = match &raw.upstream_timeout {
        None => DEFAULT_UPSTREAM_TIMEOUT,
        Some(value) => positive(ctx, value, subject, "upstream_timeout")?,
    };
    let execution_lease = match &raw.execution_lease {
        None => DEFAULT_EXECUTION_LEASE,
        Some(value) => positive(ctx, value, subject, "execution_lease")?,
    };
    let max_request_bytes = ctx.positive_size(&raw.max_request_bytes, "max_request_bytes")?;
    // Unset, the review cap follows a smaller request cap; set, it may not exceed it.
    let max_gated_body_bytes = match &raw.max_gated_body_bytes {
        None => DEFAULT_BODY_LIMIT.min(max_request_bytes),
        Some(value) => {
            let n = ctx.positive_size(&raw.max_gated_body_bytes, "max_gated_body_bytes")?;
            if n > max_request_bytes {
                return Err(ctx.err(
                    &value.span(),
                    subject,
                    "max_gated_body_bytes",
                    format!("must be at most max_request_bytes ({max_request_bytes})"),
                ));
            }
            n
        }
    };
    let max_pending_per_app = match &raw.max_pending_per_app {
        None => DEFAULT_MAX_PENDING_PER_APP,
        Some(value) => u32::try_from(*value.get_ref())
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                ctx.err(
                    &value.span(),
                    subject,
                    "max_pending_per_app",
                    "must be a positive number of approvals",
                )
            })?,
    };
    Ok(ServerConfig {
        listen,
        public_url,
        database,
        max_request_bytes,
        max_response_bytes: ctx.positive_size(&raw.max_response_bytes, "max_response_bytes")?,
        max_gated_body_bytes,
        max_pending_per_app,
        upstream_timeout,
        execution_lease,
        allow_bearer_apps: raw.allow_bearer_apps.as_ref().is_none_or(|v| *v.get_ref()),
    })
}

/// A timeout: a duration greater than zero.
fn positive(ctx: &Ctx, value: &Spanned<String>, subject: &str, field: &str) -> Result<Duration> {
    let duration = ctx.duration(value, subject, field)?;
    if duration.is_zero() {
        return Err(ctx.err(&value.span(), subject, field, "must be longer than zero"));
    }
    Ok(duration)
}

/// `sqlite://<path>` (relative to the config file's directory), `sqlite:<path>`, or
/// `postgres://…` / `postgresql://…`. Errors never repeat a PostgreSQL URL (it may hold a
/// password).
pub(super) fn parse_database(
    text: &str,
    origin: &Path,
) -> std::result::Result<DatabaseUrl, String> {
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return parse_postgres(text);
    }
    let Some(rest) = text
        .strip_prefix("sqlite://")
        .or_else(|| text.strip_prefix("sqlite:"))
    else {
        let shown = if text.contains('@') {
            "the value"
        } else {
            text
        };
        return Err(format!(
            "{shown:?} is not a database URL; expected sqlite://<path to the database file> or postgres://<user>@<host>/<database>"
        ));
    };
    if rest.is_empty() {
        return Err("no database file path after sqlite://".into());
    }
    if rest.contains('?') {
        return Err("options (?...) are not supported; give only the file path".into());
    }
    if rest == ":memory:" {
        return Err(
            "an in-memory database would lose approvals and the audit log; give a file path".into(),
        );
    }
    let path = PathBuf::from(rest);
    let path = if path.is_absolute() {
        path
    } else {
        origin.parent().unwrap_or(Path::new("")).join(path)
    };
    Ok(DatabaseUrl::Sqlite { path })
}

/// A PostgreSQL URL: a database name is required (the service never writes to whatever
/// database a user's name happens to pick).
fn parse_postgres(text: &str) -> std::result::Result<DatabaseUrl, String> {
    let url = url::Url::parse(text).map_err(|e| {
        format!("not a valid PostgreSQL URL ({e}); expected postgres://<user>@<host>/<database>")
    })?;
    let name = url.path().trim_start_matches('/');
    if name.is_empty() {
        return Err(
            "the PostgreSQL URL names no database; expected postgres://<user>@<host>/<database>"
                .into(),
        );
    }
    Ok(DatabaseUrl::Postgres { url })
}

fn check_approver(ctx: &Ctx, raw: &RawApprover) -> Result<ApproverConfig> {
    let (id, subject) = ctx.id("approver", &raw.id)?;
    let name = raw.name.get_ref().trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(ctx.err(
            &raw.name.span(),
            &subject,
            "name",
            "a name must be non-empty text without control characters",
        ));
    }
    Ok(ApproverConfig {
        id,
        name: name.to_string(),
    })
}

fn check_app(
    ctx: &Ctx,
    raw: &RawApp,
    policies: &[String],
    grant_ids: &[String],
) -> Result<AppConfig> {
    let (id, subject) = ctx.id("app", &raw.id)?;
    let auth = check_app_auth(ctx, raw, &subject)?;
    let policy = raw
        .policy
        .as_ref()
        .map(|p| ctx.known_policy(p, policies, &subject))
        .transpose()?;
    let Some(grants) = &raw.grants else {
        return Err(ctx.err(
            &raw.id.span(),
            &subject,
            "grants",
            "an app must list the grants it may use: grants = [\"…\"] (other grants answer 403 grant_not_allowed)",
        ));
    };
    let grants = policy::known_names(
        ctx,
        grants.get_ref(),
        grant_ids,
        "grant",
        &subject,
        "grants",
    )?;
    Ok(AppConfig {
        id,
        auth,
        grants,
        policy,
    })
}

/// `auth` and the fields it needs: `api_key_env` or `api_key_sha256` (bearer, the default),
/// `secret_env` (hmac) or `public_key` (ed25519); a field of another kind is refused.
fn check_app_auth(ctx: &Ctx, raw: &RawApp, subject: &str) -> Result<AppAuthConfig> {
    let kind = raw.auth.as_ref().map_or("bearer", |k| k.get_ref().as_str());
    let span = raw
        .auth
        .as_ref()
        .map_or_else(|| raw.id.span(), Spanned::span);
    let fields: [(&str, Option<Range<usize>>); 4] = [
        ("api_key_env", raw.api_key_env.as_ref().map(Spanned::span)),
        (
            "api_key_sha256",
            raw.api_key_sha256.as_ref().map(Spanned::span),
        ),
        ("secret_env", raw.secret_env.as_ref().map(Spanned::span)),
        ("public_key", raw.public_key.as_ref().map(Spanned::span)),
    ];
    let allowed: &[&str] = match kind {
        "bearer" => &["api_key_env", "api_key_sha256"],
        "hmac" => &["secret_env"],
        "ed25519" => &["public_key"],
        other => {
            return Err(ctx.err(
                &span,
                subject,
                "auth",
                format!("unknown auth {other:?}: expected \"bearer\", \"hmac\" or \"ed25519\""),
            ))
        }
    };
    for (field, at) in &fields {
        if let (Some(at), false) = (at, allowed.contains(field)) {
            return Err(ctx.err(
                at,
                subject,
                field,
                format!(
                    "`{field}` does not go with auth = {kind:?} (it takes {})",
                    allowed.join(" or ")
                ),
            ));
        }
    }
    match kind {
        "hmac" => {
            let Some(env) = &raw.secret_env else {
                return Err(ctx.err(
                    &span,
                    subject,
                    "secret_env",
                    "auth = \"hmac\" needs secret_env, the environment variable holding the shared secret",
                ));
            };
            Ok(AppAuthConfig::Hmac {
                secret_env: ctx.env_name(env, subject, "secret_env")?,
            })
        }
        "ed25519" => {
            let Some(key) = &raw.public_key else {
                return Err(ctx.err(
                    &span,
                    subject,
                    "public_key",
                    "auth = \"ed25519\" needs public_key, the app's Ed25519 public key (base64url)",
                ));
            };
            countersign_core::keys::decode_public_key(key.get_ref().trim())
                .map(AppAuthConfig::Ed25519)
                .map_err(|_| {
                    ctx.err(
                        &key.span(),
                        subject,
                        "public_key",
                        "expected an Ed25519 public key: base64url (no padding) of its 32 bytes",
                    )
                })
        }
        _ => check_api_key(ctx, raw, subject).map(AppAuthConfig::Bearer),
    }
}

/// A bearer app's `api_key_env` or `api_key_sha256` (exactly one).
fn check_api_key(ctx: &Ctx, raw: &RawApp, subject: &str) -> Result<ApiKeySource> {
    Ok(match (&raw.api_key_env, &raw.api_key_sha256) {
        (Some(env), None) => ApiKeySource::Env(ctx.env_name(env, subject, "api_key_env")?),
        (None, Some(hash)) => {
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(hash.get_ref(), &mut bytes).map_err(|_| {
                ctx.err(
                    &hash.span(),
                    subject,
                    "api_key_sha256",
                    "expected the SHA-256 of the API key as 64 hex digits",
                )
            })?;
            ApiKeySource::Sha256(bytes)
        }
        (Some(_), Some(hash)) => {
            return Err(ctx.err(
                &hash.span(),
                subject,
                "api_key_sha256",
                "give either api_key_env or api_key_sha256, not both",
            ))
        }
        (None, None) => {
            return Err(ctx.err(
                &raw.id.span(),
                subject,
                "api_key_env",
                "the app has no API key: give api_key_env or api_key_sha256 (or sign requests: auth = \"hmac\" or \"ed25519\")",
            ))
        }
    })
}
