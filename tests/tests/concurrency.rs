//! Races on one approval: however many decisions, cancels and polls arrive at once, an
//! approval is decided once and executed at most once.

use countersign_core::Verdict;
use countersign_sdk::{ApprovalStatus, Error};
use countersign_tests::{AppOptions, TestApp, TestApprover, WAIT};
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;

/// Posts `n` decisions on `id` at once, spread over `devices` (each task signs its own and
/// signs in on its own); returns how many answers each `(status, code)` got.
async fn storm(
    devices: &[TestApprover],
    id: Uuid,
    digest: &str,
    n: usize,
) -> BTreeMap<(u16, String), usize> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let device = devices[i % devices.len()].clone();
        let digest = digest.to_string();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let token = device.session_token().await;
            let signed = device.sign(device.decision(id, &digest, Verdict::Approve));
            barrier.wait().await;
            let answer = device.post_decision_with(&token, id, &signed).await;
            (answer.status, answer.code)
        }));
    }
    let mut counts = BTreeMap::new();
    for task in tasks {
        *counts.entry(task.await.unwrap()).or_default() += 1;
    }
    counts
}

async fn devices(app: &TestApp, approvers: &[&str], per_approver: usize) -> Vec<TestApprover> {
    let mut out = Vec::new();
    for _ in 0..per_approver {
        for id in approvers {
            out.push(app.pair_approver(id).await);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_approvals_execute_the_call_exactly_once() {
    let app = TestApp::spawn(AppOptions::default()).await;
    // Two approvers with two devices each.
    let devices = devices(&app, &["alice", "bob"], 2).await;
    let pending = app.request_refund("Refund order C-1").await;
    let id = pending.approval_id;
    let digest = app.request_digest(id).await;

    let counts = storm(&devices, id, &digest, 100).await;
    let accepted = counts.get(&(200, String::new())).copied().unwrap_or(0);
    assert_eq!(accepted, 1, "exactly one decision is accepted: {counts:?}");
    for ((status, code), _) in counts.iter().filter(|((s, _), _)| *s != 200) {
        assert_eq!(*status, 409, "{counts:?}");
        assert!(
            code == "already_decided" || code == "duplicate_decision",
            "{counts:?}"
        );
    }

    let result = pending.wait(WAIT).await.expect("the result");
    assert_eq!(result.status(), 200);
    // Give any stray second execution time to show up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.upstream_calls(), 1, "exactly one upstream execution");

    let entries = app.store().audit_for(id).await.unwrap();
    let approved: Vec<_> = entries
        .iter()
        .filter(|e| e.kind == "decided" && e.data["status"] == "approved")
        .collect();
    assert_eq!(approved.len(), 1, "one approved transition: {entries:#?}");
    let kinds: Vec<_> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["requested", "decided", "execution_started", "executed"]
    );
    assert_eq!(app.snapshot(&[id]).await.approvals[0].unwrap().2, 1);
    assert!(app.admin.verify_audit().await.unwrap().is_ok());
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_approvals_under_a_quorum_of_two_count_each_approver_once() {
    let app = TestApp::spawn(AppOptions::default().quorum(2)).await;
    let devices = devices(&app, &["alice", "bob"], 2).await;
    let pending = app.request_refund("Refund order C-2 (EUR 9,000)").await;
    let id = pending.approval_id;
    let digest = app.request_digest(id).await;

    let counts = storm(&devices, id, &digest, 60).await;
    assert_eq!(
        counts.get(&(200, String::new())).copied().unwrap_or(0),
        2,
        "one accepted decision per approver: {counts:?}"
    );
    pending.wait(WAIT).await.expect("the result");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.upstream_calls(), 1);
    let view = app.sdk.approval(id).await.unwrap();
    let mut approvers: Vec<_> = view
        .decisions
        .iter()
        .map(|d| d.approver_id.clone())
        .collect();
    approvers.sort();
    assert_eq!(approvers, ["alice", "bob"]);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn approvals_racing_a_cancel_end_in_exactly_one_outcome() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let devices = devices(&app, &["alice", "bob"], 1).await;
    for round in 0..5 {
        let pending = app
            .request_refund(&format!("Refund order C-3/{round}"))
            .await;
        let id = pending.approval_id;
        let digest = app.request_digest(id).await;
        let calls_before = app.upstream_calls();

        let cancels: Vec<_> = (0..10)
            .map(|_| {
                let sdk = app.sdk.clone();
                tokio::spawn(async move { sdk.cancel(id).await.is_ok() })
            })
            .collect();
        let counts = storm(&devices, id, &digest, 20).await;
        let mut cancelled = 0;
        for c in cancels {
            cancelled += usize::from(c.await.unwrap());
        }
        let approved = counts.get(&(200, String::new())).copied().unwrap_or(0);
        assert_eq!(
            cancelled + approved,
            1,
            "round {round}: one winner (cancels {cancelled}, decisions {counts:?})"
        );
        match pending.wait(WAIT).await {
            Ok(result) => {
                assert_eq!(approved, 1);
                assert_eq!(result.status(), 200);
            }
            Err(Error::Cancelled { .. }) => assert_eq!(cancelled, 1),
            Err(other) => panic!("round {round}: {other}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(app.upstream_calls() - calls_before, approved);
        let status = app.stored_status(id).await.unwrap();
        assert!(matches!(
            status,
            ApprovalStatus::Succeeded | ApprovalStatus::Cancelled
        ));
    }
    assert!(app.admin.verify_audit().await.unwrap().is_ok());
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_agents_at_once_each_get_their_own_single_execution() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let mut pendings = Vec::new();
    let asks: Vec<_> = (0..20)
        .map(|i| {
            let sdk = app.sdk.clone();
            tokio::spawn(async move {
                sdk.proxy_request(TestApp::refund(&format!("Refund order C-4/{i}")))
                    .await
            })
        })
        .collect();
    for ask in asks {
        match ask.await.unwrap().unwrap() {
            countersign_sdk::ProxyOutcome::Pending(p) => pendings.push(p),
            other => panic!("expected pending, got {other:?}"),
        }
    }
    let rows = alice.client.list("pending").await.unwrap();
    assert_eq!(rows.len(), 20);
    let decides: Vec<_> = pendings
        .iter()
        .map(|p| {
            let alice = alice.clone();
            let id = p.approval_id;
            tokio::spawn(async move { alice.approve(id).await.map(|_| ()) })
        })
        .collect();
    for d in decides {
        d.await.unwrap().unwrap();
    }
    for p in &pendings {
        let result = p.wait(WAIT).await.unwrap();
        let body: serde_json::Value = result.json().unwrap();
        assert_eq!(body["idempotency_key"], p.approval_id.to_string());
    }
    let calls = app.provider.calls();
    assert_eq!(calls.len(), 20);
    let mut keys: Vec<_> = calls
        .iter()
        .map(|c| c.header("idempotency-key").unwrap().to_string())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 20, "one call per approval");
    assert!(app.admin.verify_audit().await.unwrap().is_ok());
    app.shutdown().await;
}
