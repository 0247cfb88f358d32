//! The whole flow with the desktop Wallet: `cargo run -p countersign-wallet-e2e --example
//! wallet-demo` (or `scripts/wallet-demo.sh`, which also builds the view and the app).
//!
//! Starts the sample payments provider and the service (temporary SQLite), starts the Wallet
//! (`$WALLET_APP`, default `target/debug/countersign-wallet`) unless one runs, opens a pairing
//! link in it (`gio open`), waits for you to confirm the pairing in the window, then has a sample
//! agent ask for a refund: it appears as a notification and in the inbox. Approve or deny it in
//! the Wallet and the agent prints the outcome. Ctrl-C ends the demo.

use countersign_sdk::{ProxyOutcome, ProxyRequest};
use countersign_wallet_e2e::desktop;
use countersign_wallet_e2e::stack::Stack;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    println!(
        "service:  {}\nprovider: {}",
        stack.url,
        stack.provider.base_url()
    );
    let app = std::env::var_os("WALLET_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/debug/countersign-wallet"));
    // A running Wallet takes the link over D-Bus; otherwise this starts one.
    let _wallet = desktop::Guard(std::process::Command::new(&app).spawn()?);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let link = stack.invite("alice").await?;
    println!("\nPairing link (opened in the Wallet):\n  {link}");
    desktop::gio_open(&link)?;
    println!("Confirm the pairing in the Wallet window…");
    let agent = stack.agent()?;
    let started = Instant::now();
    let pending = loop {
        if wallet_paired_with(&stack.url) {
            let request = ProxyRequest::post(
                "payments",
                "/v1/refunds",
                "Customer #8812 was charged twice for order A-1042 on 2026-11-23; refund the duplicate charge of EUR 19.99",
            )
            .json(&serde_json::json!({"order": "A-1042", "amount": 1999, "currency": "EUR"}))?;
            match agent.proxy_request(request).await? {
                ProxyOutcome::Pending(p) => break p,
                ProxyOutcome::Completed(_) => anyhow::bail!("the policy did not ask for approval"),
            }
        }
        if started.elapsed() > Duration::from_secs(900) {
            anyhow::bail!("no pairing after 15 minutes");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    println!(
        "\nThe agent asked for a refund; approval {} is waiting in the Wallet (and as a notification).",
        pending.approval_id
    );
    match pending.wait(Duration::from_secs(3600)).await {
        Ok(result) => println!(
            "Approved: the provider answered HTTP {}\n{}",
            result.status(),
            String::from_utf8_lossy(result.body())
        ),
        Err(e) => println!("Not executed: {e}"),
    }
    stack.stop().await;
    Ok(())
}

/// True once the Wallet's pairing list names `server` (the Wallet writes it on pairing).
fn wallet_paired_with(server: &str) -> bool {
    let dir = std::env::var_os("COUNTERSIGN_WALLET_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_DATA_HOME")
                .map(|d| PathBuf::from(d).join("dev.countersign.wallet"))
        })
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".local/share/dev.countersign.wallet"))
        });
    let Some(dir) = dir else { return false };
    std::fs::read_to_string(dir.join("pairings.json"))
        .map(|text| text.contains(&format!("\"{server}\"")))
        .unwrap_or(false)
}
