//! Revocation that holds: a revoked device loses its session, its event stream and sign-in at
//! once; its counted approvals on pending approvals are withdrawn (audited) and no longer fill
//! a gate; an approver removed from the configuration is revoked at the next start, once; a
//! pairing code of a removed approver pairs nothing.

use countersign_approver::{ApproverError, WalletEventKind};
use countersign_sdk::ApprovalStatus;
use countersign_service::{Config, DeviceRevocation};
use countersign_tests::{next_event, AppOptions, TestApp, WAIT};
use futures::StreamExt;
use std::time::Duration;

/// How long a revoked device's event stream may outlive the revocation (the stream checks
/// every 2 s).
const STREAM_END: Duration = Duration::from_secs(10);

/// Restarts `app` with the `[[approver]]` entry of `id` deleted and `id` dropped from the
/// policy's gate (as an operator would edit the file).
async fn restart_without(app: &mut TestApp, id: &str) {
    let mut name = id.to_string();
    name[..1].make_ascii_uppercase();
    let entry = format!("\n[[approver]]\nid = \"{id}\"\nname = \"{name} Example\"\n");
    assert!(app.config_text.contains(&entry), "{}", app.config_text);
    let text = app
        .config_text
        .replace(&entry, "")
        .replace(&format!("\"{id}\", "), "")
        .replace(&format!(", \"{id}\""), "");
    app.config = Config::parse(&text, &app.config_path)
        .unwrap_or_else(|e| panic!("edited config refused: {e}\n{text}"));
    std::fs::write(&app.config_path, &text).unwrap();
    app.config_text = text;
    app.restart().await;
}

fn assert_unauthorized(answer: &countersign_tests::RawAnswer, what: &str) {
    assert_eq!(
        answer.pair(),
        (401, "unauthorized"),
        "{what}: {:?}",
        answer.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_loses_its_session_its_stream_and_sign_in_at_once() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let phone = app.pair_approver("alice").await;
    let laptop = app.pair_approver("alice").await;
    let pending = app.request_refund("Refund order R-1").await;
    let id = pending.approval_id;
    let token = phone.session_token().await;
    assert_eq!(
        app.raw_get("/v1/wallet/approvals", Some(&token))
            .await
            .status,
        200
    );
    let mut events = phone.client.events(None).await.unwrap();
    let decision = phone
        .signed_decision(id, countersign_core::Verdict::Approve)
        .await;

    match app.admin.revoke_device(phone.key_id(), None).await.unwrap() {
        DeviceRevocation::Revoked(device) => {
            assert_eq!(device.approver_id, "alice");
            assert!(device.withdrawn.is_empty());
        }
        other => panic!("expected Revoked, got {other:?}"),
    }

    let list = app.raw_get("/v1/wallet/approvals", Some(&token)).await;
    assert_unauthorized(&list, "list");
    assert_eq!(list.body["error"]["message"], "device revoked");
    let detail = app
        .raw_get(&format!("/v1/wallet/approvals/{id}"), Some(&token))
        .await;
    assert_unauthorized(&detail, "detail");
    let before = app.snapshot(&[id]).await;
    let decided = phone.post_decision_with(&token, id, &decision).await;
    assert_unauthorized(&decided, "decision");
    assert_eq!(
        app.snapshot(&[id]).await,
        before,
        "a refused decision changed something"
    );
    let events_again = app.raw_get("/v1/wallet/events", Some(&token)).await;
    assert_unauthorized(&events_again, "events");
    let challenge = app
        .raw_post(
            "/v1/wallet/challenge",
            &serde_json::json!({"key_id": phone.key_id()}).to_string(),
            None,
        )
        .await;
    assert_unauthorized(&challenge, "challenge");
    match phone.client.list("pending").await {
        Err(ApproverError::Api { status: 401, .. }) => {}
        other => panic!("expected 401, got {other:?}"),
    }

    // The stream it held ends without delivering what happens after the revocation.
    let later = app.request_refund("Refund order R-1b").await;
    match tokio::time::timeout(STREAM_END, events.next()).await {
        Ok(None) => {}
        Ok(Some(item)) => panic!("a revoked device's stream delivered {item:?}"),
        Err(_) => panic!("a revoked device's stream did not end within {STREAM_END:?}"),
    }

    // Alice's other device is not affected, and decides.
    assert_eq!(laptop.client.list("pending").await.unwrap().len(), 2);
    later.cancel().await.unwrap();
    let answer = laptop.approve(id).await.unwrap();
    assert_eq!(answer.status, ApprovalStatus::Approved);
    pending.wait(WAIT).await.unwrap();
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_devices_approval_on_a_pending_approval_no_longer_counts() {
    let app = TestApp::spawn(AppOptions::default().quorum(2)).await;
    let alice = app.pair_approver("alice").await;
    let bob = app.pair_approver("bob").await;
    let mut bob_events = bob.client.events(None).await.unwrap();
    let pending = app.request_refund("Refund order R-2").await;
    let id = pending.approval_id;
    let created = next_event(&mut bob_events, WAIT).await;
    assert_eq!(created.1.kind, WalletEventKind::Created);
    let answer = alice.approve(id).await.unwrap();
    assert_eq!(answer.status, ApprovalStatus::Pending);
    assert_eq!(
        next_event(&mut bob_events, WAIT).await.1.kind,
        WalletEventKind::Decided
    );

    let DeviceRevocation::Revoked(device) = app
        .admin
        .revoke_device(alice.key_id(), Some("phone lost"))
        .await
        .unwrap()
    else {
        panic!("not revoked");
    };
    let withdrawn: Vec<_> = device.withdrawn.iter().map(|w| w.approval_id).collect();
    assert_eq!(withdrawn, [id]);

    // Still pending, without Alice's approval; the audit says why.
    let record = app.store().approval(id).await.unwrap().unwrap();
    assert_eq!(record.status, ApprovalStatus::Pending);
    assert!(record.decisions.is_empty(), "{:?}", record.decisions);
    let kinds = app.audit_kinds(id).await;
    assert_eq!(kinds, ["requested", "decided", "decision_withdrawn"]);
    let audit = app.audit().await;
    let revoked = audit
        .iter()
        .find(|e| e.kind == "device_revoked")
        .expect("device_revoked");
    assert_eq!(revoked.actor, "admin");
    assert_eq!(revoked.data["key_id"], alice.key_id());
    assert_eq!(revoked.data["approver_id"], "alice");
    assert_eq!(revoked.data["reason"], "phone lost");
    let entry = audit
        .iter()
        .find(|e| e.kind == "decision_withdrawn")
        .unwrap();
    assert_eq!(entry.approval_id, Some(id));
    assert!(entry.seq > revoked.seq);

    // Bob's Wallet hears of it (the revocation was written outside the service's bus).
    let (seq, event) = next_event(&mut bob_events, WAIT).await;
    assert_eq!(
        (event.kind, event.approval_id, event.status, seq as i64),
        (
            WalletEventKind::Decided,
            id,
            ApprovalStatus::Pending,
            entry.seq
        )
    );
    let row = &bob.client.list("pending").await.unwrap()[0];
    assert_eq!(row.progress.as_ref().unwrap().approvals, 0);

    // Bob alone does not approve it.
    let answer = bob.approve(id).await.unwrap();
    assert_eq!(answer.status, ApprovalStatus::Pending);
    let approvers: Vec<_> = answer
        .decisions
        .iter()
        .map(|d| d.approver_id.as_str())
        .collect();
    assert_eq!(approvers, ["bob"]);

    // Alice, paired again, cannot decide the approval her revoked device decided.
    let again = app.pair_approver("alice").await;
    let request = again
        .signed_decision(id, countersign_core::Verdict::Approve)
        .await;
    let answer = again.post_decision(id, &request).await;
    assert_eq!(
        answer.pair(),
        (409, "duplicate_decision"),
        "{:?}",
        answer.body
    );
    assert_eq!(app.stored_status(id).await, Some(ApprovalStatus::Pending));
    assert_eq!(app.upstream_calls(), 0);
    assert!(app.store().verify_audit().await.unwrap().is_ok());
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approver_removed_from_the_configuration_is_revoked_at_the_next_start_once() {
    let mut app = TestApp::spawn(
        AppOptions::default()
            .approvers(&["alice", "bob", "carol"])
            .quorum(2),
    )
    .await;
    let alice = app.pair_approver("alice").await;
    let bob = app.pair_approver("bob").await;
    let carol = app.pair_approver("carol").await;
    let pending = app.request_refund("Refund order R-3").await;
    let id = pending.approval_id;
    assert_eq!(
        alice.approve(id).await.unwrap().status,
        ApprovalStatus::Pending
    );

    restart_without(&mut app, "alice").await;

    let audit = app.audit().await;
    let revoked: Vec<_> = audit
        .iter()
        .filter(|e| e.kind == "device_revoked")
        .collect();
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!(revoked[0].actor, "config");
    assert_eq!(revoked[0].data["key_id"], alice.key_id());
    assert_eq!(
        revoked[0].data["reason"],
        "approver removed from the configuration"
    );
    assert_eq!(
        app.audit_kinds(id).await,
        ["requested", "decided", "decision_withdrawn"]
    );
    let rows = app.store().devices().await.unwrap();
    let alice_row = rows.iter().find(|r| r.key_id == alice.key_id()).unwrap();
    assert!(alice_row.revoked_at.is_some());
    assert!(rows
        .iter()
        .filter(|r| r.approver_id != "alice")
        .all(|r| r.revoked_at.is_none()));

    // Alice can no longer sign in; nothing she did counts.
    let challenge = app
        .raw_post(
            "/v1/wallet/challenge",
            &serde_json::json!({"key_id": alice.key_id()}).to_string(),
            None,
        )
        .await;
    assert_unauthorized(&challenge, "challenge");
    match alice.approve(id).await {
        Err(ApproverError::Api { status: 401, .. }) => {}
        other => panic!("expected 401, got {other:?}"),
    }
    let record = app.store().approval(id).await.unwrap().unwrap();
    assert_eq!(record.status, ApprovalStatus::Pending);
    assert!(record.decisions.is_empty());
    // Bob alone does not approve it; with Carol the gate of two present people is filled.
    assert_eq!(
        bob.approve(id).await.unwrap().status,
        ApprovalStatus::Pending
    );
    assert_eq!(
        carol.approve(id).await.unwrap().status,
        ApprovalStatus::Approved
    );
    app.new_client().wait(id, WAIT).await.unwrap();

    // Another start with the same configuration adds nothing.
    let len = app.audit_len().await;
    app.restart().await;
    assert_eq!(app.audit_len().await, len);
    assert!(app.store().verify_audit().await.unwrap().is_ok());
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pairing_code_of_an_approver_removed_from_the_configuration_pairs_nothing() {
    let mut app = TestApp::spawn(AppOptions::default()).await;
    // Dave is configured but on no gate: deleting his entry is the whole edit.
    let (_, code) = app.invite("dave").await;
    restart_without(&mut app, "dave").await;
    let key = countersign_core::keys::generate_signing_key();
    let body = countersign_core::pairing::signed_pair_request(
        &key,
        &code,
        &app.service_id(),
        "dave's phone",
    );
    let answer = app
        .raw_post("/v1/pair", &serde_json::to_string(&body).unwrap(), None)
        .await;
    assert_eq!(
        answer.pair(),
        (409, "unknown_approver"),
        "{:?}",
        answer.body
    );
    assert!(app.store().devices().await.unwrap().is_empty());
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_an_approver_revokes_all_its_devices_and_cancels_its_invitations() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let phone = app.pair_approver("bob").await;
    let laptop = app.pair_approver("bob").await;
    let alice = app.pair_approver("alice").await;
    let (_, code) = app.invite("bob").await;

    let removal = app.admin.remove_approver("bob", None).await.unwrap();
    assert!(removal.still_configured);
    let mut keys: Vec<_> = removal
        .revocation
        .devices
        .iter()
        .map(|d| d.key_id.clone())
        .collect();
    keys.sort();
    let mut want = vec![phone.key_id().to_string(), laptop.key_id().to_string()];
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(removal.revocation.codes_cancelled, 1);
    for device in [&phone, &laptop] {
        match device.client.list("pending").await {
            Err(ApproverError::Api { status: 401, .. }) => {}
            other => panic!("expected 401, got {other:?}"),
        }
    }
    assert!(alice.client.list("pending").await.is_ok());
    // The invitation sent before is dead.
    let body = serde_json::json!({"code": code});
    let answer = app
        .raw_post("/v1/pair/preview", &body.to_string(), None)
        .await;
    assert_eq!(
        answer.pair(),
        (409, "pairing_code_expired"),
        "{:?}",
        answer.body
    );

    // Nothing left: nothing written; an id the configuration never had is accepted.
    let len = app.audit_len().await;
    let again = app.admin.remove_approver("bob", None).await.unwrap();
    assert!(again.revocation.devices.is_empty());
    let stranger = app.admin.remove_approver("zed", None).await.unwrap();
    assert!(!stranger.still_configured && stranger.revocation.devices.is_empty());
    assert_eq!(app.audit_len().await, len);
    app.shutdown().await;
}
