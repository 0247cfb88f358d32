//! The audit log after real flows: a verifying hash chain with exactly the expected entries,
//! signed decisions kept with their entries, and no secret anywhere in it or in the database.

use countersign_core::audit::GENESIS_HASH;
use countersign_core::keys::decode_public_key;
use countersign_core::{Decision, Verdict};
use countersign_sdk::{Error, ProxyOutcome, ProxyRequest};
use countersign_tests::{on_postgres, AppOptions, Behaviour, TestApp, BALANCE_PATH, GRANT, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flow_leaves_a_verifying_chain_of_exactly_the_expected_entries() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;

    // Approved and executed.
    let approved = app.request_refund("Refund order D-1").await;
    alice.approve(approved.approval_id).await.unwrap();
    approved.wait(WAIT).await.unwrap();
    // Denied.
    let denied = app.request_refund("Refund order D-2").await;
    alice
        .deny(denied.approval_id, "Not this one")
        .await
        .unwrap();
    assert!(matches!(denied.wait(WAIT).await, Err(Error::Denied { .. })));
    // Cancelled.
    let cancelled = app.request_refund("Refund order D-3").await;
    cancelled.cancel().await.unwrap();
    // No approval needed.
    let immediate = match app
        .sdk
        .proxy_request(ProxyRequest::get(GRANT, BALANCE_PATH, "Balance check"))
        .await
        .unwrap()
    {
        ProxyOutcome::Completed(result) => result.approval_id,
        other => panic!("expected a result, got {other:?}"),
    };
    // Approved, but the provider fails.
    app.provider.set_behaviour(Behaviour::Fail(503));
    let failed = app.request_refund("Refund order D-4").await;
    alice.approve(failed.approval_id).await.unwrap();
    assert!(matches!(
        failed.wait(WAIT).await,
        Err(Error::ExecutionFailed { .. })
    ));
    // A revoked grant.
    assert!(app.admin.revoke_grant(GRANT).await.unwrap());

    let entries = app.audit().await;
    let n = app
        .admin
        .verify_audit()
        .await
        .unwrap()
        .expect("the chain verifies");
    assert_eq!(n as usize, entries.len());

    let described: Vec<(String, Option<uuid::Uuid>, String)> = entries
        .iter()
        .map(|e| (e.kind.clone(), e.approval_id, e.actor.clone()))
        .collect();
    let app_actor = "app:support-agent".to_string();
    let alice_actor = "approver:alice".to_string();
    let e =
        |kind: &str, id: Option<uuid::Uuid>, actor: &str| (kind.to_string(), id, actor.to_string());
    let (a, d, c, i, f) = (
        Some(approved.approval_id),
        Some(denied.approval_id),
        Some(cancelled.approval_id),
        Some(immediate),
        Some(failed.approval_id),
    );
    assert_eq!(
        described,
        [
            e("config_changed", None, "admin"),
            e("pairing_code_created", None, "admin"),
            e("device_paired", None, &alice_actor),
            e("requested", a, &app_actor),
            e("decided", a, &alice_actor),
            e("execution_started", a, "service"),
            e("executed", a, "service"),
            e("requested", d, &app_actor),
            e("decided", d, &alice_actor),
            e("requested", c, &app_actor),
            e("cancelled", c, &app_actor),
            e("requested", i, &app_actor),
            e("execution_started", i, "service"),
            e("executed", i, "service"),
            e("requested", f, &app_actor),
            e("decided", f, &alice_actor),
            e("execution_started", f, "service"),
            e("execution_failed", f, "service"),
            e("grant_revoked", None, "admin"),
        ]
    );

    // The chain itself: gapless seqs, each entry links to the one before.
    let mut prev = GENESIS_HASH.to_string();
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry.seq, i as i64 + 1);
        assert_eq!(entry.prev_hash, prev);
        prev = entry.hash.clone();
    }

    // A decided entry carries the signed decision, and its signature verifies with the key
    // the device registered.
    let paired = &entries[2];
    let public_key = decode_public_key(paired.data["public_key"].as_str().unwrap()).unwrap();
    for entry in entries.iter().filter(|e| e.kind == "decided") {
        let decision: Decision = serde_json::from_value(entry.data["decision"].clone()).unwrap();
        let signature = entry.data["signature"].as_str().unwrap();
        assert_eq!(decision.verify(&public_key, signature), Ok(()));
        assert_eq!(Some(decision.approval_id), entry.approval_id);
        assert_eq!(decision.approver_id, "alice");
        assert_eq!(decision.key_id, alice.key_id());
    }
    let deny = entries
        .iter()
        .find(|e| e.kind == "decided" && e.approval_id == d)
        .unwrap();
    assert_eq!(deny.data["decision"]["decision"], "deny");
    assert_eq!(deny.data["decision"]["comment"], "Not this one");
    // The requested entry records the statement that was signed over.
    let requested = &entries[3];
    assert_eq!(requested.data["statement"]["reason"], "Refund order D-1");
    assert_eq!(
        requested.data["request_digest"],
        app.request_digest(approved.approval_id).await
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_with_the_same_config_adds_nothing_and_a_changed_config_is_recorded() {
    let mut app = TestApp::spawn(AppOptions::default()).await;
    let before = app.audit_len().await;
    app.restart().await;
    assert_eq!(
        app.audit_len().await,
        before,
        "an unchanged config is not re-recorded"
    );

    app.config.policies[0].gates[0].quorum = 2;
    app.restart().await;
    let entries = app.audit().await;
    assert_eq!(entries.len() as i64, before + 1);
    let last = entries.last().unwrap();
    assert_eq!(last.kind, "config_changed");
    assert_eq!(last.data["config"]["policies"][0]["gates"][0]["quorum"], 2);
    assert!(app.admin.verify_audit().await.unwrap().is_ok());
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_the_audit_log_or_the_database_file() {
    let mut app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let (_, unused_code) = app.invite("bob").await;
    let session_token = alice.session_token().await;

    for verdict in [Verdict::Approve, Verdict::Deny] {
        let pending = app.request_refund("Refund order D-5").await;
        alice
            .decide(pending.approval_id, verdict, Some("checked"))
            .await
            .unwrap();
        let _ = pending.wait(WAIT).await;
    }
    // A call that fails at the provider and one that runs at once.
    app.provider.set_behaviour(Behaviour::Fail(500));
    let failing = app.request_refund("Refund order D-6").await;
    alice.approve(failing.approval_id).await.unwrap();
    let _ = failing.wait(WAIT).await;
    app.provider.set_behaviour(Behaviour::Normal);
    let _ = app
        .sdk
        .proxy_request(ProxyRequest::get(GRANT, BALANCE_PATH, "Balance check"))
        .await
        .unwrap();
    assert!(app.upstream_calls() >= 3);

    let secrets = [
        ("the provider secret", app.provider_secret.clone()),
        ("the API key", app.api_key.clone()),
        ("the other API key", app.other_api_key.clone()),
        ("an unused pairing code", unused_code),
        ("a wallet session token", session_token),
    ];
    let audit = serde_json::to_string(&app.audit().await).unwrap();
    for (what, secret) in &secrets {
        assert!(
            !audit.contains(secret.as_str()),
            "{what} is in the audit log"
        );
    }

    // Every byte on disk: the database, and its WAL and shared-memory files if present, both
    // while running and after the service stopped (on SQLite; PostgreSQL's files are the
    // server's, and the queries above read every row).
    if on_postgres() {
        app.shutdown().await;
        return;
    }
    let dir = app.dir.path().to_path_buf();
    let scan = |when: &str| {
        let mut scanned = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.starts_with("countersign.db") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            scanned += bytes.len();
            for (what, secret) in &secrets {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{what} is in {name} ({when})"
                );
            }
        }
        assert!(scanned > 0, "no database files found");
    };
    scan("running");
    app.stop().await;
    scan("stopped");
    app.shutdown().await;
}
