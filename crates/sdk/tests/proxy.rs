//! `Client::proxy_request` and `cancel` against a scripted service.

mod support;

use countersign_sdk::{ApprovalStatus, Error, FailureReason, ProxyOutcome, ProxyRequest};
use serde_json::{json, Value};
use std::time::Duration;
use support::*;

fn refund() -> ProxyRequest {
    ProxyRequest::post("stripe", "/v1/refunds", "Refund order #1042")
        .json(&json!({"charge": "ch_123", "amount": 1500}))
        .unwrap()
        .header("Idempotency-Hint", "order-1042")
        .query("expand", "charge")
}

#[tokio::test]
async fn pending_then_denied() {
    let id = new_id();
    let server = Server::start(vec![
        Reply::Json(202, pending_body(id)),
        Reply::Json(200, view(id, "pending")),
        Reply::Json(200, denied(id)),
    ])
    .await;
    let pending = match server.client().proxy_request(refund()).await.unwrap() {
        ProxyOutcome::Pending(p) => p,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(pending.approval_id, id);
    assert!(pending.approval_url.starts_with("countersign://approval/"));
    assert_eq!(pending.expires_at.to_string(), "2030-01-01T00:00:00Z");
    assert!(pending.expires_in() > Duration::ZERO);
    assert!(!format!("{pending:?}").contains(KEY));

    // The request on the wire.
    let seen = server.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/v1/proxy");
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(&*format!("Bearer {KEY}"))
    );
    let mut sent: Value = serde_json::from_slice(&seen[0].body).unwrap();
    let body = sent.as_object_mut().unwrap().remove("body").unwrap();
    let body = countersign_core::encoding::b64_decode(body.as_str().unwrap()).unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"charge": "ch_123", "amount": 1500})
    );
    assert_eq!(
        sent,
        json!({
            "grant": "stripe",
            "method": "POST",
            "path": "/v1/refunds",
            "query": {"expand": "charge"},
            "headers": {"content-type": "application/json", "idempotency-hint": "order-1042"},
            "reason": "Refund order #1042",
        })
    );

    let err = pending.wait(Duration::from_secs(20)).await.unwrap_err();
    assert!(
        matches!(&err, Error::Denied { approver, comment: Some(c), approval_id, .. }
            if approver == "bob" && c == "not this week" && *approval_id == id),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_immediate_result_is_completed() {
    let id = new_id();
    let server = Server::start(vec![Reply::Json(
        200,
        succeeded(id, 404, br#"{"error":"no such charge"}"#),
    )])
    .await;
    let request = ProxyRequest::get("stripe", "/v1/charges/ch_x", "Look up a charge");
    match server.client().proxy_request(request).await.unwrap() {
        ProxyOutcome::Completed(result) => {
            // A provider 4xx is a normal result.
            assert_eq!(result.status(), 404);
            assert_eq!(result.header("Content-Type"), Some("application/json"));
            assert_eq!(result.json::<Value>().unwrap()["error"], "no such charge");
            assert!(!result.truncated());
        }
        other => panic!("unexpected {other:?}"),
    }
    let sent: Value = serde_json::from_slice(&server.seen()[0].body).unwrap();
    assert_eq!(sent.get("body"), None);
    assert_eq!(sent.get("query"), None);
}

#[tokio::test]
async fn an_immediate_failure_is_execution_failed() {
    let id = new_id();
    let server = Server::start(vec![Reply::Json(200, failed(id, "timeout", None, None))]).await;
    let err = server.client().proxy_request(refund()).await.unwrap_err();
    assert!(
        matches!(err, Error::ExecutionFailed { reason: FailureReason::Timeout, approval_id, .. } if approval_id == id),
        "{err:?}"
    );
}

#[tokio::test]
async fn refusals_carry_status_code_and_message() {
    let server = Server::start(vec![
        Reply::Json(
            403,
            error_body("grant_not_allowed", "this app may not use stripe"),
        ),
        Reply::Text(500, "panic in handler"),
        Reply::Json(503, error_body("unavailable", "try later")),
    ])
    .await;
    let client = server.client();
    let cases = [
        (403, "grant_not_allowed", "this app may not use stripe"),
        (500, "unknown", "panic in handler"),
        // proxy_request is never retried, even on 503.
        (503, "unavailable", "try later"),
    ];
    for (status, code, message) in cases {
        match client.proxy_request(refund()).await.unwrap_err() {
            Error::Api {
                status: s,
                code: c,
                message: m,
            } => assert_eq!((s, c.as_str(), m.as_str()), (status, code, message)),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn an_undecodable_answer_is_a_decode_error() {
    let server = Server::start(vec![Reply::Text(202, "not json")]).await;
    match server.client().proxy_request(refund()).await.unwrap_err() {
        Error::Decode { body, .. } => assert_eq!(body, "not json"),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn invalid_requests_are_refused_before_sending() {
    let server = Server::start(vec![Reply::Json(202, pending_body(new_id()))]).await;
    let request = ProxyRequest::get("stripe", "v1/charges", "no leading slash");
    let err = server.client().proxy_request(request).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn cancel_posts_and_returns_the_cancelled_view() {
    let id = new_id();
    let server = Server::start(vec![
        Reply::Json(202, pending_body(id)),
        Reply::Json(200, view(id, "cancelled")),
        Reply::Json(409, error_body("already_decided", "approval is cancelled")),
    ])
    .await;
    let client = server.client();
    let ProxyOutcome::Pending(pending) = client.proxy_request(refund()).await.unwrap() else {
        panic!("expected pending");
    };
    let state = pending.cancel().await.unwrap();
    assert_eq!(state.status, ApprovalStatus::Cancelled);
    let seen = server.seen();
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].path, format!("/v1/approvals/{id}/cancel"));
    assert_eq!(
        seen[1].authorization.as_deref(),
        Some(&*format!("Bearer {KEY}"))
    );

    let err = client.cancel(id).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 409, .. }), "{err:?}");
}

#[tokio::test]
async fn a_base_path_prefix_is_kept() {
    let id = new_id();
    let server = Server::start(vec![Reply::Json(200, view(id, "pending"))]).await;
    let client = countersign_sdk::Client::new(&format!("{}/countersign", server.base), KEY)
        .unwrap()
        .with_http_client(reqwest::Client::new());
    client.approval(id).await.unwrap();
    assert_eq!(
        server.seen()[0].path,
        format!("/countersign/v1/approvals/{id}")
    );
}

#[test]
fn debug_output_redacts_the_api_key() {
    let client = countersign_sdk::Client::new("http://127.0.0.1:9", KEY).unwrap();
    let shown = format!("{client:?} {client:#?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("redacted"));
}
