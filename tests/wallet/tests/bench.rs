//! Figures for the closing note (measured, not asserted): run by `scripts/wallet-bench.sh`
//! in the same headless desktop as the e2e.
//!
//! - cold start: WebDriver session request to the inbox drawn;
//! - proxy_request to the `Notify` call on the session bus (p50 / p99);
//! - clicking Approve to the agent's `wait` returning (p50 / p99);
//! - resident memory of the app and its WebKit processes with 1,000 pending requests.

use countersign_sdk::{ProxyOutcome, ProxyRequest};
use countersign_wallet_e2e::desktop;
use countersign_wallet_e2e::stack::Stack;
use countersign_wallet_e2e::webdriver::{testid, Session};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const WAIT: Duration = Duration::from_secs(60);

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
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

/// A `kB` field of a /proc file (`VmRSS:` of status, `Pss:` of smaps_rollup).
fn proc_kb(text: &str, field: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// Memory (kB) of the process running `exe` and all its descendants: summed RSS (counts shared
/// libraries once per process), summed PSS (shares them out), and RSS per executable name.
fn memory_kb(exe: &Path) -> (u64, u64, String) {
    let procs: Vec<(u32, u32, u64, PathBuf, u64)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| {
            let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let ppid: u32 = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let rss = proc_kb(&status, "VmRSS:");
            let rollup =
                std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
            let pss = proc_kb(&rollup, "Pss:");
            let path = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            Some((pid, ppid, rss, path, pss))
        })
        .collect();
    let mut family: Vec<u32> = procs.iter().filter(|p| p.3 == exe).map(|p| p.0).collect();
    let mut i = 0;
    while i < family.len() {
        let parent = family[i];
        family.extend(procs.iter().filter(|p| p.1 == parent).map(|p| p.0));
        i += 1;
    }
    let mine: Vec<_> = procs.iter().filter(|p| family.contains(&p.0)).collect();
    let detail = mine
        .iter()
        .map(|p| {
            let name = p.3.file_name().unwrap_or_default().to_string_lossy();
            format!("{name} {:.0} MB", p.2 as f64 / 1024.0)
        })
        .collect::<Vec<_>>()
        .join(", ");
    (
        mine.iter().map(|p| p.2).sum(),
        mine.iter().map(|p| p.4).sum(),
        detail,
    )
}

async fn pending(stack: &Stack, reason: &str) -> countersign_sdk::PendingApproval {
    let request = ProxyRequest::post("payments", "/v1/refunds", reason)
        .json(&serde_json::json!({"reason": reason}))
        .unwrap();
    match stack.agent().unwrap().proxy_request(request).await.unwrap() {
        ProxyOutcome::Pending(p) => p,
        ProxyOutcome::Completed(_) => panic!("ran without approval"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark in the headless desktop: run scripts/wallet-bench.sh"]
async fn wallet_figures() -> anyhow::Result<()> {
    let app = PathBuf::from(std::env::var("WALLET_APP")?);
    let shots = PathBuf::from(std::env::var("WALLET_E2E_SHOTS")?);
    std::fs::create_dir_all(&shots)?;
    let stack = Stack::start().await?;
    let _driver = desktop::start_driver(4444).await?;

    // Pair first (a cold start with a pairing is the interesting one).
    let s = Session::start("http://127.0.0.1:4444", &app, &[]).await?;
    s.wait_for(&testid("inbox"), WAIT).await?;
    desktop::gio_open(&stack.invite("alice").await?)?;
    s.click(&s.wait_for(&testid("pair-confirm-button"), WAIT).await?)
        .await?;
    s.wait_for(&testid("inbox"), WAIT).await?;
    s.quit().await?;

    let t = Instant::now();
    let s = Session::start("http://127.0.0.1:4444", &app, &[]).await?;
    s.wait_for(&testid("inbox-count"), WAIT).await?;
    let cold = t.elapsed();

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
    let mut to_notify = Vec::new();
    let mut approvals = Vec::new();
    for i in 0..30 {
        let seen = notify_times(&monitor_file).len();
        let t0 = now_secs();
        let p = pending(&stack, &format!("Benchmark refund {i}")).await;
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
        let row = s
            .wait_for(
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
        "the first page of rows",
        "return document.querySelectorAll('[data-testid=inbox-row]').length === 200",
        WAIT,
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss, pss, detail) = memory_kb(&app);
    desktop::close_notifications();
    desktop::screenshot(&shots.join("bench-1000.png"))?;

    let report = format!(
        "cold start to first inbox draw (WebDriver session included): {:.0} ms\n\
         proxy_request -> Notify on the bus: p50 {:.1} ms, p99 {:.1} ms (n={})\n\
         Approve click -> agent wait returns: p50 {:.1} ms, p99 {:.1} ms (n={})\n\
         RSS with 15 pending (app + WebKit processes): {:.1} MB, PSS {:.1} MB ({})\n\
         RSS with 1000 pending (app + WebKit processes): {:.1} MB, PSS {:.1} MB ({})\n",
        cold.as_secs_f64() * 1000.0,
        percentile(&mut to_notify.clone(), 0.5),
        percentile(&mut to_notify.clone(), 0.99),
        to_notify.len(),
        percentile(&mut to_result.clone(), 0.5),
        percentile(&mut to_result.clone(), 0.99),
        to_result.len(),
        rss_few as f64 / 1024.0,
        pss_few as f64 / 1024.0,
        detail_few,
        rss as f64 / 1024.0,
        pss as f64 / 1024.0,
        detail,
    );
    eprintln!("\n{report}");
    std::fs::write(shots.join("bench.txt"), report)?;
    s.quit().await?;
    stack.stop().await;
    Ok(())
}
