//! What the policy engine costs: pending approvals created per second with a 20-rule policy
//! whose rules read the JSON body, against a single-rule policy, in one run (goal: the
//! engine costs < 5 %).
//!
//! Two services run side by side on loopback (each a `DemoStack` on its own SQLite file),
//! one per policy. Agents loop `POST /v1/refunds`, which needs approval under both; under
//! the 20-rule policy it is the worst case: every rule is tried, 13 of them on the refund
//! path with body conditions (the body is read once, strictly, then every pointer looked
//! up), and none matches, so the policy's default requirement applies. Rounds alternate
//! between the two services so both share the machine's noise; the table gives each
//! round, the totals and the ratio. Then `decide_call` alone is timed for both policies,
//! as nanoseconds per call and as a share of one pending approval's time.
//! The machine's other load shows in the rounds; the per-call figure is the steadier one.
//!
//! ```text
//! cargo bench -p countersign-cli --bench policy_engine
//! COUNTERSIGN_BENCH_SCALE=0.2 cargo bench -p countersign-cli --bench policy_engine   # quick
//! ```

use anyhow::{bail, Context};
use countersign_cli::stack::DemoStack;
use countersign_sdk::{Client, ProxyOutcome, ProxyRequest};
use countersign_service::policy::{decide_call, CallFacts, NoCounts, Outcome};
use countersign_service::Config;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const AGENTS: usize = 8;
const REASON: &str = "Benchmark: customer #8812 was charged twice for order A-1042";
const BODY: &str = r#"{"order": "A-1042", "amount": 1999, "currency": "EUR", "metadata": {"ticket": "T-77812", "channel": "email"}}"#;

/// The policy before this engine, in the new form: refunds need alice.
const ONE_RULE: &str = r#"[[policy]]
id = "refunds"
[[policy.gate]]
id = "leads"
approvers = ["alice"]
[[policy.rule]]
id = "refunds"
methods = ["POST"]
path = "/v1/refunds*"
action = "require"
"#;

/// Twenty rules; the benchmark's refund matches none of them.
fn twenty_rules() -> String {
    let mut p = String::from(
        "[[policy]]\nid = \"refunds\"\n[[policy.gate]]\nid = \"leads\"\napprovers = [\"alice\"]\n",
    );
    let other_paths = [
        ("GET", "/v1/balance", "allow", ""),
        ("GET", "/v1/customers/*", "allow", ""),
        ("DELETE", "/v1/*", "deny", ""),
        ("POST", "/v1/payouts", "require", ""),
        ("POST", "/v1/charges", "allow", "at_most = \"100/1h\"\n"),
        ("PATCH", "/v1/customers/*", "require", ""),
        ("POST", "/v1/refunds/*/cancel", "allow", ""),
    ];
    for (i, (method, path, action, extra)) in other_paths.iter().enumerate() {
        p.push_str(&format!(
            "[[policy.rule]]\nid = \"other-{i}\"\nmethods = [\"{method}\"]\npath = \"{path}\"\n{extra}action = \"{action}\"\n"
        ));
    }
    for i in 0..13 {
        // Every condition but the last holds; the last fails, so all are evaluated.
        p.push_str(&format!(
            "[[policy.rule]]\nid = \"refund-{i}\"\nmethods = [\"POST\"]\npath = \"/v1/refunds\"\n\
             when = [{{ pointer = \"/amount\", ge = {i} }}, {{ pointer = \"/currency\", in = [\"EUR\", \"USD\", \"GBP\"] }}, \
             {{ pointer = \"/metadata/channel\", ne = \"phone\" }}, {{ pointer = \"/order\", matches = \"B-[0-9]{{4}}-{i}\" }}]\n\
             action = \"allow\"\n"
        ));
    }
    p
}

fn scale() -> f64 {
    std::env::var("COUNTERSIGN_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

fn refund() -> anyhow::Result<ProxyRequest> {
    Ok(ProxyRequest::post("payments", "/v1/refunds", REASON)
        .body(BODY.as_bytes().to_vec())
        .header("content-type", "application/json"))
}

/// Pending approvals created by `agents` in `time`.
async fn round(agents: &[Client], time: Duration) -> anyhow::Result<u64> {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for agent in agents {
        let (agent, stop, count) = (agent.clone(), stop.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match agent.proxy_request(refund()?).await? {
                    ProxyOutcome::Pending(_) => count.fetch_add(1, Ordering::Relaxed),
                    ProxyOutcome::Completed(_) => bail!("the refund ran without approval"),
                };
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    tokio::time::sleep(time).await;
    stop.store(true, Ordering::Relaxed);
    let created = count.load(Ordering::Relaxed);
    for task in tasks {
        task.await??;
    }
    Ok(created)
}

async fn agents(stack: &DemoStack) -> anyhow::Result<Vec<Client>> {
    let mut out = Vec::new();
    for _ in 0..AGENTS {
        let agent = stack.agent()?;
        agent.proxy_request(refund()?).await?; // warm the connection
        out.push(agent);
    }
    Ok(out)
}

/// Nanoseconds per `decide_call` (what the proxy runs) of the benchmark's refund under `config`.
fn evaluation_ns(config: &Config, n: u32) -> f64 {
    let app = config.app("support-agent").expect("app");
    let grant = config.grant("payments").expect("grant");
    let facts = CallFacts {
        method: "POST",
        path: "/v1/refunds",
        content_type: Some("application/json"),
        body: BODY.as_bytes(),
    };
    let t = Instant::now();
    for _ in 0..n {
        let decision = decide_call(config, app, grant, &facts, &NoCounts).expect("bound");
        assert!(matches!(decision.outcome, Outcome::Require { .. }));
        std::hint::black_box(decision);
    }
    t.elapsed().as_nanos() as f64 / f64::from(n)
}

async fn run() -> anyhow::Result<()> {
    let scale = scale();
    let twenty = twenty_rules();
    let one = DemoStack::start_for_benchmark(ONE_RULE).await?;
    let many = DemoStack::start_for_benchmark(&twenty).await?;
    assert_eq!(
        many.config.policy("refunds").context("policy")?.rules.len(),
        20
    );
    let (one_agents, many_agents) = (agents(&one).await?, agents(&many).await?);
    let time = Duration::from_secs_f64(scale.max(0.25));
    let rounds = 10;
    println!(
        "Pending approvals created per second, {AGENTS} agents, {rounds} alternating rounds of {:.1} s each",
        time.as_secs_f64()
    );
    println!("  {:<8} {:>14} {:>14}", "round", "1 rule /s", "20 rules /s");
    let (mut total_one, mut total_many) = (0u64, 0u64);
    for r in 0..rounds {
        // Alternate which goes first, so neither always follows the other.
        let (a, b) = if r % 2 == 0 {
            let a = round(&one_agents, time).await?;
            (a, round(&many_agents, time).await?)
        } else {
            let b = round(&many_agents, time).await?;
            (round(&one_agents, time).await?, b)
        };
        total_one += a;
        total_many += b;
        let per_s = |n: u64| n as f64 / time.as_secs_f64();
        println!("  {:<8} {:>14.0} {:>14.0}", r + 1, per_s(a), per_s(b));
    }
    let secs = time.as_secs_f64() * f64::from(rounds);
    let (rate_one, rate_many) = (total_one as f64 / secs, total_many as f64 / secs);
    let cost = (1.0 - rate_many / rate_one) * 100.0;
    println!(
        "  {:<8} {:>14.0} {:>14.0}   20 rules cost {cost:+.1} % of the rate (goal < 5 %; negative = noise in its favour)",
        "total", rate_one, rate_many
    );

    let n = (200_000.0 * scale).max(10_000.0) as u32;
    let ns_one = evaluation_ns(&one.config, n);
    let ns_many = evaluation_ns(&many.config, n);
    let per_request_ns = 1e9 / rate_many;
    println!("\ndecide_call alone (the proxy's evaluation), {n} calls each (one thread):");
    println!("  1 rule:   {ns_one:>9.0} ns/call");
    println!("  20 rules: {ns_many:>9.0} ns/call");
    println!(
        "  the 20-rule evaluation is {:.2} % of the wall time per pending approval at the measured rate ({:.0} µs)",
        ns_many / per_request_ns * 100.0,
        per_request_ns / 1000.0
    );
    one.stop().await?;
    many.stop().await?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}
