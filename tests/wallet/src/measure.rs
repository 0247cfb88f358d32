//! What the Wallet's benches (`tests/bench.rs`, `tests/scrollbench.rs`) measure with: frames
//! and User Timing measures read from the page, process start times from `/proc`, and a
//! flood of pending requests, the memory of the Wallet's processes. Figures are printed, never
//! asserted.

use crate::stack::Stack;
use crate::webdriver::Session;
use countersign_sdk::ProxyRequest;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest a measured scroll may take.
const SCROLL_LIMIT: Duration = Duration::from_secs(600);

/// Frame deltas (ms) while a `requestAnimationFrame` loop injected into the page scrolls the
/// window down by `step` px a frame, for `frames` frames or to the end of the page. It starts
/// 300 ms after the call, so the page has drawn what the last action changed.
pub async fn scroll_frames(s: &Session, step: u32, frames: u32) -> anyhow::Result<Vec<f64>> {
    s.execute(&format!(
        "window.scrollTo(0, 0);
         window.__benchFrames = []; window.__benchDone = false;
         let last = null;
         const tick = (t) => {{
           if (last !== null) window.__benchFrames.push(t - last);
           last = t;
           const end = document.scrollingElement.scrollHeight - window.innerHeight;
           if (window.scrollY >= end - 1 || window.__benchFrames.length >= {frames}) {{
             window.__benchDone = true; return; }}
           window.scrollBy(0, {step});
           requestAnimationFrame(tick);
         }};
         setTimeout(() => requestAnimationFrame(tick), 300);
         return true;"
    ))
    .await?;
    let start = Instant::now();
    while s.execute("return window.__benchDone").await? != serde_json::Value::Bool(true) {
        anyhow::ensure!(start.elapsed() < SCROLL_LIMIT, "the scroll did not end");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(serde_json::from_value(
        s.execute("return window.__benchFrames").await?,
    )?)
}

/// The durations (ms) of the view's User Timing measures named `name` (see `ui/src/perf.ts`),
/// cleared afterwards.
pub async fn take_measures(s: &Session, name: &str) -> anyhow::Result<Vec<f64>> {
    let v = s
        .execute(&format!(
            "const d = performance.getEntriesByName('{name}', 'measure').map(e => e.duration);
             performance.clearMeasures('{name}');
             return d;"
        ))
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// The `p` quantile (0 to 1, nearest rank) of `samples`; NaN when there are none.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    s[((s.len() as f64 - 1.0) * p).round() as usize]
}

/// Seconds since boot now (`/proc/uptime`, 10 ms resolution): the clock of process start times.
pub fn uptime() -> f64 {
    std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// When (seconds since boot, 10 ms resolution) the newest process running `exe` started.
pub fn process_start(exe: &Path) -> Option<f64> {
    let newest = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| {
            let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
            if std::fs::read_link(format!("/proc/{pid}/exe")).ok()? != exe {
                return None;
            }
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // Field 22 (starttime, in clock ticks since boot): the 20th after the ")".
            stat.rsplit(')')
                .next()?
                .split_whitespace()
                .nth(19)?
                .parse::<u64>()
                .ok()
        })
        .max()?;
    // USER_HZ is 100 on Linux.
    Some(newest as f64 / 100.0)
}

/// Makes the pending refunds `from..to` ("Bulk refund <i>"), 32 at a time; returns how long
/// that took.
pub async fn fill_pending(stack: &Stack, from: usize, to: usize) -> anyhow::Result<Duration> {
    let t0 = Instant::now();
    let next = Arc::new(AtomicUsize::new(from));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let agent = stack.agent()?;
        let next = next.clone();
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= to {
                    return anyhow::Ok(());
                }
                let request =
                    ProxyRequest::post("payments", "/v1/refunds", format!("Bulk refund {i}"))
                        .json(&serde_json::json!({"i": i}))?;
                agent.proxy_request(request).await?;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(t0.elapsed())
}

/// Memory (kB) of the process running `exe` and all its descendants: summed RSS (counts shared
/// libraries once per process), summed PSS (shares them out), and RSS / PSS / anonymous
/// memory per executable.
pub fn memory_kb(exe: &Path) -> (u64, u64, String) {
    let mine = crate::desktop::wallet_processes(exe);
    let detail = mine
        .iter()
        .map(|p| {
            format!(
                "{} {:.0} MB / PSS {:.0} MB / anon {:.0} MB",
                p.name,
                p.rss_kb as f64 / 1024.0,
                p.pss_kb as f64 / 1024.0,
                p.anon_kb as f64 / 1024.0
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    (
        mine.iter().map(|p| p.rss_kb).sum(),
        mine.iter().map(|p| p.pss_kb).sum(),
        detail,
    )
}

/// "RSS x MB, PSS y MB (per process)".
pub fn memory_line((rss, pss, detail): &(u64, u64, String)) -> String {
    format!(
        "RSS {:.1} MB, PSS {:.1} MB ({detail})",
        *rss as f64 / 1024.0,
        *pss as f64 / 1024.0
    )
}
