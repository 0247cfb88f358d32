//! The gate holds: other spellings of a gated call, routing headers, unbound grants, loosening
//! app policies, overlapping gates, body conditions at their boundaries and rate limits
//! across a restart — each against the real service on loopback.

use countersign_core::api::PolicyStatus;
use countersign_sdk::{ApprovalStatus, Error, ProxyOutcome, ProxyRequest};
use countersign_tests::{AppOptions, TestApp, TestApprover, GRANT, UNBOUND_GRANT, WAIT};
use serde_json::json;
use uuid::Uuid;

/// The README's example: free balance reads, free small refunds (rate-limited), large ones
/// need finance AND a manager (carol is in both), deletes refused; `loose` lets everything
/// run (used as an app's own policy, which must not loosen the grant's).
const POLICY: &str = r#"
[[group]]
id = "finance"
members = ["alice", "bob", "carol"]

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
at_most = "3/1h"
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
id = "loose"
[[policy.rule]]
id = "everything"
path = "/*"
action = "allow"
"#;

async fn spawn() -> TestApp {
    TestApp::spawn(AppOptions::default().policy(POLICY)).await
}

/// A call with a raw body and content type.
fn call(method: &str, path: &str, body: &str, content_type: &str) -> ProxyRequest {
    ProxyRequest::new(GRANT, method, path, "Customer 8812 was charged twice")
        .body(body.as_bytes().to_vec())
        .header("content-type", content_type)
}

/// `Some(id)` when the call waits for approval, `None` when it ran.
async fn outcome(app: &TestApp, request: ProxyRequest) -> Option<Uuid> {
    match app.sdk.proxy_request(request).await {
        Ok(ProxyOutcome::Pending(p)) => Some(p.approval_id),
        Ok(ProxyOutcome::Completed(_)) => None,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

async fn refund(app: &TestApp, body: &str) -> Option<Uuid> {
    outcome(app, call("POST", "/v1/refunds", body, "application/json")).await
}

async fn policy_of(approver: &TestApprover, id: Uuid) -> PolicyStatus {
    approver
        .client
        .review(id)
        .await
        .expect("review")
        .detail()
        .policy
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_spellings_and_routing_headers_never_run_free() {
    let app = spawn().await;
    // The canonical spelling runs free; every other spelling needs approval or is refused.
    assert_eq!(
        outcome(&app, ProxyRequest::get(GRANT, "/v1/balance", "Balance")).await,
        None
    );
    assert_eq!(app.upstream_calls(), 1);
    for path in ["/V1/balance", "/v1/Balance", "/v1/BALANCE"] {
        let pending = outcome(&app, ProxyRequest::get(GRANT, path, "Balance")).await;
        assert!(pending.is_some(), "{path} ran without approval");
    }
    for path in [
        "/v1//balance",
        "/v1/balance/",
        "/v1;x/balance",
        "/v1/..;/v1/balance",
        "/v1/%62alance",
    ] {
        match app
            .sdk
            .proxy_request(ProxyRequest::get(GRANT, path, "Balance"))
            .await
        {
            Err(Error::Api {
                status: 422, code, ..
            }) => assert_eq!(code, "invalid_path", "{path}"),
            other => panic!("{path}: expected 422 invalid_path, got {other:?}"),
        }
    }
    for header in [
        "X-HTTP-Method-Override",
        "x-method-override",
        "X-Original-URL",
        "x-rewrite-url",
        "X-Forwarded-Prefix",
    ] {
        let request = ProxyRequest::get(GRANT, "/v1/balance", "Balance").header(header, "POST");
        match app.sdk.proxy_request(request).await {
            Err(Error::Api {
                status: 422, code, ..
            }) => assert_eq!(code, "forbidden_header", "{header}"),
            other => panic!("{header}: expected 422 forbidden_header, got {other:?}"),
        }
    }
    assert_eq!(
        app.upstream_calls(),
        1,
        "only the canonical balance read ran"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_use_only_their_grants_and_their_policy_never_loosens_the_grants() {
    let app = TestApp::spawn(AppOptions::default().policy(POLICY).app_policy("loose")).await;
    let before = app.audit_len().await;
    match app
        .sdk
        .proxy_request(ProxyRequest::get(UNBOUND_GRANT, "/v1/balance", "Balance"))
        .await
    {
        Err(Error::Api {
            status: 403, code, ..
        }) => assert_eq!(code, "grant_not_allowed"),
        other => panic!("expected 403 grant_not_allowed, got {other:?}"),
    }
    assert_eq!(
        app.audit_len().await,
        before,
        "a refused call stores nothing"
    );
    // The app's own policy allows everything; the grant's still needs finance.
    let id = refund(&app, r#"{"amount": 9000, "currency": "EUR"}"#).await;
    assert!(id.is_some(), "an app policy loosened the grant's");
    let view = app.sdk.approval(id.unwrap()).await.unwrap();
    let matched: Vec<(String, Option<String>)> = view
        .matched
        .iter()
        .map(|m| (m.policy.clone(), m.rule.clone()))
        .collect();
    assert_eq!(
        matched,
        [
            ("refunds".to_string(), None),
            ("loose".to_string(), Some("everything".to_string()))
        ]
    );
    // A deny of the grant's policy holds too.
    match app
        .sdk
        .proxy_request(call("DELETE", "/v1/customers/c1", "", "application/json"))
        .await
    {
        Err(Error::PolicyDenied { rule, .. }) => assert_eq!(rule, "no-deletes"),
        other => panic!("expected policy_denied, got {other:?}"),
    }
    assert_eq!(app.upstream_calls(), 0);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deny_rule_refuses_with_its_id_and_stores_nothing() {
    let app = spawn().await;
    let before = app.audit_len().await;
    let answer = app
        .raw_post(
            "/v1/proxy",
            &json!({"grant": GRANT, "method": "DELETE", "path": "/v1/customers/c1", "reason": "cleanup"}).to_string(),
            Some(&app.api_key),
        )
        .await;
    assert_eq!(answer.pair(), (403, "policy_denied"));
    assert_eq!(answer.body["error"]["rule"], "no-deletes");
    assert_eq!(app.audit_len().await, before);
    assert_eq!(app.upstream_calls(), 0);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_gates_need_distinct_people() {
    let app = spawn().await;
    let [alice, bob, carol, dave] = [
        app.pair_approver("alice").await,
        app.pair_approver("bob").await,
        app.pair_approver("carol").await,
        app.pair_approver("dave").await,
    ];
    let large = r#"{"amount": 600000, "currency": "EUR"}"#;

    // carol is in both gates: her one approval fills one of them, never both.
    let id = refund(&app, large)
        .await
        .expect("a large refund needs approval");
    let status = carol.approve(id).await.unwrap().status;
    assert_eq!(status, ApprovalStatus::Pending);
    let policy = policy_of(&carol, id).await;
    assert_eq!(policy.matched[0].rule.as_deref(), Some("large-refunds"));
    assert_eq!(
        (policy.progress().approvals, policy.progress().needed),
        (1, 2)
    );
    // alice fills finance; the matching moves carol to manager: approved, and it runs.
    assert_eq!(
        alice.approve(id).await.unwrap().status,
        ApprovalStatus::Approved
    );
    app.wait_for_status(id, ApprovalStatus::Succeeded, WAIT)
        .await;
    let policy = policy_of(&alice, id).await;
    let filled: Vec<(String, Vec<String>)> = policy
        .gates
        .iter()
        .map(|g| (g.gate.clone(), g.approved_by.clone()))
        .collect();
    assert_eq!(
        filled,
        [
            ("finance".to_string(), vec!["alice".to_string()]),
            ("manager".to_string(), vec!["carol".to_string()])
        ]
    );

    // Two people of finance only never fill manager.
    let id = refund(&app, large).await.unwrap();
    alice.approve(id).await.unwrap();
    assert_eq!(
        bob.approve(id).await.unwrap().status,
        ApprovalStatus::Pending
    );
    // dave is not in finance but fills manager.
    assert_eq!(
        dave.approve(id).await.unwrap().status,
        ApprovalStatus::Approved
    );

    // A deny by anyone eligible ends it.
    let id = refund(&app, large).await.unwrap();
    carol.approve(id).await.unwrap();
    assert_eq!(
        dave.deny(id, "no").await.unwrap().status,
        ApprovalStatus::Denied
    );
    match app.sdk.wait(id, WAIT).await {
        Err(Error::Denied { approver, rule, .. }) => {
            assert_eq!(
                (approver.as_str(), rule.as_deref()),
                ("dave", Some("large-refunds"))
            );
        }
        other => panic!("expected Denied, got {other:?}"),
    }
    // dave is not in the default requirement (finance): that approval is not his to see.
    let id = refund(&app, r#"{"amount": 9000, "currency": "EUR"}"#)
        .await
        .unwrap();
    match dave.approve(id).await {
        Err(countersign_approver::ApproverError::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (404, "approval_not_found"))
        }
        other => panic!("expected 404 approval_not_found, got {other:?}"),
    }
    assert_eq!(app.upstream_calls(), 2);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_conditions_hold_at_their_boundaries_and_fail_closed() {
    let app = spawn().await;
    // Runs free: the same number in every spelling (3 of the rule's 3 per hour).
    for body in [
        r#"{"amount": 5000, "currency": "EUR"}"#,
        r#"{"amount": 5000.000, "currency": "USD"}"#,
        r#"{"amount": 50e2, "currency": "EUR"}"#,
    ] {
        assert_eq!(refund(&app, body).await, None, "{body} should run free");
    }
    assert_eq!(app.upstream_calls(), 3);
    app.shutdown().await;

    let app = spawn().await;
    // Never free: over the limit, a string, missing, a duplicate name, another currency,
    // another content type.
    for (body, content_type) in [
        (
            r#"{"amount": 5000.001, "currency": "EUR"}"#,
            "application/json",
        ),
        (r#"{"amount": "10", "currency": "EUR"}"#, "application/json"),
        (r#"{"currency": "EUR"}"#, "application/json"),
        (
            r#"{"amount": 1, "currency": "EUR", "amount": 999999999}"#,
            "application/json",
        ),
        (r#"{"amount": 1, "currency": "eur"}"#, "application/json"),
        (
            r#"{"amount": 1, "currency": "EUR"}"#,
            "application/x-www-form-urlencoded",
        ),
        (r#"{"amount": 1, "currency": "EUR"}"#, "text/plain"),
    ] {
        let id = outcome(&app, call("POST", "/v1/refunds", body, content_type)).await;
        assert!(id.is_some(), "{body} ({content_type}) ran without approval");
    }
    assert_eq!(app.upstream_calls(), 0);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_falls_through_and_its_count_survives_a_restart() {
    let mut app = spawn().await;
    let small = r#"{"amount": 100, "currency": "EUR"}"#;
    for _ in 0..2 {
        assert_eq!(refund(&app, small).await, None);
    }
    app.restart().await;
    assert_eq!(
        refund(&app, small).await,
        None,
        "the third of 3/1h runs free"
    );
    let id = refund(&app, small)
        .await
        .expect("the fourth needs approval");
    let view = app.sdk.approval(id).await.unwrap();
    assert_eq!(
        view.matched[0].rule, None,
        "falls through to the policy's default"
    );
    app.restart().await;
    assert!(
        refund(&app, small).await.is_some(),
        "still counted after a restart"
    );
    assert_eq!(app.upstream_calls(), 3);
    app.shutdown().await;
}
