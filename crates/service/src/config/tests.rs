//! Tests of parsing the whole file: a full example, defaults, lookups, the fingerprint and
//! error locations. Refusals of each kind of invalid value are in [`validation`].

use super::*;

mod app_auth;
mod validation;

/// A full example using every field.
const EXAMPLE: &str = r#"# Countersign example configuration
[server]
listen = "127.0.0.1:8470"
public_url = "http://127.0.0.1:8470/"
database = "sqlite://countersign.db"
max_request_bytes = 2048
max_response_bytes = 4096
max_gated_body_bytes = 1024
max_pending_per_app = 50
upstream_timeout = "45s"

[[approver]]
id = "alice"
name = "Alice Example"

[[approver]]
id = "bob"
name = "Bob Example"

[[group]]
id = "finance"
members = ["alice", "bob"]

[[app]]
id = "support-agent"
api_key_env = "SUPPORT_AGENT_KEY"
grants = ["payments", "crm"]

[[app]]
id = "batch.job_2"
api_key_sha256 = "26E5026BAE501DFB3CA603D61C961884AED8E12C1EB49EE8D03A11071DF0F4A7"
grants = ["payments"]
policy = "everything"

[[grant]]
id = "payments"
base_url = "https://api.payments.example/v1"
secret_env = "PAYMENTS_SECRET"
inject = { header = "Authorization", value = "Bearer {secret}" }
policy = "refunds"
timeout = "10s"

[[grant]]
id = "crm"
base_url = "http://127.0.0.1:9000"
secret_env = "CRM_TOKEN"
inject = { header = "X-Api-Key", value = "{secret}" }
policy = "open"

[[policy]]
id = "refunds"
window = "2h30m"
[[policy.gate]]
id = "finance"
groups = ["finance"]
quorum = 2
[[policy.rule]]
id = "refund-writes"
methods = ["post", "DELETE"]
path = "/v1/refunds*"
action = "require"
[[policy.rule]]
path = "/v1/customers/*/delete"
action = "deny"
[[policy.rule]]
id = "tiny"
path = "/*"
when = [{ pointer = "/amount", lt = 10 }]
at_most = "5/1m"
action = "allow"

[[policy]]
id = "everything"
[[policy.gate]]
id = "ops"
approvers = ["bob"]

[[policy]]
id = "open"
[[policy.rule]]
path = "/*"
action = "allow"
"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("conf/countersign.toml"))
}

/// The example with `from` replaced by `to` (which must occur), parsed, as an error text.
fn error_with(from: &str, to: &str) -> String {
    assert!(EXAMPLE.contains(from), "{from:?} is not in the example");
    let text = EXAMPLE.replacen(from, to, 1);
    match parse(&text) {
        Ok(_) => panic!("replacing {from:?} by {to:?} should fail"),
        Err(e) => e.to_string(),
    }
}

/// The `file:line:` prefix of the line of `text` that contains `needle`.
fn at_line_of(text: &str, needle: &str) -> String {
    let offset = text.find(needle).expect("needle present");
    format!(
        "conf/countersign.toml:{}:",
        text[..offset].matches('\n').count() + 1
    )
}

/// Asserts that replacing `from` by `to` fails on the line of `to`, naming `field` and
/// saying `message`.
fn assert_refused(from: &str, to: &str, field: &str, message: &str) {
    let err = error_with(from, to);
    let offset = EXAMPLE.find(from).expect("present");
    let line = EXAMPLE[..offset].matches('\n').count() + to.trim_end().matches('\n').count() + 1;
    let line = format!("conf/countersign.toml:{line}:");
    assert!(err.starts_with(&line), "{err:?} should start with {line:?}");
    assert!(
        err.contains(&format!("field `{field}`")),
        "{err:?} should name {field}"
    );
    assert!(err.contains(message), "{err:?} should say {message:?}");
}

#[test]
fn full_example_parses() {
    let config = parse(EXAMPLE).unwrap();
    let server = &config.server;
    assert_eq!(server.listen, "127.0.0.1:8470".parse().unwrap());
    assert_eq!(server.public_url.as_str(), "http://127.0.0.1:8470");
    assert_eq!(
        server.database,
        DatabaseUrl::Sqlite {
            path: PathBuf::from("conf/countersign.db")
        }
    );
    assert_eq!(server.max_request_bytes, 2048);
    assert_eq!(server.max_response_bytes, 4096);
    assert_eq!(server.max_gated_body_bytes, 1024);
    assert_eq!(server.max_pending_per_app, 50);
    assert_eq!(server.upstream_timeout, Duration::from_secs(45));
    assert_eq!(config.source, PathBuf::from("conf/countersign.toml"));

    assert_eq!(config.approver("bob").unwrap().name, "Bob Example");
    let agent = config.app("support-agent").unwrap();
    assert_eq!(
        agent.auth,
        AppAuthConfig::Bearer(ApiKeySource::Env("SUPPORT_AGENT_KEY".into()))
    );
    assert_eq!(agent.policy, None);
    let batch = config.app("batch.job_2").unwrap();
    assert_eq!(
        batch.auth,
        AppAuthConfig::Bearer(ApiKeySource::Sha256(hash_api_key("backend-key")))
    );
    assert_eq!(batch.policy.as_deref(), Some("everything"));

    let payments = config.grant("payments").unwrap();
    assert_eq!(
        payments.base_url.as_str(),
        "https://api.payments.example/v1"
    );
    assert_eq!(payments.inject.header, "authorization");
    assert_eq!(payments.inject.value, "Bearer {secret}");
    assert_eq!(payments.timeout, Some(Duration::from_secs(10)));
    assert_eq!(payments.timeout_or(server), Duration::from_secs(10));
    let crm = config.grant("crm").unwrap();
    assert_eq!(crm.inject.header, "x-api-key");
    assert_eq!(crm.timeout_or(server), Duration::from_secs(45));

    assert_eq!(agent.grants, ["payments", "crm"]);
    assert_eq!(config.group("finance").unwrap().members, ["alice", "bob"]);

    let refunds = config.policy("refunds").unwrap();
    assert_eq!(refunds.window, Duration::from_secs(9000));
    assert_eq!(refunds.require, ["finance"]);
    let finance = refunds.gate("finance").unwrap();
    assert_eq!(
        (finance.members.as_slice(), finance.quorum),
        (&["alice".to_string(), "bob".to_string()][..], 2)
    );
    assert_eq!(refunds.rules[0].id, "refund-writes");
    assert_eq!(refunds.rules[0].methods, ["POST", "DELETE"]);
    assert_eq!(refunds.rules[0].path.as_str(), "/v1/refunds*");
    assert_eq!(
        refunds.rules[0].action,
        Action::Require(vec!["finance".into()])
    );
    assert_eq!(refunds.rules[1].id, "rule-2");
    assert_eq!(refunds.rules[1].action, Action::Deny);
    assert!(refunds.rules[1].methods.is_empty());
    let tiny = refunds.rule("tiny").unwrap();
    assert_eq!(tiny.when[0].to_string(), "/amount < 10");
    assert_eq!(
        tiny.at_most,
        Some(RateLimit {
            count: 5,
            per: Duration::from_secs(60)
        })
    );

    let everything = config.policy("everything").unwrap();
    assert_eq!(everything.window, DEFAULT_WINDOW);
    assert_eq!(everything.require, ["ops"]);
    assert_eq!(everything.gate("ops").unwrap().quorum, 1);
    assert!(config.policy("open").unwrap().gates.is_empty());
    assert!(config.policy("nope").is_none() && config.grant("nope").is_none());
}

#[test]
fn server_defaults_apply() {
    let text = EXAMPLE
        .replace("max_request_bytes = 2048\n", "")
        .replace("max_response_bytes = 4096\n", "")
        .replace("max_gated_body_bytes = 1024\n", "")
        .replace("max_pending_per_app = 50\n", "")
        .replace("upstream_timeout = \"45s\"\n", "")
        .replace("sqlite://countersign.db", "sqlite:///var/lib/cs.db");
    let server = parse(&text).unwrap().server;
    assert_eq!(server.max_request_bytes, 1024 * 1024);
    assert_eq!(server.max_response_bytes, 1024 * 1024);
    assert_eq!(server.max_gated_body_bytes, 1024 * 1024);
    assert_eq!(server.max_pending_per_app, 1000);
    assert_eq!(server.upstream_timeout, Duration::from_secs(30));
    assert_eq!(server.database.to_string(), "sqlite:///var/lib/cs.db");
    // A bare file name in the current directory.
    let config = Config::parse(EXAMPLE, Path::new("countersign.toml")).unwrap();
    assert_eq!(
        config.server.database,
        DatabaseUrl::Sqlite {
            path: PathBuf::from("countersign.db")
        }
    );
}

#[test]
fn the_review_cap_follows_a_smaller_request_cap_unless_set() {
    // Unset, it is the smaller of 1 MiB and max_request_bytes.
    let text = EXAMPLE.replace("max_gated_body_bytes = 1024\n", "");
    assert_eq!(parse(&text).unwrap().server.max_gated_body_bytes, 2048);
    let text = text.replace("max_request_bytes = 2048", "max_request_bytes = 4000000");
    assert_eq!(
        parse(&text).unwrap().server.max_gated_body_bytes,
        1024 * 1024
    );
    // Equal to max_request_bytes is fine.
    let text = EXAMPLE.replace("max_gated_body_bytes = 1024", "max_gated_body_bytes = 2048");
    assert_eq!(parse(&text).unwrap().server.max_gated_body_bytes, 2048);
}

#[test]
fn current_requirement_drops_people_no_longer_in_the_gate() {
    let config = parse(EXAMPLE).unwrap();
    let snapshot = vec![crate::policy::RequiredGate {
        policy: "refunds".into(),
        gate: "finance".into(),
        quorum: 2,
        members: vec!["alice".into(), "bob".into(), "mallory".into()],
    }];
    let now = config.current_requirement(&snapshot);
    assert_eq!(now[0].members, ["alice", "bob"]);
    let gone = vec![crate::policy::RequiredGate {
        gate: "removed".into(),
        ..snapshot[0].clone()
    }];
    assert!(config.current_requirement(&gone)[0].members.is_empty());
}

#[test]
fn fingerprint_is_secret_free_and_stable() {
    let config = parse(EXAMPLE).unwrap();
    let fingerprint = config.fingerprint_json();
    assert_eq!(fingerprint, parse(EXAMPLE).unwrap().fingerprint_json());
    let text = fingerprint.to_string();
    for hidden in [
        "SUPPORT_AGENT_KEY",
        "PAYMENTS_SECRET",
        "26e5026b",
        "26E5026B",
        "Bearer",
    ] {
        assert!(!text.contains(hidden), "{hidden} in {text}");
    }
    assert_eq!(
        fingerprint["grants"][0],
        serde_json::json!({
            "id": "payments",
            "base_url": "https://api.payments.example/v1",
            "inject_header": "authorization",
            "policy": "refunds",
        })
    );
    assert_eq!(fingerprint["apps"][1]["policy"], "everything");
    assert_eq!(fingerprint["policies"][0]["window_secs"], 9000);
    assert_eq!(
        fingerprint["policies"][0]["rules"][0]["methods"],
        serde_json::json!(["POST", "DELETE"])
    );
    assert_eq!(
        fingerprint["policies"][0]["rules"][2]["when"][0],
        "/amount < 10"
    );
    assert_eq!(fingerprint["policies"][0]["rules"][2]["at_most"], "5/1m");
    let changed = parse(&EXAMPLE.replace("quorum = 2", "quorum = 1")).unwrap();
    assert_ne!(changed.fingerprint_json(), fingerprint);
}

#[test]
fn load_reads_the_fixture_and_resolves_the_database_path() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config_fixtures");
    let config = Config::load(&dir.join("countersign.toml")).unwrap();
    assert_eq!(
        config.server.database,
        DatabaseUrl::Sqlite {
            path: dir.join("countersign.db")
        }
    );
    assert!(config.grant("payments").is_some());
    let err = Config::load(&dir.join("missing.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "{}: cannot read",
            dir.join("missing.toml").display()
        )),
        "{err}"
    );
}

#[test]
fn error_message_format() {
    let err = error_with(
        "policy = \"refunds\"\ntimeout",
        "policy = \"refund\"\ntimeout",
    );
    assert_eq!(
        err,
        "conf/countersign.toml:40:10: grant \"payments\" field `policy`: unknown policy \"refund\" (defined: refunds, everything, open)"
    );
}

#[test]
fn syntax_and_type_errors_are_located() {
    let err = error_with("max_request_bytes = 2048", "max_request_bytes = \"2048\"");
    assert!(
        err.starts_with(
            "conf/countersign.toml:6:21: [server] field `max_request_bytes`: invalid type"
        ),
        "{err}"
    );
    let err = error_with("timeout = \"10s\"", "timeout = 10");
    assert!(
        err.starts_with(
            "conf/countersign.toml:41:11: grant \"payments\" field `timeout`: invalid type"
        ),
        "{err}"
    );
    let err = error_with("[server]", "[server");
    assert!(err.starts_with("conf/countersign.toml:2:"), "{err}");
    assert!(!err.contains('\n'), "{err}");
    let err = error_with("quorum = 2", "quorum = 2\nquorum = 3");
    assert!(err.starts_with("conf/countersign.toml:57:"), "{err}");
    let err = error_with("name = \"Bob Example\"\n", "");
    assert!(err.starts_with("conf/countersign.toml:16:"), "{err}");
    assert!(err.contains("missing field `name`"), "{err}");
}

#[test]
fn the_readme_configuration_reference_parses_and_decides_as_it_says() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let section = &readme[readme.find("## Configuration reference").expect("section")..];
    let start = section.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let text = &section[start..start + section[start..].find("```").unwrap()];
    let config = parse(text).unwrap_or_else(|e| panic!("the README's config: {e}"));
    let app = config.app("support-agent").unwrap();
    let grant = config.grant("payments").unwrap();
    let decide = |method: &str, path: &str, body: &str| {
        let facts = crate::policy::CallFacts {
            method,
            path,
            content_type: Some("application/json"),
            body: body.as_bytes(),
        };
        crate::policy::evaluate_call(&config, app, grant, &facts, &crate::policy::NoCounts)
            .unwrap()
            .outcome
    };
    use crate::policy::Outcome;
    let gates = |o: Outcome| match o {
        Outcome::Require { gates, .. } => gates.into_iter().map(|g| g.gate).collect::<Vec<_>>(),
        other => panic!("expected require, got {other:?}"),
    };
    assert_eq!(decide("GET", "/v1/balance", ""), Outcome::Allow);
    assert_eq!(
        decide(
            "POST",
            "/v1/refunds",
            r#"{"amount": 5000, "currency": "EUR"}"#
        ),
        Outcome::Allow
    );
    assert_eq!(
        gates(decide(
            "POST",
            "/v1/refunds",
            r#"{"amount": 5001, "currency": "EUR"}"#
        )),
        ["finance"]
    );
    assert_eq!(
        gates(decide(
            "POST",
            "/v1/refunds",
            r#"{"amount": 500001, "currency": "EUR"}"#
        )),
        ["finance", "manager"]
    );
    assert!(
        matches!(decide("DELETE", "/v1/customers/1", ""), Outcome::Deny { rule, .. } if rule == "no-deletes")
    );
}
