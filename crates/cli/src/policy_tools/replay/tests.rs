//! Replays of synthetic histories under the example policy: rule rows, refusals before any
//! rule, simulated rate limits, `since`, and the changes reported.

use super::*;
use serde_json::json;
use std::path::Path;
use uuid::Uuid;

const EXAMPLE: &str = include_str!("../../../tests/fixtures/policy-example.toml");

fn config(text: &str) -> Config {
    Config::parse(text, Path::new("new.toml")).unwrap()
}

fn t(secs: i64) -> Timestamp {
    Timestamp::from_unix(1_800_000_000 + secs).unwrap()
}

/// A recorded call: what the `requested` entry holds, and its body.
struct Call {
    id: Uuid,
    at: i64,
    data: String,
    body: Option<Vec<u8>>,
}

fn call(app: &str, method: &str, path: &str, body: &str, at: i64, required: bool) -> Call {
    let id = Uuid::now_v7();
    let data = json!({
        "statement": {
            "v": 1, "service": "svc", "approval_id": id, "app": app, "grant": "payments",
            "method": method, "url": format!("http://127.0.0.1:9000{path}?page=2"),
            "headers": {"content-type": "application/json"},
            "body_sha256": "", "body_size": body.len(), "reason": "r",
            "created_at": t(at), "expires_at": t(at + 3600), "policy_id": "refunds",
        },
        "approval_required": required,
        "status": if required { "pending" } else { "approved" },
    });
    Call {
        id,
        at,
        data: data.to_string(),
        body: Some(body.as_bytes().to_vec()),
    }
}

impl Call {
    fn grant(mut self, grant: &str) -> Self {
        self.data = self
            .data
            .replace("\"grant\":\"payments\"", &format!("\"grant\":\"{grant}\""));
        self
    }
    fn with_requirement(mut self, gates: &[&str]) -> Self {
        let mut v: serde_json::Value = serde_json::from_str(&self.data).unwrap();
        v["matched"] = json!([{"policy": "refunds", "action": "require"}]);
        v["requirement"] = gates
            .iter()
            .map(|g| json!({"policy": "refunds", "gate": g, "quorum": 1, "members": []}))
            .collect();
        self.data = v.to_string();
        self
    }
}

fn run(config: &Config, options: &ReplayOptions, calls: &[Call]) -> ReplayReport {
    let mut replayer = Replayer::new(config, options);
    let from = replayer.read_from();
    for (seq, c) in calls.iter().enumerate() {
        if from.is_some_and(|from| t(c.at) < from) {
            continue;
        }
        let at = t(c.at).to_string();
        let id = c.id.to_string();
        replayer.push(&RequestedRow {
            seq: seq as i64 + 1,
            at: &at,
            approval_id: Some(&id),
            data: &c.data,
            body: c.body.as_deref(),
        });
    }
    replayer.finish()
}

fn rule<'r>(report: &'r ReplayReport, policy: &str, rule: Option<&str>) -> &'r RuleRow {
    report
        .rules
        .iter()
        .find(|r| r.policy == policy && r.rule.as_deref() == rule)
        .unwrap()
}

fn change(report: &ReplayReport, was: Kind, now: Kind) -> u64 {
    report
        .changes
        .iter()
        .filter(|c| c.was == was && c.now == now && !c.other_gates)
        .map(|c| c.calls)
        .sum()
}

const SMALL: &str = r#"{"amount": 100, "currency": "EUR"}"#;

#[test]
fn small_refunds_run_free_until_the_simulated_limit_fills_then_slide_back() {
    let config = config(EXAMPLE);
    // 25 small refunds a minute apart that all needed approval under the old config, then
    // one more two hours later.
    let mut calls: Vec<Call> = (0..25)
        .map(|i| call("support-agent", "POST", "/v1/refunds", SMALL, i * 60, true))
        .collect();
    calls.push(call(
        "support-agent",
        "POST",
        "/v1/refunds",
        SMALL,
        7200,
        true,
    ));
    // Another app's matches are counted apart.
    calls.push(call(
        "strict-agent",
        "POST",
        "/v1/refunds",
        SMALL,
        1500,
        true,
    ));
    let report = run(&config, &ReplayOptions::default(), &calls);
    assert_eq!(report.calls, 27);
    let small = rule(&report, "refunds", Some("small-refunds"));
    assert_eq!(small.matched, 22);
    assert_eq!(small.allow, 21, "20 + the one after the window slid");
    assert_eq!(small.require, 1, "strict-agent's own policy requires lead");
    assert_eq!(small.limit.as_deref(), Some("20/1h"));
    let default = rule(&report, "refunds", None);
    assert_eq!((default.matched, default.require), (5, 5));
    assert_eq!(default.gates.get("refunds/finance"), Some(&5));
    assert_eq!(
        rule(&report, "agent-extra", None)
            .gates
            .get("agent-extra/lead"),
        Some(&1)
    );
    assert_eq!(change(&report, Kind::Require, Kind::Allow), 21);
    assert_eq!(report.unchanged, 6);
    assert_eq!(report.changed_total, 21);
    assert_eq!(report.changed.len(), 21);
    assert_eq!(report.changed[0].approval_id, calls[0].id);
    assert_eq!(report.first, Some(t(0)));
    assert_eq!(report.last, Some(t(7200)));
    assert_eq!(report.was.get(&Kind::Require), Some(&27));
    assert_eq!(report.now.get(&Kind::Allow), Some(&21));
}

#[test]
fn refusals_before_any_rule_have_their_own_rows() {
    let mut config_text = EXAMPLE.replace(
        "base_url = \"http://127.0.0.1:9001\"",
        "base_url = \"http://127.0.0.1:9001/api/\"",
    );
    config_text = config_text.replace("id = \"crm-only\"", "id = \"crm-agent\"");
    let config = config(&config_text);
    let calls = vec![
        call("gone-agent", "GET", "/v1/balance", "", 0, false),
        call("support-agent", "GET", "/v1/balance", "", 1, false).grant("stripe"),
        call("support-agent", "GET", "/v1/balance", "", 2, false).grant("crm"),
        call("crm-agent", "GET", "/v1/balance", "", 3, false).grant("crm"),
        call("support-agent", "DELETE", "/v1/refunds/r1", "", 4, false),
        call("support-agent", "GET", "/v1/balance", "", 5, false),
    ];
    let report = run(&config, &ReplayOptions::default(), &calls);
    let refused: Vec<(&str, u64)> = report.refused.iter().map(|r| (r.reason, r.calls)).collect();
    assert_eq!(
        refused,
        [
            ("app_gone", 1),
            ("grant_gone", 1),
            ("grant_not_allowed", 1),
            ("path_outside_grant", 1)
        ]
    );
    assert_eq!(change(&report, Kind::Allow, Kind::Refused), 4);
    assert_eq!(change(&report, Kind::Allow, Kind::Deny), 1);
    assert_eq!(rule(&report, "refunds", Some("no-deletes")).deny, 1);
    assert_eq!(rule(&report, "refunds", Some("balance-reads")).allow, 1);
    assert_eq!(report.unchanged, 1);
    let text = report.render();
    assert!(
        text.contains("the app may not use the grant (403 grant_not_allowed)"),
        "{text}"
    );
    assert!(text.contains("allow → refused"), "{text}");
}

#[test]
fn the_path_is_taken_below_the_new_grants_base_path() {
    let text = EXAMPLE.replace(
        "base_url = \"http://127.0.0.1:9000\"",
        "base_url = \"http://127.0.0.1:9000/v1\"",
    );
    let text = text.replace("path = \"/v1/balance\"", "path = \"/balance\"");
    let config = config(&text);
    let report = run(
        &config,
        &ReplayOptions::default(),
        &[call("support-agent", "GET", "/v1/balance", "", 0, true)],
    );
    assert_eq!(rule(&report, "refunds", Some("balance-reads")).allow, 1);
    assert_eq!(change(&report, Kind::Require, Kind::Allow), 1);
}

#[test]
fn other_gates_are_a_change_and_unreadable_entries_are_counted_apart() {
    let config = config(EXAMPLE);
    let large = r#"{"amount": 900000, "currency": "EUR"}"#;
    let mut missing_body = call("support-agent", "GET", "/v1/balance", "", 3, true);
    missing_body.body = None;
    let mut garbage = call("support-agent", "GET", "/v1/balance", "", 4, true);
    garbage.data = "{\"statement\": 1}".into();
    let calls = vec![
        call("support-agent", "POST", "/v1/refunds", large, 0, true).with_requirement(&["finance"]),
        call("support-agent", "POST", "/v1/refunds", large, 1, true)
            .with_requirement(&["manager", "finance"]),
        call("support-agent", "POST", "/v1/refunds", large, 2, true),
        missing_body,
        garbage,
    ];
    let report = run(&config, &ReplayOptions::default(), &calls);
    assert_eq!(report.calls, 3);
    assert_eq!(report.unreadable, 2);
    assert_eq!(report.changed_total, 1);
    assert!(report.changes[0].other_gates);
    assert_eq!(report.changed[0].approval_id, calls[0].id);
    let large_row = rule(&report, "refunds", Some("large-refunds"));
    assert_eq!(
        large_row.gates.get("refunds/finance+refunds/manager"),
        Some(&3)
    );
    let text = report.render();
    assert!(text.contains("require → require (other gates)"), "{text}");
    assert!(text.contains("2 entries skipped"), "{text}");
    assert!(
        text.contains("approval of refunds/finance+refunds/manager ×3"),
        "{text}"
    );
}

#[test]
fn since_reports_later_calls_but_counts_earlier_matches() {
    let config = config(EXAMPLE);
    // 20 small refunds in the half hour before `since` fill the limit for the ones after.
    let mut calls: Vec<Call> = (0..20)
        .map(|i| call("support-agent", "POST", "/v1/refunds", SMALL, i * 60, false))
        .collect();
    calls.push(call(
        "support-agent",
        "POST",
        "/v1/refunds",
        SMALL,
        1800,
        false,
    ));
    calls.push(call(
        "support-agent",
        "POST",
        "/v1/refunds",
        SMALL,
        3700,
        false,
    ));
    // Long before: not even read.
    calls.insert(
        0,
        call(
            "support-agent",
            "POST",
            "/v1/refunds",
            SMALL,
            -90_000,
            false,
        ),
    );
    let options = ReplayOptions {
        since: Some(t(1800)),
        keep_changed: Some(0),
    };
    let report = run(&config, &options, &calls);
    assert_eq!(report.calls, 2);
    assert_eq!(report.since, Some(t(1800)));
    // At 1800 the 20 earlier matches are in the window; at 3700 the first two have left it.
    assert_eq!(change(&report, Kind::Allow, Kind::Require), 1);
    assert_eq!(report.unchanged, 1);
    assert_eq!(report.changed_total, 1);
    assert!(report.changed.is_empty(), "none kept");
    assert!(report
        .render()
        .contains("outcomes, was → now: 1 changed, 1 unchanged"));
}

#[test]
fn a_refused_call_does_not_count_toward_a_rate_limit() {
    let text = r#"
[server]
listen = "127.0.0.1:8470"
public_url = "http://127.0.0.1:8470"
database = "sqlite://x.db"
[[approver]]
id = "alice"
name = "Alice"
[[app]]
id = "support-agent"
api_key_env = "K"
grants = ["payments"]
policy = "guard"
[[grant]]
id = "payments"
base_url = "http://127.0.0.1:9000"
secret_env = "S"
inject = { header = "Authorization", value = "Bearer {secret}" }
policy = "refunds"
[[policy]]
id = "refunds"
[[policy.gate]]
id = "team"
approvers = ["alice"]
[[policy.rule]]
id = "one-a-day"
methods = ["POST"]
path = "/v1/refunds"
at_most = "1/1d"
action = "allow"
[[policy]]
id = "guard"
[[policy.gate]]
id = "team"
approvers = ["alice"]
[[policy.rule]]
id = "blocked"
path = "/*"
when = [{ pointer = "/block", eq = true }]
action = "deny"
[[policy.rule]]
id = "rest"
path = "/*"
action = "allow"
"#;
    let config = config(text);
    let calls = vec![
        call(
            "support-agent",
            "POST",
            "/v1/refunds",
            r#"{"block": true}"#,
            0,
            false,
        ),
        call(
            "support-agent",
            "POST",
            "/v1/refunds",
            r#"{"block": false}"#,
            1,
            false,
        ),
        call(
            "support-agent",
            "POST",
            "/v1/refunds",
            r#"{"block": false}"#,
            2,
            false,
        ),
    ];
    let report = run(&config, &ReplayOptions::default(), &calls);
    let limited = rule(&report, "refunds", Some("one-a-day"));
    assert_eq!((limited.matched, limited.deny, limited.allow), (2, 1, 1));
    assert_eq!(rule(&report, "refunds", None).require, 1);
    assert_eq!(rule(&report, "guard", Some("blocked")).deny, 1);
    assert_eq!(rule(&report, "guard", Some("rest")).matched, 2);
    assert_eq!(report.now.get(&Kind::Deny), Some(&1));
    assert_eq!(report.now.get(&Kind::Allow), Some(&1));
    assert_eq!(report.now.get(&Kind::Require), Some(&1));
}
