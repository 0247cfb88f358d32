//! Benchmark of `countersign policy replay` on a large recorded history.
//!
//! Writes `COUNTERSIGN_REPLAY_ENTRIES` (default 100,000) calls into a temporary SQLite file
//! through the service's store (`Store::create_approval`, one transaction each, with the
//! `requested` audit entry the proxy writes), 20 s apart, by three apps (one of which the
//! replayed config no longer has): balance reads, small / medium / large refunds, deletes.
//! Then replays them under the policy example (`tests/fixtures/policy-example.toml`, rate
//! limit `20/1h` on small refunds) as the command does: once keeping the first 20 changed
//! ids (text output), once keeping all (`--json`). Prints wall time, entries per second and
//! the peak RSS of the replay alone (`VmHWM` after resetting it, where Linux allows).
//!
//! ```text
//! cargo bench -p countersign-cli --bench replay
//! COUNTERSIGN_REPLAY_ENTRIES=10000 cargo bench -p countersign-cli --bench replay
//! ```

use anyhow::Context;
use countersign_cli::policy_tools::replay::{replay, ReplayOptions, ReplayReport};
use countersign_core::api::PolicyMatch;
use countersign_core::audit::AuditKind;
use countersign_core::encoding::sha256_hex;
use countersign_core::{ApprovalStatus, Statement, Timestamp};
use countersign_service::config::DatabaseUrl;
use countersign_service::policy::RequiredGate;
use countersign_service::store::{AuditDraft, NewApproval, Store};
use countersign_service::Config;
use serde_json::json;
use std::time::Instant;
use uuid::Uuid;

const EXAMPLE: &str = include_str!("../tests/fixtures/policy-example.toml");

fn main() -> anyhow::Result<()> {
    let entries: u64 = match std::env::var("COUNTERSIGN_REPLAY_ENTRIES") {
        Ok(text) => text.parse().context("COUNTERSIGN_REPLAY_ENTRIES")?,
        Err(_) => 100_000,
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(entries))
}

async fn run(entries: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = Config::parse(EXAMPLE, &dir.path().join("new.toml"))?;
    let DatabaseUrl::Sqlite { path } = &config.server.database else {
        anyhow::bail!("the replay bench runs on its own SQLite file");
    };
    let started = Instant::now();
    let store = Store::open_sqlite(path).await?;
    let base = Timestamp::now().unix() - entries as i64 * 20;
    for i in 0..entries {
        record(&store, i, base + i as i64 * 20).await?;
    }
    store.close().await;
    let written = started.elapsed();
    let size = std::fs::metadata(path)?.len();
    println!(
        "history: {entries} requested entries written in {:.1} s ({:.0}/s), database {:.1} MiB",
        written.as_secs_f64(),
        entries as f64 / written.as_secs_f64(),
        size as f64 / (1024.0 * 1024.0)
    );

    for (label, keep_changed) in [
        ("text (first 20 changed ids)", Some(20)),
        ("--json (all changed ids)", None),
    ] {
        let reset = reset_peak_rss();
        let started = Instant::now();
        let report = replay(
            &config,
            &ReplayOptions {
                since: None,
                keep_changed,
            },
        )
        .await?;
        let took = started.elapsed();
        anyhow::ensure!(
            report.calls == entries,
            "replayed {} of {entries}",
            report.calls
        );
        println!(
            "replay, {label}: {entries} entries in {:.3} s = {:.0} entries/s; peak RSS {}",
            took.as_secs_f64(),
            entries as f64 / took.as_secs_f64(),
            if reset {
                peak_rss()
            } else {
                format!("{} (whole process)", peak_rss())
            }
        );
        summary(&report);
    }
    Ok(())
}

/// Call `i`: which app, what call, and what the recording config decided.
async fn record(store: &Store, i: u64, at: i64) -> anyhow::Result<()> {
    let app = match i % 10 {
        0..=6 => "support-agent",
        7 | 8 => "strict-agent",
        _ => "retired-agent",
    };
    let (method, path, body, required): (&str, &str, String, bool) = match i % 7 {
        0 | 1 => ("GET", "/v1/balance", String::new(), false),
        2 | 3 => (
            "POST",
            "/v1/refunds",
            json!({"order": format!("A-{i}"), "amount": 100 + i % 4000, "currency": "EUR"})
                .to_string(),
            true,
        ),
        4 => (
            "POST",
            "/v1/refunds",
            json!({"order": format!("A-{i}"), "amount": 7000 + i, "currency": "USD"}).to_string(),
            true,
        ),
        5 => (
            "POST",
            "/v1/refunds",
            json!({"order": format!("A-{i}"), "amount": 600_000, "currency": "EUR"}).to_string(),
            true,
        ),
        _ => ("DELETE", "/v1/refunds/r_1", String::new(), false),
    };
    let created_at = Timestamp::from_unix(at).context("time")?;
    let mut headers = std::collections::BTreeMap::new();
    if !body.is_empty() {
        headers.insert("content-type".to_string(), "application/json".to_string());
    }
    let statement = Statement {
        v: 1,
        service: "svc_bench".into(),
        approval_id: Uuid::now_v7(),
        app: app.into(),
        grant: "payments".into(),
        method: method.into(),
        url: format!("http://127.0.0.1:9000{path}"),
        headers,
        body_sha256: sha256_hex(body.as_bytes()),
        body_size: body.len() as u64,
        reason: format!("Benchmark call {i}: customer was charged twice for order A-{i}"),
        created_at,
        expires_at: created_at.plus(std::time::Duration::from_secs(3600)),
        policy_id: "refunds".into(),
    };
    let requirement = if required {
        vec![RequiredGate {
            policy: "refunds".into(),
            gate: "finance".into(),
            quorum: 1,
            members: vec!["alice".into(), "bob".into(), "carol".into()],
        }]
    } else {
        Vec::new()
    };
    let matched = vec![PolicyMatch {
        policy: "refunds".into(),
        rule: None,
        action: if required { "require" } else { "allow" }.into(),
    }];
    let id = statement.approval_id;
    let request_digest = statement.request_digest();
    // The entry as the proxy writes it (routes/proxy.rs).
    let data = json!({
        "statement": statement,
        "request_digest": request_digest,
        "approval_required": required,
        "status": if required { ApprovalStatus::Pending } else { ApprovalStatus::Approved },
        "matched": matched,
        "requirement": requirement,
    });
    let new = NewApproval {
        statement,
        request_digest,
        body: body.into_bytes(),
        requirement,
        matched,
        status: if required {
            ApprovalStatus::Pending
        } else {
            ApprovalStatus::Executing
        },
        lease: None,
    };
    let audit = vec![AuditDraft::approval(
        AuditKind::Requested,
        id,
        format!("app:{app}"),
        data,
    )];
    store.create_approval(&new, &[], audit, u32::MAX).await?;
    Ok(())
}

fn summary(report: &ReplayReport) {
    let changes: Vec<String> = report
        .changes
        .iter()
        .map(|c| {
            let other = if c.other_gates { " (other gates)" } else { "" };
            format!("{} → {}{other}: {}", c.was.name(), c.now.name(), c.calls)
        })
        .collect();
    println!(
        "  {} changed ({}), {} unchanged, {} kept ids",
        report.changed_total,
        changes.join(", "),
        report.unchanged,
        report.changed.len()
    );
}

/// Resets the peak RSS counter (Linux: `5` to `/proc/self/clear_refs`).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unavailable".into())
}
