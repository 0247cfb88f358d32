//! Limits that keep what a person reviews readable and keep floods from starving others:
//! reviewable bodies of gated calls, pending approvals per app, pairing-code floods, wallet
//! challenges per key, event streams per device, comment length. Every refusal is checked to
//! change nothing (the audit log, the upstream calls, the approvals asked about).

use countersign_core::encoding::{b64_encode, random_token};
use countersign_core::keys::generate_signing_key;
use countersign_core::pairing::signed_pair_request;
use countersign_core::Verdict;
use countersign_sdk::{ProxyOutcome, ProxyRequest};
use countersign_tests::{
    eventually, raw_request, AppOptions, TestApp, BALANCE_PATH, GRANT, POLICY, REFUND_PATH, WAIT,
};
use serde_json::json;
use std::time::Duration;

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
        app.refused_without_change(&[], (422, "unsupported_encoding"), async {
            app.raw_post("/v1/proxy", &body, key).await
        })
        .await;
    }
    // Over the review cap, within max_request_bytes.
    let big = proxy_body("POST", REFUND_PATH, &[b' '; 1025], json_type.clone());
    app.refused_without_change(&[], (413, "body_too_large_for_review"), async {
        app.raw_post("/v1/proxy", &big, key).await
    })
    .await;
    // Over max_request_bytes it is body_too_large, as before.
    let huge = proxy_body("POST", REFUND_PATH, &[b' '; 4097], json_type.clone());
    app.refused_without_change(&[], (413, "body_too_large"), async {
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
    app.refused_without_change(&ids, (429, "too_many_pending"), async {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_wrong_pairing_codes_does_not_stall_decisions_or_calls() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let key = generate_signing_key();
    let service_id = app.service_id();
    let flood: Vec<_> = (0..8)
        .map(|_| {
            let http = app.http.clone();
            let base = app.base_url.clone();
            let (key, service_id) = (key.clone(), service_id.clone());
            tokio::spawn(async move {
                for i in 0..250 {
                    let path = if i % 5 == 0 {
                        "/v1/pair/preview"
                    } else {
                        "/v1/pair"
                    };
                    let body = if i % 5 == 0 {
                        json!({"code": random_token()})
                    } else {
                        serde_json::to_value(signed_pair_request(
                            &key,
                            &random_token(),
                            &service_id,
                            "flood",
                        ))
                        .unwrap()
                    };
                    let answer = raw_request(
                        &http,
                        &base,
                        "POST",
                        path,
                        Some(&body.to_string()),
                        None,
                        &[],
                    )
                    .await;
                    assert_eq!(answer.pair(), (404, "unknown_pairing_code"), "{path}");
                }
            })
        })
        .collect();

    // Meanwhile, approvals are asked for, decided and run, and reads run at once.
    let work = async {
        for i in 0..5 {
            let pending = app.request_refund(&format!("Refund order F-{i}")).await;
            alice.approve(pending.approval_id).await.unwrap();
            assert_eq!(pending.wait(WAIT).await.unwrap().status(), 200);
            match app
                .sdk
                .proxy_request(ProxyRequest::get(GRANT, BALANCE_PATH, "Check the balance"))
                .await
            {
                Ok(ProxyOutcome::Completed(r)) => assert_eq!(r.status(), 200),
                other => panic!("the balance read should run: {other:?}"),
            }
        }
    };
    tokio::time::timeout(WAIT, work)
        .await
        .expect("decisions and calls complete during the flood");
    for task in flood {
        task.await.expect("a flood task");
    }
    // A real code still pairs afterwards.
    app.pair_approver("bob").await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_flooding_challenges_does_not_lock_out_another() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let bob = app.pair_approver("bob").await;
    let challenge = |key_id: String| {
        let app = &app;
        async move {
            app.raw_post(
                "/v1/wallet/challenge",
                &json!({"key_id": key_id}).to_string(),
                None,
            )
            .await
        }
    };
    let first = challenge(alice.key_id().to_string()).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    for _ in 0..200 {
        let answer = challenge(alice.key_id().to_string()).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
    }
    // Bob signs in while Alice's key floods; so does Alice, with a fresh challenge.
    bob.session_token().await;
    alice.session_token().await;
    // Alice's oldest nonce was dropped to make room for her newer ones.
    let nonce = first.body["nonce"].as_str().unwrap();
    let signature = countersign_core::session::sign_nonce(&alice.key, nonce);
    let answer = app
        .raw_post(
            "/v1/wallet/session",
            &json!({"key_id": alice.key_id(), "nonce": nonce, "signature": signature}).to_string(),
            None,
        )
        .await;
    assert_eq!(answer.pair(), (401, "unauthorized"), "{:?}", answer.body);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_per_device_key_are_capped() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let alice_tablet = app.pair_approver("alice").await;
    let bob = app.pair_approver("bob").await;
    let mut streams = Vec::new();
    for _ in 0..4 {
        streams.push(alice.client.events(None).await.unwrap());
    }
    let token = alice.session_token().await;
    let answer = app.raw_get("/v1/wallet/events", Some(&token)).await;
    assert_eq!(
        answer.pair(),
        (429, "too_many_requests"),
        "{:?}",
        answer.body
    );
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("event streams for this device key"),
        "{message}"
    );
    // Other keys, the same approver's other device included, are not affected.
    let mut bobs = bob.client.events(None).await.unwrap();
    let mut tablet = alice_tablet.client.events(None).await.unwrap();
    // The open streams still deliver.
    let pending = app.request_refund("Refund order S-1").await;
    for stream in streams.iter_mut().chain([&mut bobs, &mut tablet]) {
        let (_, event) = countersign_tests::next_event(stream, WAIT).await;
        assert_eq!(event.approval_id, pending.approval_id);
    }
    // A closed stream frees its place (once the service notices, at the latest on the next
    // keep-alive).
    drop(streams.pop());
    let reopened = eventually(Duration::from_secs(40), || async {
        alice.client.events(None).await.ok()
    })
    .await;
    assert!(reopened.is_some(), "a closed stream frees its place");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_polls_per_app_are_capped() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let pending = app.request_refund("Refund order W-1").await;
    let id = pending.approval_id;
    let path = format!("/v1/approvals/{id}?wait=25");
    let polls: Vec<_> = (0..64)
        .map(|_| {
            let http = app.http.clone();
            let base = app.base_url.clone();
            let key = app.api_key.clone();
            let path = path.clone();
            tokio::spawn(async move {
                raw_request(&http, &base, "GET", &path, None, Some(&key), &[]).await
            })
        })
        .collect();
    let state = app.state().clone();
    let all_in = eventually(WAIT, || async {
        (state.long_polls.held(countersign_tests::APP) == 64).then_some(())
    })
    .await;
    assert!(all_in.is_some(), "64 polls are waiting");
    let answer = app.raw_get(&path, Some(&app.api_key)).await;
    assert_eq!(
        answer.pair(),
        (429, "too_many_requests"),
        "{:?}",
        answer.body
    );
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("long polls for this app"), "{message}");
    // A plain status read, and another app's poll, are not affected.
    let plain = app
        .raw_get(&format!("/v1/approvals/{id}"), Some(&app.api_key))
        .await;
    assert_eq!(plain.status, 200, "{:?}", plain.body);
    // The approval is decided: every poll answers and frees its place.
    let alice = app.pair_approver("alice").await;
    alice.deny(id, "no").await.unwrap();
    for poll in polls {
        assert_eq!(poll.await.unwrap().status, 200);
    }
    assert_eq!(state.long_polls.held(countersign_tests::APP), 0);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_and_reasons_are_capped() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let pending = app.request_refund("Refund order C-1").await;
    let id = pending.approval_id;
    let digest = app.request_digest(id).await;
    let mut decision = alice.decision(id, &digest, Verdict::Deny);
    decision.comment = Some("x".repeat(2001));
    let request = alice.sign(decision.clone());
    app.refused_without_change(&[id], (422, "comment_too_long"), async {
        alice.post_decision(id, &request).await
    })
    .await;
    // 2,000 characters (of several bytes each) are fine.
    decision.comment = Some("\u{e9}".repeat(2000));
    let answer = alice.post_decision(id, &alice.sign(decision)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);

    // Reasons were capped already (16 KiB).
    let body = json!({
        "grant": GRANT,
        "method": "POST",
        "path": REFUND_PATH,
        "reason": "x".repeat(16 * 1024 + 1),
    })
    .to_string();
    app.refused_without_change(&[id], (422, "reason_too_long"), async {
        app.raw_post("/v1/proxy", &body, Some(&app.api_key)).await
    })
    .await;
    app.shutdown().await;
}
