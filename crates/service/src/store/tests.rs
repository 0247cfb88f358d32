//! Store behaviour that the protocol depends on: compare-and-set transitions, one decision
//! per approver, one-time pairing codes, and an append-only, verifiable audit log.

use super::testing::temp_store;
use super::*;
use crate::policy::RequiredGate;
use countersign_core::audit::AuditKind;
use countersign_core::encoding::sha256_hex;
use countersign_core::keys::{generate_signing_key, key_id_for};
use countersign_core::{ApprovalStatus, Decision, Statement, Timestamp, Verdict};
use serde_json::json;
use uuid::Uuid;

fn t(secs: i64) -> Timestamp {
    Timestamp::from_unix(1_800_000_000 + secs).unwrap()
}

fn new_approval(quorum: u32) -> NewApproval {
    let statement = Statement {
        v: 1,
        service: "svc".into(),
        approval_id: Uuid::now_v7(),
        app: "app".into(),
        grant: "g".into(),
        method: "POST".into(),
        url: "http://127.0.0.1:1/x".into(),
        headers: Default::default(),
        body_sha256: sha256_hex(b""),
        body_size: 0,
        reason: "r".into(),
        created_at: t(0),
        expires_at: t(60),
        policy_id: "p".into(),
    };
    NewApproval {
        request_digest: statement.request_digest(),
        statement,
        body: Vec::new(),
        requirement: gates(quorum),
        matched: Vec::new(),
        status: ApprovalStatus::Pending,
        lease: None,
    }
}

/// One gate of alice and bob.
fn gates(quorum: u32) -> Vec<RequiredGate> {
    vec![RequiredGate {
        policy: "p".into(),
        gate: "team".into(),
        quorum,
        members: vec!["alice".into(), "bob".into()],
    }]
}

/// Registers a device `key_{approver}` (as pairing would).
async fn add_device(store: &Store, approver: &str) {
    let key = generate_signing_key().verifying_key();
    sqlx::query("INSERT INTO devices (key_id, approver_id, public_key, device_name, created_at) VALUES ($1, $2, $3, 'test', 0)")
        .bind(format!("key_{approver}"))
        .bind(approver)
        .bind(countersign_core::keys::encode_public_key(&key))
        .execute(&store.writer)
        .await
        .unwrap();
}

async fn decide(
    store: &Store,
    new: &NewApproval,
    approver: &str,
    verdict: Verdict,
    at: i64,
    now: i64,
) -> DecideOutcome {
    let quorum = new.requirement[0].quorum;
    store
        .decide(
            &decision(new, approver, verdict, at),
            "sig",
            &gates(quorum),
            t(now),
        )
        .await
        .unwrap()
}

async fn create(store: &Store, quorum: u32) -> NewApproval {
    let new = new_approval(quorum);
    let id = new.statement.approval_id;
    let created = store
        .create_approval(
            &new,
            &[],
            vec![AuditDraft::approval(
                AuditKind::Requested,
                id,
                "app:app",
                json!({"status": "pending"}),
            )],
            1000,
        )
        .await
        .unwrap();
    assert!(matches!(created, Created::Stored(_)));
    new
}

fn decision(new: &NewApproval, approver: &str, verdict: Verdict, at: i64) -> Decision {
    Decision {
        v: 1,
        approval_id: new.statement.approval_id,
        request_digest: new.request_digest.clone(),
        decision: verdict,
        comment: None,
        decided_at: t(at),
        approver_id: approver.into(),
        key_id: format!("key_{approver}"),
    }
}

#[tokio::test]
async fn quorum_two_needs_two_approvers_and_refuses_repeats() {
    let (store, _dir) = temp_store().await;
    add_device(&store, "alice").await;
    add_device(&store, "bob").await;
    let new = create(&store, 2).await;
    let first = decide(&store, &new, "alice", Verdict::Approve, 1, 1).await;
    assert!(matches!(
        first,
        DecideOutcome::Recorded {
            status: ApprovalStatus::Pending,
            ..
        }
    ));
    let again = decide(&store, &new, "alice", Verdict::Approve, 2, 2).await;
    assert!(matches!(again, DecideOutcome::Duplicate));
    let second = decide(&store, &new, "bob", Verdict::Approve, 3, 3).await;
    assert!(matches!(
        second,
        DecideOutcome::Recorded {
            status: ApprovalStatus::Approved,
            ..
        }
    ));
    let record = store
        .approval(new.statement.approval_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, ApprovalStatus::Approved);
    assert_eq!(record.decisions.len(), 2);
}

#[tokio::test]
async fn decisions_after_a_deny_or_the_window_change_nothing() {
    let (store, _dir) = temp_store().await;
    add_device(&store, "alice").await;
    add_device(&store, "bob").await;
    let denied = create(&store, 2).await;
    decide(&store, &denied, "alice", Verdict::Deny, 1, 1).await;
    let late = decide(&store, &denied, "bob", Verdict::Approve, 2, 2).await;
    assert!(matches!(
        late,
        DecideOutcome::NotPending(ApprovalStatus::Denied)
    ));

    let expired = create(&store, 1).await;
    let outcome = decide(&store, &expired, "alice", Verdict::Approve, 59, 60).await;
    assert!(matches!(outcome, DecideOutcome::Expired));
    let record = store
        .approval(expired.statement.approval_id)
        .await
        .unwrap()
        .unwrap();
    assert!(record.decisions.is_empty());
}

#[tokio::test]
async fn a_transition_happens_once() {
    let (store, _dir) = temp_store().await;
    let new = create(&store, 1).await;
    let id = new.statement.approval_id;
    let draft = || AuditDraft::approval(AuditKind::Cancelled, id, "app:app", json!({}));
    let first = store
        .transition(
            id,
            &[ApprovalStatus::Pending],
            ApprovalStatus::Cancelled,
            Outcome::None,
            draft(),
            t(1),
        )
        .await
        .unwrap();
    assert!(first.is_some());
    let second = store
        .transition(
            id,
            &[ApprovalStatus::Pending],
            ApprovalStatus::Cancelled,
            Outcome::None,
            draft(),
            t(2),
        )
        .await
        .unwrap();
    assert!(second.is_none());
    assert_eq!(
        store.audit_for(id).await.unwrap().len(),
        2,
        "requested + one cancelled"
    );
}

#[tokio::test]
async fn pairing_codes_work_once_and_not_late() {
    let (store, _dir) = temp_store().await;
    let code = "abcdefghijklmnopqrstuv";
    store
        .create_pairing_code(code, "alice", t(0), t(900), "admin")
        .await
        .unwrap();
    let key = generate_signing_key().verifying_key();
    let paired = store
        .redeem_pairing_code(code, &key, "laptop", t(1))
        .await
        .unwrap();
    assert!(matches!(&paired, PairOutcome::Paired { key_id, .. } if *key_id == key_id_for(&key)));
    let other = generate_signing_key().verifying_key();
    assert!(matches!(
        store
            .redeem_pairing_code(code, &other, "x", t(2))
            .await
            .unwrap(),
        PairOutcome::Used
    ));

    store
        .create_pairing_code("zyxwvutsrqponmlkjihgfe", "alice", t(0), t(900), "admin")
        .await
        .unwrap();
    let late = store
        .redeem_pairing_code("zyxwvutsrqponmlkjihgfe", &other, "x", t(900))
        .await
        .unwrap();
    assert!(matches!(late, PairOutcome::Expired));
    assert!(store.device(&key_id_for(&other)).await.unwrap().is_none());
}

#[tokio::test]
async fn the_audit_log_is_append_only_and_verifies() {
    let (store, _dir) = temp_store().await;
    create(&store, 1).await;
    store.revoke_grant("g", t(5), "admin").await.unwrap();
    assert_eq!(store.verify_audit().await.unwrap(), Ok(2));
    let update = sqlx::query("UPDATE audit SET actor = 'x' WHERE seq = 1")
        .execute(&store.writer)
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM audit")
        .execute(&store.writer)
        .await;
    assert!(delete.is_err());
}

#[tokio::test]
async fn a_revoked_or_unknown_key_decides_nothing() {
    let (store, _dir) = temp_store().await;
    let new = create(&store, 1).await;
    assert!(matches!(
        decide(&store, &new, "alice", Verdict::Approve, 1, 1).await,
        DecideOutcome::Revoked
    ));
    add_device(&store, "alice").await;
    sqlx::query("UPDATE devices SET revoked_at = 1 WHERE key_id = 'key_alice'")
        .execute(&store.writer)
        .await
        .unwrap();
    assert!(matches!(
        decide(&store, &new, "alice", Verdict::Approve, 1, 1).await,
        DecideOutcome::Revoked
    ));
    let record = store
        .approval(new.statement.approval_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (record.status, record.decisions.len()),
        (ApprovalStatus::Pending, 0)
    );
}

#[tokio::test]
async fn pending_approvals_beyond_the_cap_store_and_count_nothing() {
    let (store, _dir) = temp_store().await;
    let hit = RuleHit {
        policy: "p".into(),
        rule: "r".into(),
        app: "app".into(),
        count: 100,
        per_ms: 60_000,
    };
    let draft = |id| {
        vec![AuditDraft::approval(
            AuditKind::Requested,
            id,
            "app:app",
            json!({}),
        )]
    };
    let create = |new: NewApproval| {
        let store = store.clone();
        let hit = hit.clone();
        async move {
            let id = new.statement.approval_id;
            store
                .create_approval(&new, std::slice::from_ref(&hit), draft(id), 2)
                .await
                .unwrap()
        }
    };
    let mut first = Vec::new();
    for _ in 0..2 {
        let new = new_approval(1);
        first.push(new.statement.approval_id);
        assert!(matches!(create(new).await, Created::Stored(_)));
    }
    let head = store.audit_head().await.unwrap();
    let refused = new_approval(1);
    let id = refused.statement.approval_id;
    assert!(matches!(create(refused).await, Created::TooManyPending));
    assert!(store.approval(id).await.unwrap().is_none());
    assert_eq!(store.audit_head().await.unwrap(), head);
    let rules = [("p".to_string(), "r".to_string(), 60_000)];
    let counts = store.rule_hit_counts("app", &rules, t(1)).await.unwrap();
    assert_eq!(
        counts[&("p".to_string(), "r".to_string())],
        2,
        "no hit counted"
    );
    // A call that runs at once is not pending: unaffected.
    let mut now = new_approval(1);
    now.status = ApprovalStatus::Executing;
    assert!(matches!(create(now).await, Created::Stored(_)));
    // Another app has its own cap.
    let mut other = new_approval(1);
    other.statement.app = "other".into();
    assert!(matches!(create(other).await, Created::Stored(_)));
    // Once they leave pending (expired here), they no longer count.
    for id in first {
        let draft = AuditDraft::approval(AuditKind::Expired, id, "service", json!({}));
        store
            .transition(
                id,
                &[ApprovalStatus::Pending],
                ApprovalStatus::Expired,
                Outcome::None,
                draft,
                t(60),
            )
            .await
            .unwrap()
            .unwrap();
    }
    let mut later = new_approval(1);
    later.statement.created_at = t(60);
    later.statement.expires_at = t(120);
    assert!(matches!(create(later).await, Created::Stored(_)));
    let mut third = new_approval(1);
    third.statement.created_at = t(61);
    assert!(matches!(create(third).await, Created::Stored(_)));
    let mut fourth = new_approval(1);
    fourth.statement.created_at = t(62);
    assert!(matches!(create(fourth).await, Created::TooManyPending));
}

#[tokio::test]
async fn a_full_rate_limit_stores_nothing() {
    let (store, _dir) = temp_store().await;
    let hit = RuleHit {
        policy: "p".into(),
        rule: "small".into(),
        app: "app".into(),
        count: 2,
        per_ms: 60_000,
    };
    let draft = |id| {
        vec![AuditDraft::approval(
            AuditKind::Requested,
            id,
            "app:app",
            json!({}),
        )]
    };
    for _ in 0..2 {
        let new = new_approval(1);
        let id = new.statement.approval_id;
        assert!(matches!(
            store
                .create_approval(&new, std::slice::from_ref(&hit), draft(id), 1000)
                .await
                .unwrap(),
            Created::Stored(_)
        ));
    }
    let new = new_approval(1);
    let id = new.statement.approval_id;
    assert!(matches!(
        store
            .create_approval(&new, std::slice::from_ref(&hit), draft(id), 1000)
            .await
            .unwrap(),
        Created::RateLimitFilled
    ));
    assert!(store.approval(id).await.unwrap().is_none());
    let rules = [("p".to_string(), "small".to_string(), 60_000)];
    let counts = store.rule_hit_counts("app", &rules, t(1)).await.unwrap();
    assert_eq!(counts[&("p".to_string(), "small".to_string())], 2);
    // Another app has its own count; the period slides.
    assert_eq!(
        store.rule_hit_counts("other", &rules, t(1)).await.unwrap()
            [&("p".to_string(), "small".to_string())],
        0
    );
    assert_eq!(
        store.rule_hit_counts("app", &rules, t(61)).await.unwrap()
            [&("p".to_string(), "small".to_string())],
        0
    );
}

#[tokio::test]
async fn revoking_a_device_withdraws_its_decisions_on_pending_approvals_only() {
    let (store, _dir) = temp_store().await;
    add_device(&store, "alice").await;
    add_device(&store, "bob").await;
    let pending = create(&store, 2).await;
    let done = create(&store, 1).await;
    assert!(matches!(
        decide(&store, &pending, "alice", Verdict::Approve, 1, 1).await,
        DecideOutcome::Recorded {
            status: ApprovalStatus::Pending,
            ..
        }
    ));
    assert!(matches!(
        decide(&store, &done, "alice", Verdict::Approve, 1, 1).await,
        DecideOutcome::Recorded {
            status: ApprovalStatus::Approved,
            ..
        }
    ));
    let head = store.audit_head().await.unwrap();

    let revoked = store
        .revoke_device("key_alice", t(2), "admin", "lost phone")
        .await
        .unwrap()
        .expect("revoked");
    assert_eq!(revoked.approver_id, "alice");
    assert_eq!(revoked.entry.kind, "device_revoked");
    assert_eq!(revoked.entry.seq, head + 1);
    assert_eq!(revoked.entry.data["reason"], "lost phone");
    let ids: Vec<Uuid> = revoked.withdrawn.iter().map(|w| w.approval_id).collect();
    assert_eq!(ids, [pending.statement.approval_id], "only the pending one");
    let entry = &revoked.withdrawn[0].entry;
    assert_eq!(
        (entry.kind.as_str(), entry.approval_id, entry.seq),
        (
            "decision_withdrawn",
            Some(pending.statement.approval_id),
            head + 2
        )
    );
    assert_eq!(entry.data["status"], "pending");

    // The pending approval no longer counts Alice; the approved one keeps her decision.
    let record = store
        .approval(pending.statement.approval_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, ApprovalStatus::Pending);
    assert!(record.decisions.is_empty());
    let record = store
        .approval(done.statement.approval_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.decisions.len(), 1);
    assert!(!store.device_is_live("key_alice").await.unwrap());
    assert!(store.device_is_live("key_bob").await.unwrap());
    assert!(!store.device_is_live("key_nobody").await.unwrap());

    // Bob alone does not fill a gate of two; Alice cannot decide again.
    assert!(matches!(
        decide(&store, &pending, "bob", Verdict::Approve, 3, 3).await,
        DecideOutcome::Recorded {
            status: ApprovalStatus::Pending,
            ..
        }
    ));
    // Twice, or unknown: nothing happens.
    let head = store.audit_head().await.unwrap();
    assert!(store
        .revoke_device("key_alice", t(4), "admin", "again")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .revoke_device("key_nobody", t(4), "admin", "?")
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.audit_head().await.unwrap(), head);
    assert!(store.verify_audit().await.unwrap().is_ok());
}

#[tokio::test]
async fn a_withdrawn_approver_cannot_decide_that_approval_again_from_a_new_device() {
    let (store, _dir) = temp_store().await;
    add_device(&store, "alice").await;
    let new = create(&store, 2).await;
    decide(&store, &new, "alice", Verdict::Approve, 1, 1).await;
    store
        .revoke_device("key_alice", t(2), "admin", "r")
        .await
        .unwrap()
        .unwrap();
    let key = generate_signing_key().verifying_key();
    sqlx::query("INSERT INTO devices (key_id, approver_id, public_key, device_name, created_at) VALUES ('key_alice2', 'alice', $1, 'new', 3)")
        .bind(countersign_core::keys::encode_public_key(&key))
        .execute(&store.writer)
        .await
        .unwrap();
    let mut again = decision(&new, "alice", Verdict::Approve, 3);
    again.key_id = "key_alice2".into();
    assert!(matches!(
        store.decide(&again, "sig", &gates(2), t(3)).await.unwrap(),
        DecideOutcome::Duplicate
    ));
}

#[tokio::test]
async fn revoking_an_approver_revokes_every_live_device_and_cancels_unused_codes() {
    let (store, _dir) = temp_store().await;
    add_device(&store, "alice").await;
    add_device(&store, "bob").await;
    let key = generate_signing_key().verifying_key();
    sqlx::query("INSERT INTO devices (key_id, approver_id, public_key, device_name, created_at, revoked_at) VALUES ('key_old', 'alice', $1, 'old', 0, 1)")
        .bind(countersign_core::keys::encode_public_key(&key))
        .execute(&store.writer)
        .await
        .unwrap();
    store
        .create_pairing_code("code-1", "alice", t(0), t(900), "admin")
        .await
        .unwrap();
    let done = store
        .revoke_approver_devices("alice", t(1), "admin", "left")
        .await
        .unwrap();
    let keys: Vec<&str> = done.devices.iter().map(|d| d.key_id.as_str()).collect();
    assert_eq!(keys, ["key_alice"]);
    assert_eq!(done.codes_cancelled, 1);
    assert!(matches!(
        store.preview_pairing_code("code-1", t(2)).await.unwrap(),
        Err(PairOutcome::Expired)
    ));
    let rows = store.devices().await.unwrap();
    let state: Vec<(&str, bool)> = rows
        .iter()
        .map(|r| (r.key_id.as_str(), r.revoked_at.is_some()))
        .collect();
    assert_eq!(
        state,
        [("key_alice", true), ("key_bob", false), ("key_old", true)]
    );
    assert_eq!(rows[0].revoked_at, Some(t(1)));

    // Nothing left: nothing written.
    let head = store.audit_head().await.unwrap();
    let again = store
        .revoke_approver_devices("alice", t(2), "admin", "left")
        .await
        .unwrap();
    assert!(again.devices.is_empty() && again.codes_cancelled == 0);
    assert_eq!(store.audit_head().await.unwrap(), head);
}

#[tokio::test]
async fn an_export_copies_everything_and_the_copy_still_verifies_and_decides() {
    let dir = tempfile::tempdir().unwrap();
    let source = Store::open_sqlite(&dir.path().join("source.db"))
        .await
        .unwrap();
    let service_id = source.service_id().await.unwrap();
    add_device(&source, "alice").await;
    add_device(&source, "bob").await;
    let decided = create(&source, 2).await;
    decide(&source, &decided, "alice", Verdict::Approve, 1, 1).await;
    decide(&source, &decided, "bob", Verdict::Approve, 2, 2).await;
    let pending = create(&source, 2).await;
    decide(&source, &pending, "bob", Verdict::Approve, 3, 3).await;
    let before = source
        .approval(decided.statement.approval_id)
        .await
        .unwrap()
        .unwrap();

    // Into a fresh database of the backend under test (PostgreSQL when configured).
    let (target, _guard) = temp_store().await;
    let report = source.export_to(&target).await.unwrap();
    let rows = |table: &str| report.tables.iter().find(|(t, _)| *t == table).unwrap().1;
    assert_eq!(rows("approvals"), 2);
    assert_eq!(rows("decisions"), 3);
    assert_eq!(rows("devices"), 2);
    assert_eq!(rows("audit"), 5);

    assert_eq!(target.verify_audit().await.unwrap(), Ok(5));
    assert_eq!(target.service_id().await.unwrap(), service_id);
    let after = target
        .approval(decided.statement.approval_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.status, ApprovalStatus::Approved);
    assert_eq!(after.statement, before.statement);
    assert_eq!(after.decisions.len(), 2);
    assert_eq!(
        after.decisions[0].approver_id, "alice",
        "decision order kept"
    );
    // The copy goes on: alice completes the pending approval there, the chain grows, and the
    // per-app pending count was rebuilt (the one pending approval counts).
    let pending_count: i64 =
        sqlx::query_scalar("SELECT pending FROM app_pending WHERE app_id = 'app'")
            .fetch_one(&target.reader)
            .await
            .unwrap();
    assert_eq!(pending_count, 1);
    let done = decide(&target, &pending, "alice", Verdict::Approve, 4, 4).await;
    assert!(matches!(
        done,
        DecideOutcome::Recorded {
            status: ApprovalStatus::Approved,
            ..
        }
    ));
    assert_eq!(target.verify_audit().await.unwrap(), Ok(6));

    // A second export into the same target is refused and changes nothing.
    let again = source.export_to(&target).await.unwrap_err();
    assert!(matches!(again, ExportError::TargetNotEmpty(_)), "{again}");
    assert_eq!(target.verify_audit().await.unwrap(), Ok(6));
    source.close().await;
    target.close().await;
}

#[tokio::test]
async fn on_sqlite_the_writer_never_checkpoints_and_the_background_task_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("c.db")).await.unwrap();
    let auto: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(&store.writer)
        .await
        .unwrap();
    assert_eq!(auto, 0, "no checkpoint on the request path");
    for _ in 0..300 {
        create(&store, 1).await;
    }
    let db_size = || std::fs::metadata(dir.path().join("c.db")).unwrap().len();
    let wal = std::fs::metadata(dir.path().join("c.db-wal"))
        .unwrap()
        .len();
    assert!(wal > 0, "the writes are in the WAL");
    let before = db_size();
    // The background task checkpoints: the database file takes the WAL's pages.
    let stop = tokio_util::sync::CancellationToken::new();
    let task = {
        let store = store.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            store
                .checkpoint_wal(std::time::Duration::from_millis(20), stop)
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.cancel();
    task.await.unwrap();
    assert!(
        db_size() > before + 100 * 1024,
        "the task copied the WAL into the database ({before} -> {} bytes)",
        db_size()
    );
    store.close().await;
}
