//! Events across replicas: a second service on the same database (as a second replica would
//! be) publishes what the first one wrote. A Wallet stream resumed on the other replica with
//! `Last-Event-ID` misses nothing, and a replica whose notifications were lost (its listening
//! connection cut) still wakes a long poll (PostgreSQL only; on SQLite the second service is
//! another process on the same file and catches up from the log the same way).

use countersign_core::api::WalletEventKind;
use countersign_tests::{on_postgres, AppOptions, Replica, TestApp, WAIT};
use futures::StreamExt;
use sqlx::Connection;
use std::time::Duration;
use uuid::Uuid;

/// The next event on `stream`: `(id, approval, kind)` (bounded).
async fn next_event(
    stream: &mut countersign_approver::EventStream,
) -> (u64, Uuid, WalletEventKind) {
    let item = tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("an event in time")
        .expect("the stream goes on");
    let (id, event) = item.expect("a well-formed event");
    (id, event.approval_id, event.kind)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_stream_resumed_on_another_replica_misses_nothing() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let b = Replica::start(&app).await;
    let alice = app.pair_approver("alice").await;

    let mut on_a = alice.client.events(None).await.unwrap();
    let first = app.request_refund("Refund order E-1").await.approval_id;
    let (seen, about, kind) = next_event(&mut on_a).await;
    assert_eq!((about, kind), (first, WalletEventKind::Created));
    drop(on_a);

    // While the Wallet is away: two more requests through A, one of them cancelled.
    let second = app.request_refund("Refund order E-2").await.approval_id;
    let third = app.request_refund("Refund order E-3").await.approval_id;
    app.sdk.cancel(third).await.unwrap();

    // It comes back through B, resuming after what it saw.
    let mut on_b = b.approver(&alice).events(Some(seen)).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 3 {
        got.push(next_event(&mut on_b).await);
    }
    let ids: Vec<u64> = got.iter().map(|(id, _, _)| *id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
    assert!(ids[0] > seen, "nothing seen before is sent again");
    let what: Vec<(Uuid, WalletEventKind)> = got.iter().map(|(_, a, k)| (*a, *k)).collect();
    assert_eq!(
        what,
        vec![
            (second, WalletEventKind::Created),
            (third, WalletEventKind::Created),
            (third, WalletEventKind::Cancelled),
        ]
    );
    b.stop().await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_lost_its_notifications_still_wakes_a_long_poll() {
    if !on_postgres() {
        eprintln!("skipped: PostgreSQL only (set COUNTERSIGN_TEST_POSTGRES)");
        return;
    }
    let app = TestApp::spawn(AppOptions::default()).await;
    let b = Replica::start(&app).await;
    let alice = app.pair_approver("alice").await;
    let id = app.request_refund("Refund order E-4").await.approval_id;

    // Cut every listening connection of this database: notifications sent until the
    // replicas reconnect are lost.
    let mut admin = sqlx::PgConnection::connect(&app.database).await.unwrap();
    let cut: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(cut.len() >= 2, "both replicas were listening: {cut:?}");

    let waiting = tokio::spawn({
        let sdk = b.sdk(&app);
        async move { sdk.wait(id, WAIT).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    alice.approve(id).await.unwrap();
    match waiting.await.unwrap() {
        Ok(done) => assert_eq!(done.status(), 200),
        other => panic!("expected the provider's answer, got {other:?}"),
    }
    assert_eq!(app.upstream_calls(), 1);
    admin.close().await.unwrap();
    b.stop().await;
    app.shutdown().await;
}
