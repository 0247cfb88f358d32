//! `Client::wait` against a scripted service: outcome mapping, riding out outages, timeouts.

mod support;

use countersign_sdk::{Client, Error, FailureReason};
use std::time::Duration;
use support::*;

const LONG: Duration = Duration::from_secs(20);

#[tokio::test]
async fn two_503s_then_the_result() {
    let id = new_id();
    let server = Server::start(vec![
        Reply::Json(503, error_body("unavailable", "restarting")),
        Reply::Text(503, "<html>upstream down</html>"),
        Reply::Json(200, succeeded(id, 201, br#"{"ok":true}"#)),
    ])
    .await;
    let result = server.client().wait(id, LONG).await.unwrap();
    assert_eq!(result.approval_id, id);
    assert_eq!(result.status(), 201);
    assert_eq!(result.json::<serde_json::Value>().unwrap()["ok"], true);

    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    for request in &seen {
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, format!("/v1/approvals/{id}"));
        assert_eq!(
            request.authorization.as_deref(),
            Some(&*format!("Bearer {KEY}"))
        );
        let wait: u64 = request
            .query
            .as_deref()
            .and_then(|q| q.strip_prefix("wait="))
            .expect("a long poll")
            .parse()
            .unwrap();
        assert!((1..=25).contains(&wait), "wait={wait}");
    }
}

#[tokio::test]
async fn gateway_errors_and_rate_limits_are_ridden_out() {
    let id = new_id();
    let server = Server::start(vec![
        Reply::Text(502, "bad gateway"),
        Reply::Text(504, ""),
        Reply::JsonRetryAfter(429, error_body("too_many_requests", "slow down"), 1),
        Reply::Json(200, succeeded(id, 200, b"done")),
    ])
    .await;
    let result = server.client().wait(id, LONG).await.unwrap();
    assert_eq!(result.body(), b"done");
    assert_eq!(server.seen().len(), 4);
}

#[tokio::test]
async fn a_connection_dropped_mid_answer_is_ridden_out() {
    let id = new_id();
    let server = Server::start(vec![
        Reply::DropMidBody,
        Reply::Json(200, succeeded(id, 200, b"after the drop")),
    ])
    .await;
    let result = server.client().wait(id, LONG).await.unwrap();
    assert_eq!(result.body(), b"after the drop");
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn a_connection_closed_before_any_answer_is_ridden_out() {
    let id = new_id();
    let base = dropping_server(2, succeeded(id, 204, b"")).await;
    let client = Client::new(&base, KEY).unwrap();
    let result = client.wait(id, LONG).await.unwrap();
    assert_eq!(result.status(), 204);
}

#[tokio::test]
async fn a_refused_connection_is_ridden_out_until_the_service_is_back() {
    let id = new_id();
    // Find a free port, close it, and bring the service up there a little later.
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let client = Client::new(&format!("http://{addr}"), KEY).unwrap();
    let waiting = tokio::spawn(async move { client.wait(id, LONG).await });
    tokio::time::sleep(Duration::from_millis(600)).await;
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let server = Server::start_on(listener, vec![Reply::Json(200, succeeded(id, 200, b"up"))]);
    let result = waiting.await.unwrap().unwrap();
    assert_eq!(result.body(), b"up");
    assert!(!server.seen().is_empty());
}

#[tokio::test]
async fn an_unreachable_service_ends_in_timeout_with_the_id() {
    let id = new_id();
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let client = Client::new(&format!("http://{addr}"), KEY).unwrap();
    let err = client
        .wait(id, Duration::from_millis(1200))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { approval_id } if approval_id == id),
        "{err:?}"
    );
    assert_eq!(err.approval_id(), Some(id));
    assert!(err.is_timeout());
}

#[tokio::test]
async fn an_open_approval_ends_in_timeout_without_busy_polling() {
    let id = new_id();
    // This server answers at once instead of holding the poll; the SDK must not spin.
    let server = Server::start(vec![
        Reply::Json(200, view(id, "pending")),
        Reply::Json(200, view(id, "approved")),
        Reply::Json(200, view(id, "executing")),
    ])
    .await;
    let err = server
        .client()
        .wait(id, Duration::from_millis(1500))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { approval_id } if approval_id == id),
        "{err:?}"
    );
    let polls = server.seen().len();
    assert!((1..=5).contains(&polls), "{polls} polls in 1.5 s");
}

#[tokio::test]
async fn pending_then_denied() {
    let id = new_id();
    let server = Server::start(vec![
        Reply::Json(200, view(id, "pending")),
        Reply::Json(200, denied(id)),
    ])
    .await;
    match server.client().wait(id, LONG).await.unwrap_err() {
        Error::Denied {
            approval_id,
            approver,
            comment,
            ..
        } => {
            assert_eq!(approval_id, id);
            assert_eq!(approver, "bob");
            assert_eq!(comment.as_deref(), Some("not this week"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn final_states_map_to_their_errors() {
    let id = new_id();
    let cases = [
        (view(id, "expired"), "expired"),
        (view(id, "cancelled"), "cancelled"),
        (
            failed(id, "provider_error", Some(503), Some(b"try later")),
            "provider_error",
        ),
        (failed(id, "outcome_unknown", None, None), "outcome_unknown"),
        (failed(id, "grant_revoked", None, None), "grant_revoked"),
    ];
    for (answer, case) in cases {
        let server = Server::start(vec![Reply::Json(200, answer)]).await;
        let err = server.client().wait(id, LONG).await.unwrap_err();
        assert_eq!(err.approval_id(), Some(id), "{case}");
        match (case, err) {
            ("expired", Error::Expired { .. }) | ("cancelled", Error::Cancelled { .. }) => {}
            (
                "provider_error",
                Error::ExecutionFailed {
                    reason: FailureReason::ProviderError,
                    status: Some(503),
                    body: Some(body),
                    message,
                    ..
                },
            ) => {
                assert_eq!(body, b"try later");
                assert_eq!(message, "it broke");
            }
            (
                "outcome_unknown",
                Error::ExecutionFailed {
                    reason: FailureReason::OutcomeUnknown,
                    status: None,
                    body: None,
                    ..
                },
            )
            | (
                "grant_revoked",
                Error::ExecutionFailed {
                    reason: FailureReason::GrantRevoked,
                    ..
                },
            ) => {}
            (case, other) => panic!("{case}: unexpected {other:?}"),
        }
        assert_eq!(server.seen().len(), 1);
    }
}

#[tokio::test]
async fn other_refusals_end_the_wait_at_once() {
    let id = new_id();
    for (status, code) in [
        (404, "approval_not_found"),
        (401, "unauthorized"),
        (500, "internal"),
    ] {
        let server = Server::start(vec![Reply::Json(status, error_body(code, "no"))]).await;
        match server.client().wait(id, LONG).await.unwrap_err() {
            Error::Api {
                status: got,
                code: got_code,
                message,
            } => {
                assert_eq!(
                    (got, got_code.as_str(), message.as_str()),
                    (status, code, "no")
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(server.seen().len(), 1, "{status} must not be retried");
    }
}

#[tokio::test]
async fn an_answer_about_another_approval_is_refused() {
    let id = new_id();
    let server = Server::start(vec![Reply::Json(200, view(new_id(), "expired"))]).await;
    let err = server.client().wait(id, LONG).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[tokio::test]
async fn approval_reads_the_state_once_without_waiting() {
    let id = new_id();
    let server = Server::start(vec![Reply::Json(200, view(id, "pending"))]).await;
    let state = server.client().approval(id).await.unwrap();
    assert_eq!(state.status, countersign_sdk::ApprovalStatus::Pending);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].query, None);
}
