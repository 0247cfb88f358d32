//! The light tray, end to end in the real window (run by `scripts/wallet-e2e.sh`, after
//! `e2e.rs`): closing the window ends the window process and WebKit's processes with it,
//! leaving the tray process alone (its memory printed); a new request still raises a
//! notification; choosing its Review starts a window process on that request; a
//! `countersign://` link while closed does the same, and so does a second launch; started
//! with `--tray` it starts no window process until a link opens one.
//!
//! The tray icon, driven as a panel drives it ([`countersign_wallet_e2e::sni`]: a
//! StatusNotifierWatcher the test serves on the session bus, before or after the Wallet
//! starts): its properties, its menu's Open and Quit over `com.canonical.dbusmenu`, a left
//! click (`Activate`) opening or raising the window, and a hostile client's bad events and a
//! flood of clicks (at most one window process at a time).

use countersign_wallet_e2e::desktop::{self, NotifyMonitor};
use countersign_wallet_e2e::script::{env_path, step};
use countersign_wallet_e2e::sni::{self, Item, Watcher};
use countersign_wallet_e2e::stack::Stack;
use countersign_wallet_e2e::webdriver::{automation_env, testid, Session};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

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
    desktop::close_window("Countersign Wallet").await?;
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
    desktop::pair_alice(&s, &stack, WAIT).await?;

    step("closing the window ends WebKit's web process; the Wallet runs on");
    let old = close_window(&s, &app).await?;

    step("a new request still raises a notification with the window closed");
    let reason = "Refund order T-100, requested while the window was closed";
    let p1 = stack.pending_at("/v1/refunds", reason).await;
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
    let p2 = stack.pending_at("/v1/refunds", reason2).await;
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
    let _p3 = stack.pending_at("/v1/refunds", reason3).await;
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

/// The tray item's `Id`.
const ITEM_ID: &str = "countersign-wallet";

/// Waits until no process of the Wallet `app` runs (a previous test's, or this one's after
/// Quit).
async fn no_wallet(app: &Path) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    loop {
        let procs = desktop::wallet_processes(app);
        if procs.is_empty() {
            return Ok(());
        }
        anyhow::ensure!(start.elapsed() < WAIT, "the Wallet still runs: {procs:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts the tray process for the tray only (`--tray`), its window processes reachable by
/// the driver, with its own empty data directory.
fn start_tray(app: &Path, data: &Path) -> anyhow::Result<std::process::Child> {
    Ok(Command::new(app)
        .arg("--tray")
        .env("COUNTERSIGN_WALLET_DATA_DIR", data)
        .envs(automation_env(&desktop::driver_url())?)
        .spawn()?)
}

/// The window processes running now.
fn window_processes(app: &Path) -> usize {
    desktop::wallet_processes(app)
        .iter()
        .filter(|p| p.name == desktop::WINDOW_PROCESS)
        .count()
}

/// Checks the item's properties are those of the Wallet's icon; returns the tool tip title.
async fn check_item(item: &Item) -> anyhow::Result<String> {
    assert_eq!(item.string("Id").await?, ITEM_ID);
    assert_eq!(item.string("Title").await?, "Countersign Wallet");
    assert_eq!(item.string("Category").await?, "ApplicationStatus");
    assert_eq!(item.string("Status").await?, "Active");
    let icon = item.string("IconName").await?;
    let pixmaps = item.icon_pixmap().await?;
    eprintln!(
        "icon: name {icon:?}, {} pixmap(s) {:?}",
        pixmaps.len(),
        pixmaps.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>()
    );
    assert_eq!(
        icon, "countersign-wallet",
        "the icon theme's name (the package's)"
    );
    assert!(
        !pixmaps.is_empty(),
        "the item carries its icon's pixels too, for hosts whose theme lacks the name"
    );
    for (w, h, argb) in &pixmaps {
        assert!(*w > 0 && *h > 0, "a pixmap of {w}x{h}");
        assert_eq!(argb.len(), (*w * *h * 4) as usize, "ARGB32 of {w}x{h}");
    }
    assert!(
        !item.item_is_menu().await?,
        "a left click activates (opens the window), it does not only show the menu"
    );
    let tip = item.tool_tip().await?;
    eprintln!("tool tip: {tip:?}");
    assert!(
        tip.2.starts_with("Countersign Wallet"),
        "the tool tip names the Wallet: {tip:?}"
    );
    Ok(tip.2)
}

/// Waits until the tool tip's title is `title`.
async fn wait_tool_tip(item: &Item, title: &str) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    loop {
        let tip = item.tool_tip().await?;
        if tip.2 == title {
            return Ok(());
        }
        anyhow::ensure!(
            start.elapsed() < WAIT,
            "the tool tip says {:?}, not {title:?}",
            tip.2
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks Quit in the item's menu and checks the tray process exits with success and its
/// window process with it, and the watcher forgets the item.
async fn quit_from_menu(
    item: &Item,
    tray: &mut std::process::Child,
    app: &Path,
    watcher: &Watcher,
) -> anyhow::Result<()> {
    let quit = item.menu_entry("Quit").await?;
    // The tray may exit before its answer leaves: a missing reply is not a failure here.
    if let Err(e) = item.click(quit.id).await {
        eprintln!("Quit's answer: {e}");
    }
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = tray.try_wait()? {
            break status;
        }
        anyhow::ensure!(start.elapsed() < WAIT, "Quit did not end the tray process");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "the tray process quit cleanly: {status}");
    no_wallet(app).await?;
    let start = std::time::Instant::now();
    while !watcher.items().is_empty() {
        anyhow::ensure!(
            start.elapsed() < WAIT,
            "the watcher still lists {:?}",
            watcher.items()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, a session bus, a keyring and WebKitWebDriver: run scripts/wallet-e2e.sh"]
async fn the_tray_icon_opens_raises_and_quits_the_wallet() -> anyhow::Result<()> {
    let app = env_path("WALLET_APP");
    let shots = env_path("WALLET_E2E_SHOTS");
    std::fs::create_dir_all(&shots)?;
    no_wallet(&app).await?;
    let data = tempfile::tempdir()?;
    let stack = Stack::start().await?;
    let _driver = desktop::start_driver(desktop::driver_port()).await?;

    step("a watcher on the bus, then the Wallet for the tray: its item registers");
    let watcher = Watcher::start().await?;
    let mut tray = desktop::Guard(start_tray(&app, data.path())?);
    let panel = zbus::Connection::session().await?;
    let item = sni::wait_item(&panel, ITEM_ID, WAIT).await?;
    eprintln!(
        "item {}{} (watcher: {:?})",
        item.bus,
        item.path,
        watcher.items()
    );
    assert_eq!(check_item(&item).await?, "Countersign Wallet");
    let (revision, entries) = item.menu_layout().await?;
    eprintln!("menu revision {revision}: {entries:?}");
    let labels: Vec<&str> = entries
        .iter()
        .filter(|e| e.kind != "separator")
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(labels, vec!["Open Wallet", "Quit"]);
    assert!(entries.iter().all(|e| e.enabled));
    assert_eq!(window_processes(&app), 0, "started for the tray: no window");

    step("the menu's Open starts a window process");
    let open = item.menu_entry("Open Wallet").await?;
    item.click(open.id).await?;
    let s = Session::attach(&desktop::driver_url()).await?;
    s.wait_for(&testid("inbox"), WAIT).await?;
    assert_eq!(window_processes(&app), 1);

    step("pair, then a pending request: the tool tip counts it, and says so to the host");
    desktop::pair_alice(&s, &stack, WAIT).await?;
    let tips = item.count_new_tool_tips().await?;
    let reason = "Refund order I-100, counted by the tray icon";
    let _p1 = stack.pending_at("/v1/refunds", reason).await;
    // A host reads the tool tip again on NewToolTip; it does not poll. (Reading it before the
    // signal would also take ksni's note of the new value, and then no signal need follow.)
    let start = std::time::Instant::now();
    while tips.get() == 0 {
        anyhow::ensure!(
            start.elapsed() < WAIT,
            "no NewToolTip signal: a host keeps showing the old tool tip"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_tool_tip(&item, "Countersign Wallet (1 pending)").await?;
    desktop::close_notifications();

    step("a left click (Activate) with the window open raises it: no second window process");
    item.activate(10, 10).await?;
    desktop::wait_for_window("Countersign Wallet (1 pending)", WAIT).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(window_processes(&app), 1, "one window process");
    assert_eq!(s.window_handles().await?.len(), 1);
    assert!(desktop::window_visible("^Countersign Wallet")?);

    step("closed, a left click (Activate) opens the window again");
    let old = s.window_handles().await?;
    desktop::close_window("Countersign Wallet").await?;
    desktop::wait_window_process(&app, false, WAIT).await?;
    item.activate(10, 10).await?;
    s.switch_to_new_window(&old, WAIT).await?;
    s.wait_for(&testid("inbox"), WAIT).await?;
    desktop::screenshot(&shots.join("tray-icon-01-activated.png"))?;

    step("a hostile client: unknown ids, bad arguments, events nobody sends");
    let old = s.window_handles().await?;
    desktop::close_window("Countersign Wallet").await?;
    desktop::wait_window_process(&app, false, WAIT).await?;
    let hostile = zbus::Connection::session().await?;
    let evil = Item::new(&hostile, &format!("{}{}", item.bus, item.path)).await?;
    let menu = evil.menu().await?;
    for id in [9999, -1, i32::MAX, i32::MIN] {
        let answer = evil.click(id).await;
        eprintln!("Event({id}, clicked): {answer:?}");
        assert!(answer.is_err(), "an unknown id is refused: {answer:?}");
    }
    let root = evil.click(0).await;
    assert!(root.is_err(), "the root is not clickable: {root:?}");
    // Not a variant where the data goes: refused before the tray sees it.
    let bad = menu
        .call_method("Event", &(open.id, "clicked", "not a variant", 0u32))
        .await;
    eprintln!("Event with a string for the variant: {bad:?}");
    assert!(bad.is_err(), "a body of the wrong signature is refused");
    let bad = menu.call_method("Event", &(open.id,)).await;
    assert!(bad.is_err(), "a body missing arguments is refused");
    // Any variant is allowed as data: a nested one and a large one change nothing.
    let nested =
        zbus::zvariant::Value::Value(Box::new(zbus::zvariant::Value::from(vec!["x"; 1000])));
    menu.call_method("Event", &(open.id, "hovered", nested, u32::MAX))
        .await?;
    let layout = menu
        .call_method("GetLayout", &(4242i32, -1i32, Vec::<String>::new()))
        .await;
    assert!(layout.is_err(), "a missing parent is refused");
    let ctx = evil.activate(i32::MIN, i32::MAX).await;
    eprintln!("Activate(MIN, MAX): {ctx:?}");
    ctx?;
    // That Activate opened the window (any position is a click): close it again.
    s.switch_to_new_window(&old, WAIT).await?;
    s.wait_for(&testid("inbox"), WAIT).await?;
    let old = s.window_handles().await?;
    desktop::close_window("Countersign Wallet").await?;
    desktop::wait_window_process(&app, false, WAIT).await?;

    step("a flood of 50 left clicks at once: one window process at most, at any time");
    let most = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let watching = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (app, most, watching) = (app.clone(), most.clone(), watching.clone());
        tokio::task::spawn_blocking(move || {
            while watching.load(std::sync::atomic::Ordering::SeqCst) {
                most.fetch_max(window_processes(&app), std::sync::atomic::Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let clicks = futures::future::join_all((0..50).map(|i| evil.activate(i, i))).await;
    let failed: Vec<_> = clicks.iter().filter(|r| r.is_err()).collect();
    assert!(failed.is_empty(), "every click is answered: {failed:?}");
    s.switch_to_new_window(&old, WAIT).await?;
    s.wait_for(&testid("inbox"), WAIT).await?;
    // Let any extra start show up in the process list, if there were one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    watching.store(false, std::sync::atomic::Ordering::SeqCst);
    sampler.await?;
    let most = most.load(std::sync::atomic::Ordering::SeqCst);
    eprintln!("window processes at most during the flood: {most}");
    assert_eq!(most, 1, "one window process at most");
    assert_eq!(window_processes(&app), 1);
    assert_eq!(s.window_handles().await?.len(), 1);

    step("the tray still answers: properties, layout, Open");
    check_item(&item).await?;
    let (_, after) = item.menu_layout().await?;
    assert_eq!(
        after.len(),
        entries.len(),
        "the menu is unchanged: {after:?}"
    );
    item.click(open.id).await?;
    assert_eq!(window_processes(&app), 1);

    step("the menu's Quit ends the tray process and its window process, cleanly");
    s.quit().await?;
    quit_from_menu(&item, &mut tray.0, &app, &watcher).await?;
    drop(tray);
    stack.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, a session bus, a keyring and WebKitWebDriver: run scripts/wallet-e2e.sh"]
async fn the_tray_icon_appears_when_a_watcher_comes_later() -> anyhow::Result<()> {
    let app = env_path("WALLET_APP");
    no_wallet(&app).await?;
    let data = tempfile::tempdir()?;
    let panel = zbus::Connection::session().await?;
    let dbus = zbus::fdo::DBusProxy::new(&panel).await?;
    assert!(
        !dbus.name_has_owner(sni::WATCHER_NAME.try_into()?).await?,
        "no watcher yet"
    );

    step("the Wallet for the tray with no watcher on the bus: it runs on");
    let mut tray = desktop::Guard(start_tray(&app, data.path())?);
    // Its icon's connection owns org.kde.StatusNotifierItem-<pid>-<n> before it tries to
    // register; wait for that, and for the single instance name.
    let item_name = format!("org.kde.StatusNotifierItem-{}-", tray.0.id());
    let start = std::time::Instant::now();
    loop {
        let names = dbus.list_names().await?;
        let icon = names.iter().any(|n| n.as_str().starts_with(&item_name));
        let instance = names.iter().any(|n| n.as_str() == "dev.countersign.Wallet");
        if icon && instance {
            break;
        }
        anyhow::ensure!(
            start.elapsed() < WAIT,
            "the tray icon's name never appeared"
        );
        anyhow::ensure!(tray.0.try_wait()?.is_none(), "the tray process ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give its registration time to fail (no watcher), if it were going to do anything else.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        tray.0.try_wait()?.is_none(),
        "the tray runs on without a watcher"
    );

    step("a watcher appears: the item registers with it");
    let watcher = Watcher::start().await?;
    let item = sni::wait_item(&panel, ITEM_ID, WAIT).await?;
    check_item(&item).await?;
    assert!(item.bus.starts_with(&item_name), "{}", item.bus);

    step("the watcher goes and another comes (a panel restart): the item registers again");
    watcher.stop().await?;
    let watcher = Watcher::start().await?;
    let item = sni::wait_item(&panel, ITEM_ID, WAIT).await?;
    check_item(&item).await?;
    assert_eq!(watcher.items().len(), 1, "{:?}", watcher.items());

    step("its menu's Quit ends it cleanly");
    quit_from_menu(&item, &mut tray.0, &app, &watcher).await?;
    drop(tray);
    Ok(())
}
