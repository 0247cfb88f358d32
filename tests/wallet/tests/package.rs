//! The INSTALLED Debian package answers `countersign://` links: run by
//! `scripts/package-check.sh` after `dpkg -i`, inside its Xvfb + `dbus-run-session` (unlocked
//! gnome-keyring, notification daemon) with the desktop database updated and the package's
//! entry made the scheme's default handler, as a desktop does after an install.
//!
//! The installed binary (`WALLET_APP`, `/usr/bin/countersign-wallet`) runs as the single
//! instance, its window processes driven by WebKitWebDriver; `gio open` starts the package's desktop entry with each
//! link, whose second process forwards it to the running Wallet: a pairing link shows the
//! pairing screen, an approval link shows that request. Then "start at login" writes an
//! autostart entry for the installed binary; launched as a login would (`gio launch`), it
//! starts with no window shown, and a link brings the window up.

use countersign_sdk::{ProxyOutcome, ProxyRequest};
use countersign_wallet_e2e::desktop;
use countersign_wallet_e2e::script::{env_path, step};
use countersign_wallet_e2e::stack::Stack;
use countersign_wallet_e2e::webdriver::{testid, Session};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);
/// The desktop entry the package installs (the bundler names it after the product).
const ENTRY: &str = "Countersign Wallet.desktop";

fn output(cmd: &mut Command) -> anyhow::Result<String> {
    let out = cmd.output()?;
    anyhow::ensure!(out.status.success(), "{cmd:?} failed: {out:?}");
    Ok(String::from_utf8(out.stdout)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the installed package, Xvfb, a session bus and WebKitWebDriver: run scripts/package-check.sh"]
async fn the_installed_wallet_answers_countersign_links() -> anyhow::Result<()> {
    let app = env_path("WALLET_APP");
    assert!(
        app.starts_with("/usr/bin"),
        "{app:?} is not the installed binary"
    );
    let data_home = env_path("XDG_DATA_HOME");
    let config_home = env_path("XDG_CONFIG_HOME");

    step("the desktop sends countersign:// links to the package's entry");
    // What a desktop records when the person picks the default handler (this test's own
    // $XDG_CONFIG_HOME/mimeapps.list).
    output(Command::new("xdg-mime").args(["default", ENTRY, "x-scheme-handler/countersign"]))?;
    let mime = output(Command::new("gio").args(["mime", "x-scheme-handler/countersign"]))?;
    eprintln!("{mime}");
    assert!(
        mime.contains(&format!(
            "Default application for “x-scheme-handler/countersign”: {ENTRY}"
        )) || mime.contains(&format!(
            "Default application for \"x-scheme-handler/countersign\": {ENTRY}"
        )),
        "gio mime: {mime}"
    );

    let stack = Stack::start().await?;
    let _driver = desktop::start_driver(desktop::driver_port()).await?;
    let s = Session::start(&desktop::driver_url(), &app, &[]).await?;
    s.wait_for(&testid("inbox"), WAIT).await?;
    // The installed Wallet found the package's entry and wrote no per-user handler of its own.
    let own = data_home.join("applications/countersign-wallet-handler.desktop");
    assert!(!own.exists(), "the installed Wallet wrote {own:?}");

    step("a pairing link, opened by the desktop, reaches the running installed Wallet");
    let link = stack.invite("alice").await?;
    desktop::gio_open(&link)?;
    let server = s
        .text(&s.wait_for(&testid("pair-server"), WAIT).await?)
        .await?;
    assert_eq!(server, stack.url);
    s.click_selector(&testid("pair-confirm-button"), WAIT)
        .await?;
    s.wait_for(&testid("inbox"), WAIT).await?;

    step("an approval link shows that request");
    let reason = "Refund order P-1 (package check)";
    let agent = stack.agent()?;
    let request = ProxyRequest::post("payments", "/v1/refunds", reason)
        .json(&serde_json::json!({"order": "P-1", "amount": 500, "currency": "EUR"}))?;
    let pending = match agent.proxy_request(request).await? {
        ProxyOutcome::Pending(p) => p,
        ProxyOutcome::Completed(_) => panic!("the refund ran without approval"),
    };
    s.click_selector(&testid("nav-pairings"), WAIT).await?;
    s.wait_for(&testid("pairings"), WAIT).await?;
    desktop::gio_open(&pending.approval_url)?;
    s.wait_until(
        "the review of the linked request",
        &format!(
            "const r = document.querySelector('[data-testid=reason]'); return !!r && r.textContent === {}",
            serde_json::to_string(reason)?
        ),
        WAIT,
    )
    .await?;

    step("start at login writes an autostart entry for the installed binary, and removes it");
    let autostart = config_home.join("autostart/dev.countersign.wallet.desktop");
    s.click_selector(&testid("nav-settings"), WAIT).await?;
    let checked = "return document.querySelector('[data-testid=start-at-login]').checked";
    assert_eq!(
        s.execute(checked).await?,
        false,
        "start at login is off at first"
    );
    s.click_selector(&testid("start-at-login"), WAIT).await?;
    wait_for_file(&autostart, true).await?;
    let text = std::fs::read_to_string(&autostart)?;
    assert!(
        text.contains(&format!("\nExec=\"{}\" --tray\n", app.display())),
        "{text}"
    );
    output(Command::new("desktop-file-validate").arg(&autostart))?;
    s.wait_until("the box shows it on", &format!("{checked} === true"), WAIT)
        .await?;
    s.click_selector(&testid("start-at-login"), WAIT).await?;
    wait_for_file(&autostart, false).await?;
    s.click_selector(&testid("start-at-login"), WAIT).await?;
    wait_for_file(&autostart, true).await?;
    s.quit().await?;
    drop(_driver);
    wait_for_wallets(&app, 0).await?;

    step("started as at login: in the tray, no window, until a link arrives");
    let launched = Command::new("gio").arg("launch").arg(&autostart).status()?;
    assert!(launched.success(), "gio launch: {launched}");
    let pid = wait_for_wallets(&app, 1).await?[0];
    let _wallet = KillPid(pid);
    // Give it time to show a window, if it were going to: it must not.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(wallets(&app)?, vec![pid], "the tray Wallet is running");
    assert!(
        !desktop::window_visible("^Countersign Wallet")?,
        "the Wallet started for the tray showed its window"
    );
    let procs = desktop::wallet_processes(&app);
    assert!(
        !procs.iter().any(|p| p.name.starts_with("WebKit")),
        "the Wallet started for the tray made no web view: {procs:?}"
    );
    desktop::gio_open(&pending.approval_url)?;
    let start = Instant::now();
    while !desktop::window_visible("^Countersign Wallet")? {
        anyhow::ensure!(start.elapsed() < WAIT, "a link did not show the window");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The link's own process handed it over and exited: one Wallet, the one launched.
    wait_for_wallets(&app, 1).await?;
    assert_eq!(wallets(&app)?, vec![pid]);

    stack.stop().await;
    Ok(())
}

/// Kills the Wallet this test launched through `gio launch` (by its process id) on drop.
struct KillPid(u32);

impl Drop for KillPid {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.to_string()).status();
    }
}

async fn wait_for_file(path: &Path, present: bool) -> anyhow::Result<()> {
    let start = Instant::now();
    while path.exists() != present {
        anyhow::ensure!(
            start.elapsed() < WAIT,
            "{path:?} still {}",
            if present { "absent" } else { "present" }
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Waits until exactly `count` processes of `app` run on this test's session bus; returns them.
async fn wait_for_wallets(app: &Path, count: usize) -> anyhow::Result<Vec<u32>> {
    let start = Instant::now();
    loop {
        let found = wallets(app)?;
        if found.len() == count {
            return Ok(found);
        }
        anyhow::ensure!(
            start.elapsed() < WAIT,
            "{} Wallet processes instead of {count}",
            found.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The processes running `app` on this test's session bus (its `DBUS_SESSION_BUS_ADDRESS`),
/// so Wallets of other sessions on the machine are never counted, nor killed.
fn wallets(app: &Path) -> anyhow::Result<Vec<u32>> {
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS")?;
    let var = format!("DBUS_SESSION_BUS_ADDRESS={bus}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let entry = entry?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if std::fs::read_link(entry.path().join("exe")).ok().as_deref() != Some(app) {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ.split(|b| *b == 0).any(|v| v == var.as_bytes()) {
            found.push(pid);
        }
    }
    found.sort();
    Ok(found)
}
