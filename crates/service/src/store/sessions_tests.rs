//! Wallet nonces and tokens in the store: once, for their key, in time; bounded per key and
//! in all; tokens at rest only as hashes; a revoked device's tokens refused.

use super::super::testing::temp_store;
use super::*;

fn now() -> Timestamp {
    Timestamp::from_unix(1_800_000_000).unwrap()
}

/// Registers a live device `key_id` of `approver`.
async fn add_device(store: &Store, key_id: &str, approver: &str) {
    sqlx::query("INSERT INTO devices (key_id, approver_id, public_key, device_name, created_at) VALUES ($1, $2, $3, 'test', 0)")
        .bind(key_id)
        .bind(approver)
        .bind(format!("pk_{key_id}"))
        .execute(&store.writer)
        .await
        .unwrap();
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&store.reader)
        .await
        .unwrap()
}

/// Fills `table` with `n` rows of distinct keys that expire at `expires_at` (one statement,
/// as thousands of sign-ins would).
async fn fill(store: &Store, table: &str, n: usize, expires_at: Timestamp) {
    let (columns, values) = match table {
        "wallet_nonces" => ("nonce, key_id", "'n' || i, 'f' || i"),
        _ => ("token_hash, approver_id, key_id", "'h' || i, 'a', 'f' || i"),
    };
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
         INSERT INTO {table} ({columns}, expires_at) SELECT {values}, {} FROM n",
        expires_at.unix()
    );
    sqlx::query(&sql).execute(&store.writer).await.unwrap();
}

#[tokio::test]
async fn a_nonce_works_once_for_its_key_and_in_time() {
    let (s, _dir) = temp_store().await;
    let (n, expires_at) = s.create_nonce("k1", now()).await.unwrap().unwrap();
    assert_eq!(expires_at, now().plus(NONCE_TTL));
    assert!(!s.take_nonce(&n, "k2", now()).await.unwrap(), "other key");
    assert!(
        !s.take_nonce(&n, "k1", now()).await.unwrap(),
        "used up by the other key's try"
    );
    let (n, _) = s.create_nonce("k1", now()).await.unwrap().unwrap();
    assert!(s.take_nonce(&n, "k1", now()).await.unwrap());
    assert!(!s.take_nonce(&n, "k1", now()).await.unwrap(), "second use");
    let (n, _) = s.create_nonce("k1", now()).await.unwrap().unwrap();
    assert!(
        !s.take_nonce(&n, "k1", now().plus(NONCE_TTL)).await.unwrap(),
        "late"
    );
    assert!(!s.take_nonce("nope", "k1", now()).await.unwrap(), "unknown");
}

#[tokio::test]
async fn one_key_flooding_drops_its_own_oldest_nonces_only() {
    let (s, _dir) = temp_store().await;
    let (other, _) = s.create_nonce("k2", now()).await.unwrap().unwrap();
    let (first, _) = s.create_nonce("k1", now()).await.unwrap().unwrap();
    let mut last = String::new();
    for _ in 0..3 * MAX_NONCES_PER_KEY {
        last = s.create_nonce("k1", now()).await.unwrap().unwrap().0;
    }
    let per_key = i64::try_from(MAX_NONCES_PER_KEY).unwrap();
    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM wallet_nonces").await,
        per_key + 1
    );
    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM wallet_nonces WHERE key_id = 'k1'").await,
        per_key
    );
    assert!(
        !s.take_nonce(&first, "k1", now()).await.unwrap(),
        "the oldest was dropped"
    );
    assert!(s.take_nonce(&last, "k1", now()).await.unwrap());
    assert!(
        s.take_nonce(&other, "k2", now()).await.unwrap(),
        "another key's nonce survives"
    );
    assert!(s.create_nonce("k3", now()).await.unwrap().is_some());
}

#[tokio::test]
async fn the_global_nonce_bound_holds_and_expired_nonces_make_room() {
    let (s, _dir) = temp_store().await;
    fill(&s, "wallet_nonces", MAX_OUTSTANDING, now().plus(NONCE_TTL)).await;
    assert!(
        s.create_nonce("one-more", now()).await.unwrap().is_none(),
        "storage bound"
    );
    // Once they expire there is room again, and the expired rows are gone.
    let later = now().plus(NONCE_TTL);
    let (n, _) = s.create_nonce("late", later).await.unwrap().unwrap();
    assert_eq!(count(&s, "SELECT COUNT(*) FROM wallet_nonces").await, 1);
    assert!(s.take_nonce(&n, "late", later).await.unwrap());
}

#[tokio::test]
async fn tokens_work_until_they_expire_and_only_their_hash_is_stored() {
    let (s, _dir) = temp_store().await;
    add_device(&s, "k1", "alice").await;
    let (t, session) = s.open_session("alice", "k1", now()).await.unwrap().unwrap();
    assert_eq!(session.expires_at, now().plus(TOKEN_TTL));
    assert_eq!(
        s.session(&t, now()).await.unwrap(),
        TokenLookup::Live(session.clone())
    );
    assert_eq!(
        s.session(&t, now().plus(TOKEN_TTL)).await.unwrap(),
        TokenLookup::Unknown
    );
    assert_eq!(
        s.session("nope", now()).await.unwrap(),
        TokenLookup::Unknown
    );
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM wallet_sessions")
        .fetch_all(&s.reader)
        .await
        .unwrap();
    assert_eq!(
        stored,
        vec![sha256_hex(t.as_bytes())],
        "the token is never at rest"
    );
}

#[tokio::test]
async fn a_revoked_or_unregistered_devices_tokens_are_refused_at_once() {
    let (s, _dir) = temp_store().await;
    add_device(&s, "k1", "alice").await;
    add_device(&s, "k2", "alice").await;
    let (t1, _) = s.open_session("alice", "k1", now()).await.unwrap().unwrap();
    let (t2, session2) = s.open_session("alice", "k2", now()).await.unwrap().unwrap();
    s.revoke_device("k1", now(), "admin", "lost")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.session(&t1, now()).await.unwrap(), TokenLookup::Revoked);
    assert_eq!(
        s.session(&t2, now()).await.unwrap(),
        TokenLookup::Live(session2)
    );
    let (t3, _) = s.open_session("bob", "k9", now()).await.unwrap().unwrap();
    assert_eq!(s.session(&t3, now()).await.unwrap(), TokenLookup::Revoked);
}

#[tokio::test]
async fn tokens_are_bounded_per_key_and_in_all() {
    let (s, _dir) = temp_store().await;
    add_device(&s, "k1", "alice").await;
    add_device(&s, "k2", "bob").await;
    let (first, _) = s.open_session("alice", "k1", now()).await.unwrap().unwrap();
    let mut last = String::new();
    for _ in 0..MAX_TOKENS_PER_KEY {
        last = s
            .open_session("alice", "k1", now())
            .await
            .unwrap()
            .unwrap()
            .0;
    }
    assert_eq!(
        s.session(&first, now()).await.unwrap(),
        TokenLookup::Unknown,
        "oldest dropped"
    );
    assert!(matches!(
        s.session(&last, now()).await.unwrap(),
        TokenLookup::Live(_)
    ));
    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM wallet_sessions").await,
        i64::try_from(MAX_TOKENS_PER_KEY).unwrap()
    );

    fill(
        &s,
        "wallet_sessions",
        MAX_OUTSTANDING,
        now().plus(TOKEN_TTL),
    )
    .await;
    assert!(
        s.open_session("bob", "k2", now()).await.unwrap().is_none(),
        "storage bound"
    );
    // Alice's sign-in replaces her oldest token, so it is not refused.
    assert!(s
        .open_session("alice", "k1", now())
        .await
        .unwrap()
        .is_some());
    let later = now().plus(TOKEN_TTL);
    let (t, _) = s.open_session("bob", "k2", later).await.unwrap().unwrap();
    assert!(matches!(
        s.session(&t, later).await.unwrap(),
        TokenLookup::Live(_)
    ));
    assert_eq!(count(&s, "SELECT COUNT(*) FROM wallet_sessions").await, 1);
}
