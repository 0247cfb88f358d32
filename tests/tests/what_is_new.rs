//! "What is new": the history endpoint returns the approver's past approved requests of the
//! same kind, paged, and the approver client marks what differs, against the real service.

use countersign_core::novelty::Novelty;
use countersign_sdk::{ProxyOutcome, ProxyRequest};
use countersign_tests::{AppOptions, TestApp, GRANT, WAIT};
use uuid::Uuid;

async fn refund(sdk: &countersign_sdk::Client, amount: u64, iban: &str) -> Uuid {
    let request = ProxyRequest::post(GRANT, "/v1/refunds", "Customer 8812 was charged twice")
        .json(&serde_json::json!({"amount": amount, "iban": iban, "currency": "EUR"}))
        .unwrap();
    match sdk.proxy_request(request).await.unwrap() {
        ProxyOutcome::Pending(p) => p.approval_id,
        ProxyOutcome::Completed(_) => panic!("ran without approval"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_history_marks_what_is_new() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let alice = app.pair_approver("alice").await;
    let usual = "DE89370400440532013000";
    // A history: five approved refunds to the usual IBAN, one denied outlier (not history).
    for amount in [1000, 1200, 1999, 1500, 1100] {
        let id = refund(&app.sdk, amount, usual).await;
        alice.approve(id).await.unwrap();
        app.sdk.wait(id, WAIT).await.unwrap();
    }
    let denied = refund(&app.sdk, 9_999_999, "XX00").await;
    alice.deny(denied, "no").await.unwrap();

    let ordinary = refund(&app.sdk, 1300, usual).await;
    let review = alice.client.review(ordinary).await.unwrap();
    assert_eq!(
        alice.client.what_is_new(&review, 10_000).await.unwrap(),
        vec![]
    );

    let odd = refund(&app.other_sdk, 199_900, "GB33BUKB20201555555555").await;
    let review = alice.client.review(odd).await.unwrap();
    let found = alice.client.what_is_new(&review, 10_000).await.unwrap();
    let words: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert!(
        words
            .iter()
            .any(|w| w.starts_with("the first request of this kind from app")),
        "{words:?}"
    );
    assert!(
        words
            .iter()
            .any(|w| w.starts_with("/iban GB33BUKB20201555555555 was never approved before")),
        "{words:?}"
    );
    assert!(
        words.contains(&"/amount 199900 is 100× the largest approved (1999)".to_string()),
        "{words:?}"
    );

    // Paging: one row per page still finds the whole history.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = alice.client.history_page(odd, before, 1).await.unwrap();
        seen.extend(page.items.iter().map(|i| i.approval_id));
        match page.next_before {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "the five approved refunds, newest first");
    assert!(seen.windows(2).all(|w| w[0] > w[1]));

    // Another approver sees only approvals that named them: carol is in no gate, so 404.
    let carol = app.pair_approver("carol").await;
    assert!(carol.client.history_page(odd, None, 10).await.is_err());
    // Nothing approved yet of another kind: first of its kind.
    let other_kind = match app
        .sdk
        .proxy_request(
            ProxyRequest::post(GRANT, "/v1/payouts", "Pay the supplier")
                .json(&serde_json::json!({"amount": 5}))
                .unwrap(),
        )
        .await
        .unwrap()
    {
        ProxyOutcome::Pending(p) => p.approval_id,
        ProxyOutcome::Completed(_) => panic!("ran without approval"),
    };
    let review = alice.client.review(other_kind).await.unwrap();
    assert_eq!(
        alice.client.what_is_new(&review, 10_000).await.unwrap(),
        vec![Novelty::FirstOfKind]
    );
    app.shutdown().await;
}
