//! End-to-end benchmark of the Countersign pipeline, on loopback, in one process.
//!
//! The sample payments provider, the service (on a temporary SQLite file, WAL mode), a
//! headless approver and the agents all run in this process on one multi-thread tokio
//! runtime, talking HTTP over 127.0.0.1, set up the way `countersign demo` does it
//! (`demo_config`, `Config::parse`, `Secrets::resolve`, `Service::start`, `serve`,
//! `Admin::invite`, pairing, SDK). What is measured:
//!
//! 1. **Proxy overhead without approval.** `Client::proxy_request` of `GET /v1/balance`
//!    (the policy only covers `POST /v1/refunds*`, so it runs at once) against the same
//!    request sent straight to the provider with a reqwest client built with the SDK's
//!    settings (keep-alive pool, connect timeout, no redirects). Sequential, after warm-up,
//!    interleaved in blocks so both sides share the noise; p50/p99 and their ratios
//!    (goal: ≤ 1.3×). Every proxied call writes an approval row and three audit rows
//!    (`requested`, `execution_started`, `executed`; the table counts them per call).
//!    1b repeats the comparison with the provider answering after 10 ms (a more realistic
//!    upstream); 1c times the parts of a proxied call alone (one SQLite write transaction,
//!    one approval read, one HTTP round trip to `/healthz`), to show where the time goes.
//! 2. **Decision → agent's `wait` returns.** The agent creates a pending refund and starts
//!    `PendingApproval::wait` in a task; the approver reviews it (not timed); the timer
//!    starts right before `ApproverClient::decide` and stops when `wait` returns (the
//!    service has executed the call by then). p50/p99 (goal: p99 < 30 ms), plus the
//!    `decide` round trip alone.
//! 3. **Pending approvals created per second.** 8 tokio tasks, each with its own SDK client,
//!    loop `proxy_request` of a `POST /v1/refunds` that needs approval for 10 s; completed
//!    `202`s per second (goal: ≥ 2,000/s on 2 cores). Then the reads of the service's
//!    expiry pass are timed with that many approvals pending, and the process's peak RSS
//!    (`VmHWM`) is printed.
//!
//! Run (release profile):
//!
//! ```text
//! cargo bench -p countersign-cli --bench pipeline
//! COUNTERSIGN_BENCH_SCALE=0.1 cargo bench -p countersign-cli --bench pipeline   # quick run
//! ```
//!
//! The store is a temporary SQLite file, or with `COUNTERSIGN_BENCH_DATABASE=postgres` a new
//! database on the PostgreSQL server `COUNTERSIGN_TEST_POSTGRES` names (`scripts/postgres.sh
//! start`); `COUNTERSIGN_BENCH_REPLICAS=N` (default 1) starts N service replicas on it (in this
//! process, each with its own port, event feed and executor): part 2's agent waits on the last
//! replica while the approver decides on the first, and part 3's agents take turns over the
//! replicas. `scripts/bench-replicas.sh` runs SQLite and PostgreSQL with 1, 2 and 3 replicas.
//!
//! `COUNTERSIGN_BENCH_SCALE` (default 1) multiplies every count and the duration of part 3
//! (at least 1 s). `COUNTERSIGN_BENCH_AGENTS` (default 8) sets the agents of part 3, and
//! `COUNTERSIGN_BENCH_PARTS` (default `1,2,3`) which parts run (e.g. `3` alone, for
//! profiling). At scale 1 the whole run takes about 20 s (well under 90 s).

use anyhow::{bail, ensure, Context};
use countersign_approver::{ApproverClient, Verdict};
use countersign_cli::sample_provider::Behaviour;
use countersign_cli::stack::DemoStack;
use countersign_core::audit::AuditKind;
use countersign_kit::latency::Latencies;
use countersign_sdk::{Client, ProxyOutcome, ProxyRequest};
use countersign_service::store::AuditDraft;
use countersign_service::Admin;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The reason every benchmark request carries.
const REASON: &str = "Benchmark: customer #8812 was charged twice for order A-1042";

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

/// Counts and durations, scaled by `COUNTERSIGN_BENCH_SCALE`.
struct Plan {
    scale: f64,
    overhead_n: usize,
    overhead_block: usize,
    overhead_warmup: usize,
    delayed_n: usize,
    parts_n: usize,
    decisions_n: usize,
    decisions_warmup: usize,
    throughput_agents: usize,
    throughput_time: Duration,
    parts: Vec<u32>,
    /// `None`: a temporary SQLite file; else a PostgreSQL server URL to make a database on.
    postgres_server: Option<String>,
    replicas: usize,
}

impl Plan {
    fn from_env() -> anyhow::Result<Self> {
        let scale: f64 = match std::env::var("COUNTERSIGN_BENCH_SCALE") {
            Ok(text) => text
                .parse()
                .with_context(|| format!("COUNTERSIGN_BENCH_SCALE={text:?} is not a number"))?,
            Err(_) => 1.0,
        };
        ensure!(
            scale > 0.0 && scale <= 10.0,
            "COUNTERSIGN_BENCH_SCALE must be in (0, 10]"
        );
        let agents: usize = match std::env::var("COUNTERSIGN_BENCH_AGENTS") {
            Ok(text) => text
                .parse()
                .with_context(|| format!("COUNTERSIGN_BENCH_AGENTS={text:?} is not a count"))?,
            Err(_) => 8,
        };
        ensure!(agents > 0, "COUNTERSIGN_BENCH_AGENTS must be at least 1");
        let parts = match std::env::var("COUNTERSIGN_BENCH_PARTS") {
            Ok(text) => text
                .split(',')
                .map(|p| p.trim().parse::<u32>())
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("COUNTERSIGN_BENCH_PARTS={text:?}: use e.g. 1,3"))?,
            Err(_) => vec![1, 2, 3],
        };
        let postgres_server = match std::env::var("COUNTERSIGN_BENCH_DATABASE").as_deref() {
            Err(_) | Ok("sqlite") => None,
            Ok("postgres") => Some(countersign_kit::database::postgres_server().context(
                "COUNTERSIGN_BENCH_DATABASE=postgres needs COUNTERSIGN_TEST_POSTGRES (scripts/postgres.sh start)",
            )?),
            Ok(other) => bail!("COUNTERSIGN_BENCH_DATABASE={other:?}: use sqlite or postgres"),
        };
        let replicas: usize = match std::env::var("COUNTERSIGN_BENCH_REPLICAS") {
            Ok(text) => text
                .parse()
                .with_context(|| format!("COUNTERSIGN_BENCH_REPLICAS={text:?} is not a count"))?,
            Err(_) => 1,
        };
        ensure!(
            (1..=8).contains(&replicas),
            "COUNTERSIGN_BENCH_REPLICAS must be 1 to 8"
        );
        ensure!(
            replicas == 1 || postgres_server.is_some(),
            "several replicas need COUNTERSIGN_BENCH_DATABASE=postgres"
        );
        let n = |base: f64, min: usize| ((base * scale).round() as usize).max(min);
        Ok(Self {
            scale,
            overhead_n: n(2000.0, 40),
            overhead_block: 100,
            overhead_warmup: n(200.0, 20),
            delayed_n: n(100.0, 20),
            parts_n: n(500.0, 20),
            decisions_n: n(200.0, 10),
            decisions_warmup: 5,
            throughput_agents: agents,
            throughput_time: Duration::from_secs_f64((10.0 * scale).max(1.0)),
            parts,
            postgres_server,
            replicas,
        })
    }
}

/// Everything running: provider, service, an approver paired with it.
struct Harness {
    stack: DemoStack,
    approver: ApproverClient,
    admin: Admin,
}

impl Harness {
    async fn start(plan: &Plan) -> anyhow::Result<Self> {
        let database = match &plan.postgres_server {
            Some(server) => {
                Some(countersign_service::store::scratch::create_database(server).await?)
            }
            None => None,
        };
        let mut stack = DemoStack::start_on(
            database.as_deref(),
            "max_pending_per_app = 10000000",
            countersign_cli::demo::DEMO_POLICY,
        )
        .await?;
        for _ in 1..plan.replicas {
            stack.add_replica().await?;
        }
        let approver = stack.pair("alice", "bench approver").await?;
        let admin = stack.admin().await?;
        Ok(Self {
            stack,
            approver,
            admin,
        })
    }

    fn agent(&self) -> anyhow::Result<Client> {
        self.stack.agent()
    }

    /// An agent on replica `i` (taken modulo the replicas).
    fn agent_on(&self, i: usize) -> anyhow::Result<Client> {
        let urls = self.stack.urls();
        self.stack.agent_at(&urls[i % urls.len()])
    }

    /// Stops everything; returns the number of audit entries (the chain verified).
    async fn shutdown(self) -> anyhow::Result<u64> {
        let audit = self.admin.verify_audit().await?;
        self.admin.close().await;
        self.stack.stop().await?;
        match audit {
            Ok(n) => Ok(n),
            Err(brk) => bail!("audit chain broken after the run: {brk}"),
        }
    }
}

fn balance_request() -> ProxyRequest {
    ProxyRequest::get("payments", "/v1/balance", REASON)
}

fn refund_request(n: u64) -> anyhow::Result<ProxyRequest> {
    Ok(
        ProxyRequest::post("payments", "/v1/refunds", REASON).json(&serde_json::json!({
            "order": format!("A-{n}"),
            "amount": 1999,
            "currency": "EUR",
        }))?,
    )
}

/// A no-approval call through the service; checks it ran.
async fn proxied_balance(agent: &Client) -> anyhow::Result<()> {
    match agent.proxy_request(balance_request()).await? {
        ProxyOutcome::Completed(result) if result.status() == 200 => Ok(()),
        ProxyOutcome::Completed(result) => bail!("provider answered {}", result.status()),
        ProxyOutcome::Pending(_) => bail!("GET /v1/balance needed approval; the policy is wrong"),
    }
}

/// The same call straight to the provider.
async fn direct_balance(http: &reqwest::Client, url: &str, auth: &str) -> anyhow::Result<()> {
    let response = http
        .get(url)
        .header(reqwest::header::AUTHORIZATION, auth)
        .send()
        .await?;
    let status = response.status();
    let body = response.bytes().await?;
    ensure!(
        status == 200 && !body.is_empty(),
        "provider answered {status}"
    );
    Ok(())
}

/// A client with the SDK's settings (see `countersign_sdk::Client::new`).
fn sdk_like_http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("countersign-sdk/bench")
        .build()
}

async fn timed<F: Future<Output = anyhow::Result<()>>>(f: F) -> anyhow::Result<Duration> {
    let t = Instant::now();
    f.await?;
    Ok(t.elapsed())
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "MET"
    } else {
        "MISSED"
    }
}

fn row(name: &str, n: usize, s: &Latencies) {
    println!(
        "  {name:<34} {n:>6}  {:>11}  {:>11}  {:>11}  {:>11}",
        ms(s.pct(50.0)),
        ms(s.pct(99.0)),
        ms(s.mean()),
        ms(s.max())
    );
}

fn header() {
    println!(
        "  {:<34} {:>6}  {:>11}  {:>11}  {:>11}  {:>11}",
        "", "n", "p50", "p99", "mean", "max"
    );
}

async fn run() -> anyhow::Result<()> {
    let plan = Plan::from_env()?;
    let started = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("Countersign pipeline benchmark");
    println!(
        "  machine: {cores} cores available; tokio multi-thread runtime ({cores} workers); scale {}",
        plan.scale
    );
    let store = match &plan.postgres_server {
        Some(_) => "PostgreSQL (a new database on the local test server)",
        None => "SQLite WAL on a temp file",
    };
    println!(
        "  provider, {} service replica(s) ({store}), approver and agents all run in this one process, over loopback HTTP",
        plan.replicas
    );
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        println!(
            "  load average at start: {} (other work on the machine adds noise)",
            load.join(" ")
        );
    }

    let h = Harness::start(&plan).await?;
    if plan.parts.contains(&1) {
        overhead(&h, &plan).await?;
        parts(&h, &plan).await?;
    }
    if plan.parts.contains(&2) {
        decisions(&h, &plan).await?;
    }
    if plan.parts.contains(&3) {
        throughput(&h, &plan).await?;
    }

    println!("\nProcess");
    println!(
        "  peak RSS (VmHWM): {}",
        peak_rss().unwrap_or_else(|| "unavailable".into())
    );
    let entries = h.shutdown().await?;
    println!("  audit chain after the run: {entries} entries, verified intact");
    println!(
        "  total bench time: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Sequential direct and proxied calls, interleaved in blocks (each block alternates which
/// side goes first); returns (direct, proxied, wall time).
async fn compare(
    h: &Harness,
    n: usize,
    block: usize,
    warmup: usize,
) -> anyhow::Result<(Latencies, Latencies, Duration)> {
    let agent = h.agent()?;
    let direct = sdk_like_http_client()?;
    let url = format!("{}/v1/balance", h.stack.provider.base_url());
    let auth = format!("Bearer {}", h.stack.provider_secret);
    for _ in 0..warmup {
        direct_balance(&direct, &url, &auth).await?;
        proxied_balance(&agent).await?;
    }
    let mut d = Vec::with_capacity(n);
    let mut p = Vec::with_capacity(n);
    let t = Instant::now();
    let mut round = 0;
    while d.len() < n {
        let k = block.min(n - d.len());
        for direct_side in [round % 2 == 0, round % 2 != 0] {
            for _ in 0..k {
                if direct_side {
                    d.push(timed(direct_balance(&direct, &url, &auth)).await?);
                } else {
                    p.push(timed(proxied_balance(&agent)).await?);
                }
            }
        }
        round += 1;
    }
    Ok((Latencies::new(d), Latencies::new(p), t.elapsed()))
}

fn ratios(d: &Latencies, p: &Latencies) -> (f64, f64) {
    (
        p.pct(50.0).as_secs_f64() / d.pct(50.0).as_secs_f64(),
        p.pct(99.0).as_secs_f64() / d.pct(99.0).as_secs_f64(),
    )
}

/// Part 1: no-approval proxy vs direct provider call.
async fn overhead(h: &Harness, plan: &Plan) -> anyhow::Result<()> {
    let audit_before = h.stack.state.store.audit_head().await?;
    let (d, p, wall) = compare(
        h,
        plan.overhead_n,
        plan.overhead_block,
        plan.overhead_warmup,
    )
    .await?;
    let audit_rows = h.stack.state.store.audit_head().await? - audit_before;
    let calls = plan.overhead_n + plan.overhead_warmup;
    println!(
        "\n[1] Proxy overhead, no approval needed: GET /v1/balance, sequential, {} each in blocks of {}, after {} warm-up each ({:.1} s)",
        plan.overhead_n,
        plan.overhead_block,
        plan.overhead_warmup,
        wall.as_secs_f64()
    );
    print_comparison(&d, &p);
    println!(
        "  added latency per call: p50 +{}, p99 +{}",
        ms(p.pct(50.0).saturating_sub(d.pct(50.0))),
        ms(p.pct(99.0).saturating_sub(d.pct(99.0)))
    );
    println!(
        "  rows written per proxied call: 1 approval + {:.2} audit (hash-chained)",
        audit_rows as f64 / calls as f64
    );

    // The same with a provider that takes a realistic time to answer.
    let delay = Duration::from_millis(10);
    h.stack.provider.set_behaviour(Behaviour::Delay(delay));
    let compared = compare(h, plan.delayed_n, 10, 5).await;
    h.stack.provider.set_behaviour(Behaviour::Normal);
    let (d, p, wall) = compared?;
    println!(
        "\n[1b] Same, provider answering after {} ms, {} each in blocks of 10 ({:.1} s)",
        delay.as_millis(),
        plan.delayed_n,
        wall.as_secs_f64()
    );
    print_comparison(&d, &p);
    Ok(())
}

/// Prints the direct and proxied rows and their ratios against the 1.3x goal.
fn print_comparison(d: &Latencies, p: &Latencies) {
    header();
    row("direct to provider (reqwest)", d.len(), d);
    row("via service (SDK proxy_request)", p.len(), p);
    let (r50, r99) = ratios(d, p);
    println!(
        "  ratio proxy/direct: p50 {r50:.2}x, p99 {r99:.2}x   (goal <= 1.3x: {})",
        verdict(r50 <= 1.3 && r99 <= 1.3)
    );
}

/// Part 1c: the cost of the pieces a proxied call is made of, timed alone.
async fn parts(h: &Harness, plan: &Plan) -> anyhow::Result<()> {
    let store = &h.stack.state.store;
    let http = sdk_like_http_client()?;
    let health = format!("{}/healthz", h.stack.url);
    // An approval that exists (made by part 1's last call is not known; make one).
    let agent = h.agent()?;
    let pending = match agent.proxy_request(refund_request(0)?).await? {
        ProxyOutcome::Pending(p) => p,
        ProxyOutcome::Completed(_) => bail!("the refund ran without approval"),
    };
    let id: Uuid = pending.approval_id;
    let n = plan.parts_n;
    let mut write = Vec::with_capacity(n);
    let mut read = Vec::with_capacity(n);
    let mut revoked = Vec::with_capacity(n);
    let mut hop = Vec::with_capacity(n);
    for i in 0..n + 20 {
        let w = timed(async {
            let draft = AuditDraft::general(
                AuditKind::ConfigChanged,
                "bench",
                serde_json::json!({"bench": i}),
            );
            store.append_audit(draft, h.stack.state.clock.now()).await?;
            Ok(())
        })
        .await?;
        let r = timed(async {
            store.approval(id).await?.context("approval vanished")?;
            Ok(())
        })
        .await?;
        let g = timed(async {
            store.is_grant_revoked("payments").await?;
            Ok(())
        })
        .await?;
        let x = timed(async {
            let answer = http.get(&health).send().await?;
            ensure!(
                answer.status() == 200,
                "healthz answered {}",
                answer.status()
            );
            answer.bytes().await?;
            Ok(())
        })
        .await?;
        if i >= 20 {
            write.push(w);
            read.push(r);
            revoked.push(g);
            hop.push(x);
        }
    }
    pending.cancel().await?;
    println!("\n[1c] Parts of a proxied call, each timed alone, sequential");
    header();
    row(
        "SQLite write tx (1 audit append)",
        n,
        &Latencies::new(write),
    );
    row("SQLite read: store.approval(id)", n, &Latencies::new(read));
    row("SQLite read: is_grant_revoked", n, &Latencies::new(revoked));
    row("HTTP round trip GET /healthz", n, &Latencies::new(hop));
    Ok(())
}

/// Part 2: from just before `decide` to the agent's `wait` returning.
async fn decisions(h: &Harness, plan: &Plan) -> anyhow::Result<()> {
    // The approver decides on the first replica; the agent waits on the last.
    let agent = h.agent_on(plan.replicas - 1)?;
    let mut e2e = Vec::with_capacity(plan.decisions_n);
    let mut rtt = Vec::with_capacity(plan.decisions_n);
    let t = Instant::now();
    for i in 0..plan.decisions_warmup + plan.decisions_n {
        let pending = match agent.proxy_request(refund_request(i as u64)?).await? {
            ProxyOutcome::Pending(p) => p,
            ProxyOutcome::Completed(_) => bail!("the refund ran without approval"),
        };
        let id = pending.approval_id;
        let waiter = tokio::spawn(async move {
            let result = pending.wait(Duration::from_secs(30)).await;
            (Instant::now(), result)
        });
        // Not timed: the approver reviews (and verifies) the request; give the agent's long
        // poll a moment to be parked at the service.
        let review = h.approver.review(id).await?;
        tokio::time::sleep(Duration::from_millis(2)).await;
        let t0 = Instant::now();
        let answer = h
            .approver
            .decide(&review, Verdict::Approve, Some("bench".into()))
            .await?;
        let t1 = Instant::now();
        let (done, result) = waiter.await?;
        let result = result.context("the agent's wait failed")?;
        ensure!(
            result.status() == 200,
            "the refund answered {}",
            result.status()
        );
        ensure!(
            answer.status.as_str() == "approved",
            "decision left status {}",
            answer.status
        );
        if i >= plan.decisions_warmup {
            e2e.push(done.saturating_duration_since(t0));
            rtt.push(t1 - t0);
        }
    }
    let wall = t.elapsed();
    let (e2e, rtt) = (Latencies::new(e2e), Latencies::new(rtt));
    println!(
        "\n[2] Decision -> agent's wait returns, {} approvals one at a time, after {} warm-up ({:.1} s)",
        plan.decisions_n,
        plan.decisions_warmup,
        wall.as_secs_f64()
    );
    header();
    let name = if plan.replicas > 1 {
        "decide() on A sent -> wait() on B"
    } else {
        "decide() sent -> wait() returned"
    };
    row(name, e2e.len(), &e2e);
    row("decide() round trip alone", rtt.len(), &rtt);
    println!(
        "  goal p99 < 30 ms: {}",
        verdict(e2e.pct(99.0) < Duration::from_millis(30))
    );
    Ok(())
}

/// Part 3: pending approvals created per second by concurrent agents.
async fn throughput(h: &Harness, plan: &Plan) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    // Warm up each agent's connection before the clock starts.
    let mut agents = Vec::new();
    for a in 0..plan.throughput_agents {
        let agent = h.agent_on(a)?;
        match agent.proxy_request(refund_request(0)?).await? {
            ProxyOutcome::Pending(_) => {}
            ProxyOutcome::Completed(_) => bail!("the refund ran without approval"),
        }
        agents.push(agent);
    }
    let t = Instant::now();
    for (a, agent) in agents.into_iter().enumerate() {
        let stop = stop.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut n = (a as u64) << 40;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let s = Instant::now();
                match agent.proxy_request(refund_request(n)?).await {
                    Ok(ProxyOutcome::Pending(_)) => {
                        latencies.push(s.elapsed());
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(ProxyOutcome::Completed(_)) => bail!("the refund ran without approval"),
                    Err(e) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("agent {a}: {e}");
                        }
                    }
                }
            }
            Ok::<_, anyhow::Error>((latencies, errors))
        }));
    }
    // Sample the count each second for a per-second view.
    let mut per_second = Vec::new();
    let mut last = 0;
    let deadline = t + plan.throughput_time;
    loop {
        let next = (Instant::now() + Duration::from_secs(1)).min(deadline);
        tokio::time::sleep_until(next.into()).await;
        let now = counter.load(Ordering::Relaxed);
        per_second.push(now - last);
        last = now;
        if Instant::now() >= deadline {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await??;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = t.elapsed();
    let created = latencies.len();
    let rate = created as f64 / elapsed.as_secs_f64();
    let lat = Latencies::new(latencies);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "\n[3] Pending approvals created, {} concurrent agents (own SDK client each), POST /v1/refunds for {:.1} s",
        plan.throughput_agents,
        elapsed.as_secs_f64()
    );
    header();
    row("proxy_request -> 202 latency", created, &lat);
    println!(
        "  completed 202s: {created}, errors: {errors}, rate: {rate:.0}/s   (goal >= 2000/s on 2 cores, here {cores}: {})",
        verdict(rate >= 2000.0)
    );
    let shown: Vec<String> = per_second.iter().map(u64::to_string).collect();
    println!("  per 1 s interval: [{}]", shown.join(", "));
    expiry_pass(h).await
}

/// The reads of one expiry pass, which the service runs after every new pending approval
/// (`expiry::run` woken by `proxy`), timed now that many approvals are pending.
async fn expiry_pass(h: &Harness) -> anyhow::Result<()> {
    let store = &h.stack.state.store;
    let pending = store
        .ids_in_status(countersign_core::ApprovalStatus::Pending)
        .await?
        .len();
    let mut samples = Vec::new();
    for _ in 0..20 {
        samples.push(
            timed(async {
                store.due_for_expiry(h.stack.state.clock.now(), 500).await?;
                store.next_expiry().await?;
                Ok(())
            })
            .await?,
        );
    }
    let s = Latencies::new(samples);
    println!(
        "  the expiry pass the service runs after each new pending approval (due_for_expiry + next_expiry), now with {pending} pending: p50 {}, p99 {}",
        ms(s.pct(50.0)),
        ms(s.pct(99.0))
    );
    Ok(())
}

/// `VmHWM` of this process, as written in `/proc/self/status`.
fn peak_rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{:.1} MiB ({kb} kB)", kb / 1024.0))
}
