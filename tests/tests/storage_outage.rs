//! A database that cannot be reached: every request that needs it is answered 503
//! `storage_unavailable` (not 500), `/healthz` stays 200 and `/readyz` turns 503; once the
//! database is back the service reconnects by itself, and nothing accepted before the outage
//! is lost or executed twice.
//!
//! PostgreSQL only (the outage is made with `ALTER DATABASE … ALLOW_CONNECTIONS false` and
//! `pg_terminate_backend`); skipped when `COUNTERSIGN_TEST_POSTGRES` is unset.

use countersign_sdk::{ApprovalStatus, ProxyOutcome, ProxyRequest};
use countersign_service::store::scratch;
use countersign_tests::{
    eventually, on_postgres, AppOptions, TestApp, BALANCE_PATH, GRANT, REFUND_PATH, WAIT,
};
use serde_json::json;
use std::time::Duration;

/// How long the service may take to notice that the database is back.
const RECONNECT: Duration = Duration::from_secs(30);

fn refund_body(reason: &str) -> String {
    json!({
        "grant": GRANT,
        "method": "POST",
        "path": REFUND_PATH,
        "reason": reason,
        "headers": {"content-type": "application/json"},
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_answered_503_and_the_service_recovers_by_itself() {
    if !on_postgres() {
        eprintln!(
            "skipped: set {} (scripts/postgres.sh start) to run the database outage test",
            scratch::TEST_SERVER_ENV
        );
        return;
    }
    let server = std::env::var(scratch::TEST_SERVER_ENV).unwrap();
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let token = alice.session_token().await;
    // Accepted before the outage: one refund executed, one pending.
    let executed = app.request_refund("Refund order O-1").await;
    alice.approve(executed.approval_id).await.unwrap();
    assert_eq!(executed.wait(WAIT).await.unwrap().status(), 200);
    let pending = app.request_refund("Refund order O-2").await;
    let calls_before = app.upstream_calls();
    assert_eq!(app.raw_get("/readyz", None).await.status, 200);

    scratch::allow_connections(&server, &app.database, false)
        .await
        .expect("making the database unreachable");

    let key = Some(app.api_key.as_str());
    let status_path = format!("/v1/approvals/{}", pending.approval_id);
    let refused = [
        (
            "proxy",
            app.raw_post("/v1/proxy", &refund_body("Refund order O-3"), key)
                .await,
        ),
        ("status", app.raw_get(&status_path, key).await),
        (
            "wallet list",
            app.raw_get("/v1/wallet/approvals", Some(&token)).await,
        ),
        (
            "challenge",
            app.raw_post(
                "/v1/wallet/challenge",
                &json!({"key_id": alice.key_id()}).to_string(),
                None,
            )
            .await,
        ),
        ("readyz", app.raw_get("/readyz", None).await),
    ];
    for (what, answer) in &refused {
        assert_eq!(
            answer.pair(),
            (503, "storage_unavailable"),
            "{what}: {:?}",
            answer.body
        );
        assert!(answer.body["error"]["message"].is_string(), "{what}");
    }
    let health = app.raw_get("/healthz", None).await;
    assert_eq!(health.status, 200, "/healthz does not need the database");
    assert_eq!(app.upstream_calls(), calls_before, "nothing ran meanwhile");

    scratch::allow_connections(&server, &app.database, true)
        .await
        .expect("letting connections in again");
    let ready = eventually(RECONNECT, || async {
        let answer = app.raw_get("/readyz", None).await;
        (answer.status == 200).then_some(answer)
    })
    .await
    .expect("/readyz did not recover");
    assert_eq!(ready.body, json!({"status": "ready"}));

    // Nothing accepted before the outage was lost, and nothing ran twice.
    let view = executed.status().await.unwrap();
    assert_eq!(view.status, ApprovalStatus::Succeeded);
    assert_eq!(
        pending.status().await.unwrap().status,
        ApprovalStatus::Pending
    );
    // New work goes through: a call without approval, and the pending one approved now.
    match app
        .sdk
        .proxy_request(ProxyRequest::get(
            GRANT,
            BALANCE_PATH,
            "Balance after the outage",
        ))
        .await
        .unwrap()
    {
        ProxyOutcome::Completed(response) => assert_eq!(response.status(), 200),
        ProxyOutcome::Pending(p) => panic!("a read needed approval: {p:?}"),
    }
    alice.approve(pending.approval_id).await.unwrap();
    assert_eq!(pending.wait(WAIT).await.unwrap().status(), 200);
    let refunds = app
        .provider
        .calls()
        .iter()
        .filter(|c| c.uri == REFUND_PATH)
        .count();
    assert_eq!(refunds, 2, "each approved refund ran exactly once");
    app.shutdown().await;
}
