//! `countersign demo`: the whole flow on loopback, on a temporary SQLite file.
//!
//! A sample payments provider starts, then the service; a headless approver pairs with a
//! one-time link; an agent asks for a refund with a concrete reason and gets a pending
//! approval; the approver reviews and approves it; the agent's wait returns the provider's
//! answer; the audit chain is verified.

use crate::display;
use crate::stack::DemoStack;
use anyhow::Context;
use countersign_approver::Verdict;
use countersign_sdk::{ProxyOutcome, ProxyRequest};
use std::time::Duration;

pub use countersign_kit::config::{config_with, demo_config, DEMO_POLICY, SECRET_ENV};

fn step(n: u32, text: &str) {
    println!("\n[{n}] {text}");
}

/// Runs the demo; prints each step.
pub async fn run() -> anyhow::Result<()> {
    step(
        1,
        "Starting the sample payments provider and the service (temporary SQLite database)",
    );
    let stack = DemoStack::start().await?;
    println!(
        "    provider: {}   service: {}",
        stack.provider.base_url(),
        stack.url
    );

    step(
        2,
        "Admin invites approver alice; her headless approver pairs with the one-time link",
    );
    let admin = stack.admin().await?;
    let invite = admin.invite("alice").await?;
    println!("    pairing link: {}", invite.link);
    let key_dir = tempfile::tempdir()?;
    let key_file = key_dir.path().join("alice.key.json");
    let pairing = crate::headless::pair(&invite.link, &key_file, "demo laptop").await?;
    println!(
        "    paired: approver {} with key {}",
        pairing.approver_id, pairing.key_id
    );

    step(
        3,
        "The agent asks for a refund; the policy requires approval",
    );
    let agent = stack.agent()?;
    let request = ProxyRequest::post(
        "payments",
        "/v1/refunds",
        "Customer #8812 was charged twice for order A-1042 on 2026-11-23; refund the duplicate charge of EUR 19.99",
    )
    .json(&serde_json::json!({"order": "A-1042", "amount": 1999, "currency": "EUR"}))?;
    let pending = match agent.proxy_request(request).await? {
        ProxyOutcome::Pending(p) => p,
        ProxyOutcome::Completed(_) => {
            anyhow::bail!("the refund ran without approval; the demo policy is wrong")
        }
    };
    println!("    pending approval {}", pending.approval_id);
    println!("    approval_url: {}", pending.approval_url);
    println!("    expires_at:   {}", pending.expires_at);
    let waiter = tokio::spawn(async move { pending.wait(Duration::from_secs(60)).await });

    step(
        4,
        "Alice reviews the exact request and approves it (signed with her Ed25519 key)",
    );
    let approver = crate::headless::client(&key_file)?;
    let rows = approver.list("pending").await?;
    let row = rows.first().context("alice sees no pending approval")?;
    let review = approver.review(row.approval_id).await?;
    for line in display::review(&review).lines() {
        println!("    | {line}");
    }
    let decided = approver
        .decide(
            &review,
            Verdict::Approve,
            Some("Duplicate charge confirmed".into()),
        )
        .await?;
    println!("    decision accepted; approval is {}", decided.status);

    step(
        5,
        "The service executed the call once with the managed secret; the agent's wait returns",
    );
    let result = waiter.await?.context("waiting for the approval")?;
    println!("    provider answered HTTP {}", result.status());
    println!(
        "    {}",
        display::body(
            result.body(),
            countersign_core::body::content_type(result.headers())
        )
        .trim_end()
        .replace('\n', "\n    ")
    );
    println!(
        "    upstream calls received: {}",
        stack.provider.calls().len()
    );

    step(6, "The audit log's hash chain verifies");
    match admin.verify_audit().await? {
        Ok(n) => println!("    {n} entries, chain intact"),
        Err(brk) => anyhow::bail!("audit chain broken: {brk}"),
    }
    admin.close().await;
    stack.stop().await?;
    println!("\nDemo finished.");
    Ok(())
}
