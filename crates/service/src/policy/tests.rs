//! Evaluation of the issue's example policy, combination of grant and app policies, and
//! properties: determinism, ambiguity never matching, allow rules matching only their
//! canonical form.

use super::*;
use crate::config::Config;
use proptest::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// The README's example: small refunds run free (rate-limited), large ones need finance AND
/// a manager, deletes are refused, balance reads are free.
pub(crate) const EXAMPLE: &str = r#"
[server]
listen = "127.0.0.1:8470"
public_url = "http://127.0.0.1:8470"
database = "sqlite://countersign.db"

[[approver]]
id = "alice"
name = "Alice"
[[approver]]
id = "bob"
name = "Bob"
[[approver]]
id = "carol"
name = "Carol"
[[approver]]
id = "dave"
name = "Dave"

[[group]]
id = "finance"
members = ["alice", "bob", "carol"]

[[app]]
id = "support-agent"
api_key_env = "SUPPORT_AGENT_KEY"
grants = ["payments"]

[[app]]
id = "strict-agent"
api_key_env = "STRICT_AGENT_KEY"
grants = ["payments"]
policy = "agent-extra"

[[app]]
id = "crm-only"
api_key_env = "CRM_ONLY_KEY"
grants = ["crm"]

[[grant]]
id = "payments"
base_url = "http://127.0.0.1:9000"
secret_env = "PAYMENTS_SECRET"
inject = { header = "Authorization", value = "Bearer {secret}" }
policy = "refunds"

[[grant]]
id = "crm"
base_url = "http://127.0.0.1:9001"
secret_env = "CRM_SECRET"
inject = { header = "Authorization", value = "Bearer {secret}" }
policy = "refunds"

[[policy]]
id = "refunds"
window = "1h"
require = ["finance"]

[[policy.gate]]
id = "finance"
groups = ["finance"]
quorum = 1

[[policy.gate]]
id = "manager"
approvers = ["dave", "carol"]
quorum = 1

[[policy.rule]]
id = "balance-reads"
methods = ["GET"]
path = "/v1/balance"
action = "allow"

[[policy.rule]]
id = "small-refunds"
methods = ["POST"]
path = "/v1/refunds"
when = [{ pointer = "/amount", le = 5000 }, { pointer = "/currency", in = ["EUR", "USD"] }]
at_most = "20/1h"
action = "allow"

[[policy.rule]]
id = "large-refunds"
methods = ["POST"]
path = "/v1/refunds"
when = [{ pointer = "/amount", gt = 500000 }]
action = "require"
gates = ["finance", "manager"]

[[policy.rule]]
id = "no-deletes"
methods = ["DELETE"]
path = "/v1/*"
action = "deny"

[[policy]]
id = "agent-extra"
window = "10m"
[[policy.gate]]
id = "lead"
approvers = ["dave"]
[[policy.rule]]
id = "reads"
methods = ["GET"]
path = "/*"
action = "allow"
"#;

fn config() -> Config {
    Config::parse(EXAMPLE, Path::new("example.toml")).expect("the example parses")
}

fn facts<'a>(method: &'a str, path: &'a str, body: &'a str) -> CallFacts<'a> {
    CallFacts {
        method,
        path,
        content_type: Some("application/json"),
        body: body.as_bytes(),
    }
}

fn decide(config: &Config, app: &str, f: &CallFacts<'_>, counts: &dyn RateCounts) -> CallDecision {
    let app = config.app(app).unwrap();
    let grant = config.grant(&app.grants[0]).unwrap();
    evaluate_call(config, app, grant, f, counts).unwrap()
}

fn gates_of(outcome: &Outcome) -> Vec<String> {
    match outcome {
        Outcome::Require { gates, .. } => gates
            .iter()
            .map(|g| format!("{}/{}", g.policy, g.gate))
            .collect(),
        other => panic!("expected require, got {other:?}"),
    }
}

#[test]
fn the_example_decides_as_documented() {
    let c = config();
    let p = c.policy("refunds").unwrap();
    let run = |method, path, body| evaluate(&facts(method, path, body), p, &NoCounts);

    let e = run("GET", "/v1/balance", "");
    assert_eq!(
        (e.rule.as_deref(), &e.verdict),
        (Some("balance-reads"), &Verdict::Allow)
    );
    let e = run(
        "POST",
        "/v1/refunds",
        r#"{"amount": 5000, "currency": "EUR"}"#,
    );
    assert_eq!(
        (e.rule.as_deref(), &e.verdict),
        (Some("small-refunds"), &Verdict::Allow)
    );
    assert_eq!(e.limit.map(|l| l.count), Some(20));
    // 50.01 is over the free limit: no rule matches, the policy's `require` applies.
    let e = run(
        "POST",
        "/v1/refunds",
        r#"{"amount": 5001, "currency": "EUR"}"#,
    );
    assert_eq!(e.rule, None);
    assert_eq!(e.verdict, Verdict::Require(vec!["finance".into()]));
    let e = run(
        "POST",
        "/v1/refunds",
        r#"{"amount": 500001, "currency": "EUR"}"#,
    );
    assert_eq!(e.rule.as_deref(), Some("large-refunds"));
    assert_eq!(
        e.verdict,
        Verdict::Require(vec!["finance".into(), "manager".into()])
    );
    let e = run("DELETE", "/v1/customers/c1", "");
    assert_eq!(
        (e.rule.as_deref(), &e.verdict),
        (Some("no-deletes"), &Verdict::Deny)
    );
    // Anything else needs the default gates.
    let e = run("POST", "/v1/payouts", "{}");
    assert_eq!(e.verdict, Verdict::Require(vec!["finance".into()]));
}

#[test]
fn other_spellings_of_an_allowed_call_need_approval() {
    let c = config();
    let p = c.policy("refunds").unwrap();
    for (method, path) in [
        ("GET", "/V1/balance"),
        ("GET", "/v1/balance/"),
        ("GET", "/v1/Balance"),
        ("HEAD", "/v1/balance"),
        ("get", "/v1/balance"),
    ] {
        let e = evaluate(&facts(method, path, ""), p, &NoCounts);
        assert_eq!(
            e.verdict,
            Verdict::Require(vec!["finance".into()]),
            "{method} {path}"
        );
    }
}

#[test]
fn body_conditions_fail_closed() {
    let c = config();
    let p = c.policy("refunds").unwrap();
    let small =
        |f: CallFacts<'_>| evaluate(&f, p, &NoCounts).rule.as_deref() == Some("small-refunds");
    assert!(small(facts(
        "POST",
        "/v1/refunds",
        r#"{"amount": 50.00e2, "currency": "USD"}"#
    )));
    assert!(small(facts(
        "POST",
        "/v1/refunds",
        r#"{"amount": 5000.000, "currency": "USD"}"#
    )));
    assert!(!small(facts(
        "POST",
        "/v1/refunds",
        r#"{"amount": 5000.001, "currency": "USD"}"#
    )));
    assert!(!small(facts(
        "POST",
        "/v1/refunds",
        r#"{"amount": "10", "currency": "USD"}"#
    )));
    assert!(!small(facts(
        "POST",
        "/v1/refunds",
        r#"{"currency": "USD"}"#
    )));
    assert!(!small(facts(
        "POST",
        "/v1/refunds",
        r#"{"amount": 1, "currency": "usd"}"#
    )));
    assert!(!small(facts(
        "POST",
        "/v1/refunds",
        r#"{"amount": 1, "currency": "USD", "amount": 999999999}"#
    )));
    let form = CallFacts {
        content_type: Some("application/x-www-form-urlencoded"),
        ..facts("POST", "/v1/refunds", r#"{"amount": 1, "currency": "USD"}"#)
    };
    assert!(!small(form));
    let untyped = CallFacts {
        content_type: None,
        ..facts("POST", "/v1/refunds", r#"{"amount": 1, "currency": "USD"}"#)
    };
    assert!(!small(untyped));
    let vendor = CallFacts {
        content_type: Some("application/vnd.api+json; charset=utf-8"),
        ..facts("POST", "/v1/refunds", r#"{"amount": 1, "currency": "USD"}"#)
    };
    assert!(small(vendor));
}

#[test]
fn a_full_rate_limit_falls_through_to_the_next_rule() {
    let c = config();
    let p = c.policy("refunds").unwrap();
    let mut counts = HashMap::new();
    counts.insert(("refunds".to_string(), "small-refunds".to_string()), 19u64);
    let f = facts("POST", "/v1/refunds", r#"{"amount": 1, "currency": "EUR"}"#);
    assert_eq!(evaluate(&f, p, &counts).verdict, Verdict::Allow);
    counts.insert(("refunds".to_string(), "small-refunds".to_string()), 20u64);
    let e = evaluate(&f, p, &counts);
    assert_eq!(e.verdict, Verdict::Require(vec!["finance".into()]));
    assert!(matches!(
        e.misses.iter().find(|(r, _)| r == "small-refunds"),
        Some((_, RuleMiss::RateLimited { count: 20, .. }))
    ));
}

#[test]
fn an_app_policy_adds_to_the_grant_policy_and_never_replaces_it() {
    let c = config();
    // The app's policy allows every GET; the grant's needs finance for GET /v1/payouts.
    let d = decide(
        &c,
        "strict-agent",
        &facts("GET", "/v1/payouts", ""),
        &NoCounts,
    );
    assert_eq!(gates_of(&d.outcome), ["refunds/finance"]);
    assert_eq!(d.policy_id(), "refunds+agent-extra");
    // Both allow: runs.
    let d = decide(
        &c,
        "strict-agent",
        &facts("GET", "/v1/balance", ""),
        &NoCounts,
    );
    assert_eq!(d.outcome, Outcome::Allow);
    // The grant allows a small refund; the app's policy needs its lead: the stricter wins,
    // with the app policy's shorter window.
    let d = decide(
        &c,
        "strict-agent",
        &facts("POST", "/v1/refunds", r#"{"amount": 1, "currency": "EUR"}"#),
        &NoCounts,
    );
    assert_eq!(gates_of(&d.outcome), ["agent-extra/lead"]);
    assert!(matches!(d.outcome, Outcome::Require { window, .. } if window.as_secs() == 600));
    // Both require: every gate of both.
    let d = decide(
        &c,
        "strict-agent",
        &facts("POST", "/v1/payouts", "{}"),
        &NoCounts,
    );
    assert_eq!(
        gates_of(&d.outcome),
        ["refunds/finance", "agent-extra/lead"]
    );
    // A deny in either wins.
    let d = decide(&c, "strict-agent", &facts("DELETE", "/v1/x", ""), &NoCounts);
    assert_eq!(
        d.outcome,
        Outcome::Deny {
            policy: "refunds".into(),
            rule: "no-deletes".into()
        }
    );
}

#[test]
fn apps_are_bound_to_their_grants() {
    let c = config();
    let app = c.app("crm-only").unwrap();
    let payments = c.grant("payments").unwrap();
    let err = evaluate_call(
        &c,
        app,
        payments,
        &facts("GET", "/v1/balance", ""),
        &NoCounts,
    )
    .unwrap_err();
    assert!(matches!(err, Unbound::GrantNotAllowed { .. }), "{err}");
}

fn arb_path() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("v1".to_string()),
            Just("balance".to_string()),
            Just("Balance".to_string()),
            Just("refunds".to_string()),
            Just("".to_string()),
            Just(".".to_string()),
            Just("..".to_string()),
            Just("%2e".to_string()),
            Just("a;b".to_string()),
            "[a-zA-Z0-9%;.]{0,4}",
        ],
        0..5,
    )
    .prop_map(|segments| format!("/{}", segments.join("/")))
}

proptest! {
    #[test]
    fn evaluation_is_deterministic(path in arb_path(), amount in 0u64..1_000_000) {
        let c = config();
        let p = c.policy("refunds").unwrap();
        let body = format!(r#"{{"amount": {amount}, "currency": "EUR"}}"#);
        let f = facts("POST", &path, &body);
        prop_assert_eq!(evaluate(&f, p, &NoCounts), evaluate(&f, p, &NoCounts));
    }

    #[test]
    fn the_untraced_decision_is_the_traced_one(path in arb_path(), amount in 0u64..1_000_000, app in 0usize..2) {
        let c = config();
        let app = c.app(["support-agent", "strict-agent"][app]).unwrap();
        let grant = c.grant("payments").unwrap();
        let body = format!(r#"{{"amount": {amount}, "currency": "EUR"}}"#);
        for method in ["GET", "POST", "DELETE"] {
            let f = facts(method, &path, &body);
            let traced = evaluate_call(&c, app, grant, &f, &NoCounts).unwrap();
            let untraced = decide_call(&c, app, grant, &f, &NoCounts).unwrap();
            prop_assert_eq!(&traced.outcome, &untraced.outcome);
            prop_assert!(untraced.evaluations.iter().all(|e| e.misses.is_empty()));
        }
    }

    #[test]
    fn a_path_refused_as_ambiguous_never_reaches_a_rule(path in arb_path()) {
        // What the proxy refuses is never evaluated; and what it accepts is canonical.
        if crate::call::check_path(&path).is_ok() {
            prop_assert!(!path.contains("//") && !path.contains(';'));
            prop_assert!(!path.split('/').any(|s| s == "." || s == ".." || s.eq_ignore_ascii_case("%2e")));
        }
    }

    #[test]
    fn allow_matches_only_the_canonical_form(path in arb_path()) {
        let c = config();
        let p = c.policy("refunds").unwrap();
        let e = evaluate(&facts("GET", &path, ""), p, &NoCounts);
        if e.verdict == Verdict::Allow {
            prop_assert_eq!(path, "/v1/balance");
        }
    }
}
