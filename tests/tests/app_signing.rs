//! Signed app requests against the real service: the SDK signing end to end (HMAC and
//! Ed25519), the independent vectors accepted byte for byte, and each attack an eavesdropper
//! or another app could try — replays on the same and on another replica, a signature or
//! secret of one app used for another, a changed method, path spelling, query order,
//! timestamp, nonce, body or signature, repeated or malformed headers, stale and future
//! timestamps — each refused with its own 401 code and without changing anything. Nonces
//! are only written for requests whose signature verified.

use countersign_core::app_request::{AppSigner, SignedRequest, MAX_SKEW_SECS, NONCE_MAX_LEN};
use countersign_core::encoding::{b64_decode, b64_encode};
use countersign_core::Timestamp;
use countersign_service::clock::ManualClock;
use countersign_tests::{
    AppAuthMode, AppOptions, RawAnswer, Replica, TestApp, APP, BALANCE_PATH, GRANT, OTHER_APP,
    REFUND_PATH, WAIT,
};
use std::sync::Arc;
use uuid::Uuid;

/// One request to sign and send: what is signed, and what is sent (the same unless a test
/// changes one of them).
#[derive(Clone, Debug)]
struct Call {
    app: String,
    method: String,
    path: String,
    query: String,
    timestamp: Timestamp,
    nonce: String,
    body: Vec<u8>,
}

impl Call {
    fn new(app: &str, method: &str, path: &str, query: &str, body: &[u8], now: Timestamp) -> Self {
        Self {
            app: app.into(),
            method: method.into(),
            path: path.into(),
            query: query.into(),
            timestamp: now,
            nonce: countersign_core::app_request::fresh_nonce(),
            body: body.to_vec(),
        }
    }

    /// `POST /v1/proxy` of a refund that needs approval.
    fn refund(app: &str, now: Timestamp, order: &str) -> Self {
        Self::new(app, "POST", "/v1/proxy", "", &refund_body(order), now)
    }

    fn signed(&self) -> SignedRequest<'_> {
        SignedRequest::new(
            &self.app,
            &self.method,
            &self.path,
            &self.query,
            self.timestamp,
            &self.nonce,
            &self.body,
        )
    }

    /// The four headers, signed by `signer`.
    fn headers(&self, signer: &AppSigner) -> Vec<(String, String)> {
        self.signed()
            .headers(signer)
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect()
    }

    /// Sends this request to `base` with `headers` as given.
    async fn send_with(
        &self,
        app: &TestApp,
        base: &str,
        headers: &[(String, String)],
    ) -> RawAnswer {
        send(
            app,
            base,
            &self.method,
            &self.path,
            &self.query,
            &self.body,
            headers,
        )
        .await
    }

    /// Signs with `signer` and sends to `base`.
    async fn send(&self, app: &TestApp, base: &str, signer: &AppSigner) -> RawAnswer {
        self.send_with(app, base, &self.headers(signer)).await
    }
}

fn refund_body(order: &str) -> Vec<u8> {
    let body = b64_encode(format!(
        r#"{{"order":"{order}","amount":1999,"currency":"EUR"}}"#
    ));
    serde_json::json!({
        "grant": GRANT,
        "method": "POST",
        "path": REFUND_PATH,
        "headers": {"content-type": "application/json"},
        "body": body,
        "reason": format!("Refund order {order}"),
    })
    .to_string()
    .into_bytes()
}

/// A raw request: method, path and query exactly as given, the body, and the headers.
async fn send(
    app: &TestApp,
    base: &str,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
    headers: &[(String, String)],
) -> RawAnswer {
    let target = if query.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{query}")
    };
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app
        .http
        .request(method, &target)
        .timeout(std::time::Duration::from_secs(30))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let answer = request.send().await.expect("sending");
    let status = answer.status().as_u16();
    let body: serde_json::Value =
        serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap_or_default();
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    RawAnswer { status, code, body }
}

/// `GET /v1/balance` through the SDK of [`APP`] (runs without approval).
async fn balance(app: &TestApp) -> countersign_sdk::ApprovalResult {
    let request = countersign_sdk::ProxyRequest::get(GRANT, BALANCE_PATH, "Check the balance");
    match app.sdk.proxy_request(request).await {
        Ok(countersign_sdk::ProxyOutcome::Completed(result)) => result,
        other => panic!("the balance read did not run at once: {other:?}"),
    }
}

fn signer(app: &TestApp) -> AppSigner {
    app.app.signer.clone().expect("a signing app")
}

fn other_signer(app: &TestApp) -> AppSigner {
    app.other_app.signer.clone().expect("a signing app")
}

async fn nonces(app: &TestApp) -> i64 {
    app.store().app_nonce_count().await.unwrap()
}

fn replace(headers: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.clone(),
                if n == name {
                    value.to_string()
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}

/// A service whose clock stands still at the present, with signing apps of `mode`.
async fn spawn_manual(mode: AppAuthMode) -> (TestApp, ManualClock) {
    let clock = ManualClock::new(Timestamp::now());
    let app = TestApp::spawn(
        AppOptions::default()
            .app_auth(mode)
            .clock(Arc::new(clock.clone())),
    )
    .await;
    (app, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_signs_every_request_end_to_end() {
    for mode in [AppAuthMode::Hmac, AppAuthMode::Ed25519] {
        let app = TestApp::spawn(AppOptions::default().app_auth(mode)).await;
        let alice = app.pair_approver("alice").await;
        // Runs free: GET through the grant.
        let result = balance(&app).await;
        assert_eq!(result.status(), 200, "{mode:?}");
        // Needs approval: proxy, long polls, approval, result.
        let pending = app.request_refund("Refund order S-1").await;
        alice.approve(pending.approval_id).await.unwrap();
        let result = pending.wait(WAIT).await.unwrap();
        assert_eq!(result.status(), 200, "{mode:?}");
        // Cancel, and the other app's view of it.
        let pending = app.request_refund("Refund order S-2").await;
        app.sdk.cancel(pending.approval_id).await.unwrap();
        let err = app
            .other_sdk
            .approval(pending.approval_id)
            .await
            .unwrap_err();
        assert!(
            matches!(err, countersign_sdk::Error::Api { status: 404, .. }),
            "{err}"
        );
        assert!(
            nonces(&app).await >= 5,
            "{mode:?}: each request used a nonce"
        );
        // The audit log names the app, whichever way it authenticated.
        let requested = app.audit().await;
        assert!(
            requested.iter().any(|e| e.actor == format!("app:{APP}")),
            "{mode:?}"
        );
        // A bearer key is no use for a signing app.
        let answer = app
            .raw_get(
                &format!("/v1/approvals/{}", pending.approval_id),
                Some(&app.api_key),
            )
            .await;
        assert_eq!(answer.pair(), (401, "unauthorized"), "{mode:?}");
        app.shutdown().await;
    }
}

#[derive(serde::Deserialize)]
struct Vector {
    name: String,
    app: String,
    method: String,
    path: String,
    query: String,
    timestamp: String,
    nonce: String,
    body: String,
    secret: Option<String>,
    public_key: Option<String>,
    headers: std::collections::BTreeMap<String, String>,
}

/// The service accepts each request of `tests/vectors/app-signing.json` exactly as the
/// independent implementation signed it (clock set to its timestamp), then refuses it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_accepts_every_vector_once() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/app-signing.json");
    let mut vectors: Vec<Vector> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    vectors.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    let secret_of = |app: &str| {
        vectors
            .iter()
            .find(|v| v.app == app)
            .and_then(|v| v.secret.clone())
            .unwrap_or_else(|| panic!("a vector of {app}"))
    };
    let (ed_app, public_key) = vectors
        .iter()
        .find_map(|v| Some((v.app.clone(), v.public_key.clone()?)))
        .expect("an Ed25519 vector");
    let first: Timestamp = vectors[0].timestamp.parse().unwrap();
    let clock = ManualClock::new(first);
    let app = TestApp::spawn(
        AppOptions::default()
            .app_auth(AppAuthMode::Hmac)
            .hmac_secrets(&secret_of(APP), &secret_of(OTHER_APP))
            .extra_toml(&format!(
                "[[app]]\nid = \"{ed_app}\"\nauth = \"ed25519\"\npublic_key = \"{public_key}\"\ngrants = [\"{GRANT}\"]\n"
            ))
            .clock(Arc::new(clock.clone())),
    )
    .await;
    let mut now = first;
    for v in &vectors {
        let at: Timestamp = v.timestamp.parse().unwrap();
        clock.advance(now.seconds_until(&at));
        now = at;
        let headers: Vec<(String, String)> = v.headers.clone().into_iter().collect();
        let body = b64_decode(&v.body).unwrap();
        let answer = send(
            &app,
            &app.base_url,
            &v.method,
            &v.path,
            &v.query,
            &body,
            &headers,
        )
        .await;
        assert_ne!(answer.status, 401, "{}: {:?}", v.name, answer.body);
        if v.path == "/v1/proxy" && body.starts_with(b"{") {
            assert_eq!(answer.status, 202, "{}: {:?}", v.name, answer.body);
        }
        let again = send(
            &app,
            &app.base_url,
            &v.method,
            &v.path,
            &v.query,
            &body,
            &headers,
        )
        .await;
        assert_eq!(again.pair(), (401, "nonce_reused"), "{}", v.name);
        assert_eq!(v.nonce, v.headers["countersign-nonce"]);
    }
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_request_is_refused_on_the_same_and_on_another_replica() {
    let app = TestApp::spawn(AppOptions::default().app_auth(AppAuthMode::Hmac)).await;
    let b = Replica::start(&app).await;
    let key = signer(&app);

    let call = Call::refund(APP, Timestamp::now(), "R-1");
    let headers = call.headers(&key);
    let first = call.send_with(&app, &app.base_url, &headers).await;
    assert_eq!(first.status, 202, "{:?}", first.body);
    let id: Uuid = first.body["approval_id"].as_str().unwrap().parse().unwrap();
    for base in [app.base_url.clone(), b.base_url.clone()] {
        app.refused_without_change(
            &[id],
            (401, "nonce_reused"),
            call.send_with(&app, &base, &headers),
        )
        .await;
    }

    // First seen by B, then replayed to A.
    let call = Call::new(
        APP,
        "GET",
        &format!("/v1/approvals/{id}"),
        "",
        b"",
        Timestamp::now(),
    );
    let headers = call.headers(&key);
    let on_b = call.send_with(&app, &b.base_url, &headers).await;
    assert_eq!(on_b.status, 200, "{:?}", on_b.body);
    let again = call.send_with(&app, &app.base_url, &headers).await;
    assert_eq!(again.pair(), (401, "nonce_reused"));

    // The same request raced on both replicas at once: exactly one is accepted.
    let call = Call::refund(APP, Timestamp::now(), "R-2");
    let headers = call.headers(&key);
    let before = app.audit_len().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let base: &str = if i % 2 == 0 {
            &app.base_url
        } else {
            &b.base_url
        };
        tasks.push(call.send_with(&app, base, &headers));
    }
    let answers = futures::future::join_all(tasks).await;
    let accepted = answers.iter().filter(|a| a.status == 202).count();
    let replays = answers
        .iter()
        .filter(|a| a.pair() == (401, "nonce_reused"))
        .count();
    assert_eq!((accepted, replays), (1, 7), "{answers:?}");
    assert_eq!(app.audit_len().await, before + 1, "one approval requested");
    b.stop().await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_apps_signature_or_secret_is_no_use_for_another() {
    for mode in [AppAuthMode::Hmac, AppAuthMode::Ed25519] {
        let (app, clock) = spawn_manual(mode).await;
        let now = clock_now(&clock);
        let pending = Call::refund(OTHER_APP, now, "O-1")
            .send(&app, &app.base_url, &other_signer(&app))
            .await;
        assert_eq!(pending.status, 202, "{mode:?}: {:?}", pending.body);
        let id: Uuid = pending.body["approval_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let cancel = Call::new(
            APP,
            "POST",
            &format!("/v1/approvals/{id}/cancel"),
            "",
            b"",
            now,
        );

        // A's signature presented as B: the app header says B, the signature is A's.
        let as_b = replace(&cancel.headers(&signer(&app)), "countersign-app", OTHER_APP);
        app.refused_without_change(
            &[id],
            (401, "bad_request_signature"),
            cancel.send_with(&app, &app.base_url, &as_b),
        )
        .await;
        // A's key (HMAC: A's secret) signing a request that says it is B's.
        let claims_b = Call {
            app: OTHER_APP.into(),
            ..cancel.clone()
        };
        app.refused_without_change(
            &[id],
            (401, "bad_request_signature"),
            claims_b.send(&app, &app.base_url, &signer(&app)),
        )
        .await;
        // A, honestly, may not cancel B's approval.
        let own = cancel.send(&app, &app.base_url, &signer(&app)).await;
        assert_eq!(own.pair(), (404, "approval_not_found"), "{mode:?}");
        // B may.
        let by_b = Call {
            nonce: countersign_core::app_request::fresh_nonce(),
            ..claims_b
        };
        let done = by_b.send(&app, &app.base_url, &other_signer(&app)).await;
        assert_eq!(done.status, 200, "{mode:?}: {:?}", done.body);
        app.shutdown().await;
    }
}

fn clock_now(clock: &ManualClock) -> Timestamp {
    use countersign_service::clock::Clock;
    clock.now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_changed_byte_is_refused_and_stores_no_nonce() {
    let (app, clock) = spawn_manual(AppAuthMode::Hmac).await;
    let key = signer(&app);
    let now = clock_now(&clock);
    let pending = Call::refund(APP, now, "C-1")
        .send(&app, &app.base_url, &key)
        .await;
    assert_eq!(pending.status, 202, "{:?}", pending.body);
    let id: Uuid = pending.body["approval_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let stored = nonces(&app).await;

    let cancel_path = format!("/v1/approvals/{id}/cancel");
    let cancel = Call::new(APP, "POST", &cancel_path, "", b"", now);
    let status = Call::new(
        APP,
        "GET",
        &format!("/v1/approvals/{id}"),
        "a=1&wait=0",
        b"",
        now,
    );
    let refund = Call::refund(APP, now, "C-2");
    let upper = cancel_path
        .to_uppercase()
        .replace("/V1/APPROVALS/", "/v1/approvals/")
        .replace("/CANCEL", "/cancel");
    let escaped = cancel_path.replacen('-', "%2D", 1);
    // (what is signed, what is sent instead)
    let cases: Vec<(&str, Call, Call)> = vec![
        (
            "a signed GET sent as POST",
            Call {
                method: "GET".into(),
                ..cancel.clone()
            },
            cancel.clone(),
        ),
        (
            "the path in upper case",
            cancel.clone(),
            Call {
                path: upper,
                ..cancel.clone()
            },
        ),
        (
            "a percent-escaped hyphen",
            cancel.clone(),
            Call {
                path: escaped,
                ..cancel.clone()
            },
        ),
        (
            "query parameters reordered",
            status.clone(),
            Call {
                query: "wait=0&a=1".into(),
                ..status.clone()
            },
        ),
        (
            "a query parameter repeated",
            status.clone(),
            Call {
                query: "a=1&wait=0&wait=0".into(),
                ..status.clone()
            },
        ),
        (
            "the query dropped",
            status.clone(),
            Call {
                query: String::new(),
                ..status.clone()
            },
        ),
        (
            "the body swapped",
            refund.clone(),
            Call {
                body: refund_body("C-3"),
                ..refund.clone()
            },
        ),
        (
            "one byte of the body changed",
            refund.clone(),
            Call {
                body: {
                    let mut b = refund.body.clone();
                    let i = b.iter().position(|&c| c == b'R').unwrap();
                    b[i] = b'r';
                    b
                },
                ..refund.clone()
            },
        ),
    ];
    for (what, signed, sent) in cases {
        let headers = signed.headers(&key);
        let answer = sent.send_with(&app, &app.base_url, &headers).await;
        assert_eq!(
            answer.pair(),
            (401, "bad_request_signature"),
            "{what}: {:?}",
            answer.body
        );
    }
    assert_eq!(
        app.stored_status(id).await,
        Some(countersign_core::ApprovalStatus::Pending)
    );

    // Header values changed after signing.
    let headers = cancel.headers(&key);
    let signature = headers[3].1.clone();
    let mut sig = b64_decode(&signature).unwrap();
    sig[0] ^= 1;
    let later = cancel
        .timestamp
        .plus(std::time::Duration::from_secs(1))
        .to_string();
    let changed = [
        ("countersign-timestamp", later),
        (
            "countersign-nonce",
            countersign_core::app_request::fresh_nonce(),
        ),
        ("countersign-signature", b64_encode(&sig)),
        // The same 32 bytes in another spelling (padding, standard alphabet): refused.
        ("countersign-signature", format!("{signature}=")),
        (
            "countersign-signature",
            signature.replace('-', "+").replace('_', "/"),
        ),
        ("countersign-signature", String::from("AAAA")),
    ];
    for (name, value) in changed {
        let sent = replace(&headers, name, &value);
        if sent == headers {
            continue; // the signature had no '-' or '_' to respell
        }
        app.refused_without_change(
            &[id],
            (401, "bad_request_signature"),
            cancel.send_with(&app, &app.base_url, &sent),
        )
        .await;
    }
    assert_eq!(
        nonces(&app).await,
        stored,
        "refused requests stored no nonce"
    );

    // The nonce of a refused request was not used up: the honest request with it works.
    let honest = cancel.send_with(&app, &app.base_url, &headers).await;
    assert_eq!(honest.status, 200, "{:?}", honest.body);
    assert_eq!(honest.body["status"], "cancelled");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_missing_or_repeated_headers_are_refused() {
    let (app, clock) = spawn_manual(AppAuthMode::Ed25519).await;
    let key = signer(&app);
    let now = clock_now(&clock);
    let call = Call::new(
        APP,
        "GET",
        "/v1/approvals/019a0000-0000-7000-8000-000000000001",
        "",
        b"",
        now,
    );
    let headers = call.headers(&key);
    let invalid = (401, "invalid_signature_headers");
    for i in 0..4 {
        let mut missing = headers.clone();
        missing.remove(i);
        app.refused_without_change(&[], invalid, call.send_with(&app, &app.base_url, &missing))
            .await;
        let mut repeated = headers.clone();
        repeated.push(headers[i].clone());
        app.refused_without_change(&[], invalid, call.send_with(&app, &app.base_url, &repeated))
            .await;
    }
    let mut with_bearer = headers.clone();
    with_bearer.push(("authorization".into(), format!("Bearer {}", app.api_key)));
    app.refused_without_change(
        &[],
        invalid,
        call.send_with(&app, &app.base_url, &with_bearer),
    )
    .await;

    // Nonces out of form, signed honestly: refused before any signature work or write.
    for nonce in [
        "a".repeat(NONCE_MAX_LEN + 1),
        "a".repeat(100_000),
        "short".to_string(),
        "with space in the nonce".to_string(),
        "padded+nonce/0123456=".to_string(),
    ] {
        let c = Call {
            nonce: nonce.clone(),
            ..call.clone()
        };
        let answer = c.send(&app, &app.base_url, &key).await;
        // A header over hyper's limit is refused by the server itself (431).
        assert!(
            answer.pair() == invalid || answer.status == 431,
            "{} chars: {:?}",
            nonce.len(),
            answer.body
        );
    }
    // Timestamps in any other spelling.
    for ts in [
        now.unix().to_string(),
        now.to_string().replace('Z', "+00:00"),
        now.to_string().replace('T', "t"),
        now.to_string().replace('Z', ".000Z"),
    ] {
        let sent = replace(&headers, "countersign-timestamp", &ts);
        app.refused_without_change(&[], invalid, call.send_with(&app, &app.base_url, &sent))
            .await;
    }
    // An app that does not exist, or does not sign.
    for who in ["nobody", "Support-Agent"] {
        let c = Call {
            app: who.into(),
            ..call.clone()
        };
        app.refused_without_change(&[], (401, "unknown_app"), c.send(&app, &app.base_url, &key))
            .await;
    }
    assert_eq!(nonces(&app).await, 0);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_and_future_timestamps_are_refused_and_nonces_kept_until_stale() {
    let (app, clock) = spawn_manual(AppAuthMode::Hmac).await;
    let key = signer(&app);
    let now = clock_now(&clock);
    let id = "019a0000-0000-7000-8000-000000000001";
    let at = |offset: i64| Timestamp::from_unix(now.unix() + offset).unwrap();
    for offset in [
        -(MAX_SKEW_SECS + 1),
        MAX_SKEW_SECS + 1,
        86_400,
        10 * 365 * 86_400,
        -86_400,
    ] {
        let call = Call::new(
            APP,
            "GET",
            &format!("/v1/approvals/{id}"),
            "",
            b"",
            at(offset),
        );
        app.refused_without_change(
            &[],
            (401, "stale_timestamp"),
            call.send(&app, &app.base_url, &key),
        )
        .await;
    }
    assert_eq!(nonces(&app).await, 0);
    for offset in [-MAX_SKEW_SECS, MAX_SKEW_SECS] {
        let call = Call::new(
            APP,
            "GET",
            &format!("/v1/approvals/{id}"),
            "",
            b"",
            at(offset),
        );
        let answer = call.send(&app, &app.base_url, &key).await;
        assert_eq!(answer.pair(), (404, "approval_not_found"), "{offset}");
    }

    // Accepted now; replayed until its timestamp is stale: reused, then stale.
    let call = Call::new(APP, "GET", &format!("/v1/approvals/{id}"), "", b"", now);
    let headers = call.headers(&key);
    assert_eq!(
        call.send_with(&app, &app.base_url, &headers).await.status,
        404
    );
    clock.advance(MAX_SKEW_SECS);
    let replay = call.send_with(&app, &app.base_url, &headers).await;
    assert_eq!(replay.pair(), (401, "nonce_reused"));
    clock.advance(1);
    let replay = call.send_with(&app, &app.base_url, &headers).await;
    assert_eq!(replay.pair(), (401, "stale_timestamp"));
    assert_eq!(nonces(&app).await, 3);

    // Long after, the stale nonces are purged when the next one is written.
    clock.advance(3 * MAX_SKEW_SECS);
    let fresh = Call::new(
        APP,
        "GET",
        &format!("/v1/approvals/{id}"),
        "",
        b"",
        clock_now(&clock),
    );
    assert_eq!(fresh.send(&app, &app.base_url, &key).await.status, 404);
    assert_eq!(nonces(&app).await, 1, "only the fresh nonce is kept");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unsigned_or_badly_signed_requests_writes_nothing() {
    let (app, clock) = spawn_manual(AppAuthMode::Hmac).await;
    let now = clock_now(&clock);
    let before = app.snapshot(&[]).await;
    let wrong = other_signer(&app);
    let shared = &app;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let call = Call::refund(APP, now, &format!("F-{i}"));
        let headers = match i % 4 {
            0 => call.headers(&wrong),
            1 => replace(&call.headers(&wrong), "countersign-app", "nobody"),
            2 => Vec::new(),
            _ => vec![("authorization".to_string(), "Bearer guess".to_string())],
        };
        tasks.push(async move {
            let a = call.send_with(shared, &shared.base_url, &headers).await;
            a.status
        });
    }
    let statuses = futures::future::join_all(tasks).await;
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(app.snapshot(&[]).await, before);
    assert_eq!(nonces(&app).await, 0);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_refused_before_verifying() {
    let clock = ManualClock::new(Timestamp::now());
    let app = TestApp::spawn(
        AppOptions::default()
            .app_auth(AppAuthMode::Hmac)
            .max_request_bytes(1024)
            .clock(Arc::new(clock.clone())),
    )
    .await;
    let big = vec![b'x'; 200 * 1024];
    let call = Call::new(APP, "POST", "/v1/proxy", "", &big, clock_now(&clock));
    app.refused_without_change(
        &[],
        (413, "request_too_large"),
        call.send(&app, &app.base_url, &signer(&app)),
    )
    .await;
    assert_eq!(nonces(&app).await, 0);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_keys_can_be_turned_off() {
    let app = TestApp::spawn(
        AppOptions::default()
            .app_auth(AppAuthMode::Hmac)
            .allow_bearer_apps(false),
    )
    .await;
    let path = "/v1/approvals/019a0000-0000-7000-8000-000000000001";
    for key in ["anything", app.api_key.as_str()] {
        let answer = app.raw_get(path, Some(key)).await;
        assert_eq!(
            answer.pair(),
            (401, "bearer_not_allowed"),
            "{:?}",
            answer.body
        );
    }
    let answer = app.raw_get(path, None).await;
    assert_eq!(answer.pair(), (401, "unauthorized"));
    assert!(answer.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("signed app requests only"));
    // The signing SDK still works.
    assert_eq!(balance(&app).await.status(), 200);
    app.shutdown().await;

    // With bearer keys allowed (the default), signed requests of unknown apps are refused
    // and bearer keys work.
    let app = TestApp::spawn(AppOptions::default()).await;
    let signer = AppSigner::Hmac(
        countersign_core::app_request::HmacSecret::new(*b"0123456789abcdef0123456789abcdef")
            .unwrap(),
    );
    let call = Call::new(APP, "GET", path, "", b"", Timestamp::now());
    let answer = call.send(&app, &app.base_url, &signer).await;
    assert_eq!(
        answer.pair(),
        (401, "unknown_app"),
        "a bearer app does not sign"
    );
    assert_eq!(balance(&app).await.status(), 200);
    app.shutdown().await;
}
