//! The Wallet's logic (no window) against the real service on loopback: pairing, the live
//! inbox, approve, deny, decided elsewhere, expiry, and a service restart. Keys live in an
//! in-memory store here; the real keychain is covered by the window e2e.

use countersign_core::{ApprovalStatus, Verdict};
use countersign_sdk::{Error as SdkError, PendingApproval, ProxyOutcome, ProxyRequest};
use countersign_wallet::notify::RecordingNotifier;
use countersign_wallet::registry::PairingId;
use countersign_wallet::source::HttpConnector;
use countersign_wallet::sync::{SyncConfig, SyncStatus};
use countersign_wallet::wallet::{Observer, SystemClock};
use countersign_wallet::{MemoryKeyStore, Wallet, WalletConfig, WalletParts, WalletUpdate};
use countersign_wallet_e2e::stack::{Stack, ON_CALL};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Updates(Mutex<Vec<WalletUpdate>>);

impl Observer for Updates {
    fn update(&self, update: WalletUpdate) {
        self.0.lock().unwrap().push(update);
    }
}

struct Paired {
    wallet: Wallet,
    /// The local id of the pairing as alice.
    pairing: PairingId,
    notifier: Arc<RecordingNotifier>,
    updates: Arc<Updates>,
    keys: Arc<MemoryKeyStore>,
    _dir: tempfile::TempDir,
}

async fn paired_wallet(stack: &Stack) -> Paired {
    let dir = tempfile::tempdir().unwrap();
    let notifier = Arc::new(RecordingNotifier::default());
    let updates = Arc::new(Updates::default());
    let keys = Arc::new(MemoryKeyStore::new());
    let wallet = Wallet::start(WalletParts {
        config: WalletConfig {
            data_dir: dir.path().to_path_buf(),
            device_name: "integration test".into(),
            sync: SyncConfig {
                min_backoff: Duration::from_millis(200),
                max_backoff: Duration::from_secs(2),
                stable_after: Duration::from_secs(5),
                jitter: false,
            },
        },
        connector: Arc::new(HttpConnector::with_defaults().unwrap()),
        keys: keys.clone(),
        notifier: notifier.clone(),
        observer: updates.clone(),
        clock: Arc::new(SystemClock),
    })
    .await
    .unwrap();
    let pairing = pair_as(&wallet, stack, "alice", "Alice Example", &keys).await;
    assert_eq!(keys.len(), 1);
    let p = Paired {
        wallet,
        pairing,
        notifier,
        updates,
        keys,
        _dir: dir,
    };
    wait("the first sync", || p.live()).await;
    p
}

/// Pairs `wallet` as `approver` through a one-time link; returns the pairing's local id.
async fn pair_as(
    wallet: &Wallet,
    stack: &Stack,
    approver: &str,
    name: &str,
    keys: &MemoryKeyStore,
) -> PairingId {
    let link = stack.invite(approver).await.unwrap();
    let countersign_wallet::links::LinkAction::ConfirmPairing { server, code } =
        wallet.open_link(&link).await.unwrap()
    else {
        panic!("not a pairing link")
    };
    let before = keys.len();
    let preview = wallet.preview_pairing(&server, &code).await.unwrap();
    assert_eq!(preview.approver_name.text, name);
    assert_eq!(keys.len(), before, "previewing does not pair");
    PairingId::named(wallet.confirm_pairing(&server, &code).await.unwrap().id)
}

impl Paired {
    fn live(&self) -> bool {
        self.wallet
            .pairings()
            .iter()
            .any(|p| p.status == SyncStatus::Live)
    }
}

async fn wait(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn request(stack: &Stack, reason: &str) -> PendingApproval {
    request_at(stack, "/v1/refunds", reason).await
}

async fn request_at(stack: &Stack, path: &str, reason: &str) -> PendingApproval {
    let agent = stack.agent().unwrap();
    let req = ProxyRequest::post("payments", path, reason)
        .json(&serde_json::json!({"order": reason}))
        .unwrap();
    match agent.proxy_request(req).await.unwrap() {
        ProxyOutcome::Pending(p) => p,
        ProxyOutcome::Completed(_) => panic!("ran without approval"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pair_live_inbox_approve_and_deny() {
    let stack = Stack::start().await.unwrap();
    let w = paired_wallet(&stack).await;

    let p1 = request(&stack, "Refund order A-1 (duplicate charge)").await;
    wait("the live request", || w.wallet.inbox().count == 1).await;
    assert_eq!(
        w.wallet.inbox().rows[0].reason.text,
        "Refund order A-1 (duplicate charge)"
    );
    wait("the notification", || !w.notifier.shown().is_empty()).await;
    assert!(w.notifier.shown()[0].body.contains("duplicate charge"));

    let view = w.wallet.review(&w.pairing, p1.approval_id).await.unwrap();
    assert!(view.can_decide);
    assert_eq!(view.fingerprint.len(), 19);
    // The service has the history endpoint: nothing of this kind was approved before.
    assert_eq!(view.what_is_new.len(), 1, "{:?}", view.what_is_new);
    assert!(view.what_is_new[0]
        .text
        .starts_with("no request of this kind"));
    // Not approvable until the view reports the body seen to its end.
    assert!(view.body_gate.shown_whole && !view.body_gate.seen);
    let early = w
        .wallet
        .decide(
            &w.pairing,
            view.approval_id,
            Verdict::Approve,
            None,
            &view.digest,
        )
        .await
        .unwrap_err();
    assert_eq!(early.code(), "body_not_seen");
    w.wallet
        .body_seen(&w.pairing, view.approval_id, &view.digest)
        .await
        .unwrap();
    let waiter = tokio::spawn(async move { p1.wait(Duration::from_secs(20)).await });
    let after = w
        .wallet
        .decide(
            &w.pairing,
            view.approval_id,
            Verdict::Approve,
            None,
            &view.digest,
        )
        .await
        .unwrap();
    assert_ne!(after.status, ApprovalStatus::Pending);
    let result = waiter.await.unwrap().unwrap();
    assert!((200..300).contains(&result.status()));
    assert_eq!(w.wallet.inbox().count, 0);
    let done = w.wallet.review(&w.pairing, view.approval_id).await.unwrap();
    assert_eq!(done.status, ApprovalStatus::Succeeded);
    assert_eq!(done.outcome.unwrap().provider_status, Some(result.status()));

    let p2 = request(&stack, "Refund order A-2").await;
    wait("the second request", || w.wallet.inbox().count == 1).await;
    let view = w.wallet.review(&w.pairing, p2.approval_id).await.unwrap();
    w.wallet
        .decide(
            &w.pairing,
            p2.approval_id,
            Verdict::Deny,
            Some("not a duplicate".into()),
            &view.digest,
        )
        .await
        .unwrap();
    match p2.wait(Duration::from_secs(20)).await {
        Err(SdkError::Denied { comment, .. }) => {
            assert_eq!(comment.as_deref(), Some("not a duplicate"))
        }
        other => panic!("expected a denial: {other:?}"),
    }
    // A second decision on the same request is refused before anything is signed.
    let again = w
        .wallet
        .decide(
            &w.pairing,
            p2.approval_id,
            Verdict::Approve,
            None,
            &view.digest,
        )
        .await
        .unwrap_err();
    assert_eq!(again.code(), "not_pending");
    let history = w.wallet.history("A-2 denied").await.unwrap();
    assert_eq!(history.len(), 1);
    w.wallet.shutdown();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decided_elsewhere_and_expiry_leave_the_inbox() {
    let stack = Stack::start_with_window("4s").await.unwrap();
    let w = paired_wallet(&stack).await;
    // Alice's second device: a headless approver.
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("alice.json");
    let link = stack.invite("alice").await.unwrap();
    countersign_cli::headless::pair(&link, &key_file, "second device")
        .await
        .unwrap();
    let other = countersign_cli::headless::client(&key_file).unwrap();

    let p1 = request(&stack, "Decided on the other device").await;
    wait("the request", || w.wallet.inbox().count == 1).await;
    let review = other.review(p1.approval_id).await.unwrap();
    other.decide(&review, Verdict::Deny, None).await.unwrap();
    wait("removal after a decision elsewhere", || {
        w.wallet.inbox().count == 0
    })
    .await;

    let p2 = request(&stack, "Left to expire").await;
    wait("the request", || w.wallet.inbox().count == 1).await;
    let view = w.wallet.review(&w.pairing, p2.approval_id).await.unwrap();
    wait("expiry", || w.wallet.inbox().count == 0).await;
    wait("the expired event", || {
        w.updates.0.lock().unwrap().iter().any(|u| {
            matches!(u, WalletUpdate::ApprovalChanged { approval_id, status, .. }
                if *approval_id == p2.approval_id && *status == ApprovalStatus::Expired)
        })
    })
    .await;
    let err = w
        .wallet
        .decide(
            &w.pairing,
            p2.approval_id,
            Verdict::Approve,
            None,
            &view.digest,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_pending");
    assert!(matches!(
        p2.wait(Duration::from_secs(10)).await,
        Err(SdkError::Expired { .. })
    ));
    w.wallet.shutdown();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_restart_reconnects_and_refreshes() {
    let mut stack = Stack::start().await.unwrap();
    let w = paired_wallet(&stack).await;
    let before = request(&stack, "Before the restart").await;
    wait("the request", || w.wallet.inbox().count == 1).await;

    stack.restart(Duration::from_millis(500)).await.unwrap();
    wait("a reconnection attempt", || {
        w.updates.0.lock().unwrap().iter().any(|u| {
            matches!(
                u,
                WalletUpdate::Connection {
                    status: SyncStatus::Retrying { .. },
                    ..
                }
            )
        })
    })
    .await;
    wait("live again", || w.live()).await;
    // The refresh after reconnecting kept the pending request; a new one arrives live.
    assert_eq!(w.wallet.inbox().count, 1);
    let after = request(&stack, "After the restart").await;
    wait("the new request", || w.wallet.inbox().count == 2).await;
    let view = w
        .wallet
        .review(&w.pairing, after.approval_id)
        .await
        .unwrap();
    assert_eq!(view.reason.text, "After the restart");
    let _ = before;
    assert_eq!(w.keys.len(), 1);
    w.wallet.shutdown();
    stack.stop().await;
}

/// Two approvers of one service paired in one Wallet: each pairing receives its own requests
/// and decides with its own key; one cannot open the other's; removing one leaves the other
/// receiving and deciding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pairings_of_one_service_each_get_their_own_requests() {
    let stack = Stack::start_two_approvers().await.unwrap();
    let w = paired_wallet(&stack).await;
    let on_call = pair_as(&w.wallet, &stack, ON_CALL, "On Call", &w.keys).await;
    assert_eq!(w.keys.len(), 2);
    assert_ne!(on_call, w.pairing);
    wait("both live", || {
        w.wallet
            .pairings()
            .iter()
            .all(|p| p.status == SyncStatus::Live && p.last_contact.is_some())
    })
    .await;

    let refund = request(&stack, "Refund for alice").await;
    let payout = request_at(&stack, "/v1/payouts", "Payout for on-call").await;
    wait("both requests", || w.wallet.inbox().count == 2).await;
    let rows = w.wallet.inbox().rows;
    let row_of = |id| rows.iter().find(|r| r.approval_id == id).unwrap();
    assert_eq!(row_of(refund.approval_id).pairing, w.pairing.as_str());
    assert_eq!(row_of(payout.approval_id).pairing, on_call.as_str());
    assert_eq!(row_of(payout.approval_id).approver.text, "On Call");
    wait("two notifications", || w.notifier.shown().len() == 2).await;

    // Alice's pairing cannot open the on-call request: the service does not show it to her.
    let err = w
        .wallet
        .review(&w.pairing, payout.approval_id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unknown_approval", "{err}");
    // A link to it opens as the on-call pairing.
    let link = format!(
        "countersign://approval/{}?server={}",
        payout.approval_id, stack.url
    );
    match w.wallet.open_link(&link).await.unwrap() {
        countersign_wallet::links::LinkAction::OpenApproval { pairing, .. } => {
            assert_eq!(pairing, on_call.as_str())
        }
        other => panic!("{other:?}"),
    }

    // Removing alice's pairing leaves the on-call one working.
    w.wallet.remove_pairing(&w.pairing).await.unwrap();
    assert_eq!(w.keys.len(), 1);
    assert_eq!(w.wallet.inbox().count, 1);
    let later = request_at(&stack, "/v1/payouts", "Second payout").await;
    let _ignored = request(&stack, "A refund nobody here approves now").await;
    wait("the second payout", || w.wallet.inbox().count == 2).await;
    assert!(w
        .wallet
        .inbox()
        .rows
        .iter()
        .all(|r| r.pairing == on_call.as_str()));
    let view = w.wallet.review(&on_call, later.approval_id).await.unwrap();
    assert_eq!(view.deciding_as.as_ref().unwrap().text, "On Call");
    let after = w
        .wallet
        .decide(
            &on_call,
            later.approval_id,
            Verdict::Deny,
            Some("not tonight".into()),
            &view.digest,
        )
        .await
        .unwrap();
    assert_eq!(after.status, ApprovalStatus::Denied);
    assert!(matches!(
        later.wait(Duration::from_secs(10)).await,
        Err(SdkError::Denied { .. })
    ));
    let _ = refund;
    w.wallet.shutdown();
    stack.stop().await;
}
