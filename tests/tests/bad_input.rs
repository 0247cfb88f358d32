//! Bad input is answered with the right status and error code, and changes nothing: the audit
//! log (every state change is audited), the upstream call count and the approvals' stored
//! status and decisions stay as they were.

use countersign_core::api::PairRequest as SignedPair;
use countersign_core::encoding::random_token;
use countersign_core::keys::{encode_public_key, generate_signing_key, key_id_for, SigningKey};
use countersign_core::pairing::signed_pair_request;
use countersign_core::{Timestamp, Verdict};
use countersign_sdk::{ApprovalStatus, Error, ProxyRequest};
use countersign_tests::{AppOptions, TestApp, GRANT, REFUND_PATH, WAIT};
use serde_json::json;
use uuid::Uuid;

fn proxy_body(extra: serde_json::Value) -> String {
    let mut body = json!({
        "grant": GRANT,
        "method": "POST",
        "path": REFUND_PATH,
        "reason": "Refund order B-1",
        "headers": {"content-type": "application/json"},
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_proxy_requests_are_refused_and_change_nothing() {
    let app = TestApp::spawn(AppOptions::default().max_request_bytes(1024)).await;
    let key = Some(app.api_key.as_str());

    app.refused_without_change(&[], (400, "malformed_json"), async {
        app.raw_post("/v1/proxy", r#"{"grant": "payments", "method""#, key)
            .await
    })
    .await;
    app.refused_without_change(&[], (400, "malformed_json"), async {
        app.raw_post("/v1/proxy", "not json at all", key).await
    })
    .await;
    // Valid JSON of the wrong shape.
    app.refused_without_change(&[], (422, "invalid_request"), async {
        app.raw_post("/v1/proxy", r#"{"grant": 7}"#, key).await
    })
    .await;
    // Over the HTTP body limit (max_request_bytes 1024 → ~66 KiB of JSON).
    let huge = proxy_body(json!({"reason": "x".repeat(200 * 1024)}));
    app.refused_without_change(&[], (413, "request_too_large"), async {
        app.raw_post("/v1/proxy", &huge, key).await
    })
    .await;
    // Within the HTTP limit, but the decoded body is over max_request_bytes.
    let big_body = countersign_core::encoding::b64_encode(vec![b'a'; 2048]);
    app.refused_without_change(&[], (413, "body_too_large"), async {
        app.raw_post("/v1/proxy", &proxy_body(json!({"body": big_body})), key)
            .await
    })
    .await;
    app.refused_without_change(&[], (404, "unknown_grant"), async {
        app.raw_post("/v1/proxy", &proxy_body(json!({"grant": "stripe"})), key)
            .await
    })
    .await;
    app.refused_without_change(&[], (401, "unauthorized"), async {
        app.raw_post("/v1/proxy", &proxy_body(json!({})), None)
            .await
    })
    .await;
    app.refused_without_change(&[], (401, "unauthorized"), async {
        app.raw_post("/v1/proxy", &proxy_body(json!({})), Some("cs_test_wrong"))
            .await
    })
    .await;
    for header in [
        "Authorization",
        "authorization",
        "Host",
        "Idempotency-Key",
        "Cookie",
        "Proxy-Authorization",
        "Transfer-Encoding",
    ] {
        app.refused_without_change(&[], (422, "forbidden_header"), async {
            let body = proxy_body(json!({"headers": {header: "Bearer sk_live_attacker"}}));
            app.raw_post("/v1/proxy", &body, key).await
        })
        .await;
    }
    for path in [
        "/v1/../admin",
        "/v1/refunds/../../admin",
        "/v1/%2e%2e/admin",
        "/v1/%2E%2E/admin",
        "//evil.example/v1/refunds",
        "v1/refunds",
        "/v1/refunds?amount=1",
        "/v1/a\\..\\b",
        "/v1//refunds",
        "/v1;x/refunds",
        "/v1/..;/refunds",
        "/v1/%2e/refunds",
        "/v1/refunds%2Fx",
        "/v1/%3Bx/refunds",
        "/v1/r\u{e9}funds",
        "/v1/refunds%00",
        "/v1/refunds%3Acancel",
        "/v1/%252e%252e/admin",
    ] {
        app.refused_without_change(&[], (422, "invalid_path"), async {
            app.raw_post("/v1/proxy", &proxy_body(json!({"path": path})), key)
                .await
        })
        .await;
    }
    // Headers and query parameters that can change the method or route the provider sees.
    for header in [
        "X-HTTP-Method-Override",
        "x-method-override",
        "X-Original-URL",
        "x-rewrite-url",
        "X-Forwarded-Prefix",
        "Forwarded",
    ] {
        app.refused_without_change(&[], (422, "forbidden_header"), async {
            let body = proxy_body(json!({"headers": {header: "POST"}}));
            app.raw_post("/v1/proxy", &body, key).await
        })
        .await;
    }
    app.refused_without_change(&[], (422, "forbidden_header"), async {
        let body = proxy_body(json!({"method": "GET", "query": {"_method": "POST"}}));
        app.raw_post("/v1/proxy", &body, key).await
    })
    .await;
    app.refused_without_change(&[], (422, "missing_reason"), async {
        app.raw_post("/v1/proxy", &proxy_body(json!({"reason": "   "})), key)
            .await
    })
    .await;
    app.refused_without_change(&[], (422, "invalid_method"), async {
        app.raw_post("/v1/proxy", &proxy_body(json!({"method": "TRACE"})), key)
            .await
    })
    .await;
    // The SDK surfaces a refusal as Error::Api with the code.
    let request = TestApp::refund("Refund order B-2").header("Authorization", "Bearer mine");
    match app.sdk.proxy_request(request).await {
        Err(Error::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (422, "forbidden_header"))
        }
        other => panic!("expected 422 forbidden_header, got {other:?}"),
    }
    assert_eq!(app.upstream_calls(), 0);
    assert!(app.audit().await.iter().all(|e| e.kind != "requested"));
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_of_another_app_or_without_a_key_are_not_shown() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let pending = app.request_refund("Refund order B-3").await;
    let id = pending.approval_id;
    let ids = [id];

    let status_path = format!("/v1/approvals/{id}");
    let cancel_path = format!("/v1/approvals/{id}/cancel");
    app.refused_without_change(&ids, (404, "approval_not_found"), async {
        app.raw_get(&status_path, Some(&app.other_api_key)).await
    })
    .await;
    app.refused_without_change(&ids, (404, "approval_not_found"), async {
        app.raw_post(&cancel_path, "", Some(&app.other_api_key))
            .await
    })
    .await;
    app.refused_without_change(&ids, (401, "unauthorized"), async {
        app.raw_get(&status_path, None).await
    })
    .await;
    app.refused_without_change(&ids, (401, "unauthorized"), async {
        app.raw_get(&status_path, Some("cs_test_wrong")).await
    })
    .await;
    app.refused_without_change(&ids, (401, "unauthorized"), async {
        app.raw_post(&cancel_path, "", Some("cs_test_wrong")).await
    })
    .await;
    app.refused_without_change(&ids, (404, "approval_not_found"), async {
        app.raw_get(
            &format!("/v1/approvals/{}", Uuid::now_v7()),
            Some(&app.api_key),
        )
        .await
    })
    .await;
    app.refused_without_change(&ids, (404, "approval_not_found"), async {
        app.raw_get("/v1/approvals/not-a-uuid", Some(&app.api_key))
            .await
    })
    .await;
    // Through the SDK: Error::Api 404, and the other app's wait refuses at once.
    assert!(matches!(
        app.other_sdk.approval(id).await,
        Err(Error::Api { status: 404, .. })
    ));
    assert!(matches!(
        app.other_sdk.wait(id, WAIT).await,
        Err(Error::Api { status: 404, .. })
    ));
    assert_eq!(
        app.sdk.approval(id).await.unwrap().status,
        ApprovalStatus::Pending
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_decisions_are_refused_and_change_nothing() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let bob = app.pair_approver("bob").await;
    let carol = app.pair_approver("carol").await; // configured, but not on the policy
    let pending = app.request_refund("Refund order B-4").await;
    let id = pending.approval_id;
    let ids = [id];
    let digest = app.request_digest(id).await;

    // Carol may not see it, and her signed decision is refused.
    let err = carol.client.review(id).await.unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    let by_carol = carol.sign(carol.decision(id, &digest, Verdict::Approve));
    app.refused_without_change(&ids, (403, "not_an_approver"), async {
        carol.post_decision(id, &by_carol).await
    })
    .await;

    // Signed by Alice's key, but over another request's digest.
    let wrong_digest = alice.sign(alice.decision(id, &"ab".repeat(32), Verdict::Approve));
    app.refused_without_change(&ids, (422, "digest_mismatch"), async {
        alice.post_decision(id, &wrong_digest).await
    })
    .await;

    // Alice's decision with a signature by some other key.
    let intruder = generate_signing_key();
    let decision = alice.decision(id, &digest, Verdict::Approve);
    let forged = countersign_core::api::DecisionRequest {
        signature: decision.sign(&intruder),
        decision: decision.clone(),
    };
    app.refused_without_change(&ids, (403, "bad_signature"), async {
        alice.post_decision(id, &forged).await
    })
    .await;
    // A signature that verifies for another decision (approve → deny swapped in).
    let mut swapped = alice.sign(decision.clone());
    swapped.decision.decision = Verdict::Deny;
    app.refused_without_change(&ids, (403, "bad_signature"), async {
        alice.post_decision(id, &swapped).await
    })
    .await;
    // Garbage signature text.
    let mut garbage = alice.sign(decision.clone());
    garbage.signature = "not-a-signature".into();
    app.refused_without_change(&ids, (403, "bad_signature"), async {
        alice.post_decision(id, &garbage).await
    })
    .await;

    // Bob's genuine signed decision, posted with Alice's session.
    let bobs = bob.sign(bob.decision(id, &digest, Verdict::Approve));
    app.refused_without_change(&ids, (403, "misdirected_decision"), async {
        alice.post_decision(id, &bobs).await
    })
    .await;
    // Alice's approver id with Bob's key id, signed by Alice.
    let mut mixed = alice.decision(id, &digest, Verdict::Approve);
    mixed.key_id = bob.key_id().to_string();
    let mixed = alice.sign(mixed);
    app.refused_without_change(&ids, (403, "misdirected_decision"), async {
        alice.post_decision(id, &mixed).await
    })
    .await;

    // A decision for another approval than the URL names.
    let other = app.request_refund("Refund order B-5").await;
    let for_other = alice.sign(alice.decision(
        other.approval_id,
        &app.request_digest(other.approval_id).await,
        Verdict::Approve,
    ));
    app.refused_without_change(
        &[id, other.approval_id],
        (422, "approval_mismatch"),
        async { alice.post_decision(id, &for_other).await },
    )
    .await;

    // decided_at far from the service's clock.
    let mut stale = alice.decision(id, &digest, Verdict::Approve);
    stale.decided_at = Timestamp::from_unix(Timestamp::now().unix() - 3600).unwrap();
    let stale = alice.sign(stale);
    app.refused_without_change(&ids, (422, "clock_skew"), async {
        alice.post_decision(id, &stale).await
    })
    .await;

    // Malformed decision bodies.
    let token = alice.session_token().await;
    let path = format!("/v1/wallet/approvals/{id}/decision");
    app.refused_without_change(&ids, (400, "malformed_json"), async {
        app.raw_post(&path, "{\"decision\": {", Some(&token)).await
    })
    .await;
    app.refused_without_change(&ids, (422, "invalid_request"), async {
        app.raw_post(
            &path,
            r#"{"decision": {"v": 1}, "signature": "x"}"#,
            Some(&token),
        )
        .await
    })
    .await;

    // Through all that the approval stayed pending without decisions; an honest one works.
    assert_eq!(
        app.snapshot(&ids).await.approvals,
        [Some((id, ApprovalStatus::Pending, 0))]
    );
    let honest = alice.signed_decision(id, Verdict::Approve).await;
    let answer = alice.post_decision(id, &honest).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    pending.wait(WAIT).await.unwrap();
    assert_eq!(app.upstream_calls(), 1);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_and_late_decisions_are_refused_and_change_nothing() {
    let app = TestApp::spawn(AppOptions::default().quorum(2)).await;
    let alice = app.pair_approver("alice").await;
    let bob = app.pair_approver("bob").await;

    // Quorum 2: Alice's decision replayed while still pending.
    let pending = app.request_refund("Refund order B-6").await;
    let id = pending.approval_id;
    let signed = alice.signed_decision(id, Verdict::Approve).await;
    let first = alice.post_decision(id, &signed).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["status"], "pending");
    app.refused_without_change(&[id], (409, "duplicate_decision"), async {
        alice.post_decision(id, &signed).await
    })
    .await;

    // Bob completes it; then both replays are refused as already decided.
    let bobs = bob.signed_decision(id, Verdict::Approve).await;
    assert_eq!(bob.post_decision(id, &bobs).await.status, 200);
    pending.wait(WAIT).await.unwrap();
    for (who, body) in [(&alice, &signed), (&bob, &bobs)] {
        app.refused_without_change(&[id], (409, "already_decided"), async {
            who.post_decision(id, body).await
        })
        .await;
    }
    assert_eq!(app.upstream_calls(), 1);

    // A deny decides; a later approve is refused.
    let denied = app.request_refund("Refund order B-7").await;
    alice.deny(denied.approval_id, "No").await.unwrap();
    let late = bob
        .signed_decision(denied.approval_id, Verdict::Approve)
        .await;
    app.refused_without_change(&[denied.approval_id], (409, "already_decided"), async {
        bob.post_decision(denied.approval_id, &late).await
    })
    .await;
    assert_eq!(app.upstream_calls(), 1);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_after_the_window_are_refused_as_expired() {
    let app = TestApp::spawn(AppOptions::default().window("2s")).await;
    let alice = app.pair_approver("alice").await;
    let pending = app.request_refund("Refund order B-8").await;
    let id = pending.approval_id;
    // Signed while the window was open, sent after it closed.
    let signed = alice.signed_decision(id, Verdict::Approve).await;
    app.wait_for_status(id, ApprovalStatus::Expired, WAIT).await;
    app.refused_without_change(&[id], (409, "expired"), async {
        alice.post_decision(id, &signed).await
    })
    .await;
    // Signed after it closed.
    let fresh = alice.sign(alice.decision(id, &app.request_digest(id).await, Verdict::Approve));
    app.refused_without_change(&[id], (409, "expired"), async {
        alice.post_decision(id, &fresh).await
    })
    .await;
    assert_eq!(app.upstream_calls(), 0);
    app.shutdown().await;
}

/// A `POST /v1/pair` body for `key` and `code`, with its proof of possession for `service_id`.
fn signed_pair(key: &SigningKey, code: &str, service_id: &str) -> String {
    serde_json::to_string(&signed_pair_request(key, code, service_id, "test device")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairing_needs_a_proof_of_possession_for_this_service() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let service_id = app.service_id();
    let (_, code) = app.invite("alice").await;
    let key = generate_signing_key();
    let honest = signed_pair_request(&key, &code, &service_id, "laptop");

    // Signed by another key than the one registered.
    let mut stolen = signed_pair_request(&generate_signing_key(), &code, &service_id, "laptop");
    stolen.public_key = honest.public_key.clone();
    // Signed over another code, or a malformed signature.
    let recoded = SignedPair {
        signature: signed_pair_request(&key, &random_token(), &service_id, "laptop").signature,
        ..honest.clone()
    };
    let garbled = SignedPair {
        signature: "not-a-signature".into(),
        ..honest.clone()
    };
    for bad in [stolen, recoded, garbled] {
        app.refused_without_change(&[], (422, "bad_pairing_signature"), async {
            app.raw_post("/v1/pair", &serde_json::to_string(&bad).unwrap(), None)
                .await
        })
        .await;
    }
    // Signed (correctly) for another service: the preview of some other service was signed.
    let elsewhere = signed_pair_request(&key, &code, "svc_0000000000000000", "laptop");
    app.refused_without_change(&[], (422, "service_mismatch"), async {
        app.raw_post(
            "/v1/pair",
            &serde_json::to_string(&elsewhere).unwrap(),
            None,
        )
        .await
    })
    .await;
    // An old client without the proof gets a 422 that says what is missing and why.
    let old = json!({
        "code": code,
        "public_key": encode_public_key(&key.verifying_key()),
        "device_name": "old wallet",
    });
    let answer = app.raw_post("/v1/pair", &old.to_string(), None).await;
    assert_eq!(answer.pair(), (422, "invalid_request"), "{:?}", answer.body);
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("signature") && message.contains("update"),
        "{message}"
    );
    // Unknown fields are still refused.
    let mut extra = serde_json::to_value(&honest).unwrap();
    extra["admin"] = json!(true);
    app.refused_without_change(&[], (422, "invalid_request"), async {
        app.raw_post("/v1/pair", &extra.to_string(), None).await
    })
    .await;

    // The code was not used up by any of these: the honest request pairs.
    let answer = app
        .raw_post("/v1/pair", &serde_json::to_string(&honest).unwrap(), None)
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["key_id"], key_id_for(&key.verifying_key()));
    assert_eq!(answer.body["service_id"], service_id);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairing_codes_work_once_and_only_in_time() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let service_id = app.service_id();
    let pair_body = |code: &str| signed_pair(&generate_signing_key(), code, &service_id);

    let (_, code) = app.invite("alice").await;
    let first = app.raw_post("/v1/pair", &pair_body(&code), None).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["approver_id"], "alice");
    app.refused_without_change(&[], (409, "pairing_code_used"), async {
        app.raw_post("/v1/pair", &pair_body(&code), None).await
    })
    .await;
    app.refused_without_change(&[], (409, "pairing_code_used"), async {
        app.raw_post("/v1/pair/preview", &json!({"code": code}).to_string(), None)
            .await
    })
    .await;

    // A code issued 20 minutes ago that expired 5 minutes ago.
    let late = random_token();
    let now = Timestamp::now().unix();
    app.store()
        .create_pairing_code(
            &late,
            "bob",
            Timestamp::from_unix(now - 20 * 60).unwrap(),
            Timestamp::from_unix(now - 5 * 60).unwrap(),
            "admin",
        )
        .await
        .unwrap();
    app.refused_without_change(&[], (409, "pairing_code_expired"), async {
        app.raw_post("/v1/pair", &pair_body(&late), None).await
    })
    .await;
    app.refused_without_change(&[], (409, "pairing_code_expired"), async {
        app.raw_post("/v1/pair/preview", &json!({"code": late}).to_string(), None)
            .await
    })
    .await;

    for unknown in [random_token(), "short".to_string(), "bad code!".repeat(3)] {
        app.refused_without_change(&[], (404, "unknown_pairing_code"), async {
            app.raw_post("/v1/pair", &pair_body(&unknown), None).await
        })
        .await;
    }
    // A key that is paired already cannot be paired again with a new code.
    let key = generate_signing_key();
    let (_, code1) = app.invite("bob").await;
    let (_, code2) = app.invite("bob").await;
    let body = |code: &str| signed_pair(&key, code, &service_id);
    assert_eq!(
        app.raw_post("/v1/pair", &body(&code1), None).await.status,
        200
    );
    app.refused_without_change(&[], (409, "key_already_paired"), async {
        app.raw_post("/v1/pair", &body(&code2), None).await
    })
    .await;
    app.refused_without_change(&[], (400, "malformed_json"), async {
        app.raw_post("/v1/pair", "{", None).await
    })
    .await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_endpoints_need_a_valid_session() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let pending = app.request_refund("Refund order B-9").await;
    let id = pending.approval_id;
    let ids = [id];
    let digest = app.request_digest(id).await;
    let decision =
        serde_json::to_string(&alice.sign(alice.decision(id, &digest, Verdict::Approve))).unwrap();
    let decision_path = format!("/v1/wallet/approvals/{id}/decision");

    for bearer in [None, Some("not-a-token"), Some(app.api_key.as_str())] {
        for (method, path, body) in [
            (
                "GET",
                "/v1/wallet/approvals?status=pending".to_string(),
                None,
            ),
            ("GET", format!("/v1/wallet/approvals/{id}"), None),
            ("GET", "/v1/wallet/events".to_string(), None),
            ("POST", decision_path.clone(), Some(decision.as_str())),
        ] {
            app.refused_without_change(&ids, (401, "unauthorized"), async {
                app.raw(method, &path, body, bearer, &[]).await
            })
            .await;
        }
    }
    // Signing in: unknown key, unknown nonce, nonce signed by another key.
    app.refused_without_change(&ids, (401, "unauthorized"), async {
        app.raw_post(
            "/v1/wallet/challenge",
            r#"{"key_id": "key_0000000000000000"}"#,
            None,
        )
        .await
    })
    .await;
    app.refused_without_change(&ids, (401, "unauthorized"), async {
        let body = json!({"key_id": alice.key_id(), "nonce": random_token(), "signature": "x"});
        app.raw_post("/v1/wallet/session", &body.to_string(), None)
            .await
    })
    .await;
    let challenge = app
        .raw_post(
            "/v1/wallet/challenge",
            &json!({"key_id": alice.key_id()}).to_string(),
            None,
        )
        .await;
    assert_eq!(challenge.status, 200);
    let nonce = challenge.body["nonce"].as_str().unwrap();
    let signature = countersign_core::session::sign_nonce(&generate_signing_key(), nonce);
    app.refused_without_change(&ids, (401, "unauthorized"), async {
        let body = json!({"key_id": alice.key_id(), "nonce": nonce, "signature": signature});
        app.raw_post("/v1/wallet/session", &body.to_string(), None)
            .await
    })
    .await;

    // A garbage Last-Event-ID with a valid token.
    let token = alice.session_token().await;
    for garbage in ["abc", "12x", "-", "1e3"] {
        app.refused_without_change(&ids, (400, "invalid_last_event_id"), async {
            app.raw(
                "GET",
                "/v1/wallet/events",
                None,
                Some(&token),
                &[("last-event-id", garbage)],
            )
            .await
        })
        .await;
    }
    // A bad list filter.
    app.refused_without_change(&ids, (422, "invalid_status"), async {
        app.raw_get("/v1/wallet/approvals?status=everything", Some(&token))
            .await
    })
    .await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_endpoints_answer_a_protocol_error() {
    let app = TestApp::spawn(AppOptions::default()).await;
    app.refused_without_change(&[], (404, "no_such_endpoint"), async {
        app.raw_get("/v1/admin", Some(&app.api_key)).await
    })
    .await;
    // A path that needs no approval still goes through all checks.
    match app
        .sdk
        .proxy_request(ProxyRequest::get(
            GRANT,
            "/v1/../v1/balance",
            "Check the balance",
        ))
        .await
    {
        Err(Error::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (422, "invalid_path"))
        }
        other => panic!("expected 422 invalid_path, got {other:?}"),
    }
    assert_eq!(app.upstream_calls(), 0);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_query_strings_and_methods_answer_a_protocol_error_body() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let pending = app.request_refund("Refund order B-10").await;
    let id = pending.approval_id;
    let key = Some(app.api_key.as_str());
    for wait in ["abc", "-1", "1.5"] {
        app.refused_without_change(&[id], (400, "invalid_query"), async {
            app.raw_get(&format!("/v1/approvals/{id}?wait={wait}"), key)
                .await
        })
        .await;
    }
    let token = alice.session_token().await;
    app.refused_without_change(&[id], (400, "invalid_query"), async {
        app.raw_get("/v1/wallet/approvals?limit=many", Some(&token))
            .await
    })
    .await;
    app.refused_without_change(&[id], (405, "method_not_allowed"), async {
        app.raw_get("/v1/proxy", key).await
    })
    .await;
    app.refused_without_change(&[id], (405, "method_not_allowed"), async {
        app.raw("DELETE", &format!("/v1/approvals/{id}"), None, key, &[])
            .await
    })
    .await;
    app.shutdown().await;
}
