//! A replica cut off silently (its TCP flows stop without FIN or RST) must not hold the
//! write lock, or its LISTEN connection, for ever. PostgreSQL only: skipped unless
//! `COUNTERSIGN_TEST_POSTGRES` names a server.

use super::scratch::{create_database, TEST_SERVER_ENV};
use super::{PostgresSession, Store, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A bound for operations that hang without the session settings (not a timing claim).
const HANG: Duration = Duration::from_secs(60);

/// A TCP forwarder to the database whose [`Partition::cut`] freezes every connection open
/// at that moment: they stay open but nothing crosses them again, as across a silent network
/// partition; connections opened later are forwarded normally (the network came back).
struct Partition {
    addr: std::net::SocketAddr,
    generation: Arc<AtomicU64>,
}

impl Partition {
    async fn to(server: &str) -> Self {
        let target = url::Url::parse(server).unwrap();
        let target = format!(
            "{}:{}",
            target.host_str().unwrap(),
            target.port().unwrap_or(5432)
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let generation = Arc::new(AtomicU64::new(0));
        let current = generation.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = TcpStream::connect(&target).await.unwrap();
                let born = current.load(Ordering::SeqCst);
                let (cr, cw) = client.into_split();
                let (ur, uw) = upstream.into_split();
                tokio::spawn(forward(cr, uw, born, current.clone()));
                tokio::spawn(forward(ur, cw, born, current.clone()));
            }
        });
        Self { addr, generation }
    }

    /// `url` (a database on the proxied server) reached through this forwarder.
    fn route(&self, url: &str) -> String {
        let mut url = url::Url::parse(url).unwrap();
        url.set_port(Some(self.addr.port())).unwrap();
        url.into()
    }

    fn cut(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// Copies bytes until the partition generation moves past `born`; then holds both ends
/// open and silent for the rest of the test.
async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    born: u64,
    generation: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if generation.load(Ordering::SeqCst) != born {
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

fn server() -> Option<String> {
    std::env::var(TEST_SERVER_ENV)
        .ok()
        .filter(|s| !s.is_empty())
}

fn quick(idle_in_transaction: Duration) -> PostgresSession {
    PostgresSession {
        idle_in_transaction,
        listen_probe_after: Duration::from_millis(300),
        listen_probe_timeout: Duration::from_millis(300),
        ..PostgresSession::default()
    }
}

#[tokio::test]
async fn a_silent_holder_of_the_write_lock_is_cut_off_by_the_server() {
    let Some(server) = server() else { return };
    let database = create_database(&server).await.unwrap();
    let partition = Partition::to(&server).await;
    let a = Store::open_postgres_with(&partition.route(&database), quick(Duration::from_secs(1)))
        .await
        .unwrap();
    // The default lock_timeout (10 s) is far longer than A's idle limit (1 s).
    let b = Store::open_postgres(&database).await.unwrap();

    let held = a.begin_write().await.unwrap();
    partition.cut();
    let mut tx = tokio::time::timeout(HANG, b.begin_write())
        .await
        .expect("the lock of a silent replica was never freed")
        .expect("the server should have ended the silent session and freed the lock");
    sqlx::query("INSERT INTO meta (key, value) VALUES ('partition', 'b')")
        .execute(&mut *tx)
        .await
        .unwrap();
    b.commit(tx).await.unwrap();
    drop(held);
}

#[tokio::test]
async fn a_write_waits_for_a_busy_lock_only_up_to_lock_timeout() {
    let Some(server) = server() else { return };
    let database = create_database(&server).await.unwrap();
    let holder = Store::open_postgres(&database).await.unwrap();
    let waiter = Store::open_postgres_with(
        &database,
        PostgresSession {
            lock_timeout: Duration::from_millis(200),
            ..PostgresSession::default()
        },
    )
    .await
    .unwrap();

    let held = holder.begin_write().await.unwrap();
    let refused = tokio::time::timeout(HANG, waiter.begin_write())
        .await
        .expect("the write lock wait was not bounded");
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "a lock not granted in time is an outage (503), got {refused:?}"
    );
    drop(held);
    waiter.begin_write().await.expect("the lock is free again");
}

#[tokio::test]
async fn a_listen_connection_frozen_by_a_partition_is_opened_again() {
    let Some(server) = server() else { return };
    let database = create_database(&server).await.unwrap();
    let partition = Partition::to(&server).await;
    let a = Store::open_postgres_with(&partition.route(&database), quick(Duration::from_secs(15)))
        .await
        .unwrap();
    let b = Store::open_postgres(&database).await.unwrap();
    let appended = a.appended();
    let stop = tokio_util::sync::CancellationToken::new();
    let listening = tokio::spawn({
        let (a, stop) = (a.clone(), stop.clone());
        async move { a.listen_for_appends(stop).await }
    });
    // Listening: the wake-up after LISTEN, then consume any permit left.
    tokio::time::timeout(HANG, appended.notified())
        .await
        .unwrap();

    partition.cut();
    // Long enough for a probe to fail and the listener to connect again (wake-up included).
    tokio::time::timeout(HANG, appended.notified())
        .await
        .unwrap();
    // Now a write on B reaches A through the new LISTEN connection.
    let audit = super::AuditDraft::general(
        countersign_core::audit::AuditKind::ConfigChanged,
        "test",
        serde_json::json!({"partition": true}),
    );
    let done = b.set_meta_audited("partition", "b", audit, countersign_core::Timestamp::now());
    done.await.unwrap();
    tokio::time::timeout(HANG, appended.notified())
        .await
        .expect("B's append never woke A: the frozen LISTEN connection was kept");
    stop.cancel();
    listening.await.unwrap();
}
