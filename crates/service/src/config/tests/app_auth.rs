//! `[[app]] auth`: bearer keys, HMAC and Ed25519 signing apps, `[server] allow_bearer_apps`,
//! and how their secrets resolve.

use super::*;
use countersign_core::app_request::AppVerifier;
use countersign_core::keys::{encode_public_key, generate_signing_key};

const BASE: &str = r#"
[server]
listen = "127.0.0.1:8470"
public_url = "http://127.0.0.1:8470"
database = "sqlite://countersign.db"
[[approver]]
id = "alice"
name = "Alice"
[[grant]]
id = "payments"
base_url = "http://127.0.0.1:9000"
secret_env = "PAYMENTS_SECRET"
inject = { header = "Authorization", value = "Bearer {secret}" }
policy = "p"
[[policy]]
id = "p"
[[policy.gate]]
id = "g"
approvers = ["alice"]
"#;

fn with_apps(server_extra: &str, apps: &str) -> String {
    BASE.replacen(
        "database = \"sqlite://countersign.db\"\n",
        &format!("database = \"sqlite://countersign.db\"\n{server_extra}"),
        1,
    ) + apps
}

fn refused(text: &str) -> String {
    parse(text).expect_err("should be refused").to_string()
}

const SECRET: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn signing_apps_parse_and_resolve() {
    let key = generate_signing_key();
    let public = encode_public_key(&key.verifying_key());
    let text = with_apps(
        "",
        &format!(
            r#"
[[app]]
id = "hmac-app"
auth = "hmac"
secret_env = "HMAC_APP_SECRET"
grants = ["payments"]
[[app]]
id = "ed-app"
auth = "ed25519"
public_key = "{public}"
grants = ["payments"]
[[app]]
id = "bearer-app"
auth = "bearer"
api_key_env = "BEARER_KEY"
grants = ["payments"]
"#
        ),
    );
    let config = parse(&text).unwrap();
    assert!(
        config.server.allow_bearer_apps,
        "bearer keys are allowed by default"
    );
    assert_eq!(
        config.app("hmac-app").unwrap().auth,
        AppAuthConfig::Hmac {
            secret_env: "HMAC_APP_SECRET".into()
        }
    );
    assert_eq!(
        config.app("ed-app").unwrap().auth,
        AppAuthConfig::Ed25519(key.verifying_key())
    );
    let env = |name: &str| match name {
        "HMAC_APP_SECRET" => Some(SECRET.to_string()),
        "BEARER_KEY" => Some("bearer-key".to_string()),
        "PAYMENTS_SECRET" => Some("s".to_string()),
        _ => None,
    };
    let secrets = Secrets::resolve(&config, &env).unwrap();
    assert!(matches!(
        secrets.app_verifier("hmac-app"),
        Some(AppVerifier::Hmac(_))
    ));
    assert_eq!(
        secrets.app_verifier("ed-app"),
        Some(&AppVerifier::Ed25519(key.verifying_key()))
    );
    assert_eq!(secrets.app_verifier("bearer-app"), None);
    assert_eq!(secrets.app_for_key("bearer-key"), Some("bearer-app"));
    assert!(!format!("{secrets:?}").contains(SECRET));
    // The fingerprint names how signing apps authenticate, never the secret.
    let fingerprint = config.fingerprint_json().to_string();
    assert!(fingerprint.contains("HMAC_APP_SECRET"), "{fingerprint}");
    assert!(fingerprint.contains(&public), "{fingerprint}");
    assert!(!fingerprint.contains(SECRET));
}

#[test]
fn each_kind_takes_its_own_fields_only() {
    let cases = [
        (
            "auth = \"hmac\"\napi_key_env = \"K\"",
            "api_key_env",
            "does not go with auth = \"hmac\"",
        ),
        (
            "auth = \"hmac\"",
            "secret_env",
            "auth = \"hmac\" needs secret_env",
        ),
        (
            "auth = \"ed25519\"",
            "public_key",
            "auth = \"ed25519\" needs public_key",
        ),
        (
            "auth = \"ed25519\"\npublic_key = \"AAAA\"",
            "public_key",
            "expected an Ed25519 public key",
        ),
        (
            // The identity point is a weak key: refused.
            "auth = \"ed25519\"\npublic_key = \"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"",
            "public_key",
            "expected an Ed25519 public key",
        ),
        (
            "api_key_env = \"K\"\nsecret_env = \"S\"",
            "secret_env",
            "does not go with auth = \"bearer\"",
        ),
        (
            "auth = \"hmac\"\nsecret_env = \"S\"\npublic_key = \"x\"",
            "public_key",
            "does not go with auth = \"hmac\"",
        ),
        (
            "auth = \"HMAC\"\nsecret_env = \"S\"",
            "auth",
            "unknown auth \"HMAC\"",
        ),
        (
            "auth = \"hmac\"\nsecret_env = \"1BAD\"",
            "secret_env",
            "is not an environment variable name",
        ),
    ];
    for (fields, field, message) in cases {
        let text = with_apps(
            "",
            &format!("\n[[app]]\nid = \"a\"\n{fields}\ngrants = [\"payments\"]\n"),
        );
        let err = refused(&text);
        assert!(err.contains(&format!("field `{field}`")), "{fields}: {err}");
        assert!(err.contains(message), "{fields}: {err}");
    }
}

#[test]
fn turning_bearer_keys_off_refuses_bearer_apps_at_start() {
    let signing = "\n[[app]]\nid = \"signer\"\nauth = \"hmac\"\nsecret_env = \"S\"\ngrants = [\"payments\"]\n";
    let config = parse(&with_apps("allow_bearer_apps = false\n", signing)).unwrap();
    assert!(!config.server.allow_bearer_apps);
    let text = with_apps(
        "allow_bearer_apps = false\n",
        &format!(
            "{signing}\n[[app]]\nid = \"old\"\napi_key_env = \"K\"\ngrants = [\"payments\"]\n"
        ),
    );
    let err = refused(&text);
    assert!(err.starts_with(&at_line_of(&text, "id = \"old\"")), "{err}");
    assert!(err.contains("app \"old\" field `auth`"), "{err}");
    assert!(err.contains("allow_bearer_apps = false"), "{err}");
}

#[test]
fn hmac_secrets_must_be_long_and_not_shared() {
    let text = with_apps(
        "",
        "\n[[app]]\nid = \"a\"\nauth = \"hmac\"\nsecret_env = \"A_SECRET\"\ngrants = [\"payments\"]\n\
         [[app]]\nid = \"b\"\nauth = \"hmac\"\nsecret_env = \"B_SECRET\"\ngrants = [\"payments\"]\n",
    );
    let config = parse(&text).unwrap();
    let resolve = |a: &'static str, b: &'static str| {
        Secrets::resolve(&config, &move |name: &str| match name {
            "A_SECRET" => Some(a.to_string()),
            "B_SECRET" => Some(b.to_string()),
            _ => Some("s".to_string()),
        })
    };
    let err = resolve("short", SECRET).unwrap_err().to_string();
    assert!(
        err.contains(
            "app \"a\" field `secret_env`: environment variable A_SECRET is shorter than 32 bytes"
        ),
        "{err}"
    );
    assert!(!err.contains("short\""), "{err}");
    let err = resolve(SECRET, SECRET).unwrap_err().to_string();
    assert!(
        err.contains("apps \"a\" and \"b\" have the same HMAC secret"),
        "{err}"
    );
    assert!(resolve(SECRET, "another-secret-of-at-least-32-bytes").is_ok());
    let err = Secrets::resolve(&config, &|name: &str| {
        (name != "B_SECRET").then(|| SECRET.to_string())
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("B_SECRET is not set"), "{err}");
}
