//! Secrets named by the config, resolved from the environment apart from parsing so that
//! admin commands can load the config without them.

use super::{ApiKeySource, AppAuthConfig, Config, ConfigError, Injection};
use countersign_core::app_request::{AppVerifier, HmacSecret, MIN_HMAC_SECRET_BYTES};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;

/// A secret value that never prints itself: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself; use it only where it must go (the upstream request).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretString {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([redacted])")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// SHA-256 of an API key, the only form in which the service keeps it.
pub fn hash_api_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Compares two digests without an early exit on the first differing byte.
pub fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// The resolved secrets of a [`Config`]: app API key hashes, how signing apps are checked,
/// and grant secrets.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// App id → SHA-256 of its API key (bearer apps).
    pub app_key_hashes: HashMap<String, [u8; 32]>,
    /// App id → what its request signatures are checked with (signing apps).
    pub app_verifiers: HashMap<String, AppVerifier>,
    /// Grant id → the managed secret injected into its upstream calls.
    pub grant_secrets: HashMap<String, SecretString>,
}

impl Secrets {
    /// Resolves every app key, app signing secret and grant secret through `env` (a variable
    /// name → its value).
    ///
    /// Fails, naming the variable and the app or grant, when a variable is unset, empty,
    /// holds control characters, or (HMAC secrets) is shorter than 32 bytes; and when two
    /// apps would share one API key or one HMAC secret.
    pub fn resolve(
        config: &Config,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Secrets, ConfigError> {
        let lookup = |subject: String, field: &str, var: &str| -> Result<String, ConfigError> {
            let bad = |why: &str| ConfigError::BadSecret {
                file: config.source.clone(),
                subject: subject.clone(),
                field: field.to_string(),
                var: var.to_string(),
                why: why.to_string(),
            };
            let value = env(var).ok_or_else(|| ConfigError::MissingEnv {
                file: config.source.clone(),
                subject: subject.clone(),
                field: field.to_string(),
                var: var.to_string(),
            })?;
            if value.is_empty() {
                return Err(bad("is empty"));
            }
            if value.chars().any(char::is_control) {
                return Err(bad("contains control characters (a stray newline?)"));
            }
            Ok(value)
        };

        let mut app_key_hashes = HashMap::new();
        let mut app_verifiers = HashMap::new();
        let mut owners: Vec<(&str, [u8; 32])> = Vec::new();
        let mut signers: Vec<(&str, HmacSecret)> = Vec::new();
        for app in &config.apps {
            let subject = format!("app {:?}", app.id);
            let key = match &app.auth {
                AppAuthConfig::Bearer(key) => key,
                AppAuthConfig::Ed25519(key) => {
                    app_verifiers.insert(app.id.clone(), AppVerifier::Ed25519(*key));
                    continue;
                }
                AppAuthConfig::Hmac { secret_env } => {
                    let value = lookup(subject.clone(), "secret_env", secret_env)?;
                    let secret = HmacSecret::new(value.into_bytes()).map_err(|_| {
                        ConfigError::BadSecret {
                            file: config.source.clone(),
                            subject,
                            field: "secret_env".into(),
                            var: secret_env.clone(),
                            why: format!("is shorter than {MIN_HMAC_SECRET_BYTES} bytes"),
                        }
                    })?;
                    if let Some((first, _)) = signers.iter().find(|(_, s)| *s == secret) {
                        return Err(ConfigError::SharedSigningSecret {
                            file: config.source.clone(),
                            first: first.to_string(),
                            second: app.id.clone(),
                        });
                    }
                    signers.push((&app.id, secret.clone()));
                    app_verifiers.insert(app.id.clone(), AppVerifier::Hmac(secret));
                    continue;
                }
            };
            let hash = match key {
                ApiKeySource::Sha256(hash) => *hash,
                ApiKeySource::Env(var) => hash_api_key(&lookup(subject, "api_key_env", var)?),
            };
            if let Some((first, _)) = owners.iter().find(|(_, h)| *h == hash) {
                return Err(ConfigError::SharedApiKey {
                    file: config.source.clone(),
                    first: first.to_string(),
                    second: app.id.clone(),
                });
            }
            owners.push((&app.id, hash));
            app_key_hashes.insert(app.id.clone(), hash);
        }

        let mut grant_secrets = HashMap::new();
        for grant in &config.grants {
            let secret = lookup(
                format!("grant {:?}", grant.id),
                "secret_env",
                &grant.secret_env,
            )?;
            grant_secrets.insert(grant.id.clone(), SecretString(secret));
        }
        Ok(Secrets {
            app_key_hashes,
            app_verifiers,
            grant_secrets,
        })
    }

    /// [`Secrets::resolve`] from the process environment.
    pub fn from_env(config: &Config) -> Result<Secrets, ConfigError> {
        Self::resolve(config, &|name| std::env::var(name).ok())
    }

    /// The app whose API key is `presented_key`, if any. Every app's hash is compared, each
    /// in constant time, so the time taken does not depend on which app (if any) matched.
    pub fn app_for_key(&self, presented_key: &str) -> Option<&str> {
        let presented = hash_api_key(presented_key);
        let mut found = None;
        for (app, hash) in &self.app_key_hashes {
            if constant_time_eq(&presented, hash) {
                found = Some(app.as_str());
            }
        }
        found
    }

    /// How the signatures of the signing app `app` are checked; `None` for an unknown app or
    /// one that authenticates with a bearer key.
    pub fn app_verifier(&self, app: &str) -> Option<&AppVerifier> {
        self.app_verifiers.get(app)
    }

    /// The secret of a grant.
    pub fn grant_secret(&self, grant_id: &str) -> Option<&SecretString> {
        self.grant_secrets.get(grant_id)
    }
}

impl Injection {
    /// The header name (lower-case) and value to add to an upstream request: the value
    /// template with every `{secret}` replaced by the secret.
    pub fn render(&self, secret: &SecretString) -> (String, String) {
        (
            self.header.clone(),
            self.value.replace("{secret}", secret.expose()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const CONFIG: &str = r#"
[server]
listen = "127.0.0.1:8470"
public_url = "http://127.0.0.1:8470"
database = "sqlite://countersign.db"
[[approver]]
id = "alice"
name = "Alice"
[[app]]
id = "agent"
api_key_env = "AGENT_KEY"
grants = ["payments"]
[[app]]
id = "backend"
api_key_sha256 = "26e5026bae501dfb3ca603d61c961884aed8e12c1eb49ee8d03a11071df0f4a7"
grants = ["payments"]
[[grant]]
id = "payments"
base_url = "http://127.0.0.1:9000"
secret_env = "PAYMENTS_SECRET"
inject = { header = "Authorization", value = "Bearer {secret}" }
policy = "refunds"
[[policy]]
id = "refunds"
[[policy.gate]]
id = "approvers"
approvers = ["alice"]
"#;

    fn config() -> Config {
        Config::parse(CONFIG, Path::new("countersign.toml")).unwrap()
    }

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn resolves_and_authenticates() {
        let env = env_of(&[
            ("AGENT_KEY", "agent-key-1"),
            ("PAYMENTS_SECRET", "sk_live_x"),
        ]);
        let secrets = Secrets::resolve(&config(), &env).unwrap();
        assert_eq!(secrets.app_for_key("agent-key-1"), Some("agent"));
        // The sha256 above is the hash of "backend-key".
        assert_eq!(secrets.app_for_key("backend-key"), Some("backend"));
        assert_eq!(secrets.app_for_key("agent-key-2"), None);
        assert_eq!(secrets.app_for_key(""), None);
        assert_eq!(secrets.app_key_hashes["agent"], hash_api_key("agent-key-1"));
        let secret = secrets.grant_secret("payments").unwrap();
        assert_eq!(secret.expose(), "sk_live_x");
        let grant = config().grant("payments").unwrap().clone();
        assert_eq!(
            grant.inject.render(secret),
            ("authorization".to_string(), "Bearer sk_live_x".to_string())
        );
    }

    #[test]
    fn missing_variables_are_named() {
        let err = Secrets::resolve(&config(), &env_of(&[("PAYMENTS_SECRET", "s")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "countersign.toml: app \"agent\" field `api_key_env`: environment variable AGENT_KEY is not set"
        );
        let err = Secrets::resolve(&config(), &env_of(&[("AGENT_KEY", "k")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "countersign.toml: grant \"payments\" field `secret_env`: environment variable PAYMENTS_SECRET is not set"
        );
    }

    #[test]
    fn unusable_values_are_refused_without_showing_them() {
        let err = Secrets::resolve(
            &config(),
            &env_of(&[("AGENT_KEY", "k"), ("PAYMENTS_SECRET", "sk\r\nX-Evil: 1")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("PAYMENTS_SECRET contains control characters"),
            "{err}"
        );
        assert!(!err.contains("sk"), "{err}");
        let err = Secrets::resolve(
            &config(),
            &env_of(&[("AGENT_KEY", ""), ("PAYMENTS_SECRET", "s")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("AGENT_KEY is empty"), "{err}");
    }

    #[test]
    fn two_apps_may_not_share_a_key() {
        let env = env_of(&[("AGENT_KEY", "backend-key"), ("PAYMENTS_SECRET", "s")]);
        let err = Secrets::resolve(&config(), &env).unwrap_err().to_string();
        assert!(
            err.contains("apps \"agent\" and \"backend\" have the same API key"),
            "{err}"
        );
    }

    #[test]
    fn secrets_never_print() {
        let secret = SecretString::new("sk_live_very_secret");
        assert_eq!(secret.to_string(), "[redacted]");
        assert_eq!(format!("{secret:?}"), "SecretString([redacted])");
        let env = env_of(&[
            ("AGENT_KEY", "agent-key-1"),
            ("PAYMENTS_SECRET", "sk_live_x"),
        ]);
        let secrets = Secrets::resolve(&config(), &env).unwrap();
        assert!(!format!("{secrets:?}").contains("sk_live_x"));
    }

    #[test]
    fn constant_time_comparison() {
        let a = hash_api_key("a");
        let mut b = a;
        assert!(constant_time_eq(&a, &b));
        b[31] ^= 1;
        assert!(!constant_time_eq(&a, &b));
        b = a;
        b[0] ^= 0x80;
        assert!(!constant_time_eq(&a, &b));
    }
}
