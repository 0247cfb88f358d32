//! The Wallet side against the real service: listing, live events, resuming a stream with
//! `Last-Event-ID`, and approvals decided on another device.

use countersign_approver::{WalletEvent, WalletEventKind};
use countersign_sdk::ApprovalStatus;
use countersign_tests::{next_event, AppOptions, TestApp, APP, GRANT, WAIT};
use futures::StreamExt;
use std::time::Duration;
use uuid::Uuid;

fn expect(event: &(u64, WalletEvent), kind: WalletEventKind, id: Uuid, status: ApprovalStatus) {
    let (seq, ev) = event;
    assert_eq!(
        (ev.kind, ev.approval_id, ev.status),
        (kind, id, status),
        "event {seq}: {ev:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paired_device_lists_what_is_pending_for_its_approver() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    assert_eq!(alice.pairing.approver_id, "alice");
    assert_eq!(alice.pairing.approver_name, "Alice Example");
    assert_eq!(alice.pairing.service_id, app.service_id());
    assert!(alice.client.list("pending").await.unwrap().is_empty());

    let pending = app.request_refund("Refund order E-1 (charged twice)").await;
    let rows = alice.client.list("pending").await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.approval_id, pending.approval_id);
    assert_eq!(row.status, ApprovalStatus::Pending);
    assert_eq!(row.reason, "Refund order E-1 (charged twice)");
    assert_eq!(row.app, APP);
    assert_eq!(row.grant, GRANT);
    assert_eq!(row.method, "POST");
    assert_eq!(row.url, format!("{}/v1/refunds", app.provider.base_url()));
    assert_eq!(row.expires_at, pending.expires_at);

    // The review is verified locally and matches the row.
    let review = alice.client.review(pending.approval_id).await.unwrap();
    assert_eq!(review.statement().reason, row.reason);
    assert_eq!(
        review.digest(),
        app.request_digest(pending.approval_id).await
    );
    assert_eq!(
        review.body(),
        br#"{"amount":1999,"currency":"EUR","order":"A-1042"}"#
    );

    // Carol is configured but not on the policy: she sees nothing.
    let carol = app.pair_approver("carol").await;
    assert!(carol.client.list("pending").await.unwrap().is_empty());
    assert!(carol.client.list("all").await.unwrap().is_empty());
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_shows_new_and_decided_approvals_live() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let bob = app.pair_approver("bob").await;
    let mut events = alice.client.events(None).await.unwrap();

    let pending = app.request_refund("Refund order E-2").await;
    let id = pending.approval_id;
    let created = next_event(&mut events, WAIT).await;
    expect(
        &created,
        WalletEventKind::Created,
        id,
        ApprovalStatus::Pending,
    );
    let row = created
        .1
        .approval
        .as_ref()
        .expect("created carries the row");
    assert_eq!(row.reason, "Refund order E-2");

    // Decided on Bob's device; Alice's stream hears it, then the completion.
    bob.approve(id).await.unwrap();
    let decided = next_event(&mut events, WAIT).await;
    expect(
        &decided,
        WalletEventKind::Decided,
        id,
        ApprovalStatus::Approved,
    );
    assert!(decided.0 > created.0);
    let completed = next_event(&mut events, WAIT).await;
    expect(
        &completed,
        WalletEventKind::Completed,
        id,
        ApprovalStatus::Succeeded,
    );
    assert!(completed.0 > decided.0);

    // Cancelled.
    let cancelled = app.request_refund("Refund order E-3").await;
    expect(
        &next_event(&mut events, WAIT).await,
        WalletEventKind::Created,
        cancelled.approval_id,
        ApprovalStatus::Pending,
    );
    cancelled.cancel().await.unwrap();
    expect(
        &next_event(&mut events, WAIT).await,
        WalletEventKind::Cancelled,
        cancelled.approval_id,
        ApprovalStatus::Cancelled,
    );
    // Event ids are audit seqs.
    let entries = app.store().audit_for(id).await.unwrap();
    assert!(entries
        .iter()
        .any(|e| e.seq as u64 == created.0 && e.kind == "requested"));
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiry_is_an_event_too() {
    let app = TestApp::spawn(AppOptions::default().window("2s")).await;
    let alice = app.pair_approver("alice").await;
    let mut events = alice.client.events(None).await.unwrap();
    let pending = app.request_refund("Refund order E-4").await;
    expect(
        &next_event(&mut events, WAIT).await,
        WalletEventKind::Created,
        pending.approval_id,
        ApprovalStatus::Pending,
    );
    // Nobody polls: the expiry task closes it and the stream says so.
    expect(
        &next_event(&mut events, WAIT).await,
        WalletEventKind::Expired,
        pending.approval_id,
        ApprovalStatus::Expired,
    );
    assert!(alice.client.list("pending").await.unwrap().is_empty());
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_with_last_event_id_replays_what_was_missed() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let bob = app.pair_approver("bob").await;

    let mut events = alice.client.events(None).await.unwrap();
    let first = app.request_refund("Refund order E-5").await;
    let seen = next_event(&mut events, WAIT).await;
    expect(
        &seen,
        WalletEventKind::Created,
        first.approval_id,
        ApprovalStatus::Pending,
    );
    drop(events);

    // While Alice is offline: Bob approves the first (decided + completed), a second
    // approval is created, and a call that needs no approval runs (not a wallet event).
    bob.approve(first.approval_id).await.unwrap();
    first.wait(WAIT).await.unwrap();
    let second = app.request_refund("Refund order E-6").await;

    let mut resumed = alice.client.events(Some(seen.0)).await.unwrap();
    let missed = [
        next_event(&mut resumed, WAIT).await,
        next_event(&mut resumed, WAIT).await,
        next_event(&mut resumed, WAIT).await,
    ];
    expect(
        &missed[0],
        WalletEventKind::Decided,
        first.approval_id,
        ApprovalStatus::Approved,
    );
    expect(
        &missed[1],
        WalletEventKind::Completed,
        first.approval_id,
        ApprovalStatus::Succeeded,
    );
    expect(
        &missed[2],
        WalletEventKind::Created,
        second.approval_id,
        ApprovalStatus::Pending,
    );
    assert!(seen.0 < missed[0].0 && missed[0].0 < missed[1].0 && missed[1].0 < missed[2].0);

    // Then the same stream goes on live.
    alice.deny(second.approval_id, "No").await.unwrap();
    expect(
        &next_event(&mut resumed, WAIT).await,
        WalletEventKind::Decided,
        second.approval_id,
        ApprovalStatus::Denied,
    );

    // Resuming from 0 replays everything in order, including history.
    let mut from_start = alice.client.events(Some(0)).await.unwrap();
    let mut kinds = Vec::new();
    for _ in 0..5 {
        kinds.push(next_event(&mut from_start, WAIT).await.1.kind);
    }
    assert_eq!(
        kinds,
        [
            WalletEventKind::Created,
            WalletEventKind::Decided,
            WalletEventKind::Completed,
            WalletEventKind::Created,
            WalletEventKind::Decided,
        ]
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_event_id_ahead_of_the_log_does_not_silence_the_stream() {
    // A Wallet may hold an id from before the database was restored or recreated; the
    // stream must still deliver new events.
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let ahead = app.audit_len().await as u64 + 1000;
    let mut events = alice.client.events(Some(ahead)).await.unwrap();
    let pending = app.request_refund("Refund order E-7").await;
    expect(
        &next_event(&mut events, WAIT).await,
        WalletEventKind::Created,
        pending.approval_id,
        ApprovalStatus::Pending,
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_decided_on_another_device_leaves_the_pending_list() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let bob = app.pair_approver("bob").await;
    let alice_laptop = app.pair_approver("alice").await;
    let one = app.request_refund("Refund order E-8").await;
    let two = app.request_refund("Refund order E-9").await;
    for device in [&alice, &bob, &alice_laptop] {
        assert_eq!(device.client.list("pending").await.unwrap().len(), 2);
    }

    alice.approve(one.approval_id).await.unwrap();
    one.wait(WAIT).await.unwrap();
    for device in [&alice, &bob, &alice_laptop] {
        let pending: Vec<_> = device
            .client
            .list("pending")
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.approval_id)
            .collect();
        assert_eq!(pending, [two.approval_id], "{}", device.key_id());
        let all = device.client.list("all").await.unwrap();
        let decided = all
            .iter()
            .find(|r| r.approval_id == one.approval_id)
            .unwrap();
        assert_eq!(decided.status, ApprovalStatus::Succeeded);
    }
    // Bob's stale review cannot be acted on any more.
    let err = bob.approve(one.approval_id).await.unwrap_err();
    assert_eq!(err.code(), Some("already_decided"));
    // Alice's second device is the same approver: it may not decide twice either.
    let err = alice_laptop.approve(one.approval_id).await.unwrap_err();
    assert_eq!(err.status(), Some(409));

    // The detail shows the outcome to everyone on the policy.
    let review = bob.client.review(one.approval_id).await.unwrap();
    assert_eq!(review.detail().status, ApprovalStatus::Succeeded);
    assert_eq!(review.detail().decisions.len(), 1);
    assert_eq!(review.detail().response.as_ref().unwrap().status, 200);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_approvers_events_are_not_streamed() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let carol = app.pair_approver("carol").await; // not on the policy
    let mut carols = carol.client.events(None).await.unwrap();
    let mut alices = alice.client.events(None).await.unwrap();
    let pending = app.request_refund("Refund order E-10").await;
    alice.approve(pending.approval_id).await.unwrap();
    pending.wait(WAIT).await.unwrap();
    // Alice's stream has all three; by then Carol's would have had them too.
    for _ in 0..3 {
        next_event(&mut alices, WAIT).await;
    }
    let leaked = tokio::time::timeout(Duration::from_millis(500), carols.next()).await;
    assert!(leaked.is_err(), "carol received {leaked:?}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_pages_with_a_before_cursor() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.request_refund(&format!("Refund {i}")).await.approval_id);
    }
    ids.reverse(); // newest first, as listed
    let first = alice.client.list_page("pending", None, 2).await.unwrap();
    let first: Vec<Uuid> = first.iter().map(|r| r.approval_id).collect();
    assert_eq!(first, ids[..2]);
    let next = alice
        .client
        .list_page("pending", Some(first[1]), 2)
        .await
        .unwrap();
    let next: Vec<Uuid> = next.iter().map(|r| r.approval_id).collect();
    assert_eq!(next, ids[2..4]);
    let last = alice
        .client
        .list_page("all", Some(next[1]), 1000)
        .await
        .unwrap();
    let last: Vec<Uuid> = last.iter().map(|r| r.approval_id).collect();
    assert_eq!(last, ids[4..]);
    assert!(alice
        .client
        .list_page("pending", Some(ids[4]), 1000)
        .await
        .unwrap()
        .is_empty());
    app.shutdown().await;
}
