//! The light tray, end to end in the real window (run by `scripts/wallet-e2e.sh`, after
//! `e2e.rs`): closing the window ends the window process and WebKit's processes with it,
//! leaving the tray process alone (its memory printed); a new request still raises a
//! notification; choosing its Review starts a window process on that request; a
//! `countersign://` link while closed does the same, and so does a second launch; started
//! with `--tray` it starts no window process until a link opens one.

use countersign_sdk::{ProxyOutcome, ProxyRequest};
use countersign_wallet_e2e::desktop::{self, NotifyMonitor};
use countersign_wallet_e2e::stack::Stack;
use countersign_wallet_e2e::webdriver::{testid, Session};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(
        std::env::var(name)
            .unwrap_or_else(|_| panic!("{name} is not set: run scripts/wallet-e2e.sh")),
    )
}

fn step(text: &str) {
    eprintln!("\n== {text}");
}

async fn pending(stack: &Stack, reason: &str) -> countersign_sdk::PendingApproval {
    let request = ProxyRequest::post("payments", "/v1/refunds", reason)
        .json(&serde_json::json!({"reason": reason}))
        .unwrap();
    match stack.agent().unwrap().proxy_request(request).await.unwrap() {
        ProxyOutcome::Pending(p) => p,
        ProxyOutcome::Completed(_) => panic!("the refund ran without approval"),
    }
}

/// Waits until the review of the request whose reason is `reason` is shown.
async fn review_shown(s: &Session, reason: &str) -> anyhow::Result<()> {
    let js = serde_json::to_string(reason)?;
    s.wait_until(
        &format!("the review of {reason:?}"),
        &format!(
            "const r = document.querySelector('[data-testid=reason]'); return !!r && r.textContent === {js}"
        ),
        WAIT,
    )
    .await
}

/// Closes the window as a window manager would and waits until WebKit's web process is gone,
/// the app itself still running; returns the handles of the windows the session knew.
async fn close_window(s: &Session, app: &Path) -> anyhow::Result<Vec<String>> {
    let before = desktop::wallet_processes(app);
    assert!(
        before.iter().any(|p| p.name == "WebKitWebProcess"),
        "a web process while the window is open: {before:?}"
    );
    let handles = s.window_handles().await?;
    desktop::request_close("Countersign Wallet")?;
    let after = desktop::wait_window_process(app, false, WAIT).await?;
    eprintln!("with the window closed: {after:?}");
    assert_eq!(
        after.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        vec!["countersign-wallet"],
        "only the tray process runs on: no window process, no WebKit process"
    );
    eprintln!(
        "closed: RSS {} kB, PSS {} kB",
        after.iter().map(|p| p.rss_kb).sum::<u64>(),
        after.iter().map(|p| p.pss_kb).sum::<u64>()
    );
    assert!(
        !desktop::window_visible("^Countersign Wallet")?,
        "no window is shown"
    );
    Ok(handles)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, a session bus, a keyring and WebKitWebDriver: run scripts/wallet-e2e.sh"]
async fn the_closed_window_frees_its_web_view_and_comes_back_where_asked() -> anyhow::Result<()> {
    let app = env_path("WALLET_APP");
    let shots = env_path("WALLET_E2E_SHOTS");
    std::fs::create_dir_all(&shots)?;
    let stack = Stack::start().await?;
    let monitor = NotifyMonitor::start(&shots.join("tray-notify-monitor.txt"))?;
    let _driver = desktop::start_driver(desktop::driver_port()).await?;
    let s = Session::start(&desktop::driver_url(), &app, &[]).await?;
    s.wait_for(&testid("inbox"), WAIT).await?;

    step("pair");
    desktop::gio_open(&stack.invite("alice").await?)?;
    s.click_selector(&testid("pair-confirm-button"), WAIT)
        .await?;
    s.wait_for(&testid("inbox"), WAIT).await?;

    step("closing the window ends WebKit's web process; the Wallet runs on");
    let old = close_window(&s, &app).await?;

    step("a new request still raises a notification with the window closed");
    let reason = "Refund order T-100, requested while the window was closed";
    let p1 = pending(&stack, reason).await;
    monitor.wait_for("T-100", WAIT).await?;

    step("choosing the notification's Review re-creates the window on that request");
    tokio::time::sleep(Duration::from_millis(300)).await;
    desktop::choose_notification_action()?;
    let first = s.switch_to_new_window(&old, WAIT).await?;
    review_shown(&s, reason).await?;
    desktop::wait_window_process(&app, true, WAIT).await?;
    desktop::wait_web_process(&app, true, WAIT).await?;
    desktop::wait_for_window("Countersign Wallet (1 pending)", WAIT).await?;
    desktop::close_notifications();
    desktop::screenshot(&shots.join("tray-01-reopened-from-notification.png"))?;
    assert_eq!(
        stack
            .agent()?
            .approval(p1.approval_id)
            .await?
            .status
            .as_str(),
        "pending",
        "nothing is approved from a notification"
    );

    step("closed again, a countersign:// link opens a new window on its request");
    let mut old = close_window(&s, &app).await?;
    old.push(first);
    let reason2 = "Refund order T-200, opened from a link";
    let p2 = pending(&stack, reason2).await;
    desktop::close_notifications();
    desktop::gio_open(&p2.approval_url)?;
    let second = s.switch_to_new_window(&old, WAIT).await?;
    review_shown(&s, reason2).await?;
    desktop::screenshot(&shots.join("tray-02-reopened-from-link.png"))?;

    step("the re-created window works: deny from it");
    s.click_selector(&testid("deny"), WAIT).await?;
    assert!(matches!(
        p2.wait(Duration::from_secs(30)).await,
        Err(countersign_sdk::Error::Denied { .. })
    ));

    step("closed again, a second launch (the menu entry, the tray's Open) opens a new window process");
    let mut old = close_window(&s, &app).await?;
    old.push(second);
    let launch = Command::new(&app).status()?;
    assert!(
        launch.success(),
        "the second launch hands over and exits: {launch}"
    );
    let second = s.switch_to_new_window(&old, WAIT).await?;
    s.wait_for(&testid("inbox"), WAIT).await?;
    let procs = desktop::wait_window_process(&app, true, WAIT).await?;
    assert_eq!(
        procs
            .iter()
            .filter(|p| p.name == desktop::WINDOW_PROCESS)
            .count(),
        1,
        "one window process: {procs:?}"
    );

    step("a link while the window is open goes to the open view (no new window)");
    s.click_selector(&testid("nav-inbox"), WAIT).await?;
    s.wait_for(&testid("inbox"), WAIT).await?;
    desktop::gio_open(&p1.approval_url)?;
    review_shown(&s, reason).await?;
    assert_eq!(s.window_handles().await?, vec![second]);

    s.quit().await?;
    drop(_driver);

    step("started for the tray (--tray): no window and no WebKit process until a link");
    let start = std::time::Instant::now();
    while !desktop::wallet_processes(&app).is_empty() {
        anyhow::ensure!(start.elapsed() < WAIT, "the driven Wallet did not exit");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _tray = desktop::Guard(Command::new(&app).arg("--tray").spawn()?);
    let start = std::time::Instant::now();
    while desktop::wallet_processes(&app).is_empty() {
        anyhow::ensure!(start.elapsed() < WAIT, "the tray Wallet did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give it time to make a window, if it were going to: it must not.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let procs = desktop::wallet_processes(&app);
    eprintln!("started for the tray: {procs:?}");
    assert_eq!(
        procs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        vec!["countersign-wallet"],
        "only the tray process: no window process, no WebKit process"
    );
    assert!(!desktop::window_visible("^Countersign Wallet")?);
    let reason3 = "Refund order T-300, linked to a Wallet started for the tray";
    let _p3 = pending(&stack, reason3).await;
    desktop::gio_open(&_p3.approval_url)?;
    desktop::wait_web_process(&app, true, WAIT).await?;
    let start = std::time::Instant::now();
    while !desktop::window_visible("^Countersign Wallet")? {
        anyhow::ensure!(start.elapsed() < WAIT, "a link did not open the window");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    desktop::close_notifications();
    desktop::screenshot(&shots.join("tray-03-tray-start-then-link.png"))?;

    stack.stop().await;
    Ok(())
}
