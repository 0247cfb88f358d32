//! Explanations of the example policy: each outcome, each kind of miss, fall-through.

use super::*;
use crate::policy_tools::{EXIT_REFUSED, EXIT_REQUIRE};
use std::path::Path;

const EXAMPLE: &str = include_str!("../../../tests/fixtures/policy-example.toml");

fn config() -> Config {
    Config::parse(EXAMPLE, Path::new("example.toml")).unwrap()
}

fn input(app: &str, grant: &str, method: &str, path: &str, body: Option<&str>) -> ExplainInput {
    ExplainInput {
        app: app.into(),
        grant: grant.into(),
        method: method.into(),
        path: path.into(),
        content_type: None,
        body: body.map(|b| b.as_bytes().to_vec()),
    }
}

fn run(i: &ExplainInput) -> Explanation {
    explain(&config(), i).unwrap()
}

fn refund(body: &str) -> Explanation {
    run(&input(
        "support-agent",
        "payments",
        "POST",
        "/v1/refunds",
        Some(body),
    ))
}

#[test]
fn a_balance_read_runs_free_and_the_later_rules_are_not_tried() {
    let e = run(&input(
        "support-agent",
        "payments",
        "get",
        "/v1/balance",
        None,
    ));
    assert_eq!(e.outcome, OutcomeView::Allow);
    assert_eq!(e.exit_code, 0);
    assert_eq!(e.call.method, "GET");
    let p = &e.policies[0];
    assert_eq!(p.policy, "refunds");
    assert_eq!(p.applies_as, "grant payments");
    assert_eq!(p.decided_by.as_deref(), Some("balance-reads"));
    assert_eq!(p.rules.len(), 1);
    assert_eq!(
        p.not_tried,
        ["small-refunds", "large-refunds", "no-deletes"]
    );
    assert!(e.when_limits_fill.is_empty());
    let text = e.render();
    assert!(text.contains("1. balance-reads  DECIDES: allow"), "{text}");
    assert!(
        text.contains("outcome: runs without approval (exit 0)"),
        "{text}"
    );
}

#[test]
fn a_small_refund_runs_free_until_its_rate_limit_fills() {
    let e = refund(r#"{"amount": 100, "currency": "EUR"}"#);
    assert_eq!(e.outcome, OutcomeView::Allow);
    assert_eq!(e.call.content_type.as_deref(), Some("application/json"));
    let p = &e.policies[0];
    assert_eq!(p.rules[0].miss.as_ref().unwrap().kind, "method");
    assert_eq!(p.decided_by.as_deref(), Some("small-refunds"));
    assert_eq!(p.rules[1].limit.as_deref(), Some("20/1h"));
    assert_eq!(e.when_limits_fill.len(), 1);
    let step = &e.when_limits_fill[0];
    assert_eq!(step.full[0].rule, "small-refunds");
    assert_eq!(step.decided_by, ["refunds/(default)"]);
    assert_eq!(step.outcome.exit_code(), EXIT_REQUIRE);
    let text = e.render();
    assert!(
        text.contains("DECIDES: allow (at most 20/1h, assumed not reached)"),
        "{text}"
    );
    assert!(
        text.contains("\nrate limits (assumed not reached above):\n  once small-refunds of policy refunds (20/1h) is full: decided by refunds/(default); needs approval within 1h: refunds/finance (1 of alice, bob, carol)"),
        "{text}"
    );
}

#[test]
fn a_medium_refund_misses_every_rule_and_needs_the_default_gate() {
    let e = refund(r#"{"amount": 7000.50, "currency": "EUR"}"#);
    assert_eq!(e.exit_code, EXIT_REQUIRE);
    let p = &e.policies[0];
    assert_eq!(p.decided_by, None);
    assert_eq!(p.gates, ["finance"]);
    let misses: Vec<&MissView> = p.rules.iter().map(|r| r.miss.as_ref().unwrap()).collect();
    assert_eq!(misses.len(), 4);
    assert_eq!(misses[1].kind, "condition");
    assert_eq!(misses[1].condition, Some(1));
    assert_eq!(misses[1].why, Some("false"));
    assert_eq!(
        misses[1].text,
        "condition 1 of 2 (/amount <= 5000) does not hold: /amount is 7000.5"
    );
    assert_eq!(
        misses[2].text,
        "condition 1 of 1 (/amount > 500000) does not hold: /amount is 7000.5"
    );
    assert_eq!(misses[3].text, "method POST is not DELETE");
    let text = e.render();
    assert!(
        text.contains("no rule matched: the policy's require applies: finance"),
        "{text}"
    );
    assert!(
        text.contains("outcome: needs approval within 1h (exit 10)\n  gate refunds/finance (1 of alice, bob, carol)"),
        "{text}"
    );
    assert!(!text.contains("one person counts"), "{text}");
}

#[test]
fn a_large_refund_needs_two_gates_filled_by_different_people() {
    let e = refund(r#"{"amount": 600000, "currency": "EUR"}"#);
    match &e.outcome {
        OutcomeView::Require {
            gates,
            window,
            people_needed,
        } => {
            assert_eq!(gates.len(), 2);
            assert_eq!(gates[1].gate, "manager");
            assert_eq!(gates[1].members, ["carol", "dave"]);
            assert_eq!(window, "1h");
            assert_eq!(*people_needed, 2);
        }
        other => panic!("{other:?}"),
    }
    let text = e.render();
    assert!(
        text.contains("one person counts toward one gate only: 2 different people must approve"),
        "{text}"
    );
    assert!(text.contains("not tried: no-deletes"), "{text}");
}

#[test]
fn conditions_say_why_they_could_not_be_read() {
    let typed = refund(r#"{"amount": "100", "currency": "EUR"}"#);
    let miss = typed.policies[0].rules[1].miss.clone().unwrap();
    assert_eq!(miss.why, Some("type_mismatch"));
    assert!(
        miss.text
            .ends_with("/amount is a string, the test compares a number"),
        "{}",
        miss.text
    );
    let missing = refund(r#"{"currency": "EUR"}"#);
    let miss = missing.policies[0].rules[1].miss.clone().unwrap();
    assert_eq!(miss.why, Some("missing"));
    assert!(
        miss.text.ends_with("the body has no /amount"),
        "{}",
        miss.text
    );
    let currency = refund(r#"{"amount": 1, "currency": "JPY"}"#);
    let miss = currency.policies[0].rules[1].miss.clone().unwrap();
    assert_eq!(miss.condition, Some(2));
    assert!(
        miss.text.contains("/currency in [\"EUR\", \"USD\"]"),
        "{}",
        miss.text
    );
    assert!(miss.text.ends_with("/currency is \"JPY\""), "{}", miss.text);
    let duplicate = refund(r#"{"amount": 1, "amount": 900000, "currency": "EUR"}"#);
    let miss = duplicate.policies[0].rules[1].miss.clone().unwrap();
    assert_eq!(miss.why, Some("not_json"));
    assert!(miss.text.contains("appears twice"), "{}", miss.text);

    let mut form = input(
        "support-agent",
        "payments",
        "POST",
        "/v1/refunds",
        Some("amount=1"),
    );
    form.content_type = Some("application/x-www-form-urlencoded".into());
    let e = run(&form);
    let miss = e.policies[0].rules[1].miss.clone().unwrap();
    assert_eq!(miss.why, Some("not_json"));
    assert!(miss.text.contains("not JSON"), "{}", miss.text);
    assert_eq!(e.exit_code, EXIT_REQUIRE);
}

#[test]
fn deletes_are_refused_by_their_rule() {
    let e = run(&input(
        "support-agent",
        "payments",
        "DELETE",
        "/v1/refunds/r_1",
        None,
    ));
    assert_eq!(
        e.outcome,
        OutcomeView::Deny {
            policy: "refunds".into(),
            rule: "no-deletes".into()
        }
    );
    assert_eq!(e.exit_code, EXIT_REFUSED);
    assert_eq!(
        e.policies[0].rules[0].miss.as_ref().unwrap().text,
        "method DELETE is not GET"
    );
    assert_eq!(
        e.policies[0].rules[1].miss.as_ref().unwrap().text,
        "method DELETE is not POST"
    );
    assert!(e.render().contains(
        "outcome: refused by rule no-deletes of policy refunds (403 policy_denied) (exit 20)"
    ));
}

#[test]
fn an_app_policy_is_evaluated_as_well() {
    let e = run(&input(
        "strict-agent",
        "payments",
        "POST",
        "/v1/refunds",
        Some(r#"{"amount": 100, "currency": "USD"}"#),
    ));
    assert_eq!(e.policies.len(), 2);
    assert_eq!(e.policies[1].applies_as, "app strict-agent");
    assert_eq!(
        e.policies[1].rules[0].miss.as_ref().unwrap().text,
        "method POST is not GET"
    );
    match &e.outcome {
        OutcomeView::Require { gates, window, .. } => {
            assert_eq!(gates.len(), 1);
            assert_eq!(gates[0].policy, "agent-extra");
            assert_eq!(window, "10m");
        }
        other => panic!("{other:?}"),
    }
    // Once small-refunds is full, both policies require: both gates, the shorter window.
    match &e.when_limits_fill[0].outcome {
        OutcomeView::Require { gates, window, .. } => {
            assert_eq!(gates.len(), 2);
            assert_eq!(window, "10m");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn calls_refused_before_any_rule() {
    let e = run(&input("support-agent", "crm", "GET", "/v1/balance", None));
    match &e.outcome {
        OutcomeView::Refused { status, code, .. } => {
            assert_eq!((*status, code.as_str()), (403, "grant_not_allowed"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.exit_code, EXIT_REFUSED);
    assert!(e.policies.is_empty());

    for path in ["/v1//refunds", "/v1/%2e%2e/admin", "/v1/refunds%3Acancel"] {
        let e = run(&input("support-agent", "payments", "GET", path, None));
        match &e.outcome {
            OutcomeView::Refused { status, code, .. } => {
                assert_eq!((*status, code.as_str()), (422, "invalid_path"), "{path}")
            }
            other => panic!("{path}: {other:?}"),
        }
        assert!(e
            .render()
            .contains("refused before any rule (422 invalid_path)"));
    }
    let e = run(&input(
        "support-agent",
        "payments",
        "FETCH",
        "/v1/balance",
        None,
    ));
    assert_eq!(e.exit_code, EXIT_REFUSED);
}

#[test]
fn unknown_apps_and_grants_are_errors() {
    let err = explain(
        &config(),
        &input("nobody", "payments", "GET", "/v1/balance", None),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("support-agent, strict-agent, crm-only"),
        "{err}"
    );
    let err = explain(
        &config(),
        &input("support-agent", "stripe", "GET", "/v1/balance", None),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no grant \"stripe\""), "{err}");
}

#[test]
fn json_output_names_every_part() {
    let e = refund(r#"{"amount": 7000, "currency": "EUR"}"#);
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["exit_code"], 10);
    assert_eq!(v["outcome"]["kind"], "require");
    assert_eq!(v["outcome"]["gates"][0]["gate"], "finance");
    assert_eq!(v["policies"][0]["rules"][1]["miss"]["why"], "false");
    assert_eq!(
        v["policies"][0]["rules"][1]["miss"]["test"],
        "/amount <= 5000"
    );
}
