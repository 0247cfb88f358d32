//! Scrolling and first-draw figures for an inbox of 10,000 pending requests, alone and
//! repeatable (`scripts/wallet-bench.sh --scroll`, minutes instead of the whole bench's half
//! hour). Measured, not asserted.
//!
//! The 10,000 are made while the Wallet's window is open; that window then scrolls the inbox
//! down at 100 and at 1000 px a frame for 600 frames (a `requestAnimationFrame` loop in the
//! page records the frame deltas), again 15 s later, and once more after the window was closed
//! and re-opened by a second launch (`WALLET_SCROLL_FLOOD=0` skips these). Then each run
//! starts the Wallet fresh with the 10,000 pending (the split: app process start → page
//! loaded → first row drawn, and → all synced), scrolls the same way, and measures the floor
//! in the same window: the page with the Wallet's view replaced by a tall blank box, and by
//! 10,000 static plain text rows (no script, no IPC while scrolling; `WALLET_SCROLL_FLOOR=0`
//! skips it). If the floor drops frames too, nothing in the Wallet's view can fix it.
//!
//! Frame times on a shared 2-core machine follow what else runs, so each scroll also reports
//! the CPU time a frame of the app, its WebKit web process and Xvfb (from /proc), and how many
//! cores the rest of the machine kept busy meanwhile.
//!
//! `WALLET_SCROLL_VARIANTS` (default `base::`) lists what is measured, `|`-separated, each
//! `name:ENV=V,ENV=V:CSS` (environment of the app's processes, and CSS rules added to the
//! view's style sheet through the CSSOM), so WebKit settings and row styles can be compared in
//! one run without rebuilding; `WALLET_SCROLL_RUNS` (default 3) fresh runs of each,
//! interleaved.

use countersign_wallet_e2e::desktop::{self, Guard};
use countersign_wallet_e2e::measure::{
    fill_pending, percentile, process_start, scroll_frames, take_measures, uptime,
};
use countersign_wallet_e2e::script::env_path;
use countersign_wallet_e2e::stack::Stack;
use countersign_wallet_e2e::webdriver::{testid, Session};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const WAIT: Duration = Duration::from_secs(60);
const WAIT_LONG: Duration = Duration::from_secs(600);
/// Pending requests in the inbox.
const MANY: usize = 10_000;
/// Frames per scroll.
const FRAMES: u32 = 600;

/// One configuration measured.
struct Variant {
    name: String,
    env: Vec<(String, String)>,
    css: String,
}

fn variants() -> Vec<Variant> {
    let spec = std::env::var("WALLET_SCROLL_VARIANTS").unwrap_or_else(|_| "base::".into());
    spec.split('|')
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            let mut parts = v.splitn(3, ':');
            let name = parts.next().unwrap_or("").trim().to_string();
            let env = parts
                .next()
                .unwrap_or("")
                .split(',')
                .filter_map(|kv| {
                    let (k, v) = kv.split_once('=')?;
                    Some((k.trim().to_string(), v.trim().to_string()))
                })
                .collect();
            let css = parts.next().unwrap_or("").to_string();
            Variant { name, env, css }
        })
        .collect()
}

/// CPU time (ms) used so far by the Wallet's processes (the app: its tray and window
/// processes; its WebKit web process; the rest of its children), by Xvfb, and by the whole machine (busy, and in total).
#[derive(Clone, Copy, Default)]
struct Cpu {
    app: f64,
    web: f64,
    other_children: f64,
    xvfb: f64,
    machine_busy: f64,
    machine_total: f64,
}

/// utime + stime of `pid` in ms (10 ms ticks).
fn cpu_ms(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let f: Vec<u64> = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|x| x.parse().ok())
                .collect();
            Some(f.iter().sum::<u64>() as f64 * 10.0)
        })
        .unwrap_or(0.0)
}

impl Cpu {
    fn now(exe: &Path) -> Cpu {
        let mut c = Cpu::default();
        for p in desktop::wallet_processes(exe) {
            let ms = cpu_ms(p.pid);
            match p.name.as_str() {
                "WebKitWebProcess" => c.web += ms,
                n if n == desktop::WINDOW_PROCESS || exe.file_name().is_some_and(|e| e == n) => {
                    c.app += ms
                }
                _ => c.other_children += ms,
            }
        }
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for e in dir.flatten() {
                let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else {
                    continue;
                };
                if std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "Xvfb")
                {
                    c.xvfb += cpu_ms(pid);
                }
            }
        }
        if let Some(line) = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|t| t.lines().next().map(str::to_string))
        {
            let f: Vec<f64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal: ticks of 10 ms.
            let total: f64 = f.iter().take(8).sum();
            let idle = f.get(3).copied().unwrap_or(0.0) + f.get(4).copied().unwrap_or(0.0);
            c.machine_total = total * 10.0;
            c.machine_busy = (total - idle) * 10.0;
        }
        c
    }
}

/// One scroll's figures: p50, p99, max, frames over 16.7, 20 and 33.4 ms, frames; CPU ms a
/// frame of the app, its web process and Xvfb; cores kept busy by everything else.
#[derive(Clone, Copy)]
struct Scroll([f64; 11]);

impl Scroll {
    fn of(f: &[f64], before: Cpu, after: Cpu) -> Scroll {
        let over = |ms: f64| f.iter().filter(|d| **d > ms).count() as f64;
        let n = f.len().max(1) as f64;
        let ours = (after.app - before.app)
            + (after.web - before.web)
            + (after.other_children - before.other_children)
            + (after.xvfb - before.xvfb);
        // The machine's cores (total CPU time over wall time), and how many of them the rest
        // of the machine kept busy meanwhile.
        let wall: f64 = f.iter().sum();
        let others = ((after.machine_busy - before.machine_busy) - ours).max(0.0) / wall.max(1.0);
        Scroll([
            percentile(f, 0.5),
            percentile(f, 0.99),
            f.iter().cloned().fold(0.0, f64::max),
            over(16.7),
            over(20.0),
            over(33.4),
            f.len() as f64,
            (after.app - before.app) / n,
            (after.web - before.web) / n,
            (after.xvfb - before.xvfb) / n,
            others,
        ])
    }

    fn median(all: &[Scroll]) -> Scroll {
        let mut m = [0.0; 11];
        for (i, v) in m.iter_mut().enumerate() {
            *v = percentile(&all.iter().map(|s| s.0[i]).collect::<Vec<_>>(), 0.5);
        }
        Scroll(m)
    }

    fn line(&self) -> String {
        let [p50, p99, max, o16, o20, o33, n, app, web, xvfb, others] = self.0;
        format!(
            "p50 {p50:.0} ms, p99 {p99:.0} ms, max {max:.0} ms; of {n:.0} frames > 16.7 ms {o16:.0}, \
             > 20 ms {o20:.0}, > 33.4 ms {o33:.0}; CPU a frame: app {app:.1} ms, web process \
             {web:.1} ms, Xvfb {xvfb:.1} ms; other processes kept {others:.2} cores busy"
        )
    }
}

/// Scrolls (see [`scroll_frames`]) and measures the CPU time spent meanwhile.
async fn scroll(s: &Session, app: &Path, step: u32) -> anyhow::Result<Scroll> {
    let before = Cpu::now(app);
    let f = scroll_frames(s, step, FRAMES).await?;
    Ok(Scroll::of(&f, before, Cpu::now(app)))
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

/// The figures of one run.
struct Run {
    /// App process start → page loaded, → first row drawn, → all synced; first data → row.
    start: [f64; 4],
    slow: Scroll,
    fast: Scroll,
    blank_slow: Scroll,
    blank_fast: Scroll,
    plain_slow: Scroll,
    plain_fast: Scroll,
    /// The list's own work per frame (p50, p99) at 100 and 1000 px a frame.
    update: [f64; 4],
    window: String,
}

/// Replaces the view with a box as tall as the inbox list holding `rows` static plain rows
/// (none: blank), under the same header, and waits for two frames.
async fn floor_page(s: &Session, rows: usize) -> anyhow::Result<()> {
    s.execute(&format!(
        "const main = document.querySelector('main');
         const box = document.createElement('div');
         box.style.height = '{}px'; box.style.position = 'relative';
         for (let i = 0; i < {rows}; i++) {{
           const r = document.createElement('div');
           r.style.height = '100px'; r.style.padding = '12px 16px';
           r.textContent = 'Bulk refund ' + i + ' · support-agent · refunds · POST /v1/refunds';
           box.appendChild(r);
         }}
         main.replaceChildren(box);
         return true;",
        MANY * 100
    ))
    .await?;
    s.execute(
        "return await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))",
    )
    .await?;
    Ok(())
}

async fn one_run(app: &Path, v: &Variant, port: u16) -> anyhow::Result<Run> {
    let _driver = desktop::start_driver(port).await?;
    let (t0_epoch, t0_boot) = (now_ms(), uptime() * 1000.0);
    let t0 = Instant::now();
    let s = Session::start_with_env(&format!("http://127.0.0.1:{port}"), app, &[], &v.env).await?;
    let app_epoch = process_start(app)
        .map(|t| t0_epoch + t * 1000.0 - t0_boot)
        .unwrap_or(f64::NAN);
    s.wait_until(
        "the first row",
        "return document.querySelectorAll('[data-testid=inbox-row]').length > 0",
        WAIT,
    )
    .await?;
    let synced = loop {
        let done = s
            .execute(&format!(
                "const c = document.querySelector('[data-testid=inbox-count]');
                 const sync = document.querySelector('[data-testid=inbox-syncing]');
                 return !!c && c.textContent === '{MANY}' && !!sync && sync.hidden"
            ))
            .await?;
        if done == serde_json::Value::Bool(true) {
            break now_ms();
        }
        anyhow::ensure!(t0.elapsed() < WAIT_LONG, "never synced");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let marks = s
        .execute(
            "const m = (n) => { const e = performance.getEntriesByName(n, 'mark')[0];
                                 return e ? performance.timeOrigin + e.startTime : null; };
             return { origin: performance.timeOrigin, data: m('wallet-inbox-first-data'),
                      row: m('wallet-inbox-first-row'),
                      window: innerWidth + 'x' + innerHeight + ' @' + devicePixelRatio };",
        )
        .await?;
    let mark = |k: &str| marks[k].as_f64().unwrap_or(f64::NAN);
    let start = [
        mark("origin") - app_epoch,
        mark("row") - mark("origin"),
        synced - app_epoch,
        mark("row") - mark("data"),
    ];
    let window = marks["window"].as_str().unwrap_or("?").to_string();
    if !v.css.is_empty() {
        let css = serde_json::to_string(&v.css)?;
        s.execute(&format!(
            "const sheet = [...document.styleSheets].find(x => x.cssRules.length > 0);
             const text = {css};
             for (const rule of text.split('}}').map(r => r.trim()).filter(Boolean)) {{
               sheet.insertRule(rule + '}}', sheet.cssRules.length);
             }}
             return true;"
        ))
        .await?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    desktop::close_notifications();
    take_measures(&s, "vlist-update").await?;
    let slow = scroll(&s, app, 100).await?;
    let u_slow = take_measures(&s, "vlist-update").await?;
    let fast = scroll(&s, app, 1000).await?;
    let u_fast = take_measures(&s, "vlist-update").await?;
    let update = [
        percentile(&u_slow, 0.5),
        percentile(&u_slow, 0.99),
        percentile(&u_fast, 0.5),
        percentile(&u_fast, 0.99),
    ];
    let none = Scroll([f64::NAN; 11]);
    let (mut blank_slow, mut blank_fast, mut plain_slow, mut plain_fast) = (none, none, none, none);
    if std::env::var("WALLET_SCROLL_FLOOR").as_deref() != Ok("0") {
        floor_page(&s, 0).await?;
        blank_slow = scroll(&s, app, 100).await?;
        blank_fast = scroll(&s, app, 1000).await?;
        floor_page(&s, MANY).await?;
        plain_slow = scroll(&s, app, 100).await?;
        plain_fast = scroll(&s, app, 1000).await?;
    }
    s.quit().await?;
    Ok(Run {
        start,
        slow,
        fast,
        blank_slow,
        blank_fast,
        plain_slow,
        plain_fast,
        update,
        window,
    })
}

/// Scrolling in the window open during the flood, 15 s later, and after a close and re-open.
async fn flood_figures(s: &Session, app: &Path, fill: Duration) -> anyhow::Result<String> {
    take_measures(s, "vlist-update").await?;
    take_measures(s, "vlist-fetch").await?;
    let flood_slow = scroll(s, app, 100).await?;
    let flood_fast = scroll(s, app, 1000).await?;
    let flood_update = take_measures(s, "vlist-update").await?;
    let flood_fetch = take_measures(s, "vlist-fetch").await?;
    // The same window 15 s later: what is left once the Wallet is idle again.
    tokio::time::sleep(Duration::from_secs(15)).await;
    let later_slow = scroll(s, app, 100).await?;
    let later_fast = scroll(s, app, 1000).await?;
    let later_update = take_measures(s, "vlist-update").await?;
    let later_fetch = take_measures(s, "vlist-fetch").await?;
    // The window closed and opened again by a second launch (the light tray's re-open).
    let old = s.window_handles().await?;
    desktop::close_window("Countersign Wallet").await?;
    desktop::wait_window_process(app, false, WAIT).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let launch = Command::new(app)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let _launch = Guard(launch);
    s.switch_to_new_window(&old, WAIT).await?;
    s.wait_until(
        "the re-opened inbox's rows",
        "return document.querySelectorAll('[data-testid=inbox-row]').length > 0",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let reopen_slow = scroll(s, app, 100).await?;
    let reopen_fast = scroll(s, app, 1000).await?;
    let reopen_window = s
        .execute("return innerWidth + 'x' + innerHeight + ' @' + devicePixelRatio")
        .await?;
    Ok(format!(
        "{MANY} pending made with 32 concurrent SDK calls in {:.1} s, the window open\n\
         after that flood, the same window: 100 px a frame {}; 1000 px a frame {}; list update \
         p50 {:.1} / p99 {:.1} / max {:.1} ms, {} row fetches (p50 {:.0} ms)\n\
         15 s later, the same window: 100 px a frame {}; 1000 px a frame {}; list update \
         p50 {:.1} / p99 {:.1} / max {:.1} ms, {} row fetches (p50 {:.0} ms)\n\
         the window closed and re-opened by a second launch ({}): 100 px a frame {}; 1000 px {}\n",
        fill.as_secs_f64(),
        flood_slow.line(),
        flood_fast.line(),
        percentile(&flood_update, 0.5),
        percentile(&flood_update, 0.99),
        percentile(&flood_update, 1.0),
        flood_fetch.len(),
        percentile(&flood_fetch, 0.5),
        later_slow.line(),
        later_fast.line(),
        percentile(&later_update, 0.5),
        percentile(&later_update, 0.99),
        percentile(&later_update, 1.0),
        later_fetch.len(),
        percentile(&later_fetch, 0.5),
        reopen_window.as_str().unwrap_or("?"),
        reopen_slow.line(),
        reopen_fast.line(),
    ))
}

fn report(name: &str, runs: &[Run]) -> String {
    let med = |f: &dyn Fn(&Run) -> f64| percentile(&runs.iter().map(f).collect::<Vec<_>>(), 0.5);
    let scroll =
        |f: &dyn Fn(&Run) -> Scroll| Scroll::median(&runs.iter().map(f).collect::<Vec<_>>()).line();
    let mut out = format!(
        "== {name}: medians of {} runs (window {})\n\
         fresh start: app process start to page loaded {:.0} ms, page loaded to first row {:.0} ms \
         (first data to row {:.0} ms), process start to all {MANY} synced {:.0} ms\n\
         inbox, 100 px a frame: {} (list update p50 {:.1} / p99 {:.1} ms)\n\
         inbox, 1000 px a frame: {} (list update p50 {:.1} / p99 {:.1} ms)\n\
         floor, blank page, 100 px: {}\n\
         floor, blank page, 1000 px: {}\n\
         floor, {MANY} static plain rows, 100 px: {}\n\
         floor, {MANY} static plain rows, 1000 px: {}\n",
        runs.len(),
        runs.first().map(|r| r.window.as_str()).unwrap_or("?"),
        med(&|r| r.start[0]),
        med(&|r| r.start[1]),
        med(&|r| r.start[3]),
        med(&|r| r.start[2]),
        scroll(&|r| r.slow),
        med(&|r| r.update[0]),
        med(&|r| r.update[1]),
        scroll(&|r| r.fast),
        med(&|r| r.update[2]),
        med(&|r| r.update[3]),
        scroll(&|r| r.blank_slow),
        scroll(&|r| r.blank_fast),
        scroll(&|r| r.plain_slow),
        scroll(&|r| r.plain_fast),
    );
    for (i, r) in runs.iter().enumerate() {
        out += &format!(
            "  run {}: start {:.0} / {:.0} / {:.0} ms; inbox 100 px {}; 1000 px {}; blank 100 px {}; plain 100 px {}\n",
            i + 1,
            r.start[0],
            r.start[1],
            r.start[2],
            r.slow.line(),
            r.fast.line(),
            r.blank_slow.line(),
            r.plain_slow.line(),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark in the headless desktop: run scripts/wallet-bench.sh --scroll"]
async fn scroll_figures() -> anyhow::Result<()> {
    let app = env_path("WALLET_APP");
    let shots = env_path("WALLET_E2E_SHOTS");
    std::fs::create_dir_all(&shots)?;
    let runs: usize = std::env::var("WALLET_SCROLL_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let stack = Stack::start_with("1h", "max_pending_per_app = 20000").await?;
    let driver = desktop::start_driver(desktop::driver_port()).await?;
    let s = Session::start(&desktop::driver_url(), &app, &[]).await?;
    s.wait_for(&testid("inbox"), WAIT).await?;
    desktop::pair_alice(&s, &stack, WAIT).await?;
    // 10,000 pending, made while the Wallet's window is open (a flood it follows).
    let fill = fill_pending(&stack, 0, MANY).await?;
    desktop::wait_for_window(&format!("Countersign Wallet ({MANY} pending)"), WAIT_LONG).await?;
    s.wait_until(
        "the count",
        &format!(
            "const c = document.querySelector('[data-testid=inbox-count]');
             return !!c && c.textContent === '{MANY}'"
        ),
        WAIT_LONG,
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    desktop::close_notifications();
    let head = if std::env::var("WALLET_SCROLL_FLOOD").as_deref() == Ok("0") {
        format!("{MANY} pending made in {:.1} s\n", fill.as_secs_f64())
    } else {
        flood_figures(&s, &app, fill).await?
    };
    s.quit().await?;
    drop(driver);
    eprintln!("{head}");

    let variants = variants();
    let mut all: Vec<Vec<Run>> = variants.iter().map(|_| Vec::new()).collect();
    let mut port = desktop::driver_port();
    for i in 0..runs {
        for (v, out) in variants.iter().zip(all.iter_mut()) {
            // A fresh pair of ports each time: the last driver's may not be free yet.
            port += 2;
            let run = one_run(&app, v, port).await?;
            eprintln!(
                "{} run {}: start {:.0}/{:.0} ms; 100 px {}; 1000 px {}; blank {}; plain {}",
                v.name,
                i + 1,
                run.start[0],
                run.start[1],
                run.slow.line(),
                run.fast.line(),
                run.blank_slow.line(),
                run.plain_slow.line()
            );
            out.push(run);
        }
    }
    let text: String = variants
        .iter()
        .zip(&all)
        .filter(|(_, runs)| !runs.is_empty())
        .map(|(v, runs)| report(&v.name, runs))
        .collect();
    let text = format!("{head}{text}");
    eprintln!("\n{text}");
    std::fs::write(shots.join("scroll-bench.txt"), text)?;
    stack.stop().await;
    Ok(())
}
