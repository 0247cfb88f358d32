//! Figures for the closing note (measured, not asserted): run by `scripts/wallet-bench.sh`
//! in the same headless desktop as the e2e.
//!
//! - cold start: WebDriver session request to the inbox drawn;
//! - proxy_request to the `Notify` call on the session bus (p50 / p99);
//! - clicking Approve to the agent's `wait` returning (p50 / p99);
//! - resident memory (RSS and PSS, summed over the app and its WebKit processes) with 15 and
//!   1,000 pending requests;
//! - the light tray: memory with the window closed (the window process and WebKit's gone:
//!   the tray process alone), notification delays while closed, re-opening by a second launch
//!   (a cold window process) to the inbox's first row drawn, memory after close / re-open
//!   cycles; `WALLET_BENCH_SCOPE=tray` stops after these;
//! - the tray side of a split design alone (`$WALLET_TRAY_SIDE`, crates/wallet's `tray-side`
//!   example: sync, notifications, keychain, no GTK or WebKit): memory and notification delays;
//! - the review of a ~1 MiB JSON body (just under the gated-body cap): opening it to its first
//!   page drawn, and to Approve enabled after paging to its end through WebDriver;
//! - an inbox of 10,000 pending requests (the bench stack raises `max_pending_per_app`): a
//!   fresh start to its rows drawn, a re-draw from another view, and frame times while a
//!   script scrolls the (virtual) list slowly and fast (a `requestAnimationFrame` loop records
//!   the frame deltas); the history view drawn with those 10,000 pending; memory after;
//! - WebKit's floor: WebKitGTK's MiniBrowser showing a one-line page, its memory summed the
//!   same way, and the open Wallet's over it (also in the `tray` scope).

use countersign_sdk::{ProxyOutcome, ProxyRequest};
use countersign_wallet_e2e::desktop;
use countersign_wallet_e2e::measure::{
    fill_pending, memory_kb, memory_line, percentile, process_start, scroll_frames, take_measures,
    uptime,
};
use countersign_wallet_e2e::script::env_path;
use countersign_wallet_e2e::stack::Stack;
use countersign_wallet_e2e::webdriver::{testid, Session};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const WAIT: Duration = Duration::from_secs(60);
/// For the steps with 10,000 pending requests.
const WAIT_LONG: Duration = Duration::from_secs(600);
/// Pending requests for the inbox figures (the Wallet lists up to this many).
const MANY: usize = 10_000;

/// The time from `t0` until `script` (a function body) returns `true`, polled every 5 ms
/// (errors while the page loads count as not yet).
async fn time_until(
    s: &Session,
    t0: Instant,
    what: &str,
    script: &str,
) -> anyhow::Result<Duration> {
    loop {
        if matches!(s.execute(script).await, Ok(serde_json::Value::Bool(true))) {
            return Ok(t0.elapsed());
        }
        anyhow::ensure!(t0.elapsed() < WAIT_LONG, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Runs `action` (a function body) in the page after installing an observer that records, in
/// `window.__benchDrawn`, the milliseconds from just before `action` to the frame after
/// `ready` (an expression) first became true; waits for that figure and returns it.
async fn in_page_draw(s: &Session, ready: &str, action: &str) -> anyhow::Result<f64> {
    s.execute(&format!(
        "window.__benchDrawn = undefined;
         const t0 = performance.now();
         const done = () => requestAnimationFrame(() => setTimeout(() => {{
           window.__benchDrawn = performance.now() - t0; }}, 0));
         const o = new MutationObserver(() => {{
           if ({ready}) {{ o.disconnect(); done(); }}
         }});
         o.observe(document.body, {{ childList: true, subtree: true }});
         {action}
         return true;"
    ))
    .await?;
    let start = Instant::now();
    loop {
        if let Some(ms) = s
            .execute("return window.__benchDrawn ?? null")
            .await?
            .as_f64()
        {
            return Ok(ms);
        }
        anyhow::ensure!(start.elapsed() < WAIT_LONG, "never drawn: {ready}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// "p50 / p99 / max, frames over one and two 60 Hz intervals" of frame deltas.
fn frame_summary(frames: &[f64]) -> String {
    if frames.is_empty() {
        return "no frames".into();
    }
    let f = frames;
    let over = |ms: f64| f.iter().filter(|d| **d > ms).count();
    let (over_one, over_20, over_two) = (over(16.7), over(20.0), over(33.4));
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} of {} frames > 16.7 ms, {} > 20 ms, \
         {} > 33.4 ms",
        percentile(f, 0.5),
        percentile(f, 0.99),
        f.iter().cloned().fold(0.0, f64::max),
        over_one,
        f.len(),
        over_20,
        over_two,
    )
}

/// "p50 / p99 / max (n)" of durations.
fn duration_summary(d: &[f64]) -> String {
    if d.is_empty() {
        return "none".into();
    }
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (n={})",
        percentile(d, 0.5),
        percentile(d, 0.99),
        d.iter().cloned().fold(0.0, f64::max),
        d.len()
    )
}

/// Scroll frames at `step` px a frame, with what the virtual list's own code cost per frame
/// (`vlist-update`) and its row fetches over IPC took (`vlist-fetch`, asynchronous).
async fn scroll_report(s: &Session, step: u32, frames: u32) -> anyhow::Result<String> {
    take_measures(s, "vlist-update").await?;
    take_measures(s, "vlist-fetch").await?;
    let f = scroll_frames(s, step, frames).await?;
    let update = take_measures(s, "vlist-update").await?;
    let fetch = take_measures(s, "vlist-fetch").await?;
    Ok(format!(
        "{}; list update per frame {}; row fetches {}",
        frame_summary(&f),
        duration_summary(&update),
        duration_summary(&fetch)
    ))
}

/// A JSON array of objects of `just_under` bytes or a little less.
fn big_json(just_under: usize) -> String {
    let mut out = String::from("[");
    for i in 0.. {
        let item = format!(
            r#"{{"sku":"S-{i:06}","qty":{},"price":{},"note":"line item {i} of a bulk refund"}}"#,
            i % 7 + 1,
            1000 + i % 9000
        );
        if out.len() + item.len() + 2 > just_under {
            break;
        }
        if i > 0 {
            out.push(',');
        }
        out.push_str(&item);
    }
    out.push(']');
    out
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Timestamps of `Notify` calls seen by `dbus-monitor --profile`.
fn notify_times(file: &Path) -> Vec<f64> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("mc") && l.ends_with("Notify"))
        .filter_map(|l| l.split('\t').nth(1)?.parse().ok())
        .collect()
}

/// Each process of the Wallet running `exe` with its 15 largest mappings by RSS (MB): where
/// the open window's memory lies.
fn mappings_report(exe: &Path) -> String {
    let mut out = String::new();
    for p in desktop::wallet_processes(exe) {
        out.push_str(&format!(
            "{} (RSS {:.1} MB):\n",
            p.name,
            p.rss_kb as f64 / 1024.0
        ));
        for (name, kb) in desktop::largest_mappings(p.pid, 15) {
            out.push_str(&format!("  {:>7.1} MB  {name}\n", kb as f64 / 1024.0));
        }
    }
    out
}

/// Waits for the next `Notify` call after `seen` and returns its delay (ms) from `t0` (epoch s).
async fn notify_delay(file: &Path, seen: usize, t0: f64) -> f64 {
    let start = Instant::now();
    while notify_times(file).len() <= seen {
        assert!(start.elapsed() < WAIT, "no notification");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    (notify_times(file)[seen] - t0) * 1000.0
}

/// `n` requests, 2.1 s apart (the Wallet shows at most 5 notifications per 10 s): the delays
/// from each `proxy_request` to its `Notify` call on the bus (ms).
/// The requests are withdrawn afterwards, so the inbox counts the bench expects stay as they were.
async fn notify_delays(
    stack: &Stack,
    file: &Path,
    n: usize,
    what: &str,
) -> anyhow::Result<Vec<f64>> {
    let mut out = Vec::new();
    let mut made = Vec::new();
    for i in 0..n {
        let seen = notify_times(file).len();
        let t0 = now_secs();
        made.push(
            stack
                .pending_at("/v1/refunds", &format!("{what} {i}"))
                .await,
        );
        out.push(notify_delay(file, seen, t0).await);
        desktop::close_notifications();
        tokio::time::sleep(Duration::from_millis(2100)).await;
    }
    for p in made {
        p.cancel().await?;
    }
    Ok(out)
}

/// "p50 x ms, p99 y ms (n=…)".
fn p50_p99(samples: &[f64]) -> String {
    if samples.is_empty() {
        return "none".into();
    }
    format!(
        "p50 {:.1} ms, p99 {:.1} ms (n={})",
        percentile(samples, 0.5),
        percentile(samples, 0.99),
        samples.len()
    )
}

/// The tray side of a split Wallet alone (crates/wallet/examples/tray-side.rs, `$WALLET_TRAY_SIDE`):
/// memory when paired and idle, notification delays, memory after them.
async fn tray_side_figures(stack: &Stack, file: &Path, exe: &Path) -> anyhow::Result<String> {
    let data = tempfile::tempdir()?;
    let mut child = Command::new(exe)
        .arg(stack.invite("alice").await?)
        .env("COUNTERSIGN_WALLET_DATA_DIR", data.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line)?;
    anyhow::ensure!(line.trim() == "paired", "tray-side: {line:?}");
    let _child = desktop::Guard(child);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = memory_kb(exe);
    let delays = notify_delays(stack, file, 10, "Tray-side refund").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = memory_kb(exe);
    Ok(format!(
        "tray side alone (no GTK/WebKit), paired and idle: {}\n\
         tray side alone: proxy_request -> Notify on the bus: {}\n\
         tray side alone, after those 10 requests: {}\n",
        memory_line(&idle),
        p50_p99(&delays),
        memory_line(&after),
    ))
}

/// WebKitGTK's own browser (`MiniBrowser`, shipped in libwebkit2gtk-4.1-0; another path in
/// `WALLET_BENCH_MINIBROWSER`) showing a one-line local page in this same desktop: the floor
/// under any WebKitGTK window here (its UI, web and network processes), measured once its
/// memory stops growing, with the open Wallet's figures (`rss_kb`, `pss_kb`, 1,000 pending)
/// compared to it. Where the floor's memory lies goes to `bench-floor-mappings.txt`.
async fn webkit_floor_figures(shots: &Path, rss_kb: u64, pss_kb: u64) -> anyhow::Result<String> {
    let browser = PathBuf::from(
        std::env::var("WALLET_BENCH_MINIBROWSER")
            .unwrap_or_else(|_| "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser".into()),
    );
    if !browser.exists() {
        return Ok(format!(
            "WebKit's floor: {} is missing\n",
            browser.display()
        ));
    }
    let page = tempfile::Builder::new().suffix(".html").tempfile()?;
    std::fs::write(page.path(), "<!doctype html><p>One line.</p>")?;
    let _browser = desktop::Guard(
        Command::new(&browser)
            .arg(format!("file://{}", page.path().display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    // Settled: a web process, and the summed RSS within 1% of the last sample 1 s before.
    let start = Instant::now();
    let mut last = 0u64;
    let floor = loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let procs = desktop::wallet_processes(&browser);
        let rss: u64 = procs.iter().map(|p| p.rss_kb).sum();
        let web = procs.iter().any(|p| p.name == "WebKitWebProcess");
        if web && rss.abs_diff(last) * 100 <= last || start.elapsed() > WAIT {
            break memory_kb(&browser);
        }
        last = rss;
    };
    std::fs::write(
        shots.join("bench-floor-mappings.txt"),
        mappings_report(&browser),
    )?;
    let mb = |kb: u64| kb as f64 / 1024.0;
    Ok(format!(
        "WebKit's floor (MiniBrowser, a one-line page): {}\n\
         the Wallet open with 1000 pending over that floor: RSS +{:.1} MB ({:.2}x), PSS +{:.1} MB ({:.2}x)\n",
        memory_line(&floor),
        mb(rss_kb) - mb(floor.0),
        rss_kb as f64 / floor.0.max(1) as f64,
        mb(pss_kb) - mb(floor.1),
        pss_kb as f64 / floor.1.max(1) as f64,
    ))
}

/// The app started for the tray (`--tray`, as at login): memory with no window ever made.
/// Waits for the driven app to exit first (one Wallet per session bus).
async fn tray_start_figures(app: &Path) -> anyhow::Result<String> {
    let start = Instant::now();
    while !desktop::wallet_processes(app).is_empty() {
        anyhow::ensure!(start.elapsed() < WAIT, "the driven Wallet did not exit");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _tray = desktop::Guard(
        Command::new(app)
            .arg("--tray")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(format!(
        "started for the tray (--tray, no window made yet), paired, 5 s later: {}\n",
        memory_line(&memory_kb(app))
    ))
}

/// The light tray, from an open window on the inbox: close it (the web process goes) and
/// measure; notification delays while closed; re-open it `cycles` times with a second launch
/// (what the tray's Open and a desktop launcher do) to the inbox's first row drawn. Leaves the
/// session on the last window, open.
async fn light_tray_figures(
    s: &Session,
    stack: &Stack,
    app: &Path,
    file: &Path,
    cycles: usize,
) -> anyhow::Result<String> {
    let mut old = s.window_handles().await?;
    desktop::close_window("Countersign Wallet").await?;
    desktop::wait_window_process(app, false, WAIT).await?;
    // Also lets the notification throttle's window of the requests before pass (at most 5 a
    // 10 s, then a summary), so the delays below are not the throttle's.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let closed = memory_kb(app);
    let delays = notify_delays(stack, file, 10, "Closed-window refund").await?;
    let closed_after = memory_kb(app);
    let mut reopen = Vec::new();
    let mut open_after = None;
    for cycle in 0..cycles {
        if cycle > 0 {
            old.extend(s.window_handles().await?);
            desktop::close_window("Countersign Wallet").await?;
            desktop::wait_window_process(app, false, WAIT).await?;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let t0_epoch = now_secs() * 1000.0;
        let launch = Command::new(app)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let _launch = desktop::Guard(launch);
        s.switch_to_new_window(&old, WAIT).await?;
        let start = Instant::now();
        let marks = loop {
            let m = s
                .execute(
                    "const e = performance.getEntriesByName('wallet-inbox-first-row', 'mark')[0];
                     return e ? { origin: performance.timeOrigin, row: performance.timeOrigin + e.startTime } : null;",
                )
                .await;
            if let Ok(v) = m {
                if v.is_object() {
                    break v;
                }
            }
            anyhow::ensure!(start.elapsed() < WAIT, "the re-opened inbox drew no row");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let origin = marks["origin"].as_f64().unwrap_or(f64::NAN);
        let row = marks["row"].as_f64().unwrap_or(f64::NAN);
        reopen.push((row - t0_epoch, origin - t0_epoch, row - origin));
        if cycle + 1 == cycles {
            tokio::time::sleep(Duration::from_secs(2)).await;
            open_after = Some(memory_kb(app));
        }
    }
    let list = |f: fn(&(f64, f64, f64)) -> f64| {
        reopen
            .iter()
            .map(|r| format!("{:.0}", f(r)))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    Ok(format!(
        "window closed (window process gone, 11 s later): {}\n\
         window closed: proxy_request -> Notify on the bus: {}\n\
         window closed, after those 10 requests: {}\n\
         re-open by a second launch to the inbox's first row drawn: {} ms (second launch to the \
         new page's start {} ms; page start to first row {} ms)\n\
         open again after {cycles} close / re-open cycles: {}\n",
        memory_line(&closed),
        p50_p99(&delays),
        memory_line(&closed_after),
        list(|r| r.0),
        list(|r| r.1),
        list(|r| r.2),
        open_after.as_ref().map(memory_line).unwrap_or_default(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark in the headless desktop: run scripts/wallet-bench.sh"]
async fn wallet_figures() -> anyhow::Result<()> {
    let app = env_path("WALLET_APP");
    let shots = env_path("WALLET_E2E_SHOTS");
    std::fs::create_dir_all(&shots)?;
    let stack = Stack::start_with("1h", "max_pending_per_app = 20000").await?;
    // proxy_request → Notify on the bus.
    let monitor_file = shots.join("bench-notify.txt");
    let _monitor = desktop::Guard(
        Command::new("dbus-monitor")
            .args([
                "--session",
                "--profile",
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdout(std::fs::File::create(&monitor_file)?)
            .stderr(Stdio::null())
            .spawn()?,
    );
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The tray side of a split design, alone, before the app runs.
    let tray_side = match std::env::var_os("WALLET_TRAY_SIDE") {
        Some(exe) => tray_side_figures(&stack, &monitor_file, Path::new(&exe)).await?,
        None => "tray side alone: not measured (WALLET_TRAY_SIDE not set)\n".into(),
    };
    eprintln!("{tray_side}");
    let _driver = desktop::start_driver(desktop::driver_port()).await?;

    // Pair first (a cold start with a pairing is the interesting one).
    let s = Session::start(&desktop::driver_url(), &app, &[]).await?;
    s.wait_for(&testid("inbox"), WAIT).await?;
    desktop::pair_alice(&s, &stack, WAIT).await?;
    s.quit().await?;

    let (cold_epoch, cold_boot) = (now_secs() * 1000.0, uptime() * 1000.0);
    let t = Instant::now();
    let s = Session::start(&desktop::driver_url(), &app, &[]).await?;
    s.wait_for(&testid("inbox-count"), WAIT).await?;
    let cold = t.elapsed();
    // What a window process of a split design would pay on each open: its process start to
    // its page starting, its script running and the view ready (page clock, epoch ms).
    let cold_split = {
        let app_epoch = process_start(&app)
            .map(|t| cold_epoch + t * 1000.0 - cold_boot)
            .unwrap_or(f64::NAN);
        time_until(
            &s,
            Instant::now(),
            "the view ready",
            "return performance.getEntriesByName('wallet-ui-ready', 'mark').length > 0",
        )
        .await?;
        let m = s
            .execute(
                "const m = (n) => { const e = performance.getEntriesByName(n, 'mark')[0];
                                     return e ? performance.timeOrigin + e.startTime : null; };
                 return { origin: performance.timeOrigin, script: m('wallet-script'),
                          ready: m('wallet-ui-ready') };",
            )
            .await?;
        let at = |k: &str| m[k].as_f64().unwrap_or(f64::NAN) - app_epoch;
        format!(
            "cold start split (10 ms resolution): app process start to page start {:.0} ms, to \
             the view's script {:.0} ms, to the view ready {:.0} ms\n",
            at("origin"),
            at("script"),
            at("ready")
        )
    };

    // The first window just drawn (no request yet): what the figures below add to it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let at_start = memory_kb(&app);

    let mut to_notify = Vec::new();
    let mut approvals = Vec::new();
    for i in 0..30 {
        let seen = notify_times(&monitor_file).len();
        let t0 = now_secs();
        let p = stack
            .pending_at("/v1/refunds", &format!("Benchmark refund {i}"))
            .await;
        let start = Instant::now();
        while notify_times(&monitor_file).len() == seen {
            assert!(start.elapsed() < WAIT, "no notification");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        to_notify.push((notify_times(&monitor_file)[seen] - t0) * 1000.0);
        approvals.push(p);
        desktop::close_notifications();
        // The Wallet shows at most 5 notifications per 10 s (more are summarised): stay under.
        tokio::time::sleep(Duration::from_millis(2100)).await;
    }

    // Approve click → the agent's wait returns.
    let mut to_result = Vec::new();
    for p in approvals.into_iter().take(15) {
        s.click(&s.wait_for(&testid("nav-inbox"), WAIT).await?)
            .await?;
        s.wait_for(&testid("inbox-row"), WAIT).await?;
        let row = s
            .scroll_to(
                &format!(
                    "[data-testid=\"inbox-row\"][data-approval-id=\"{}\"]",
                    p.approval_id
                ),
                WAIT,
            )
            .await?;
        s.click(&row).await?;
        let approve = s.wait_for(&testid("approve"), WAIT).await?;
        let waiter = tokio::spawn(async move {
            let r = p.wait(Duration::from_secs(30)).await;
            (Instant::now(), r.is_ok())
        });
        let t0 = Instant::now();
        s.click(&approve).await?;
        let (done, ok) = waiter.await?;
        assert!(ok);
        to_result.push(done.duration_since(t0).as_secs_f64() * 1000.0);
    }

    let (rss_few, pss_few, detail_few) = memory_kb(&app);

    // 1,000 pending requests.
    desktop::close_notifications();
    let base = stack.agent()?;
    for i in 0..985 {
        let request = ProxyRequest::post("payments", "/v1/refunds", format!("Bulk refund {i}"))
            .json(&serde_json::json!({"i": i}))?;
        base.proxy_request(request).await?;
    }
    desktop::wait_for_window("Countersign Wallet (1000 pending)", WAIT).await?;
    s.click(&s.wait_for(&testid("nav-inbox"), WAIT).await?)
        .await?;
    s.wait_until(
        "the rows in view",
        "const c = document.querySelector('[data-testid=inbox-count]');
         return !!c && c.textContent === '1000'
           && document.querySelectorAll('[data-testid=inbox-row]').length > 0",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss, pss, detail) = memory_kb(&app);
    let maps = mappings_report(&app);
    std::fs::write(shots.join("bench-1000-mappings.txt"), &maps)?;
    eprintln!("{maps}");
    // The same window left alone: what WebKit's and JavaScriptCore's own timers give back.
    tokio::time::sleep(Duration::from_secs(30)).await;
    let idle = memory_kb(&app);
    desktop::close_notifications();
    desktop::screenshot(&shots.join("bench-1000.png"))?;

    // The light tray with 1,000 pending: closed, notifications, re-opened.
    let tray = light_tray_figures(&s, &stack, &app, &monitor_file, 3).await?;
    eprintln!("{tray}");
    let head = format!(
        "WebKit settings ({}): {}\n\
         cold start to first inbox draw (WebDriver session included): {:.0} ms\n\
         {cold_split}\
         proxy_request -> Notify on the bus: p50 {:.1} ms, p99 {:.1} ms (n={})\n\
         Approve click -> agent wait returns: p50 {:.1} ms, p99 {:.1} ms (n={})\n\
         first window just drawn, nothing pending: {}\n\
         RSS with 15 pending (app + WebKit processes): {:.1} MB, PSS {:.1} MB ({})\n\
         RSS with 1000 pending (app + WebKit processes): {:.1} MB, PSS {:.1} MB ({})\n\
         the same, 30 s later, left alone: {}\n\
         {tray}{tray_side}",
        "COUNTERSIGN_WALLET_WEBKIT",
        std::env::var("COUNTERSIGN_WALLET_WEBKIT")
            .unwrap_or_else(|_| "unset: cache,features".into()),
        cold.as_secs_f64() * 1000.0,
        percentile(&to_notify, 0.5),
        percentile(&to_notify, 0.99),
        to_notify.len(),
        percentile(&to_result, 0.5),
        percentile(&to_result, 0.99),
        to_result.len(),
        memory_line(&at_start),
        rss_few as f64 / 1024.0,
        pss_few as f64 / 1024.0,
        detail_few,
        rss as f64 / 1024.0,
        pss as f64 / 1024.0,
        detail,
        memory_line(&idle),
    );
    if std::env::var("WALLET_BENCH_SCOPE").as_deref() == Ok("tray") {
        // The light tray's figures only (scripts/wallet-bench.sh --tray).
        s.quit().await?;
        let head = format!(
            "{head}{}{}",
            tray_start_figures(&app).await?,
            webkit_floor_figures(&shots, rss, pss).await?
        );
        eprintln!("\n{head}");
        std::fs::write(shots.join("bench.txt"), head)?;
        stack.stop().await;
        return Ok(());
    }

    // A ~1 MiB JSON body (the gated-body cap is 1 MiB): open it from the inbox.
    let body = big_json(1024 * 1024 - 8 * 1024);
    let body_bytes = body.len();
    let request = ProxyRequest::post("payments", "/v1/refunds", "Bulk refund, 1 MiB itemised")
        .header("content-type", "application/json")
        .body(body.into_bytes());
    let big = match base.proxy_request(request).await? {
        ProxyOutcome::Pending(p) => p,
        ProxyOutcome::Completed(_) => panic!("ran without approval"),
    };
    desktop::close_notifications();
    s.click(&s.wait_for(&testid("nav-history"), WAIT).await?)
        .await?;
    s.wait_for(&testid("history-row"), WAIT).await?;
    s.click(&s.wait_for(&testid("nav-inbox"), WAIT).await?)
        .await?;
    s.wait_for(&testid("inbox-row"), WAIT).await?;
    s.scroll_to(
        &format!(
            "[data-testid=\"inbox-row\"][data-approval-id=\"{}\"]",
            big.approval_id
        ),
        WAIT,
    )
    .await?;
    let t0 = Instant::now();
    let first_page_ms = in_page_draw(
        &s,
        "!!document.querySelector('[data-testid=body-scroll] .json-line, [data-testid=body-scroll] [data-testid=body-line]')",
        &format!(
            "document.querySelector('[data-testid=\"inbox-row\"][data-approval-id=\"{}\"]').click();",
            big.approval_id
        ),
    )
    .await?;
    let first_page_wd = t0.elapsed();
    let review_ipc = take_measures(&s, "review-ipc").await?;
    let review_build = take_measures(&s, "review-build").await?;
    let state = "const p = document.querySelector('.paged-body');
         const a = document.querySelector('[data-testid=approve]');
         return { seen: Number(p.dataset.pagesSeen), pages: Number(p.dataset.pages),
                  disabled: !a || a.disabled };";
    let mut scrolls = 0u32;
    let mut last = s.execute(state).await?;
    while last["disabled"] != false {
        anyhow::ensure!(t0.elapsed() < WAIT_LONG, "Approve never enabled: {last}");
        last = s
            .execute(&format!(
                "const b = document.querySelector('[data-testid=body-scroll]');
                 b.scrollTop = b.scrollHeight; b.dispatchEvent(new Event('scroll'));
                 {state}"
            ))
            .await?;
        scrolls += 1;
    }
    let to_end = t0.elapsed();
    let big_pages = last["pages"].as_u64().unwrap_or(0);
    s.click(&s.wait_for(&testid("approve"), WAIT).await?)
        .await?;
    big.wait(Duration::from_secs(60)).await?;

    // 10,000 pending: create the rest concurrently.
    let have = 1000;
    let fill = fill_pending(&stack, have, MANY).await?;
    desktop::wait_for_window(&format!("Countersign Wallet ({MANY} pending)"), WAIT_LONG).await?;
    desktop::close_notifications();
    let (rss_many, pss_many, detail_many) = memory_kb(&app);

    // Re-draw of the inbox from another view (the Wallet holds the 10,000 already).
    s.click(&s.wait_for(&testid("nav-pairings"), WAIT).await?)
        .await?;
    s.wait_until(
        "the inbox left",
        "return !document.querySelector('[data-testid=inbox]')",
        WAIT_LONG,
    )
    .await?;
    let redraw_ms = in_page_draw(
        &s,
        "document.querySelectorAll('[data-testid=inbox-row]').length > 0",
        "document.querySelector('[data-testid=nav-inbox]').click();",
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rows_in_dom = s
        .execute("return document.querySelectorAll('[data-testid=inbox-row]').length")
        .await?;
    let frames_slow = scroll_report(&s, 100, 600).await?;
    let frames_fast = scroll_report(&s, 1000, 600).await?;
    // To the very end of the list: the oldest row is drawn.
    let t_end = Instant::now();
    s.execute("window.scrollTo(0, document.scrollingElement.scrollHeight); return true")
        .await?;
    s.wait_until(
        "the last row drawn",
        &format!(
            "return !!document.querySelector('li.vrow[data-index=\"{}\"] [data-testid=inbox-row]')",
            MANY - 1
        ),
        WAIT,
    )
    .await?;
    let to_last_row = t_end.elapsed();

    // The history view with 10,000 pending (it lists finished requests only).
    let history_ms = in_page_draw(
        &s,
        "!!document.querySelector('[data-testid=history-row]')",
        "document.querySelector('[data-testid=nav-history]').click();",
    )
    .await?;
    let history_count = s
        .execute("return document.querySelector('[data-testid=history-count]').textContent")
        .await?;
    let frames_history = scroll_report(&s, 100, 300).await?;
    s.click(&s.wait_for(&testid("nav-inbox"), WAIT).await?)
        .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss_after, pss_after, detail_after) = memory_kb(&app);
    s.quit().await?;

    // A fresh start with 10,000 pending: to the first row drawn, and to all of them synced.
    // Split with the app's start time (/proc) and the view's User Timing marks (page clock,
    // `performance.timeOrigin` + mark, all in ms since the epoch).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let t0_epoch = now_secs() * 1000.0;
    let t0_boot = uptime() * 1000.0;
    let t0 = Instant::now();
    let s = Session::start(&desktop::driver_url(), &app, &[]).await?;
    let session_epoch = now_secs() * 1000.0;
    let fresh_first = time_until(
        &s,
        t0,
        "the first inbox row",
        "return document.querySelectorAll('[data-testid=inbox-row]').length > 0",
    )
    .await?;
    let fresh_all = time_until(
        &s,
        t0,
        "the inbox with every request",
        &format!(
            "const c = document.querySelector('[data-testid=inbox-count]');
             const sync = document.querySelector('[data-testid=inbox-syncing]');
             return !!c && c.textContent === '{MANY}' && !!sync && sync.hidden
               && document.querySelectorAll('[data-testid=inbox-row]').length > 0"
        ),
    )
    .await?;
    let synced_epoch = t0_epoch + fresh_all.as_secs_f64() * 1000.0;
    // The app's start on the bench's clock: its boot-clock offset from t0 added to t0.
    let app_epoch = process_start(&app)
        .map(|t| t0_epoch + t * 1000.0 - t0_boot)
        .unwrap_or(f64::NAN);
    let marks = s
        .execute(
            "const m = (n) => { const e = performance.getEntriesByName(n, 'mark')[0];
                                 return e ? performance.timeOrigin + e.startTime : null; };
             return { origin: performance.timeOrigin, script: m('wallet-script'),
                      ready: m('wallet-ui-ready'), data: m('wallet-inbox-first-data'),
                      row: m('wallet-inbox-first-row') };",
        )
        .await?;
    let mark = |k: &str| marks[k].as_f64().unwrap_or(f64::NAN);
    let fresh_split = format!(
        "WebDriver session start (request to the app process started) {:.0} ms; Wallet start \
         (process start to page loaded {:.0} ms, to the view's script running {:.0} ms, to the \
         Wallet ready {:.0} ms); first inbox data to the first row drawn {:.0} ms; app process \
         start to the first row drawn {:.0} ms, to all {MANY} synced {:.0} ms; the WebDriver \
         session returned {:.0} ms after the request",
        app_epoch - t0_epoch,
        mark("origin") - app_epoch,
        mark("script") - app_epoch,
        mark("ready") - app_epoch,
        mark("row") - mark("data"),
        mark("row") - app_epoch,
        synced_epoch - app_epoch,
        session_epoch - t0_epoch,
    );
    desktop::close_notifications();
    desktop::screenshot(&shots.join("bench-10000.png"))?;

    let floor = webkit_floor_figures(&shots, rss, pss).await?;
    let report = format!(
        "{head}{} byte JSON body ({} pages): click to first page drawn {:.0} ms in the page ({:.0} ms \
         seen through WebDriver; the review command {:.0} ms, building the view {:.0} ms); to \
         Approve enabled after paging to the end {:.0} ms ({} WebDriver scrolls)\n\
         {} pending created with 32 concurrent SDK calls: {:.1} s ({:.0} requests/s)\n\
         RSS with {} pending (app + WebKit processes): {:.1} MB, PSS {:.1} MB ({})\n\
         inbox of {} pending: fresh start (WebDriver session included) to the first row \
         drawn {:.0} ms, to the count {} shown and syncing done {:.0} ms ({}); re-draw from the pairings view {:.0} ms \
         ({} rows in the DOM); jump to the end to the last row drawn {:.0} ms\n\
         inbox scroll frames, 100 px a frame (600 frames): {}\n\
         inbox scroll frames, 1000 px a frame (600 frames): {}\n\
         history view with {} pending: click to the first row drawn {:.0} ms ({} finished \
         requests); scroll frames, 100 px a frame: {}\n\
         RSS with {} pending after scrolling the inbox and the history: {:.1} MB, PSS {:.1} MB ({})\n\
         {floor}",
        body_bytes,
        big_pages,
        first_page_ms,
        first_page_wd.as_secs_f64() * 1000.0,
        review_ipc.last().copied().unwrap_or(f64::NAN),
        review_build.last().copied().unwrap_or(f64::NAN),
        to_end.as_secs_f64() * 1000.0,
        scrolls,
        MANY - have,
        fill.as_secs_f64(),
        (MANY - have) as f64 / fill.as_secs_f64(),
        MANY,
        rss_many as f64 / 1024.0,
        pss_many as f64 / 1024.0,
        detail_many,
        MANY,
        fresh_first.as_secs_f64() * 1000.0,
        MANY,
        fresh_all.as_secs_f64() * 1000.0,
        fresh_split,
        redraw_ms,
        rows_in_dom,
        to_last_row.as_secs_f64() * 1000.0,
        frames_slow,
        frames_fast,
        MANY,
        history_ms,
        history_count.as_str().unwrap_or("?"),
        frames_history,
        MANY,
        rss_after as f64 / 1024.0,
        pss_after as f64 / 1024.0,
        detail_after,
    );
    eprintln!("\n{report}");
    std::fs::write(shots.join("bench.txt"), report)?;
    s.quit().await?;
    stack.stop().await;
    Ok(())
}
