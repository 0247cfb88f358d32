//! Does the open window's memory grow with each review, or level off? (Measured, not
//! asserted: `WALLET_E2E_TEST=reviewmem WALLET_PROFILE=release scripts/wallet-e2e.sh`.)
//!
//! One window, `WALLET_REVIEWMEM_ROUNDS` (default 6) rounds of `PER_ROUND` requests, each
//! opened from the inbox and approved (the agent's wait returning each time); with
//! `WALLET_REVIEWMEM_DECIDE=deny` each denied instead, with `0` the same requests opened again
//! and again, with `churn` requests only arriving and withdrawn ([`Mode`]). The Wallet's memory
//! (RSS and PSS summed, and per process) after each round: a leak grows every round by about
//! the same; a heap that sizes itself grows early and levels off.

use countersign_sdk::PendingApproval;
use countersign_wallet_e2e::desktop;
use countersign_wallet_e2e::measure::{memory_kb, memory_line};
use countersign_wallet_e2e::script::env_path;
use countersign_wallet_e2e::stack::Stack;
use countersign_wallet_e2e::webdriver::{testid, Session};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);
const PER_ROUND: usize = 20;

/// What each round does (`WALLET_REVIEWMEM_DECIDE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Unset (or anything else): 20 new requests, each opened and approved.
    Approve,
    /// `deny`: 20 new requests, each opened and denied.
    Deny,
    /// `0`: the same 20 requests opened again and again, never decided (the history does not
    /// grow: what stays is the review view's own).
    Reopen,
    /// `churn`: no review; 20 new requests arrive in the inbox on screen and are withdrawn by
    /// the agent (what the inbox's own updates keep).
    Churn,
}

impl Mode {
    fn from_env() -> Mode {
        match std::env::var("WALLET_REVIEWMEM_DECIDE").as_deref() {
            Ok("deny") => Mode::Deny,
            Ok("0") => Mode::Reopen,
            Ok("churn") => Mode::Churn,
            _ => Mode::Approve,
        }
    }
}

/// "RSS x MB, PSS y MB (per process)" of the Wallet running `app` now.
fn memory(app: &std::path::Path) -> String {
    memory_line(&memory_kb(app))
}

/// `PER_ROUND` pending refunds ("<name>.<i>"), their notifications closed.
async fn round_of_requests(stack: &Stack, name: &str) -> Vec<PendingApproval> {
    let mut round = Vec::new();
    for i in 0..PER_ROUND {
        round.push(
            stack
                .pending_at("/v1/refunds", &format!("{name}.{i}"))
                .await,
        );
    }
    desktop::close_notifications();
    round
}

/// One round of [`Mode::Churn`]: `PER_ROUND` requests arrive in the inbox on screen, then the
/// agent withdraws them all.
async fn churn_round(s: &Session, stack: &Stack, round: usize) -> anyhow::Result<()> {
    s.click_selector(&testid("nav-inbox"), WAIT).await?;
    let requests = round_of_requests(stack, &format!("Churn {round}")).await;
    let listed = s
        .wait_until(
            "the round's requests listed",
            &format!(
                "const c = document.querySelector('[data-testid=inbox-count]'); return !!c && c.textContent === '{PER_ROUND}'"
            ),
            WAIT,
        )
        .await;
    if listed.is_err() {
        let shown = s
            .execute("const c = document.querySelector('[data-testid=inbox-count]'); return [c ? c.textContent : null, document.title, document.querySelectorAll('[data-testid=inbox-row]').length]")
            .await?;
        anyhow::bail!("round {round}: the inbox shows {shown}");
    }
    for p in requests {
        p.cancel().await?;
    }
    s.wait_until(
        "the round's requests withdrawn",
        "const c = document.querySelector('[data-testid=inbox-count]'); return !!c && c.textContent === '0'",
        WAIT,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement in the headless desktop: run scripts/wallet-e2e.sh"]
async fn memory_over_many_reviews() -> anyhow::Result<()> {
    let app = env_path("WALLET_APP");
    let shots = env_path("WALLET_E2E_SHOTS");
    std::fs::create_dir_all(&shots)?;
    let stack = Stack::start().await?;
    let _driver = desktop::start_driver(desktop::driver_port()).await?;
    let s = Session::start(&desktop::driver_url(), &app, &[]).await?;
    s.wait_for(&testid("inbox"), WAIT).await?;
    desktop::pair_alice(&s, &stack, WAIT).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut lines = vec![format!("paired, nothing pending: {}", memory(&app))];
    eprintln!("{}", lines[0]);
    let rounds: usize = std::env::var("WALLET_REVIEWMEM_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let mode = Mode::from_env();
    let kept = if mode == Mode::Reopen {
        round_of_requests(&stack, "Review").await
    } else {
        Vec::new()
    };
    for round in 1..=rounds {
        let fresh;
        let to_open: &[PendingApproval] = match mode {
            Mode::Churn => {
                churn_round(&s, &stack, round).await?;
                &[]
            }
            Mode::Reopen => &kept,
            Mode::Approve | Mode::Deny => {
                fresh = round_of_requests(&stack, &format!("Review {round}")).await;
                &fresh
            }
        };
        for p in to_open {
            s.click_selector(&testid("nav-inbox"), WAIT).await?;
            let row = format!(
                "[data-testid=\"inbox-row\"][data-approval-id=\"{}\"]",
                p.approval_id
            );
            s.scroll_to(&row, WAIT).await?;
            s.click_selector(&row, WAIT).await?;
            match mode {
                Mode::Deny => {
                    s.click_selector(&testid("deny"), WAIT).await?;
                    let denied = p.wait(Duration::from_secs(30)).await;
                    anyhow::ensure!(denied.is_err(), "denied, yet {denied:?}");
                }
                Mode::Approve => {
                    s.click_selector(&testid("approve"), WAIT).await?;
                    p.wait(Duration::from_secs(30)).await?;
                }
                // Churn opens nothing: its list is empty.
                Mode::Reopen | Mode::Churn => {
                    s.wait_for(&testid("approve"), WAIT).await?;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let line = format!("after {} reviews: {}", round * PER_ROUND, memory(&app));
        eprintln!("{line}");
        lines.push(line);
    }
    tokio::time::sleep(Duration::from_secs(30)).await;
    lines.push(format!("30 s later: {}", memory(&app)));
    let report = lines.join("\n") + "\n";
    eprintln!("\n{report}");
    std::fs::write(shots.join("reviewmem.txt"), report)?;
    s.quit().await?;
    stack.stop().await;
    Ok(())
}
