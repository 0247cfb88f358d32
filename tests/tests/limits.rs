//! Limits that keep what a person reviews readable and keep floods from starving others:
//! reviewable bodies of gated calls, pending approvals per app, pairing-code floods, wallet
//! challenges per key, event streams per device, comment length. Every refusal is checked to
//! change nothing (the audit log, the upstream calls, the approvals asked about).

use countersign_core::encoding::b64_encode;
use countersign_sdk::{ProxyOutcome, ProxyRequest};
use countersign_tests::{AppOptions, RawAnswer, TestApp, BALANCE_PATH, GRANT, POLICY, REFUND_PATH};
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

/// A `POST /v1/proxy` body for `method path` with `body` bytes and `headers`.
fn proxy_body(method: &str, path: &str, body: &[u8], headers: serde_json::Value) -> String {
    json!({
        "grant": GRANT,
        "method": method,
        "path": path,
        "reason": "Refund order L-1",
        "headers": headers,
        "body": b64_encode(body),
    })
    .to_string()
}

/// Runs `refused`, checks its answer is `(status, code)` and that nothing changed.
async fn refused_without_change<F>(app: &TestApp, ids: &[Uuid], want: (u16, &str), refused: F)
where
    F: std::future::Future<Output = RawAnswer>,
{
    let before = app.snapshot(ids).await;
    let answer = refused.await;
    assert_eq!(answer.pair(), want, "{:?}", answer.body);
    assert!(
        answer.body["error"]["message"].is_string(),
        "an error body has a message: {:?}",
        answer.body
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.snapshot(ids).await, before, "{want:?} changed state");
}

/// The grant's policy: reads run; one refund an hour may be asked for; the rest is denied.
const ONE_REFUND_AN_HOUR: &str = r#"
[[policy]]
id = "refunds"
[[policy.gate]]
id = "approvers"
approvers = ["alice", "bob"]
[[policy.rule]]
id = "reads"
methods = ["GET"]
path = "/v1/*"
action = "allow"
[[policy.rule]]
id = "one-refund"
methods = ["POST"]
path = "/v1/refunds"
at_most = "1/1h"
action = "require"
[[policy.rule]]
id = "no-more"
path = "/*"
action = "deny"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gated_calls_must_be_plain_and_small_enough_to_review() {
    let app = TestApp::spawn(
        AppOptions::default()
            .policy(ONE_REFUND_AN_HOUR)
            .max_request_bytes(4096)
            .max_gated_body_bytes(1024),
    )
    .await;
    assert!(ONE_REFUND_AN_HOUR.contains(&format!("id = \"{POLICY}\"")));
    let key = Some(app.api_key.as_str());
    let json_type = json!({"content-type": "application/json"});

    // Compressed bodies cannot be reviewed: refused before the one allowed refund is counted.
    for coding in [
        "gzip",
        "GZIP",
        "br",
        "deflate",
        "identity, gzip",
        "gzip, identity",
        "identity,identity",
        "",
    ] {
        let body = proxy_body(
            "POST",
            REFUND_PATH,
            b"{}",
            json!({"content-type": "application/json", "Content-Encoding": coding}),
        );
        refused_without_change(&app, &[], (422, "unsupported_encoding"), async {
            app.raw_post("/v1/proxy", &body, key).await
        })
        .await;
    }
    // Over the review cap, within max_request_bytes.
    let big = proxy_body("POST", REFUND_PATH, &[b' '; 1025], json_type.clone());
    refused_without_change(&app, &[], (413, "body_too_large_for_review"), async {
        app.raw_post("/v1/proxy", &big, key).await
    })
    .await;
    // Over max_request_bytes it is body_too_large, as before.
    let huge = proxy_body("POST", REFUND_PATH, &[b' '; 4097], json_type.clone());
    refused_without_change(&app, &[], (413, "body_too_large"), async {
        app.raw_post("/v1/proxy", &huge, key).await
    })
    .await;

    // Calls that run without approval keep today's limits, compressed or not.
    let upstream = app.upstream_calls();
    for headers in [json!({}), json!({"content-encoding": "gzip"})] {
        let read = proxy_body("GET", BALANCE_PATH, &[b' '; 3000], headers);
        let answer = app.raw_post("/v1/proxy", &read, key).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }
    assert_eq!(app.upstream_calls(), upstream + 2);

    // No refusal used up the one refund of the hour: exactly at the cap, "identity" is fine.
    let ok = proxy_body(
        "POST",
        REFUND_PATH,
        &[b' '; 1024],
        json!({"content-type": "application/json", "content-encoding": "Identity"}),
    );
    let answer = app.raw_post("/v1/proxy", &ok, key).await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    // The next one is past the rate limit and denied (the policy, not a review limit).
    let answer = app
        .raw_post(
            "/v1/proxy",
            &proxy_body("POST", REFUND_PATH, b"{}", json_type),
            key,
        )
        .await;
    assert_eq!(answer.pair(), (403, "policy_denied"), "{:?}", answer.body);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_approvals_per_app_are_capped() {
    let app = TestApp::spawn(AppOptions::default().max_pending_per_app(2)).await;
    let key = Some(app.api_key.as_str());
    let first = app.request_refund("Refund order P-1").await;
    let second = app.request_refund("Refund order P-2").await;
    let ids = [first.approval_id, second.approval_id];
    let refund = proxy_body(
        "POST",
        REFUND_PATH,
        b"{}",
        json!({"content-type": "application/json"}),
    );
    refused_without_change(&app, &ids, (429, "too_many_pending"), async {
        app.raw_post("/v1/proxy", &refund, key).await
    })
    .await;
    // Calls that need no approval are not affected.
    match app
        .sdk
        .proxy_request(ProxyRequest::get(GRANT, BALANCE_PATH, "Check the balance"))
        .await
    {
        Ok(ProxyOutcome::Completed(r)) => assert_eq!(r.status(), 200),
        other => panic!("the balance read should run: {other:?}"),
    }
    // Another app has its own count.
    match app
        .other_sdk
        .proxy_request(TestApp::refund("Refund order P-3"))
        .await
    {
        Ok(ProxyOutcome::Pending(_)) => {}
        other => panic!("the other app should get an approval: {other:?}"),
    }
    // A decided approval frees its place.
    let alice = app.pair_approver("alice").await;
    alice.deny(first.approval_id, "no").await.unwrap();
    let answer = app.raw_post("/v1/proxy", &refund, key).await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    app.shutdown().await;
}
