//! Benchmark of the MCP gateway: a `tools/call` that needs no approval, through
//! `countersign mcp` over stdio and over streamable HTTP, against the same call made with the
//! Rust SDK (`Client::proxy_request`).
//!
//! The sample provider and the service (temporary SQLite file) run in this process, as in
//! the pipeline benchmark; the gateway is the real `countersign` binary (built with this
//! benchmark's profile), started twice: once over stdio (the benchmark writes JSON-RPC
//! lines to its stdin), once listening on loopback HTTP (the benchmark POSTs JSON-RPC with
//! reqwest and reads the SSE answer). The tool is `balance` (`GET /v1/balance`, which the
//! policy lets run at once). Sequential calls, after warm-up, interleaved in blocks so that
//! all three share the noise; p50/p99 per path and the ratios to the SDK's.
//!
//! ```text
//! cargo bench -p countersign-cli --bench mcp
//! COUNTERSIGN_BENCH_SCALE=0.1 cargo bench -p countersign-cli --bench mcp   # quick run
//! ```

use anyhow::{bail, ensure, Context};
use countersign_cli::stack::DemoStack;
use countersign_kit::config::DEMO_POLICY;
use countersign_kit::latency::Latencies;
use countersign_sdk::{Client, ProxyOutcome, ProxyRequest};
use serde_json::{json, Value};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The reason every call carries.
const REASON: &str = "Benchmark: monthly balance check for the finance report";
/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_countersign");
/// The protocol version the benchmark's client speaks.
const PROTOCOL: &str = "2025-11-25";

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let scale: f64 = std::env::var("COUNTERSIGN_BENCH_SCALE")
        .ok()
        .map(|s| s.parse())
        .transpose()
        .context("COUNTERSIGN_BENCH_SCALE")?
        .unwrap_or(1.0);
    let n = ((2000.0 * scale) as usize).max(20);
    let warmup = ((200.0 * scale) as usize).max(5);
    let block = 20;

    let stack = DemoStack::start_for_benchmark(DEMO_POLICY).await?;
    let dir = tempfile::tempdir()?;
    let sdk = stack.agent()?;
    let mut stdio = StdioGateway::start(&stack, dir.path()).await?;
    let mut http = HttpGateway::start(&stack, dir.path()).await?;

    for _ in 0..warmup {
        sdk_call(&sdk).await?;
        stdio.call().await?;
        http.call().await?;
    }
    let (mut s, mut m, mut h) = (Vec::new(), Vec::new(), Vec::new());
    let started = Instant::now();
    let mut round = 0;
    while s.len() < n {
        let k = block.min(n - s.len());
        // Rotate which path goes first in each round.
        for turn in 0..3 {
            for _ in 0..k {
                match (round + turn) % 3 {
                    0 => s.push(timed(sdk_call(&sdk)).await?),
                    1 => m.push(timed(stdio.call()).await?),
                    _ => h.push(timed(http.call()).await?),
                }
            }
        }
        round += 1;
    }
    let wall = started.elapsed();
    let (s, m, h) = (Latencies::new(s), Latencies::new(m), Latencies::new(h));
    println!(
        "\nMCP tools/call without approval vs the Rust SDK: GET /v1/balance, sequential, {n} \
         each in blocks of {block}, after {warmup} warm-up each ({:.1} s)",
        wall.as_secs_f64()
    );
    println!(
        "  {:<44} {:>6} {:>11} {:>11} {:>11}",
        "path", "calls", "p50", "p99", "mean"
    );
    for (name, stats) in [
        ("Rust SDK proxy_request", &s),
        ("MCP tools/call over stdio", &m),
        ("MCP tools/call over streamable HTTP", &h),
    ] {
        println!(
            "  {:<44} {:>6} {:>11} {:>11} {:>11}",
            name,
            stats.len(),
            ms(stats.pct(50.0)),
            ms(stats.pct(99.0)),
            ms(stats.mean())
        );
    }
    for (name, stats) in [("stdio", &m), ("streamable HTTP", &h)] {
        println!(
            "  ratio MCP {name}/SDK: p50 {:.2}x, p99 {:.2}x (added p50 +{})",
            ratio(stats, &s, 50.0),
            ratio(stats, &s, 99.0),
            ms(stats.pct(50.0).saturating_sub(s.pct(50.0)))
        );
    }

    stdio.stop().await;
    http.stop().await;
    stack.stop().await?;
    Ok(())
}

/// The call through the Rust SDK.
async fn sdk_call(sdk: &Client) -> anyhow::Result<()> {
    match sdk
        .proxy_request(ProxyRequest::new("payments", "GET", "/v1/balance", REASON))
        .await?
    {
        ProxyOutcome::Completed(result) if result.status() == 200 => Ok(()),
        ProxyOutcome::Completed(result) => bail!("the provider answered {}", result.status()),
        ProxyOutcome::Pending(_) => bail!("GET /v1/balance needs approval"),
    }
}

async fn timed(
    call: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<Duration> {
    let t = Instant::now();
    call.await?;
    Ok(t.elapsed())
}

/// The gateway's config: the one `balance` tool, and `extra` lines in `[mcp]`.
fn write_config(
    stack: &DemoStack,
    dir: &std::path::Path,
    name: &str,
    extra: &str,
) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            r#"[mcp]
service = "{}"
app_key_env = "MCP_AGENT_KEY"
{extra}

[[tool]]
name = "balance"
description = "Read the account balance"
grant = "payments"
method = "GET"
path = "/v1/balance"
input_schema = {{ type = "object" }}
"#,
            stack.url
        ),
    )?;
    Ok(path)
}

fn gateway(stack: &DemoStack, config: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["mcp", "--config"])
        .arg(config)
        .env("MCP_AGENT_KEY", &stack.api_key)
        .env("COUNTERSIGN_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    command
}

fn initialize(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL, "capabilities": {},
        "clientInfo": {"name": "countersign-bench", "version": "1"}}})
}

fn balance_call(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "balance", "arguments": {"reason": REASON}}})
}

/// Checks a `tools/call` response: a result whose status is `completed`.
fn check_completed(response: &Value, id: u64) -> anyhow::Result<()> {
    ensure!(
        response["id"] == json!(id),
        "answer to another request: {response}"
    );
    let status = &response["result"]["structuredContent"]["status"];
    ensure!(
        status == "completed",
        "the call did not complete: {response}"
    );
    Ok(())
}

/// `countersign mcp` over stdio, initialized.
struct StdioGateway {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

impl StdioGateway {
    async fn start(stack: &DemoStack, dir: &std::path::Path) -> anyhow::Result<Self> {
        let config = write_config(stack, dir, "stdio.toml", "")?;
        let mut child = gateway(stack, &config).spawn()?;
        let stdin = child.stdin.take().context("stdin")?;
        let lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let mut gateway = Self {
            child,
            stdin,
            lines,
            next_id: 1,
        };
        gateway.send(&initialize(0)).await?;
        let answer = gateway.read().await?;
        ensure!(
            answer["result"]["serverInfo"]["name"] == "countersign",
            "{answer}"
        );
        gateway
            .send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await?;
        Ok(gateway)
    }

    async fn send(&mut self, message: &Value) -> anyhow::Result<()> {
        let mut line = serde_json::to_vec(message)?;
        line.push(b'\n');
        self.stdin.write_all(&line).await?;
        self.stdin.flush().await?;
        Ok(())
    }

    async fn read(&mut self) -> anyhow::Result<Value> {
        let line = self
            .lines
            .next_line()
            .await?
            .context("the gateway closed stdout")?;
        Ok(serde_json::from_str(&line)?)
    }

    async fn call(&mut self) -> anyhow::Result<()> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&balance_call(id)).await?;
        check_completed(&self.read().await?, id)
    }

    async fn stop(mut self) {
        drop(self.stdin);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        let _ = self.child.kill().await;
    }
}

/// `countersign mcp` listening on loopback HTTP, with one initialized session.
struct HttpGateway {
    child: Child,
    http: reqwest::Client,
    url: String,
    session: String,
    next_id: u64,
}

impl HttpGateway {
    async fn start(stack: &DemoStack, dir: &std::path::Path) -> anyhow::Result<Self> {
        let config = write_config(stack, dir, "http.toml", "listen = \"127.0.0.1:0\"")?;
        let mut child = gateway(stack, &config).spawn()?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let line = lines
            .next_line()
            .await?
            .context("the gateway did not start")?;
        let url = line
            .strip_prefix("listening on ")
            .with_context(|| format!("unexpected first line {line:?}"))?
            .to_string();
        let http = reqwest::Client::builder().build()?;
        let response = http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .json(&initialize(0))
            .send()
            .await?
            .error_for_status()?;
        let session = response
            .headers()
            .get("mcp-session-id")
            .context("no mcp-session-id")?
            .to_str()?
            .to_string();
        let answer = sse_answer(&response.text().await?)?;
        ensure!(
            answer["result"]["serverInfo"]["name"] == "countersign",
            "{answer}"
        );
        let mut gateway = Self {
            child,
            http,
            url,
            session,
            next_id: 1,
        };
        gateway
            .post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await?;
        Ok(gateway)
    }

    async fn post(&mut self, message: &Value) -> anyhow::Result<String> {
        let response = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &self.session)
            .header("mcp-protocol-version", PROTOCOL)
            .json(message)
            .send()
            .await?
            .error_for_status()?;
        Ok(response.text().await?)
    }

    async fn call(&mut self) -> anyhow::Result<()> {
        let id = self.next_id;
        self.next_id += 1;
        let body = self.post(&balance_call(id)).await?;
        check_completed(&sse_answer(&body)?, id)
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The JSON-RPC response in an SSE body (the `data:` line that holds an `id`).
fn sse_answer(body: &str) -> anyhow::Result<Value> {
    for line in body.lines() {
        if let Some(data) = line.strip_prefix("data:") {
            let data = data.trim();
            if data.is_empty() {
                continue;
            }
            let value: Value = serde_json::from_str(data)?;
            if value.get("id").is_some() {
                return Ok(value);
            }
        }
    }
    bail!("no JSON-RPC response in {body:?}")
}

fn ratio(a: &Latencies, b: &Latencies, p: f64) -> f64 {
    a.pct(p).as_secs_f64() / b.pct(p).as_secs_f64()
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}
