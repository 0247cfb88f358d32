//! Several identities of one service (two approvers, e.g. personal and on-call), and the
//! settings that route their notifications.

use super::*;
use crate::keystore::{KeyStore, KeyStoreError};
use crate::model::QuietHoursView;
use countersign_core::api::DecisionSummary;

const ON_CALL: &str = "oncall";

fn preview_as(approver: &str) -> PairPreview {
    PairPreview {
        service_id: "svc_test".into(),
        approver_id: approver.into(),
        approver_name: format!("{approver} name"),
        expires_at: "2026-11-24T12:45:00Z".parse().unwrap(),
    }
}

/// The scripted service as `approver` sees it, made before pairing so its first refresh
/// lists `rows`.
fn service_as(h: &Harness, approver: &str, rows: Vec<WalletApprovalSummary>) -> Arc<FakeSource> {
    let source = h.connector.source(&Pairing {
        server: server(),
        service_id: "svc_test".into(),
        approver_id: approver.into(),
        approver_name: format!("{approver} name"),
        key_id: String::new(),
    });
    *source.rows.lock().unwrap() = rows;
    source
}

async fn pair_as(h: &Harness, approver: &str) -> PairingId {
    *h.connector.preview.lock().unwrap() = Some(preview_as(approver));
    let view = h.wallet.confirm_pairing(&server(), CODE).await.unwrap();
    PairingId::named(view.id)
}

fn created(row: &WalletApprovalSummary) -> WalletEvent {
    WalletEvent {
        kind: WalletEventKind::Created,
        approval_id: row.approval_id,
        status: ApprovalStatus::Pending,
        approval: Some(row.clone()),
    }
}

/// (pairing, approval) of every inbox row.
fn inbox_keys(h: &Harness) -> Vec<(String, u128)> {
    let mut keys: Vec<_> = h
        .wallet
        .inbox()
        .rows
        .iter()
        .map(|r| (r.pairing.clone(), r.approval_id.as_u128()))
        .collect();
    keys.sort();
    keys
}

fn public_key(h: &Harness, approver: &str) -> [u8; 32] {
    h.keys
        .load(&account_of(h, approver))
        .unwrap()
        .verifying_key()
        .to_bytes()
}

/// Two approvers of one service: two pairings, two keys, two sources; each receives its own
/// requests (a request addressed to both is two inbox items), with notifications naming
/// the identity and opening it.
#[tokio::test]
async fn two_approvers_of_one_service_each_receive_their_own_requests() {
    let h = harness().await;
    let personal_src = service_as(
        &h,
        "alice",
        vec![summary(1, 0, "shared"), summary(2, 1, "mine")],
    );
    let on_call_src = service_as(
        &h,
        ON_CALL,
        vec![summary(1, 0, "shared"), summary(3, 2, "page")],
    );
    let personal_tx = personal_src.next_stream();
    let on_call_tx = on_call_src.next_stream();
    let personal = pair_as(&h, "alice").await;
    let on_call = pair_as(&h, ON_CALL).await;
    assert_ne!(personal, on_call);
    assert_eq!(h.keys.len(), 2, "one key each");
    assert_ne!(public_key(&h, "alice"), public_key(&h, ON_CALL));
    assert_eq!(
        personal_src.key.lock().unwrap().unwrap(),
        public_key(&h, "alice")
    );
    assert_eq!(
        on_call_src.key.lock().unwrap().unwrap(),
        public_key(&h, ON_CALL)
    );

    let (p, o) = (personal.to_string(), on_call.to_string());
    eventually("both refreshes", || inbox_keys(&h).len() == 4).await;
    let mut expected = vec![
        (p.clone(), 1),
        (p.clone(), 2),
        (o.clone(), 1),
        (o.clone(), 3),
    ];
    expected.sort();
    assert_eq!(inbox_keys(&h), expected);
    let rows = h.wallet.inbox().rows;
    let page = rows.iter().find(|r| r.approval_id.as_u128() == 3).unwrap();
    assert_eq!(page.approver.text, "oncall name");
    eventually("four notifications", || h.notifier.shown().len() == 4).await;
    let targets: HashSet<_> = h
        .notifier
        .shown()
        .iter()
        .map(|n| {
            let (pairing, _, id) = n.target.clone().unwrap();
            (pairing.to_string(), id.as_u128())
        })
        .collect();
    assert_eq!(targets.len(), 4, "one per pairing and request");
    assert!(h
        .notifier
        .shown()
        .iter()
        .any(|n| n.body.ends_with("for oncall name")));

    // Live events reach only the stream's own pairing.
    let mut new = summary(4, 3, "new for on-call");
    new.created_at = now();
    on_call_tx.send(Ok((1, created(&new)))).unwrap();
    eventually("the on-call request", || inbox_keys(&h).len() == 5).await;
    assert!(inbox_keys(&h).contains(&(o.clone(), 4)));
    assert!(!inbox_keys(&h).contains(&(p.clone(), 4)));
    let mut mine = summary(5, 4, "new for alice");
    mine.created_at = now();
    personal_tx.send(Ok((1, created(&mine)))).unwrap();
    eventually("the personal request", || {
        inbox_keys(&h).contains(&(p.clone(), 5))
    })
    .await;
    assert!(!inbox_keys(&h).contains(&(o.clone(), 5)));

    // Both are listed, each with its own fingerprint and last contact.
    let list = h.wallet.pairings();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].approver_id.text, "alice");
    assert_eq!(list[1].approver_id.text, ON_CALL);
    for (view, who) in list.iter().zip(["alice", ON_CALL]) {
        let key = h.keys.load(&account_of(&h, who)).unwrap();
        assert_eq!(
            view.fingerprint.as_deref(),
            Some(crate::registry::fingerprint(&key.verifying_key()).as_str())
        );
        assert_eq!(view.last_contact, Some(now()));
        assert!(view.notifications);
    }
}

/// A decision is signed by the identity whose review was shown, with its own key: another
/// pairing cannot decide on it, nor use its "seen to the end".
#[tokio::test]
async fn a_decision_is_signed_by_the_identity_whose_review_was_shown() {
    let h = harness().await;
    let personal_src = service_as(&h, "alice", vec![]);
    let on_call_src = service_as(&h, ON_CALL, vec![]);
    let personal = pair_as(&h, "alice").await;
    let on_call = pair_as(&h, ON_CALL).await;
    let id = Uuid::from_u128(31);
    let detail = detail_of(31, "Refund order 31", br#"{"order":31}"#);
    personal_src
        .details
        .lock()
        .unwrap()
        .insert(id, detail.clone());
    on_call_src.details.lock().unwrap().insert(id, detail);

    let view = h.wallet.review(&personal, id).await.unwrap();
    assert_eq!(view.deciding_as.as_ref().unwrap().text, "alice name");
    h.wallet
        .body_seen(&personal, id, &view.digest)
        .await
        .unwrap();
    // Shown as alice: the on-call pairing has reviewed nothing.
    let err = h
        .wallet
        .decide(&on_call, id, Verdict::Approve, None, &view.digest)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_reviewed", "{err}");
    // Reviewed as on-call too, but seen to the end only as alice: no approval as on-call.
    let on_call_view = h.wallet.review(&on_call, id).await.unwrap();
    assert_eq!(
        on_call_view.deciding_as.as_ref().unwrap().text,
        "oncall name"
    );
    let err = h
        .wallet
        .decide(&on_call, id, Verdict::Approve, None, &on_call_view.digest)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "body_not_seen", "{err}");
    assert!(on_call_src.decided.lock().unwrap().is_empty());

    h.wallet
        .decide(&personal, id, Verdict::Approve, None, &view.digest)
        .await
        .unwrap();
    assert_eq!(
        *personal_src.signers.lock().unwrap(),
        [public_key(&h, "alice")]
    );
    assert!(on_call_src.signers.lock().unwrap().is_empty());
    h.wallet
        .decide(&on_call, id, Verdict::Deny, None, &on_call_view.digest)
        .await
        .unwrap();
    assert_eq!(
        *on_call_src.signers.lock().unwrap(),
        [public_key(&h, ON_CALL)]
    );
    assert_eq!(personal_src.signers.lock().unwrap().len(), 1);
}

/// Removing one pairing deletes its key and items and stops its stream; the other pairing of
/// the same service goes on reviewing and signing. A service's failures never remove one.
#[tokio::test]
async fn removing_one_pairing_leaves_the_other_working() {
    let h = harness().await;
    let personal_src = service_as(&h, "alice", vec![summary(1, 0, "a")]);
    let on_call_src = service_as(&h, ON_CALL, vec![summary(2, 1, "b")]);
    let personal_tx = personal_src.next_stream();
    let personal = pair_as(&h, "alice").await;
    let on_call = pair_as(&h, ON_CALL).await;
    eventually("both refreshes", || h.wallet.inbox().count == 2).await;
    let removed_account = account_of(&h, "alice");
    let kept_key = public_key(&h, ON_CALL);
    let muted = h.wallet.set_notifications(&personal, false).unwrap();
    assert!(!muted.pairings[0].notifications);

    h.wallet.remove_pairing(&personal).await.unwrap();
    assert!(matches!(
        h.keys.load(&removed_account),
        Err(KeyStoreError::NotFound(_))
    ));
    assert_eq!(h.keys.len(), 1);
    assert_eq!(public_key(&h, ON_CALL), kept_key);
    let reg = PairingRegistry::load(h.dir.path()).unwrap();
    assert_eq!(reg.entries().len(), 1);
    assert_eq!(reg.entries()[0].id, on_call);
    assert_eq!(inbox_keys(&h), [(on_call.to_string(), 2)]);
    let settings = crate::settings::SettingsFile::load(h.dir.path()).unwrap();
    assert!(settings.get().muted.is_empty(), "its settings went with it");

    // Its stream is stopped: what it still sends changes nothing.
    let mut late = summary(9, 5, "late");
    late.created_at = now();
    let _ = personal_tx.send(Ok((1, created(&late))));
    settle().await;
    assert_eq!(h.wallet.inbox().count, 1);
    let err = h
        .wallet
        .review(&personal, Uuid::from_u128(1))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unknown_pairing", "{err}");
    assert_eq!(
        h.wallet.remove_pairing(&personal).await.unwrap_err().code(),
        "unknown_pairing"
    );

    // The other one still works.
    let id = Uuid::from_u128(2);
    on_call_src
        .details
        .lock()
        .unwrap()
        .insert(id, detail_of(2, "b", br#"{"b":2}"#));
    let view = h.wallet.review(&on_call, id).await.unwrap();
    h.wallet
        .body_seen(&on_call, id, &view.digest)
        .await
        .unwrap();
    let after = h
        .wallet
        .decide(&on_call, id, Verdict::Approve, None, &view.digest)
        .await
        .unwrap();
    assert_eq!(after.status, ApprovalStatus::Approved);
    assert_eq!(*on_call_src.signers.lock().unwrap(), [kept_key]);

    // The service failing (errors, an empty list) never removes a pairing.
    *on_call_src.failing_lists.lock().unwrap() = 3;
    *on_call_src.rows.lock().unwrap() = vec![];
    h.wallet.connect(
        &entry_of(&h, ON_CALL),
        h.keys.load(&account_of(&h, ON_CALL)).unwrap(),
    );
    settle().await;
    assert_eq!(h.wallet.pairings().len(), 1);
    assert_eq!(h.keys.len(), 1);
}

/// The same approver paired again: a new key replaces its key (the old entry deleted) under
/// the same local id, so its settings stay; the other pairing is untouched.
#[tokio::test]
async fn pairing_the_same_approver_again_keeps_its_identity() {
    let h = harness().await;
    let personal = pair_as(&h, "alice").await;
    let on_call = pair_as(&h, ON_CALL).await;
    h.wallet.set_notifications(&personal, false).unwrap();
    let old_account = account_of(&h, "alice");
    let on_call_key = public_key(&h, ON_CALL);

    *h.connector.preview.lock().unwrap() = Some(preview_as("alice"));
    let p = h.wallet.preview_pairing(&server(), CODE).await.unwrap();
    assert!(p.replaces_existing);
    assert_eq!(p.other_identities, 1);
    let again = pair_as(&h, "alice").await;
    assert_eq!(again, personal);
    assert_ne!(account_of(&h, "alice"), old_account);
    assert!(matches!(
        h.keys.load(&old_account),
        Err(KeyStoreError::NotFound(_))
    ));
    assert_eq!(h.keys.len(), 2);
    assert_eq!(public_key(&h, ON_CALL), on_call_key);
    let list = h.wallet.pairings();
    assert_eq!(list.len(), 2);
    assert!(!list[0].notifications, "its settings stayed");
    assert_eq!(list[1].id, on_call.as_str());

    // A third approver is a third pairing.
    *h.connector.preview.lock().unwrap() = Some(preview_as("bob"));
    let p = h.wallet.preview_pairing(&server(), CODE).await.unwrap();
    assert!(!p.replaces_existing);
    assert_eq!(p.other_identities, 2);
}

/// One URL speaks for one service: a second service id through a paired server is refused
/// (and so is a paired service id through a second URL, see the hostile-server test).
#[tokio::test]
async fn a_paired_server_cannot_claim_a_second_service() {
    let h = harness().await;
    pair_as(&h, "alice").await;
    *h.connector.preview.lock().unwrap() = Some(PairPreview {
        service_id: "svc_other".into(),
        ..preview_as(ON_CALL)
    });
    let err = h.wallet.preview_pairing(&server(), CODE).await.unwrap_err();
    assert_eq!(err.code(), "server_is_another_service", "{err}");
    let err = h.wallet.confirm_pairing(&server(), CODE).await.unwrap_err();
    assert_eq!(err.code(), "server_is_another_service", "{err}");
    assert_eq!(h.keys.len(), 1);
    assert_eq!(h.wallet.pairings().len(), 1);
}

/// An approval link of a service paired twice opens as the pairing that can still decide
/// (eligible, not decided), else the first that sees it, else the first.
#[tokio::test]
async fn an_approval_link_opens_as_the_identity_that_can_still_decide() {
    let h = harness().await;
    let personal_src = service_as(&h, "alice", vec![]);
    let on_call_src = service_as(&h, ON_CALL, vec![]);
    let personal = pair_as(&h, "alice").await;
    let on_call = pair_as(&h, ON_CALL).await;
    let decided_by = |n: u128, who: &[&str]| {
        let mut d = detail_of(n, "x", b"{}");
        d.decisions = who
            .iter()
            .map(|w| DecisionSummary {
                approver_id: w.to_string(),
                decision: Verdict::Approve,
                comment: None,
                decided_at: now(),
            })
            .collect();
        d
    };
    // 41: alice decided already; 42: only alice sees it; 43: both decided; 44: nobody sees it.
    for (n, who) in [(41, &["alice"][..]), (43, &["alice", ON_CALL][..])] {
        personal_src
            .details
            .lock()
            .unwrap()
            .insert(Uuid::from_u128(n), decided_by(n, who));
        on_call_src
            .details
            .lock()
            .unwrap()
            .insert(Uuid::from_u128(n), decided_by(n, who));
    }
    personal_src
        .details
        .lock()
        .unwrap()
        .insert(Uuid::from_u128(42), decided_by(42, &[]));
    let opened_as = |n: u128| {
        let link = format!(
            "countersign://approval/{}?server={SERVER}",
            Uuid::from_u128(n)
        );
        let wallet = h.wallet.clone();
        async move {
            match wallet.open_link(&link).await.unwrap() {
                LinkAction::OpenApproval { pairing, .. } => pairing,
                other => panic!("{other:?}"),
            }
        }
    };
    assert_eq!(opened_as(41).await, on_call.as_str());
    assert_eq!(opened_as(42).await, personal.as_str());
    assert_eq!(opened_as(43).await, personal.as_str());
    assert_eq!(opened_as(44).await, personal.as_str());
    // Opening signs and keeps nothing.
    assert!(h.wallet.inner.reviews.lock().unwrap().is_empty());
}

/// Muted pairings and quiet hours silence the desktop; the inbox still updates.
#[tokio::test]
async fn muted_pairings_and_quiet_hours_only_silence_the_desktop() {
    let h = harness().await;
    let personal_src = service_as(&h, "alice", vec![]);
    let on_call_src = service_as(&h, ON_CALL, vec![]);
    let personal_tx = personal_src.next_stream();
    let on_call_tx = on_call_src.next_stream();
    let _personal = pair_as(&h, "alice").await;
    let on_call = pair_as(&h, ON_CALL).await;
    settle().await;
    h.wallet.set_notifications(&on_call, false).unwrap();

    let mut n = 100u128;
    let mut send = |tx: &crate::fake::EventSender| {
        n += 1;
        let mut row = summary(n, 0, &format!("request {n}"));
        row.created_at = now();
        tx.send(Ok((n as u64, created(&row)))).unwrap();
    };
    send(&on_call_tx);
    eventually("the muted request in the inbox", || {
        h.wallet.inbox().count == 1
    })
    .await;
    send(&personal_tx);
    eventually("the personal notification", || {
        h.notifier.shown().len() == 1
    })
    .await;
    settle().await;
    assert_eq!(h.notifier.shown().len(), 1, "none for the muted pairing");
    assert_eq!(
        h.notifier.shown()[0].target.clone().unwrap().0.to_string(),
        pid(&h).to_string()
    );

    // Quiet hours around now (12:30 local, across nothing) and across midnight.
    let bad = h
        .wallet
        .set_quiet_hours(Some(QuietHoursView {
            from: "25:00".into(),
            to: "07:00".into(),
        }))
        .unwrap_err();
    assert_eq!(bad.code(), "bad_time", "{bad}");
    let s = h
        .wallet
        .set_quiet_hours(Some(QuietHoursView {
            from: "12:00".into(),
            to: "13:00".into(),
        }))
        .unwrap();
    assert!(s.quiet_now);
    send(&personal_tx);
    eventually("the quiet request in the inbox", || {
        h.wallet.inbox().count == 3
    })
    .await;
    settle().await;
    assert_eq!(h.notifier.shown().len(), 1, "none during quiet hours");

    let s = h
        .wallet
        .set_quiet_hours(Some(QuietHoursView {
            from: "22:00".into(),
            to: "07:00".into(),
        }))
        .unwrap();
    assert!(!s.quiet_now);
    send(&personal_tx);
    eventually("a notification again", || h.notifier.shown().len() == 2).await;

    // Saved, and read again after a restart.
    let again = crate::settings::SettingsFile::load(h.dir.path()).unwrap();
    assert!(again.get().muted.contains(&on_call));
    assert_eq!(again.get().quiet_hours.unwrap().from.to_string(), "22:00");
    let cleared = h.wallet.set_quiet_hours(None).unwrap();
    assert_eq!(cleared.quiet_hours, None);
    assert_eq!(
        h.wallet
            .set_notifications(&PairingId::named("p-unknown"), false)
            .unwrap_err()
            .code(),
        "unknown_pairing"
    );
}

/// A damaged settings file does not stop the Wallet: the defaults apply.
#[tokio::test]
async fn a_damaged_settings_file_falls_back_to_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(crate::settings::FILE_NAME), b"{oops").unwrap();
    let (wallet, _connector) = start_on(dir.path(), Arc::new(MemoryKeyStore::new())).await;
    let s = wallet.settings();
    assert_eq!(s.quiet_hours, None);
    wallet
        .set_quiet_hours(Some(QuietHoursView {
            from: "22:00".into(),
            to: "07:00".into(),
        }))
        .unwrap();
    assert!(crate::settings::SettingsFile::load(dir.path()).is_ok());
}

/// Removing a pairing deletes its entry in the real Secret Service and leaves the other
/// pairing's entry (run by scripts/wallet-desktop-check.sh under an unlocked gnome-keyring).
#[tokio::test]
#[ignore = "needs an unlocked Secret Service on the session bus"]
async fn keychain_removing_one_pairing_deletes_only_its_entry() {
    use crate::keystore::KeychainStore;
    let dir = tempfile::tempdir().unwrap();
    let connector = FakeConnector::new();
    let keychain = Arc::new(KeychainStore::new());
    let wallet = Wallet::start(WalletParts {
        config: WalletConfig {
            data_dir: dir.path().to_path_buf(),
            device_name: "test device".into(),
            sync: SyncConfig::default(),
        },
        connector: connector.clone(),
        keys: keychain.clone(),
        notifier: Arc::new(RecordingNotifier::default()),
        observer: Arc::new(Updates::default()),
        clock: Arc::new(FixedClock(now())),
    })
    .await
    .unwrap();
    let mut ids = Vec::new();
    for who in ["alice", ON_CALL] {
        *connector.preview.lock().unwrap() = Some(preview_as(who));
        ids.push(PairingId::named(
            wallet.confirm_pairing(&server(), CODE).await.unwrap().id,
        ));
    }
    let entries = PairingRegistry::load(dir.path())
        .unwrap()
        .entries()
        .to_vec();
    let (removed, kept) = (
        entries[0].key_account.clone(),
        entries[1].key_account.clone(),
    );
    assert!(keychain.load(&removed).is_ok());
    wallet.remove_pairing(&ids[0]).await.unwrap();
    assert!(
        matches!(keychain.load(&removed), Err(KeyStoreError::NotFound(_))),
        "the removed pairing's entry is gone from the Secret Service"
    );
    assert!(keychain.load(&kept).is_ok(), "the other entry stays");
    println!("removed {removed}, kept {kept}");
    wallet.remove_pairing(&ids[1]).await.unwrap();
    assert!(matches!(
        keychain.load(&kept),
        Err(KeyStoreError::NotFound(_))
    ));
}
