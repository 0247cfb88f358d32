//! Every way a proxied call ends, through the real service, SQLite file and loopback upstream.

use countersign_core::Timestamp;
use countersign_sdk::{
    ApprovalStatus, Client, Error, FailureReason, ProxyOutcome, ProxyRequest, Verdict,
};
use countersign_service::clock::ManualClock;
use countersign_tests::{AppOptions, Behaviour, TestApp, BALANCE_PATH, GRANT, WAIT};
use std::sync::Arc;
use std::time::Duration;

fn assert_no_secret(app: &TestApp, what: &str, text: &str) {
    assert!(
        !text.contains(&app.provider_secret),
        "{what} contains the provider secret: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_the_policy_does_not_cover_runs_at_once_and_a_provider_4xx_is_a_result() {
    let app = TestApp::spawn(AppOptions::default()).await;

    let balance = ProxyRequest::get(GRANT, BALANCE_PATH, "Check the balance before refunds");
    let result = match app.sdk.proxy_request(balance).await.unwrap() {
        ProxyOutcome::Completed(result) => result,
        ProxyOutcome::Pending(p) => panic!("GET /v1/balance needed approval: {p:?}"),
    };
    assert_eq!(result.status(), 200);
    let body: serde_json::Value = result.json().unwrap();
    assert_eq!(body["object"], "balance");
    assert_eq!(
        app.audit_kinds(result.approval_id).await,
        ["requested", "execution_started", "executed"]
    );

    // A 4xx of the provider is a normal result, not an error.
    let missing = ProxyRequest::get(GRANT, "/v1/customers/404", "Look up a customer");
    let result = match app.sdk.proxy_request(missing).await.unwrap() {
        ProxyOutcome::Completed(result) => result,
        ProxyOutcome::Pending(p) => panic!("GET needed approval: {p:?}"),
    };
    assert_eq!(result.status(), 404);
    let view = app.sdk.approval(result.approval_id).await.unwrap();
    assert_eq!(view.status, ApprovalStatus::Succeeded);
    assert_eq!(view.response.unwrap().status, 404);

    assert_eq!(app.upstream_calls(), 2);
    for call in app.provider.calls() {
        assert_eq!(
            call.header("authorization"),
            Some(format!("Bearer {}", app.provider_secret).as_str())
        );
    }
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_call_runs_once_with_the_injected_secret_the_agent_never_sees() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;

    let pending = app
        .request_refund("Customer #8812 was charged twice for order A-1042; refund one")
        .await;
    let id = pending.approval_id;
    assert!(pending.approval_url.contains(&id.to_string()));
    let waiter = tokio::spawn({
        let pending = pending.clone();
        async move { pending.wait(WAIT).await }
    });

    let rows = alice.client.list("pending").await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].approval_id, id);
    let review = alice.client.review(id).await.unwrap();
    assert_eq!(review.statement().method, "POST");
    assert!(review.statement().url.ends_with("/v1/refunds"));
    assert_no_secret(
        &app,
        "the wallet's review",
        &serde_json::to_string(review.detail()).unwrap(),
    );
    let answer = alice
        .client
        .decide(
            &review,
            Verdict::Approve,
            Some("Duplicate confirmed".into()),
        )
        .await
        .unwrap();
    assert!(matches!(
        answer.status,
        ApprovalStatus::Approved | ApprovalStatus::Executing | ApprovalStatus::Succeeded
    ));

    let result = waiter.await.unwrap().expect("the approved call's result");
    assert_eq!(result.approval_id, id);
    assert_eq!(result.status(), 200);
    let body: serde_json::Value = result.json().unwrap();
    assert_eq!(body["object"], "refund");
    assert_eq!(body["amount"], 1999);
    assert_eq!(body["idempotency_key"], id.to_string());

    let calls = app.provider.calls();
    assert_eq!(calls.len(), 1, "exactly one upstream call: {calls:?}");
    let call = &calls[0];
    assert_eq!(call.method, "POST");
    assert_eq!(call.uri, "/v1/refunds");
    assert_eq!(
        call.header("authorization"),
        Some(format!("Bearer {}", app.provider_secret).as_str())
    );
    assert_eq!(
        call.header("idempotency-key"),
        Some(id.to_string().as_str())
    );
    assert_eq!(call.header("content-type"), Some("application/json"));

    // Nothing the agent got names the secret.
    let view = app.sdk.approval(id).await.unwrap();
    assert_eq!(view.status, ApprovalStatus::Succeeded);
    assert_eq!(view.decisions.len(), 1);
    assert_eq!(view.decisions[0].approver_id, "alice");
    assert_eq!(
        view.decisions[0].comment.as_deref(),
        Some("Duplicate confirmed")
    );
    assert_no_secret(
        &app,
        "the approval view",
        &serde_json::to_string(&view).unwrap(),
    );
    assert_no_secret(&app, "the result", &format!("{result:?}"));

    // Long after, still exactly one call.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.upstream_calls(), 1);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_call_ends_in_denied_with_the_approver_and_comment() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let bob = app.pair_approver("bob").await;
    let pending = app.request_refund("Refund order A-2000 (damaged)").await;
    bob.deny(pending.approval_id, "Order A-2000 was refunded yesterday")
        .await
        .unwrap();
    match pending.wait(WAIT).await {
        Err(Error::Denied {
            approval_id,
            approver,
            comment,
            rule,
        }) => {
            // No rule of the default test policy matches a refund: its default requirement.
            assert_eq!(rule, None);
            assert_eq!(approval_id, pending.approval_id);
            assert_eq!(approver, "bob");
            assert_eq!(
                comment.as_deref(),
                Some("Order A-2000 was refunded yesterday")
            );
        }
        other => panic!("expected Denied, got {other:?}"),
    }
    assert_eq!(app.upstream_calls(), 0);
    assert_eq!(
        app.audit_kinds(pending.approval_id).await,
        ["requested", "decided"]
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_elapsed_window_expires_the_approval_even_when_nobody_polls() {
    let app = TestApp::spawn(AppOptions::default().window("2s")).await;
    let alice = app.pair_approver("alice").await;

    // Nobody polls this one: only the service's expiry task can expire it. The store is read
    // directly, because GET /v1/approvals/{id} would expire a due approval itself.
    let unwatched = app.request_refund("Refund order A-3000").await;
    // An agent waits on this one.
    let watched = app.request_refund("Refund order A-3001").await;
    match watched.wait(WAIT).await {
        Err(Error::Expired { approval_id }) => assert_eq!(approval_id, watched.approval_id),
        other => panic!("expected Expired, got {other:?}"),
    }
    app.wait_for_status(unwatched.approval_id, ApprovalStatus::Expired, WAIT)
        .await;
    let entries = app.store().audit_for(unwatched.approval_id).await.unwrap();
    let expired: Vec<_> = entries.iter().filter(|e| e.kind == "expired").collect();
    assert_eq!(expired.len(), 1, "{entries:?}");
    assert_eq!(expired[0].actor, "service");

    let view = app.sdk.approval(unwatched.approval_id).await.unwrap();
    assert_eq!(view.status, ApprovalStatus::Expired);
    assert!(matches!(
        app.sdk.wait(unwatched.approval_id, WAIT).await,
        Err(Error::Expired { .. })
    ));

    // A decision now is refused and changes nothing.
    let err = alice.approve(unwatched.approval_id).await.unwrap_err();
    assert_eq!(err.status(), Some(409), "{err}");
    assert_eq!(err.code(), Some("expired"), "{err}");
    assert_eq!(
        app.audit_kinds(unwatched.approval_id).await,
        ["requested", "expired"]
    );
    assert_eq!(app.upstream_calls(), 0);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_timeout_keeps_the_approval_and_a_fresh_worker_gets_the_result_later() {
    let mut app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let pending = app.request_refund("Refund order A-4000").await;
    let id = pending.approval_id;

    match pending.wait(Duration::from_secs(1)).await {
        Err(Error::Timeout { approval_id }) => assert_eq!(approval_id, id),
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert_eq!(
        app.sdk.approval(id).await.unwrap().status,
        ApprovalStatus::Pending
    );

    // The service restarts in between (its wallet sessions are lost; the approver signs in
    // again by itself).
    app.restart().await;
    alice.approve(id).await.unwrap();

    // A worker that persisted only the id resumes with a client of its own.
    let worker = Client::new(&app.base_url, app.api_key.clone()).unwrap();
    let result = worker
        .wait(id, WAIT)
        .await
        .expect("the result after approval");
    assert_eq!(result.approval_id, id);
    assert_eq!(result.status(), 200);
    assert_eq!(app.upstream_calls(), 1);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_revoked_between_two_approvals_fails_without_calling_the_provider() {
    let app = TestApp::spawn(AppOptions::default().quorum(2)).await;
    let alice = app.pair_approver("alice").await;
    let bob = app.pair_approver("bob").await;
    let pending = app.request_refund("Refund order A-5000").await;
    let id = pending.approval_id;

    let first = alice.approve(id).await.unwrap();
    assert_eq!(first.status, ApprovalStatus::Pending);
    assert!(app.admin.revoke_grant(GRANT).await.unwrap());
    // The second approval is still accepted (the approvers decided), but nothing is sent.
    bob.approve(id).await.unwrap();

    match pending.wait(WAIT).await {
        Err(Error::ExecutionFailed {
            approval_id,
            reason,
            status,
            ..
        }) => {
            assert_eq!(approval_id, id);
            assert_eq!(reason, FailureReason::GrantRevoked);
            assert_eq!(status, None);
        }
        other => panic!("expected ExecutionFailed(GrantRevoked), got {other:?}"),
    }
    assert_eq!(app.upstream_calls(), 0);
    assert_eq!(
        app.audit_kinds(id).await,
        [
            "requested",
            "decided",
            "decided",
            "execution_started",
            "execution_failed"
        ]
    );

    // New calls through the grant are refused at once.
    match app
        .sdk
        .proxy_request(TestApp::refund("Another refund"))
        .await
    {
        Err(Error::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (403, "grant_revoked"))
        }
        other => panic!("expected 403 grant_revoked, got {other:?}"),
    }
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_5xx_is_an_execution_failure_with_status_and_body() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    app.provider.set_behaviour(Behaviour::Fail(500));
    let pending = app.request_refund("Refund order A-6000").await;
    alice.approve(pending.approval_id).await.unwrap();
    match pending.wait(WAIT).await {
        Err(Error::ExecutionFailed {
            reason,
            status,
            body,
            ..
        }) => {
            assert_eq!(reason, FailureReason::ProviderError);
            assert_eq!(status, Some(500));
            let body = String::from_utf8(body.expect("the provider's body")).unwrap();
            assert!(body.contains("the provider failed"), "{body}");
        }
        other => panic!("expected ExecutionFailed(ProviderError), got {other:?}"),
    }
    assert_eq!(app.upstream_calls(), 1);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_provider_is_a_transport_failure() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let pending = app.request_refund("Refund order A-7000").await;
    app.provider.stop();
    alice.approve(pending.approval_id).await.unwrap();
    match pending.wait(WAIT).await {
        Err(Error::ExecutionFailed { reason, status, .. }) => {
            assert_eq!(reason, FailureReason::Transport);
            assert_eq!(status, None);
        }
        other => panic!("expected ExecutionFailed(Transport), got {other:?}"),
    }
    // A call that needs no approval fails the same way, at once.
    match app
        .sdk
        .proxy_request(ProxyRequest::get(GRANT, BALANCE_PATH, "Check the balance"))
        .await
    {
        Err(Error::ExecutionFailed { reason, .. }) => assert_eq!(reason, FailureReason::Transport),
        other => panic!("expected ExecutionFailed(Transport), got {other:?}"),
    }
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quorum_of_two_needs_both_approvers() {
    let app = TestApp::spawn(AppOptions::default().quorum(2)).await;
    let alice = app.pair_approver("alice").await;
    let bob = app.pair_approver("bob").await;
    let pending = app.request_refund("Refund order A-8000 (EUR 5,000)").await;
    let id = pending.approval_id;

    let first = alice.approve(id).await.unwrap();
    assert_eq!(first.status, ApprovalStatus::Pending);
    assert_eq!(first.decisions.len(), 1);
    let view = app.sdk.approval(id).await.unwrap();
    assert_eq!(view.status, ApprovalStatus::Pending);
    assert_eq!(view.decisions.len(), 1);
    assert_eq!(app.upstream_calls(), 0);
    // Alice cannot count twice.
    let again = alice.approve(id).await.unwrap_err();
    assert_eq!(again.status(), Some(409), "{again}");
    assert_eq!(again.code(), Some("duplicate_decision"));

    let second = bob.approve(id).await.unwrap();
    assert_ne!(second.status, ApprovalStatus::Pending);
    let result = pending.wait(WAIT).await.unwrap();
    assert_eq!(result.status(), 200);
    let view = app.sdk.approval(id).await.unwrap();
    let approvers: Vec<_> = view
        .decisions
        .iter()
        .map(|d| d.approver_id.as_str())
        .collect();
    assert_eq!(approvers, ["alice", "bob"]);
    assert_eq!(app.upstream_calls(), 1);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_approval_refuses_later_decisions() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let pending = app.request_refund("Refund order A-9000").await;
    let id = pending.approval_id;
    // Alice opens it before the agent withdraws it.
    let review = alice.client.review(id).await.unwrap();

    let view = pending.cancel().await.unwrap();
    assert_eq!(view.status, ApprovalStatus::Cancelled);
    assert!(matches!(
        pending.wait(WAIT).await,
        Err(Error::Cancelled { approval_id }) if approval_id == id
    ));

    let err = alice
        .client
        .decide(&review, Verdict::Approve, None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409), "{err}");
    assert_eq!(err.code(), Some("already_decided"), "{err}");
    // Cancelling twice is refused too.
    match pending.cancel().await {
        Err(Error::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (409, "not_pending"))
        }
        other => panic!("expected 409, got {other:?}"),
    }
    assert_eq!(app.audit_kinds(id).await, ["requested", "cancelled"]);
    assert_eq!(app.upstream_calls(), 0);
    // Another app may not cancel (or see) it.
    assert!(matches!(
        app.other_sdk.cancel(id).await,
        Err(Error::Api { status: 404, .. })
    ));
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_answers_with_the_final_state_once_decided() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let pending = app.request_refund("Refund order A-9100").await;
    let id = pending.approval_id;

    let poll = tokio::spawn({
        let http = app.http.clone();
        let url = format!("{}/v1/approvals/{id}?wait=25", app.base_url);
        let key = app.api_key.clone();
        async move {
            let answer = http
                .get(url)
                .bearer_auth(key)
                .timeout(Duration::from_secs(60))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
            answer.json::<serde_json::Value>().await.unwrap()
        }
    });
    // The poll is held while the approval is pending.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !poll.is_finished(),
        "a long poll on a pending approval answered at once"
    );

    alice.approve(id).await.unwrap();
    let view = tokio::time::timeout(Duration::from_secs(60), poll)
        .await
        .expect("the long poll answers")
        .unwrap();
    assert_eq!(view["approval_id"], id.to_string());
    assert_eq!(view["status"], "succeeded", "{view}");
    assert_eq!(view["response"]["status"], 200);
    assert_eq!(view["decisions"][0]["approver_id"], "alice");

    // On a final approval the long poll answers at once with the same state.
    let again = app
        .raw_get(&format!("/v1/approvals/{id}?wait=25"), Some(&app.api_key))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["status"], "succeeded");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_is_measured_by_the_service_clock() {
    let clock = ManualClock::new(Timestamp::now());
    let app = TestApp::spawn(AppOptions::default().clock(Arc::new(clock.clone()))).await;
    let alice = app.pair_approver("alice").await;
    let pending = app.request_refund("Refund order A-9200").await;
    let id = pending.approval_id;
    let record = app.store().approval(id).await.unwrap().unwrap();
    assert_eq!(
        record
            .statement
            .created_at
            .seconds_until(&pending.expires_at),
        3600
    );

    // An hour later by the service's clock: the status answer is exact at once.
    clock.advance(3601);
    assert_eq!(
        app.sdk.approval(id).await.unwrap().status,
        ApprovalStatus::Expired
    );
    assert!(matches!(
        pending.wait(WAIT).await,
        Err(Error::Expired { .. })
    ));
    // Alice's device clock is an hour behind the service's: refused as skewed.
    let err = alice.approve(id).await.unwrap_err();
    assert_eq!(err.status(), Some(422), "{err}");
    assert_eq!(err.code(), Some("clock_skew"));
    assert_eq!(app.audit_kinds(id).await, ["requested", "expired"]);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_does_not_answer_in_time_is_a_timeout_failure() {
    let app = TestApp::spawn(AppOptions::default().upstream_timeout("1s")).await;
    let alice = app.pair_approver("alice").await;
    app.provider.set_behaviour(Behaviour::Hang);
    let pending = app.request_refund("Refund order A-9300").await;
    alice.approve(pending.approval_id).await.unwrap();
    match pending.wait(WAIT).await {
        Err(Error::ExecutionFailed { reason, status, .. }) => {
            assert_eq!(reason, FailureReason::Timeout);
            assert_eq!(status, None);
        }
        other => panic!("expected ExecutionFailed(Timeout), got {other:?}"),
    }
    assert_eq!(app.upstream_calls(), 1);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_waiting_across_a_service_restart_still_gets_the_result() {
    let mut app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let pending = app.request_refund("Refund order A-9400").await;
    let id = pending.approval_id;
    let waiter = tokio::spawn({
        let pending = pending.clone();
        async move { pending.wait(Duration::from_secs(30)).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.restart().await;
    alice.approve(id).await.unwrap();
    let result = waiter
        .await
        .unwrap()
        .expect("the wait rides out the restart");
    assert_eq!(result.approval_id, id);
    assert_eq!(app.upstream_calls(), 1);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_waits_for_the_call_in_flight_and_records_its_result() {
    let mut app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    app.provider
        .set_behaviour(Behaviour::Delay(Duration::from_millis(800)));
    let pending = app.request_refund("Refund order A-9500").await;
    let id = pending.approval_id;
    alice.approve(id).await.unwrap();
    assert!(
        countersign_tests::eventually(WAIT, || async { (app.upstream_calls() == 1).then_some(()) })
            .await
            .is_some(),
        "the provider got the call"
    );
    // Stop while the provider is still answering: the stop waits, the outcome is recorded.
    app.restart().await;
    let view = app.sdk.approval(id).await.unwrap();
    assert_eq!(view.status, ApprovalStatus::Succeeded, "{view:?}");
    assert_eq!(view.response.unwrap().status, 200);
    assert_eq!(app.upstream_calls(), 1);
    app.shutdown().await;
}
