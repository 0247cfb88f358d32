//! Wallet sign-in is shared through the database: a second service on the same database (as
//! a second replica would be) accepts a session opened through the first, a nonce issued by
//! one works on the other once, and a revocation holds on both at once.

use countersign_service::DeviceRevocation;
use countersign_tests::{AppOptions, Replica, TestApp};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_opened_on_one_service_works_on_another_until_the_device_is_revoked() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let b = Replica::start(&app).await;
    let phone = app.pair_approver("alice").await;
    let laptop = app.pair_approver("alice").await;
    let pending = app.request_refund("Refund order S-1").await;

    // Signed in through A (the pairing's server): B knows the token.
    let token = phone.session_token().await;
    let list = b.get(&app, "/v1/wallet/approvals", &token).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    assert_eq!(
        list.body["approvals"][0]["approval_id"],
        pending.approval_id.to_string()
    );

    // A challenge from A is answered on B, once.
    let challenge = app
        .raw_post(
            "/v1/wallet/challenge",
            &json!({"key_id": laptop.key_id()}).to_string(),
            None,
        )
        .await;
    assert_eq!(challenge.status, 200, "{:?}", challenge.body);
    let nonce = challenge.body["nonce"].as_str().unwrap();
    let signature = countersign_core::session::sign_nonce(&laptop.key, nonce);
    let sign_in = json!({"key_id": laptop.key_id(), "nonce": nonce, "signature": signature});
    let session = b.post(&app, "/v1/wallet/session", sign_in.clone()).await;
    assert_eq!(session.status, 200, "{:?}", session.body);
    let laptop_token = session.body["token"].as_str().unwrap().to_string();
    let again = app
        .raw_post("/v1/wallet/session", &sign_in.to_string(), None)
        .await;
    assert_eq!(again.pair(), (401, "unauthorized"), "a nonce works once");
    let on_a = app
        .raw_get("/v1/wallet/approvals", Some(&laptop_token))
        .await;
    assert_eq!(on_a.status, 200, "{:?}", on_a.body);

    // The phone is revoked (through A's database): B refuses its token at once; the laptop's
    // token still works on both.
    match app.admin.revoke_device(phone.key_id(), None).await.unwrap() {
        DeviceRevocation::Revoked(_) => {}
        other => panic!("expected Revoked, got {other:?}"),
    }
    let refused = b.get(&app, "/v1/wallet/approvals", &token).await;
    assert_eq!(refused.pair(), (401, "unauthorized"), "{:?}", refused.body);
    assert_eq!(refused.body["error"]["message"], "device revoked");
    let refused = app.raw_get("/v1/wallet/approvals", Some(&token)).await;
    assert_eq!(refused.pair(), (401, "unauthorized"), "{:?}", refused.body);
    let challenge = b
        .post(
            &app,
            "/v1/wallet/challenge",
            json!({"key_id": phone.key_id()}),
        )
        .await;
    assert_eq!(
        challenge.pair(),
        (401, "unauthorized"),
        "{:?}",
        challenge.body
    );
    assert_eq!(
        b.get(&app, "/v1/wallet/approvals", &laptop_token)
            .await
            .status,
        200
    );

    b.stop().await;
    app.shutdown().await;
}
