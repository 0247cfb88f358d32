//! Tests of the [`Wallet`] facade against a scripted service and an in-memory keychain.
//! Several identities (pairings) of one service and the settings: [`identities`].

use super::*;
use crate::approver::Pairing;
use crate::fake::{FakeConnector, FakeSource};
use crate::inbox::tests::summary;
use crate::keystore::KeyAccount;
use crate::keystore::MemoryKeyStore;
use crate::links::LinkAction;
use crate::notify::RecordingNotifier;
use countersign_core::api::{
    PairPreview, WalletApprovalDetail, WalletApprovalSummary, WalletEvent, WalletEventKind,
};
use countersign_core::keys::generate_signing_key;
use countersign_core::{ApprovalStatus, Verdict};
use countersign_core::{ServerUrl, Timestamp};
use std::time::Duration;

const SERVER: &str = "http://127.0.0.1:8470";
const CODE: &str = "abcdefghijklmnop";

struct FixedClock(Timestamp);
impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
    /// Local time is UTC here, so quiet hours are tested whatever the machine's zone.
    fn utc_offset(&self, _at: Timestamp) -> i32 {
        0
    }
}

#[derive(Default)]
struct Updates(Mutex<Vec<WalletUpdate>>);
impl Observer for Updates {
    fn update(&self, update: WalletUpdate) {
        self.0.lock().unwrap().push(update);
    }
}

struct Harness {
    wallet: Wallet,
    connector: Arc<FakeConnector>,
    keys: Arc<MemoryKeyStore>,
    notifier: Arc<RecordingNotifier>,
    updates: Arc<Updates>,
    dir: tempfile::TempDir,
}

fn now() -> Timestamp {
    "2026-11-24T12:30:00Z".parse().unwrap()
}

fn server() -> ServerUrl {
    ServerUrl::parse(SERVER).unwrap()
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let connector = FakeConnector::new();
    *connector.preview.lock().unwrap() = Some(PairPreview {
        service_id: "svc_test".into(),
        approver_id: "alice".into(),
        approver_name: "Alice Example".into(),
        expires_at: "2026-11-24T12:45:00Z".parse().unwrap(),
    });
    let keys = Arc::new(MemoryKeyStore::new());
    let notifier = Arc::new(RecordingNotifier::default());
    let updates = Arc::new(Updates::default());
    let wallet = Wallet::start(WalletParts {
        config: WalletConfig {
            data_dir: dir.path().to_path_buf(),
            device_name: "test device".into(),
            sync: SyncConfig {
                jitter: false,
                ..SyncConfig::default()
            },
        },
        connector: connector.clone(),
        keys: keys.clone(),
        notifier: notifier.clone(),
        observer: updates.clone(),
        clock: Arc::new(FixedClock(now())),
    })
    .await
    .unwrap();
    Harness {
        wallet,
        connector,
        keys,
        notifier,
        updates,
        dir,
    }
}

/// A Wallet started (again) on the data directory `dir` with `keys`, as after a restart,
/// with a fresh connector.
async fn start_on(
    dir: &std::path::Path,
    keys: Arc<MemoryKeyStore>,
) -> (Wallet, Arc<FakeConnector>) {
    let connector = FakeConnector::new();
    let wallet = Wallet::start(WalletParts {
        config: WalletConfig {
            data_dir: dir.to_path_buf(),
            device_name: "test device".into(),
            sync: SyncConfig::default(),
        },
        connector: connector.clone(),
        keys,
        notifier: Arc::new(RecordingNotifier::default()),
        observer: Arc::new(Updates::default()),
        clock: Arc::new(FixedClock(now())),
    })
    .await
    .unwrap();
    (wallet, connector)
}

/// Polls `cond` for up to five seconds (background work runs on other threads).
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out: {what}");
}

async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
}

/// A pending request on the paired service, with a consistent statement and digest.
fn detail_of(id: u128, reason: &str, body: &[u8]) -> WalletApprovalDetail {
    crate::review::tests::detail_with(Uuid::from_u128(id), 1, reason, body)
}

/// The registry's entry of `approver` (of any server; tests pair each approver once).
fn entry_of(h: &Harness, approver: &str) -> crate::registry::Registered {
    h.wallet
        .inner
        .registry
        .lock()
        .unwrap()
        .entries()
        .iter()
        .find(|e| e.pairing.approver_id == approver)
        .expect("paired")
        .clone()
}

/// The keychain account the registry records for `approver`.
fn account_of(h: &Harness, approver: &str) -> KeyAccount {
    entry_of(h, approver).key_account
}

/// The local id of the first pairing.
fn pid(h: &Harness) -> PairingId {
    h.wallet.inner.registry.lock().unwrap().entries()[0]
        .id
        .clone()
}

async fn paired() -> (Harness, Arc<FakeSource>) {
    let h = harness().await;
    let view = h.wallet.confirm_pairing(&server(), CODE).await.unwrap();
    assert_eq!(view.approver_name.text, "Alice Example");
    let source = h.connector.fake(&server(), "alice").unwrap();
    (h, source)
}

#[tokio::test]
async fn pairing_keeps_the_key_in_the_keychain_and_nothing_secret_on_disk() {
    let (h, _source) = paired().await;
    let account = account_of(&h, "alice");
    assert!(account
        .as_str()
        .starts_with(crate::keystore::ACCOUNT_PREFIX));
    let key = h.keys.load(&account).unwrap();
    assert_eq!(
        h.connector.registered.lock().unwrap()[0],
        key.verifying_key().to_bytes()
    );
    // Search every file in the data directory for the seed in any usual encoding.
    let seed = key.to_bytes();
    let needles = [
        countersign_core::encoding::b64_encode(seed),
        hex::encode(seed),
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, seed),
    ];
    let mut files = 0;
    for entry in std::fs::read_dir(h.dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        files += 1;
        let text = String::from_utf8_lossy(&bytes);
        for n in &needles {
            assert!(!text.contains(n.as_str()), "key material on disk");
        }
        assert!(!bytes.windows(32).any(|w| w == seed), "raw key on disk");
    }
    assert_eq!(files, 1, "only the pairing list is written");
    // Pairings survive a restart of the Wallet.
    let reg = PairingRegistry::load(h.dir.path()).unwrap();
    assert_eq!(reg.all()[0].approver_id, "alice");
}

#[tokio::test]
async fn a_failed_pairing_leaves_no_key_behind() {
    let h = harness().await;
    *h.connector.pair_fails.lock().unwrap() = true;
    let err = h.wallet.confirm_pairing(&server(), CODE).await.unwrap_err();
    assert_eq!(err.code(), "refused");
    assert!(h.keys.is_empty());
    assert!(h.wallet.pairings().is_empty());
}

#[tokio::test]
async fn plain_http_to_another_host_is_refused_before_asking_it() {
    let h = harness().await;
    for text in ["http://192.168.1.20:8470", "http://countersign.example.com"] {
        let lan = ServerUrl::parse(text).unwrap();
        let err = h.wallet.preview_pairing(&lan, CODE).await.unwrap_err();
        assert_eq!(err.code(), "insecure_server", "{err}");
        let err = h.wallet.confirm_pairing(&lan, CODE).await.unwrap_err();
        assert_eq!(err.code(), "insecure_server", "{err}");
        assert!(err.to_string().contains("use https"), "{err}");
    }
    assert!(h.keys.is_empty());
    assert!(h.connector.registered.lock().unwrap().is_empty());
    // https to any host and http to loopback are fine.
    let https = ServerUrl::parse("https://countersign.example.com").unwrap();
    h.wallet.preview_pairing(&https, CODE).await.unwrap();
    let localhost = ServerUrl::parse("http://localhost:8470").unwrap();
    h.wallet.confirm_pairing(&localhost, CODE).await.unwrap();
}

/// A second server that answers with the first pairing's ids (in its preview, or only in the
/// pairing answer) is refused; it neither overwrites nor deletes the first pairing's key, and
/// the first pairing still signs afterwards.
#[tokio::test]
async fn a_hostile_second_server_cannot_touch_the_first_pairing() {
    let (h, source) = paired().await;
    let first = h.wallet.inner.registry.lock().unwrap().all()[0].clone();
    let first_account = account_of(&h, "alice");
    let first_key = h.keys.load(&first_account).unwrap().to_bytes();
    let hostile = ServerUrl::parse("https://hostile.example").unwrap();
    let preview = |service_id: &str| PairPreview {
        service_id: service_id.into(),
        approver_id: "alice".into(),
        approver_name: "Alice Example".into(),
        expires_at: "2026-11-24T12:45:00Z".parse().unwrap(),
    };
    let untouched = |what: &str| {
        assert_eq!(h.keys.len(), 1, "{what}: only the first key is kept");
        assert_eq!(
            h.keys.load(&first_account).unwrap().to_bytes(),
            first_key,
            "{what}: the first key is unchanged"
        );
        let reg = PairingRegistry::load(h.dir.path()).unwrap();
        assert_eq!(reg.all(), vec![first.clone()], "{what}");
        assert_eq!(reg.entries()[0].key_account, first_account, "{what}");
    };

    // 1. Its preview claims the first service's id: refused before any key is made.
    *h.connector.preview.lock().unwrap() = Some(preview("svc_test"));
    let err = h.wallet.preview_pairing(&hostile, CODE).await.unwrap_err();
    assert_eq!(err.code(), "service_already_paired", "{err}");
    let err = h.wallet.confirm_pairing(&hostile, CODE).await.unwrap_err();
    assert_eq!(err.code(), "service_already_paired", "{err}");
    untouched("same service id in the preview");

    // 2. An innocent preview, then an answer with the first pairing's ids (and key id).
    *h.connector.preview.lock().unwrap() = Some(preview("svc_hostile"));
    *h.connector.pair_answer.lock().unwrap() = Some(Pairing {
        server: hostile.clone(),
        ..first.clone()
    });
    let err = h.wallet.confirm_pairing(&hostile, CODE).await.unwrap_err();
    assert_eq!(err.code(), "pairing_mismatch", "{err}");
    untouched("the first pairing's ids in the answer");

    // 3. Its own service id, but the first key's id.
    *h.connector.pair_answer.lock().unwrap() = Some(Pairing {
        server: hostile.clone(),
        service_id: "svc_hostile".into(),
        ..first.clone()
    });
    let err = h.wallet.confirm_pairing(&hostile, CODE).await.unwrap_err();
    assert_eq!(err.code(), "pairing_mismatch", "{err}");
    assert!(err.to_string().contains("key_id"), "{err}");
    untouched("the first key's id in the answer");

    // 4. The pairing call fails: only the key made for it is deleted.
    *h.connector.pair_answer.lock().unwrap() = None;
    *h.connector.pair_fails.lock().unwrap() = true;
    let err = h.wallet.confirm_pairing(&hostile, CODE).await.unwrap_err();
    assert_eq!(err.code(), "refused", "{err}");
    untouched("a failed pairing");
    assert_eq!(h.wallet.pairings().len(), 1);

    // The first pairing still reviews and signs.
    let detail = detail_of(11, "Refund order 11", br#"{"order":11}"#);
    let id = Uuid::from_u128(11);
    source.details.lock().unwrap().insert(id, detail);
    let view = h.wallet.review(&pid(&h), id).await.unwrap();
    h.wallet
        .body_seen(&pid(&h), id, &view.digest)
        .await
        .unwrap();
    let after = h
        .wallet
        .decide(&pid(&h), id, Verdict::Approve, None, &view.digest)
        .await
        .unwrap();
    assert_eq!(after.status, ApprovalStatus::Approved);

    // An honest second server pairs next to it, under its own entry.
    *h.connector.pair_fails.lock().unwrap() = false;
    let second = ServerUrl::parse("https://second.example").unwrap();
    h.wallet.confirm_pairing(&second, CODE).await.unwrap();
    assert_eq!(h.keys.len(), 2);
    let second_account = h
        .wallet
        .inner
        .registry
        .lock()
        .unwrap()
        .of_server(&second)
        .next()
        .unwrap()
        .key_account
        .clone();
    assert_ne!(second_account, first_account);
    assert_eq!(h.keys.load(&first_account).unwrap().to_bytes(), first_key);
}

#[tokio::test]
async fn pairing_the_same_server_again_replaces_only_its_own_key() {
    let (h, _source) = paired().await;
    let old = account_of(&h, "alice");
    h.wallet.confirm_pairing(&server(), CODE).await.unwrap();
    let new = account_of(&h, "alice");
    assert_ne!(old, new);
    assert_eq!(h.keys.len(), 1);
    assert!(h.keys.load(&new).is_ok());
}

#[tokio::test]
async fn a_pairing_saved_before_local_key_names_still_loads_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let pairing = Pairing {
        server: server(),
        service_id: "svc_test".into(),
        approver_id: "alice".into(),
        approver_name: "Alice Example".into(),
        key_id: "key_0011223344556677".into(),
    };
    let file = serde_json::json!({"version": 1, "pairings": [pairing]});
    std::fs::write(
        dir.path().join(crate::registry::FILE_NAME),
        file.to_string(),
    )
    .unwrap();
    let keys = Arc::new(MemoryKeyStore::new());
    keys.save(
        &KeyAccount::legacy("svc_test", "alice"),
        &generate_signing_key(),
    )
    .unwrap();
    let (_wallet, connector) = start_on(dir.path(), keys).await;
    eventually("the reconnection", || {
        connector.fake(&server(), "alice").is_some()
    })
    .await;
}

#[tokio::test]
async fn pairing_screens_reveal_the_names_the_service_sends() {
    let h = harness().await;
    *h.connector.preview.lock().unwrap() = Some(PairPreview {
        service_id: "svc\u{200B}test".into(),
        approver_id: "alice\nadmin".into(),
        approver_name: "Alice\u{A0}Example \u{202E}nimda".into(),
        expires_at: "2026-11-24T12:45:00Z".parse().unwrap(),
    });
    let p = h.wallet.preview_pairing(&server(), CODE).await.unwrap();
    assert_eq!(p.approver_name.text, "Alice⟨U+00A0⟩Example ⟨U+202E⟩nimda");
    assert!(p.approver_name.warning);
    assert_eq!(p.approver_id.text, "alice⟨U+000A⟩admin");
    assert_eq!(p.service_id.text, "svc⟨U+200B⟩test");
    let view = h.wallet.confirm_pairing(&server(), CODE).await.unwrap();
    assert_eq!(
        view.approver_name.text,
        "Alice⟨U+00A0⟩Example ⟨U+202E⟩nimda"
    );
    assert_eq!(view.approver_id.text, "alice⟨U+000A⟩admin");
}

#[tokio::test]
async fn preview_shows_who_without_pairing() {
    let h = harness().await;
    let p = h.wallet.preview_pairing(&server(), CODE).await.unwrap();
    assert_eq!(p.approver_name.text, "Alice Example");
    assert!(!p.replaces_existing);
    assert!(h.keys.is_empty());
    assert!(h.connector.registered.lock().unwrap().is_empty());
}

#[tokio::test]
async fn approval_links_open_only_for_paired_servers() {
    let (h, _source) = paired().await;
    let id = "019a0000-0000-7000-8000-000000000001";
    let ok = h
        .wallet
        .open_link(&format!("countersign://approval/{id}?server={SERVER}"))
        .await
        .unwrap();
    assert!(matches!(ok, LinkAction::OpenApproval { .. }));
    let err = h
        .wallet
        .open_link(&format!(
            "countersign://approval/{id}?server=http://127.0.0.1:1"
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_paired");
    // An unknown id is reported as such when opened.
    let err = h
        .wallet
        .review(&pid(&h), id.parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unknown_approval");
}

#[tokio::test]
async fn live_request_reaches_the_inbox_and_a_notification() {
    let (h, source) = paired().await;
    let tx = source.next_stream();
    // The pairing connected before the stream was queued: reconnect via a new pairing source.
    h.wallet.connect(
        &entry_of(&h, "alice"),
        h.keys.load(&account_of(&h, "alice")).unwrap(),
    );
    settle().await;
    let row = summary(7, 0, "Refund order 42");
    let mut row = row;
    row.created_at = "2026-11-24T12:10:00Z".parse().unwrap();
    row.expires_at = "2026-11-24T13:10:00Z".parse().unwrap();
    tx.send(Ok((
        3,
        WalletEvent {
            kind: WalletEventKind::Created,
            approval_id: row.approval_id,
            status: ApprovalStatus::Pending,
            approval: Some(row.clone()),
        },
    )))
    .unwrap();
    eventually("the live request", || h.wallet.inbox().count == 1).await;
    eventually("the notification", || h.notifier.shown().len() == 1).await;
    let inbox = h.wallet.inbox();
    assert_eq!(inbox.count, 1);
    assert_eq!(inbox.rows[0].reason.text, "Refund order 42");
    let shown = h.notifier.shown();
    assert_eq!(shown.len(), 1);
    assert!(shown[0].body.contains("Refund order 42"));
    assert!(h
        .updates
        .0
        .lock()
        .unwrap()
        .contains(&WalletUpdate::InboxChanged { count: 1 }));

    // Decided elsewhere: it leaves the inbox.
    tx.send(Ok((
        4,
        WalletEvent {
            kind: WalletEventKind::Decided,
            approval_id: row.approval_id,
            status: ApprovalStatus::Denied,
            approval: None,
        },
    )))
    .unwrap();
    eventually("removal", || h.wallet.inbox().count == 0).await;
}

#[tokio::test]
async fn decisions_sign_only_what_was_reviewed() {
    let (h, source) = paired().await;
    let detail = detail_of(9, "Refund order 42", br#"{"order":42}"#);
    let digest = detail.request_digest.clone();
    let id = Uuid::from_u128(9);
    source.details.lock().unwrap().insert(id, detail);

    // Not shown yet: refused.
    let err = h
        .wallet
        .decide(&pid(&h), id, Verdict::Approve, None, &digest)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_reviewed");

    let view = h.wallet.review(&pid(&h), id).await.unwrap();
    assert_eq!(view.digest, digest);

    // The view echoes another digest: refused, nothing sent.
    let err = h
        .wallet
        .decide(&pid(&h), id, Verdict::Approve, None, &"00".repeat(32))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "stale_review");
    assert!(source.decided.lock().unwrap().is_empty());

    let after = h
        .wallet
        .decide(
            &pid(&h),
            id,
            Verdict::Deny,
            Some("  not this one  ".into()),
            &view.digest,
        )
        .await
        .unwrap();
    let decided = source.decided.lock().unwrap().clone();
    assert_eq!(
        decided,
        vec![(
            id,
            digest.clone(),
            Verdict::Deny,
            Some("not this one".into())
        )]
    );
    assert_eq!(after.status, ApprovalStatus::Denied);
    assert!(!after.can_decide);
    assert!(after.outcome.is_some());

    // Deciding again is refused before anything is signed.
    let err = h
        .wallet
        .decide(&pid(&h), id, Verdict::Approve, None, &view.digest)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_pending");
    assert_eq!(source.decided.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_tampered_request_is_never_shown_as_valid_nor_signed() {
    let (h, source) = paired().await;
    let id = Uuid::from_u128(10);
    // The service changed the reason after computing the digest.
    let mut detail = detail_of(10, "Refund order 42", b"{}");
    detail.statement.reason = "Refund order 42 (and 41)".into();
    source.details.lock().unwrap().insert(id, detail);
    let err = h.wallet.review(&pid(&h), id).await.unwrap_err();
    assert_eq!(err.code(), "integrity");

    // A body that does not match the statement.
    let mut detail = detail_of(10, "ok", b"{}");
    detail.body = b"{\"x\":1}".to_vec();
    source.details.lock().unwrap().insert(id, detail);
    assert_eq!(
        h.wallet.review(&pid(&h), id).await.unwrap_err().code(),
        "integrity"
    );

    // A statement of another service, consistently hashed.
    let mut detail = detail_of(10, "ok", b"{}");
    detail.statement.service = "svc_other".into();
    detail.request_digest = detail.statement.request_digest();
    source.details.lock().unwrap().insert(id, detail);
    assert_eq!(
        h.wallet.review(&pid(&h), id).await.unwrap_err().code(),
        "integrity"
    );
    // Nothing failing verification can be decided on.
    let err = h
        .wallet
        .decide(&pid(&h), id, Verdict::Approve, None, &"00".repeat(32))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_reviewed");
    assert!(source.decided.lock().unwrap().is_empty());
}

#[tokio::test]
async fn history_lists_finished_requests_and_searches() {
    let (h, source) = paired().await;
    let mut rows = vec![
        summary(1, 0, "Refund order 42"),
        summary(2, 10, "Refund order 43"),
        summary(3, 20, "Delete customer 7"),
    ];
    rows[0].status = ApprovalStatus::Succeeded;
    rows[1].status = ApprovalStatus::Denied;
    rows[2].status = ApprovalStatus::Pending; // still pending and open: not history
    for r in &mut rows {
        r.created_at = now();
        r.expires_at = "2026-11-24T13:30:00Z".parse().unwrap();
    }
    rows[1].approval_id = Uuid::from_u128(5);
    *source.rows.lock().unwrap() = rows;
    let all = h.wallet.history("").await.unwrap();
    assert_eq!(all.len(), 2);
    let found = h.wallet.history("REFUND denied").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].row.reason.text, "Refund order 43");
    assert!(h
        .wallet
        .history("nothing-like-this")
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn removing_a_pairing_deletes_its_key_and_requests() {
    let (h, _source) = paired().await;
    assert_eq!(h.keys.len(), 1);
    h.wallet.remove_pairing(&pid(&h)).await.unwrap();
    assert!(h.keys.is_empty());
    assert!(h.wallet.pairings().is_empty());
    assert!(PairingRegistry::load(h.dir.path())
        .unwrap()
        .all()
        .is_empty());
    let id = "019a0000-0000-7000-8000-000000000001";
    assert_eq!(
        h.wallet
            .open_link(&format!("countersign://approval/{id}?server={SERVER}"))
            .await
            .unwrap_err()
            .code(),
        "not_paired"
    );
}

#[tokio::test]
async fn a_restart_reconnects_paired_services_from_the_keychain() {
    let (h, _source) = paired().await;
    let (dir, keys) = (h.dir, h.keys.clone());
    h.wallet.shutdown();
    let (wallet, connector) = start_on(dir.path(), keys).await;
    assert_eq!(wallet.pairings().len(), 1);
    // The key is loaded in the background, then the service connects.
    eventually("the reconnection", || {
        connector.fake(&server(), "alice").is_some()
    })
    .await;
    assert_eq!(wallet.inbox().count, 0);
}

/// The pairing list shows the last contact of an earlier run, here while the key cannot be
/// loaded (no new contact); a removed pairing leaves the saved contacts at once.
#[tokio::test]
async fn the_last_contact_outlives_a_restart_and_leaves_with_its_pairing() {
    let (h, _source) = paired().await;
    let id = pid(&h);
    let saved = || crate::contacts::ContactsFile::load(h.dir.path()).get(&id);
    eventually("the contact saved", || saved() == Some(now())).await;
    h.wallet.shutdown();

    let account = account_of(&h, "alice");
    let kept = h.keys.load(&account).unwrap();
    h.keys.delete(&account).unwrap();
    let (wallet, _connector) = start_on(h.dir.path(), h.keys.clone()).await;
    eventually("the key failure", || {
        matches!(wallet.pairings()[0].status, SyncStatus::Failed { .. })
    })
    .await;
    assert_eq!(wallet.pairings()[0].last_contact, Some(now()));
    wallet.shutdown();

    h.keys.save(&account, &kept).unwrap();
    let (wallet, _connector) = start_on(h.dir.path(), h.keys.clone()).await;
    wallet.remove_pairing(&id).await.unwrap();
    assert_eq!(saved(), None);
}

#[tokio::test]
async fn approval_waits_until_the_body_was_seen_for_that_digest() {
    let (h, source) = paired().await;
    let a = Uuid::from_u128(21);
    let b = Uuid::from_u128(22);
    let body_a = format!(r#"{{"amount":1999,"memo":"{}"}}"#, "x".repeat(600 * 1024));
    let da = detail_of(21, "Refund order 21", body_a.as_bytes());
    let db = detail_of(22, "Refund order 22", br#"{"amount":5}"#);
    let (digest_a, digest_b) = (da.request_digest.clone(), db.request_digest.clone());
    source.details.lock().unwrap().insert(a, da);
    source.details.lock().unwrap().insert(b, db);

    // Not reviewed: nothing can be marked seen.
    assert_eq!(
        h.wallet
            .body_seen(&pid(&h), a, &digest_a)
            .await
            .unwrap_err()
            .code(),
        "not_reviewed"
    );
    let view = h.wallet.review(&pid(&h), a).await.unwrap();
    assert!(
        view.body_gate.shown_whole && !view.body_gate.seen,
        "600 kB shown whole, unseen"
    );
    assert!(!view.body_gate.open());
    let err = h
        .wallet
        .decide(&pid(&h), a, Verdict::Approve, None, &digest_a)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "body_not_seen");
    assert!(source.decided.lock().unwrap().is_empty());

    // Another request's "seen" does not count for this one, nor a digest not shown.
    h.wallet.review(&pid(&h), b).await.unwrap();
    h.wallet.body_seen(&pid(&h), b, &digest_b).await.unwrap();
    assert_eq!(
        h.wallet
            .body_seen(&pid(&h), a, &digest_b)
            .await
            .unwrap_err()
            .code(),
        "stale_review"
    );
    let err = h
        .wallet
        .decide(&pid(&h), a, Verdict::Approve, None, &digest_a)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "body_not_seen");

    // Seen to the end: a fresh review says so, and the approval is signed.
    h.wallet.body_seen(&pid(&h), a, &digest_a).await.unwrap();
    assert!(h.wallet.review(&pid(&h), a).await.unwrap().body_gate.open());
    h.wallet
        .decide(&pid(&h), a, Verdict::Approve, None, &digest_a)
        .await
        .unwrap();
    assert_eq!(source.decided.lock().unwrap()[0].1, digest_a);
}

#[tokio::test]
async fn the_end_counts_as_seen_only_once_every_page_was_fetched() {
    let (h, source) = paired().await;
    let id = Uuid::from_u128(25);
    let items: Vec<String> = (0..1000).map(|i| format!(r#"{{"n":{i}}}"#)).collect();
    let body = format!("[{}]", items.join(","));
    let d = detail_of(25, "Refund in items", body.as_bytes());
    let digest = d.request_digest.clone();
    source.details.lock().unwrap().insert(id, d);
    let view = h.wallet.review(&pid(&h), id).await.unwrap();
    let pages = view.body.pages;
    assert_eq!((view.body.lines, pages), (3002, 7));
    assert_eq!(
        view.body_page.index, 0,
        "the first page comes with the review"
    );
    // The view cannot claim the end before it fetched every page.
    let err = h.wallet.body_seen(&pid(&h), id, &digest).await.unwrap_err();
    assert_eq!(err.code(), "pages_not_fetched");
    assert!(err.to_string().contains("only 1 of its 7 pages"), "{err}");
    for index in 1..pages - 1 {
        let page = h
            .wallet
            .body_page(&pid(&h), id, &digest, index)
            .await
            .unwrap();
        assert_eq!((page.index, page.first_line), (index, index * 500));
    }
    let err = h.wallet.body_seen(&pid(&h), id, &digest).await.unwrap_err();
    assert!(err.to_string().contains("only 6 of its 7 pages"), "{err}");
    let err = h
        .wallet
        .decide(&pid(&h), id, Verdict::Approve, None, &digest)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "body_not_seen");
    // Pages of another digest, or past the end, are not served.
    let stale = h
        .wallet
        .body_page(&pid(&h), id, "0000", 6)
        .await
        .unwrap_err();
    assert_eq!(stale.code(), "stale_review");
    let past = h
        .wallet
        .body_page(&pid(&h), id, &digest, 7)
        .await
        .unwrap_err();
    assert_eq!(past.code(), "no_such_page");
    let last = h.wallet.body_page(&pid(&h), id, &digest, 6).await.unwrap();
    let crate::pages::PageLines::Json(lines) = last.lines else {
        panic!("json lines")
    };
    assert_eq!(lines.last().unwrap().token.text, "]");
    h.wallet.body_seen(&pid(&h), id, &digest).await.unwrap();
    h.wallet
        .decide(&pid(&h), id, Verdict::Approve, None, &digest)
        .await
        .unwrap();
    assert_eq!(source.decided.lock().unwrap()[0].1, digest);
}

#[tokio::test]
async fn a_new_body_under_the_same_id_must_be_seen_again_and_deny_needs_nothing() {
    let (h, source) = paired().await;
    let id = Uuid::from_u128(23);
    let first = detail_of(23, "Refund", br#"{"amount":1}"#);
    let digest1 = first.request_digest.clone();
    source.details.lock().unwrap().insert(id, first);
    h.wallet.review(&pid(&h), id).await.unwrap();
    h.wallet.body_seen(&pid(&h), id, &digest1).await.unwrap();
    // The service now shows another body under the same id: the old mark does not count.
    let second = detail_of(23, "Refund", br#"{"amount":1000000}"#);
    let digest2 = second.request_digest.clone();
    source.details.lock().unwrap().insert(id, second);
    let view = h.wallet.review(&pid(&h), id).await.unwrap();
    assert!(!view.body_gate.seen);
    let err = h
        .wallet
        .decide(&pid(&h), id, Verdict::Approve, None, &digest2)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "body_not_seen");
    // Deny is always available.
    h.wallet
        .decide(&pid(&h), id, Verdict::Deny, None, &digest2)
        .await
        .unwrap();
    assert_eq!(source.decided.lock().unwrap()[0].2, Verdict::Deny);
}

#[tokio::test]
async fn a_body_too_large_for_the_view_cannot_be_approved() {
    let (h, source) = paired().await;
    let id = Uuid::from_u128(24);
    // Under 1 MiB, but more JSON lines than the view model lists.
    let body = format!("[{}1]", "1,".repeat(300_000));
    let d = detail_of(24, "Many", body.as_bytes());
    let digest = d.request_digest.clone();
    source.details.lock().unwrap().insert(id, d);
    let view = h.wallet.review(&pid(&h), id).await.unwrap();
    assert!(!view.body_gate.shown_whole);
    assert!(view
        .body_gate
        .why_not
        .as_deref()
        .unwrap()
        .contains("too large"));
    assert_eq!(
        h.wallet
            .body_seen(&pid(&h), id, &digest)
            .await
            .unwrap_err()
            .code(),
        "body_not_shown"
    );
    let err = h
        .wallet
        .decide(&pid(&h), id, Verdict::Approve, None, &digest)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "body_not_shown");
    assert!(source.decided.lock().unwrap().is_empty());
}

#[tokio::test]
async fn what_is_new_is_shown_in_words_and_an_older_service_shows_nothing() {
    use countersign_core::novelty::Novelty;
    let (h, source) = paired().await;
    let id = Uuid::from_u128(25);
    source
        .details
        .lock()
        .unwrap()
        .insert(id, detail_of(25, "Refund", br#"{"amount":199900}"#));
    // The fake answers 404 by default, like a service without the history endpoint.
    let view = h.wallet.review(&pid(&h), id).await.unwrap();
    assert!(view.what_is_new.is_empty());
    assert_eq!(view.what_is_new_note, None);

    *source.novelty.lock().unwrap() = Ok(vec![
        Novelty::FirstOfKind,
        Novelty::Larger {
            pointer: "/amount".into(),
            value: "199900".into(),
            largest: "1999".into(),
            ratio: 100.0,
        },
        Novelty::NewValue {
            pointer: "/iban".into(),
            value: "GB33\u{202E}0001".into(),
            usual: vec!["DE89".into()],
        },
    ]);
    let view = h.wallet.review(&pid(&h), id).await.unwrap();
    let words: Vec<&str> = view.what_is_new.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(
        words,
        [
            "no request of this kind (grant, method, path) was approved before",
            "/amount 199900 is 100× the largest approved (1999)",
            "/iban GB33⟨U+202E⟩0001 was never approved before (usually DE89)",
        ]
    );
    assert!(
        view.warning,
        "a hidden character in a new value raises the banner"
    );

    // Any other failure is a note, never an error of the review.
    *source.novelty.lock().unwrap() = Err(503);
    let view = h.wallet.review(&pid(&h), id).await.unwrap();
    assert!(view.what_is_new.is_empty());
    assert!(view
        .what_is_new_note
        .as_deref()
        .unwrap()
        .starts_with("could not compare with past approvals"));
}

/// `n` open requests of the paired service (ids 1..=n, so id order is creation order).
fn open_rows(n: u128, status: ApprovalStatus) -> Vec<WalletApprovalSummary> {
    (1..=n)
        .map(|i| {
            let mut r = summary(i, 0, &format!("Request {i}"));
            r.status = status;
            r.created_at = now();
            r.expires_at = "2026-11-24T13:30:00Z".parse().unwrap();
            r
        })
        .collect()
}

/// Connects the paired service again (a full refresh), its `list_page` calls recorded afresh.
fn refresh_from(h: &Harness, source: &FakeSource) -> crate::fake::EventSender {
    source.pages.lock().unwrap().clear();
    let tx = source.next_stream();
    h.wallet.connect(
        &entry_of(h, "alice"),
        h.keys.load(&account_of(h, "alice")).unwrap(),
    );
    tx
}

#[tokio::test]
async fn the_inbox_holds_500_pending_requests_not_one_page_of_200() {
    let (h, source) = paired().await;
    *source.rows.lock().unwrap() = open_rows(500, ApprovalStatus::Pending);
    let _tx = refresh_from(&h, &source);
    eventually("500 requests in the inbox", || {
        h.wallet.inbox().count == 500
    })
    .await;
    let inbox = h.wallet.inbox();
    assert_eq!(inbox.rows.len(), 500);
    let ids: HashSet<Uuid> = inbox.rows.iter().map(|r| r.approval_id).collect();
    assert_eq!(ids.len(), 500);
    assert!(ids.contains(&Uuid::from_u128(1)), "the oldest is there too");
    assert_eq!(
        source.pages.lock().unwrap().as_slice(),
        &[
            ("pending".to_string(), None, crate::source::LIST_FIRST_PAGE),
            (
                "pending".to_string(),
                Some(Uuid::from_u128(401)),
                crate::source::LIST_PAGE
            )
        ],
        "a small first page for the first screen, then pages of up to 1000, not the \
         service's default 200"
    );
}

#[tokio::test]
async fn a_flood_beyond_one_page_is_fetched_page_by_page() {
    let (h, source) = paired().await;
    *source.rows.lock().unwrap() = open_rows(2500, ApprovalStatus::Pending);
    let _tx = refresh_from(&h, &source);
    eventually("2500 requests in the inbox", || {
        h.wallet.inbox().count == 2500
    })
    .await;
    let cursors: Vec<Option<Uuid>> = source
        .pages
        .lock()
        .unwrap()
        .iter()
        .map(|(_, before, _)| *before)
        .collect();
    assert_eq!(
        cursors,
        vec![
            None,
            Some(Uuid::from_u128(2401)),
            Some(Uuid::from_u128(1401)),
            Some(Uuid::from_u128(401))
        ]
    );
}

#[tokio::test]
async fn the_inbox_shows_the_first_page_while_the_rest_is_fetched_and_marks_it_syncing() {
    let (h, source) = paired().await;
    *source.rows.lock().unwrap() = open_rows(2500, ApprovalStatus::Pending);
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    *source.held_pages.lock().unwrap() = Some(gate.clone());
    let _tx = refresh_from(&h, &source);
    // A fresh start: the first (small) page is shown before the others are fetched.
    eventually("the first page in the inbox", || {
        h.wallet.inbox_page(0, 1).count == 100
    })
    .await;
    let first = h.wallet.inbox_page(0, 50);
    assert!(first.syncing, "marked as syncing while pages are missing");
    assert_eq!(
        first.rows[0].approval_id,
        Uuid::from_u128(2500),
        "newest first"
    );
    gate.add_permits(1000);
    eventually("the whole list", || h.wallet.inbox_page(0, 1).count == 2500).await;
    eventually("no longer syncing", || !h.wallet.inbox_page(0, 1).syncing).await;

    // Meanwhile 2500 was decided and 2499 approved: a refresh's first page covers the newest
    // ids, so they leave with it; older rows stay until their page comes.
    source.rows.lock().unwrap().pop();
    source.rows.lock().unwrap()[2498].status = ApprovalStatus::Approved;
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    *source.held_pages.lock().unwrap() = Some(gate.clone());
    let _tx = refresh_from(&h, &source);
    eventually("the first page applied", || {
        h.wallet.inbox_page(0, 1).rows[0].approval_id == Uuid::from_u128(2498)
    })
    .await;
    let page = h.wallet.inbox_page(0, 50);
    assert!(page.syncing);
    assert_eq!(
        page.count, 2498,
        "nothing shown that the first page says is gone"
    );
    gate.add_permits(1000);
    eventually("no longer syncing", || !h.wallet.inbox_page(0, 1).syncing).await;
    assert_eq!(h.wallet.inbox_page(0, 1).count, 2498);
}

#[tokio::test]
async fn a_service_without_the_cursor_gives_its_first_page_once() {
    let (h, source) = paired().await;
    *source.ignores_cursor.lock().unwrap() = true;
    *source.rows.lock().unwrap() = open_rows(2500, ApprovalStatus::Pending);
    let _tx = refresh_from(&h, &source);
    eventually("the first page in the inbox", || {
        h.wallet.inbox().count == 1000
    })
    .await;
    settle().await;
    assert_eq!(h.wallet.inbox().rows.len(), 1000);
    assert_eq!(
        source.pages.lock().unwrap().len(),
        3,
        "the small first page, one of 1000 from the top again (its older rows are kept), \
         then the repeated page ends the paging"
    );
}

#[tokio::test]
async fn pending_requests_do_not_crowd_finished_ones_out_of_the_history() {
    let (h, source) = paired().await;
    // 300 denied, then 6,000 pending (newer): more than the history searches of one service.
    let mut rows = open_rows(300, ApprovalStatus::Denied);
    let mut flood = open_rows(6300, ApprovalStatus::Pending);
    flood.drain(..300);
    rows.extend(flood);
    *source.rows.lock().unwrap() = rows;
    let first = h.wallet.history_search("", 100).await.unwrap();
    assert_eq!((first.count, first.rows.len(), first.offset), (300, 100, 0));
    let last = h.wallet.history_page(first.search, 250, 100).unwrap();
    assert_eq!(last.rows.len(), 50);
    assert_eq!(
        last.rows.last().unwrap().row.approval_id,
        Uuid::from_u128(1),
        "the oldest is reachable"
    );
    // A newer search replaces it.
    let again = h.wallet.history_search("denied", 10).await.unwrap();
    assert_ne!(again.search, first.search);
    assert_eq!(
        h.wallet
            .history_page(first.search, 0, 10)
            .unwrap_err()
            .code(),
        "history_gone"
    );
}

#[tokio::test]
async fn the_inbox_is_handed_out_a_page_at_a_time_newest_first() {
    let (h, source) = paired().await;
    *source.rows.lock().unwrap() = open_rows(1200, ApprovalStatus::Pending);
    let _tx = refresh_from(&h, &source);
    eventually("1200 requests in the inbox", || {
        h.wallet.inbox().count == 1200
    })
    .await;
    let all = h.wallet.inbox().rows;
    let page = h.wallet.inbox_page(1150, 100);
    assert_eq!((page.count, page.offset, page.rows.len()), (1200, 1150, 50));
    assert_eq!(
        page.rows,
        all[1150..].to_vec(),
        "the same order as the whole list"
    );
    assert_eq!(
        h.wallet.inbox_page(0, 10_000).rows.len(),
        500,
        "pages are capped"
    );
    assert!(h.wallet.inbox_page(5000, 10).rows.is_empty());
}

#[tokio::test]
async fn history_goes_beyond_one_page_of_200() {
    let (h, source) = paired().await;
    *source.rows.lock().unwrap() = open_rows(500, ApprovalStatus::Denied);
    let rows = h.wallet.history("").await.unwrap();
    assert_eq!(rows.len(), 500);
    assert!(
        rows.iter().any(|r| r.row.approval_id == Uuid::from_u128(1)),
        "the oldest is there too"
    );
}

mod identities;
