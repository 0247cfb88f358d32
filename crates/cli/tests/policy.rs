//! `countersign policy explain` and `policy replay` as separate processes: explain's outcomes
//! and exit codes on the example policy, and replay of a history recorded by a real
//! `countersign serve` (read while the service runs, and after it stopped) under a stricter
//! and a looser config.

use countersign_cli::demo::demo_config;
use countersign_cli::sample_provider::SampleProvider;
use countersign_core::encoding::random_token;
use countersign_sdk::{Client, Error, ProxyOutcome, ProxyRequest};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::process::{Child, Command};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_countersign");
const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/policy-example.toml"
);
/// The variable `demo_config` names for the grant's secret.
const SECRET_ENV: &str = "DEMO_PAYMENTS_SECRET";

async fn countersign(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove(SECRET_ENV)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().unwrap();
    if let Some(bytes) = stdin {
        use tokio::io::AsyncWriteExt;
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(bytes).await.unwrap();
    }
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("countersign {args:?} did not finish"))
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

async fn explain(args: &[&str], body: Option<&str>) -> Output {
    let mut full = vec!["policy", "explain", "--config", EXAMPLE];
    full.extend(args);
    if body.is_some() {
        full.extend(["--body", "-"]);
    }
    countersign(&full, body.map(str::as_bytes)).await
}

#[tokio::test]
async fn explain_prints_each_outcome_with_its_exit_code() {
    let refund = [
        "--app",
        "support-agent",
        "--grant",
        "payments",
        "--method",
        "POST",
    ];
    let path = ["--path", "/v1/refunds"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        refund.iter().chain(&path).chain(extra).copied().collect()
    };

    let out = explain(&with(&[]), Some(r#"{"amount": 100, "currency": "EUR"}"#)).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("2. small-refunds  DECIDES: allow"), "{text}");
    assert!(
        text.contains("outcome: runs without approval (exit 0)"),
        "{text}"
    );
    assert!(
        text.contains("once small-refunds of policy refunds (20/1h) is full"),
        "{text}"
    );

    let out = explain(&with(&[]), Some(r#"{"amount": 900000, "currency": "EUR"}"#)).await;
    assert_eq!(out.status.code(), Some(10), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains("gate refunds/manager (1 of carol, dave)"),
        "{text}"
    );
    assert!(text.contains("2 different people must approve"), "{text}");

    let out = explain(
        &[
            "--app",
            "support-agent",
            "--grant",
            "payments",
            "--method",
            "DELETE",
            "--path",
            "/v1/refunds/r_1",
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(20), "{out:?}");
    assert!(
        stdout(&out).contains("refused by rule no-deletes of policy refunds (403 policy_denied)")
    );

    let out = explain(
        &[
            "--app",
            "support-agent",
            "--grant",
            "crm",
            "--method",
            "GET",
            "--path",
            "/v1/x",
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(20), "{out:?}");
    assert!(stdout(&out).contains("403 grant_not_allowed"));

    let out = explain(
        &[
            "--app",
            "support-agent",
            "--grant",
            "payments",
            "--method",
            "GET",
            "--path",
            "/v1/a/../balance",
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(20), "{out:?}");
    assert!(stdout(&out).contains("422 invalid_path"));

    // --json says the same; --content-type overrides the default.
    let out = explain(
        &with(&["--json", "--content-type", "text/plain"]),
        Some(r#"{"amount": 100, "currency": "EUR"}"#),
    )
    .await;
    assert_eq!(out.status.code(), Some(10), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["exit_code"], 10);
    assert_eq!(v["outcome"]["kind"], "require");
    assert_eq!(v["policies"][0]["rules"][1]["miss"]["why"], "not_json");

    // Errors: exit 1.
    let out = explain(
        &[
            "--app", "nobody", "--grant", "payments", "--method", "GET", "--path", "/",
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no app \"nobody\""));
    let out = countersign(
        &[
            "policy",
            "explain",
            "--config",
            "/nonexistent.toml",
            "--app",
            "a",
            "--grant",
            "g",
            "--method",
            "GET",
            "--path",
            "/",
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

/// A service recording calls: config, database, provider, and the running `serve`.
struct Recording {
    dir: tempfile::TempDir,
    config: PathBuf,
    db: PathBuf,
    url: String,
    api_key: String,
    secret: String,
    provider: SampleProvider,
}

impl Recording {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let secret = format!("sk_policy_{}", random_token());
        let api_key = format!("cs_policy_{}", random_token());
        let provider = SampleProvider::start(&secret).await.unwrap();
        let listen = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let config = dir.path().join("countersign.toml");
        let db = dir.path().join("countersign.db");
        let text = demo_config(&listen.to_string(), &provider.base_url(), &api_key, &db);
        std::fs::write(&config, text).unwrap();
        Self {
            dir,
            config,
            db,
            url: format!("http://{listen}"),
            api_key,
            secret,
            provider,
        }
    }

    async fn serve(&self) -> Child {
        let log = std::fs::File::create(self.dir.path().join("serve.log")).unwrap();
        let mut child = Command::new(BIN)
            .args(["serve", "--config", self.config.to_str().unwrap()])
            .env(SECRET_ENV, &self.secret)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        countersign_kit::process::wait_healthy(&mut child, &self.url, || {
            std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
        })
        .await;
        child
    }

    fn sdk(&self) -> Client {
        Client::new(&self.url, self.api_key.clone()).unwrap()
    }

    /// The recording config with `policies` in place of its own `[[policy]]` section.
    fn config_with(&self, name: &str, policies: &str) -> PathBuf {
        let text = std::fs::read_to_string(&self.config).unwrap();
        let head = &text[..text.find("[[policy]]").unwrap()];
        let path = self.dir.path().join(name);
        std::fs::write(&path, format!("{head}{policies}")).unwrap();
        path
    }

    async fn replay(&self, config: &Path) -> (String, Value) {
        let config = config.to_str().unwrap();
        let text = countersign(&["policy", "replay", "--config", config], None).await;
        assert_eq!(text.status.code(), Some(0), "{text:?}");
        let json = countersign(
            &[
                "policy", "replay", "--config", config, "--since", "1d", "--json",
            ],
            None,
        )
        .await;
        assert_eq!(json.status.code(), Some(0), "{json:?}");
        (stdout(&text), serde_json::from_slice(&json.stdout).unwrap())
    }
}

async fn call(sdk: &Client, request: ProxyRequest) -> (Uuid, bool) {
    match sdk.proxy_request(request).await.unwrap() {
        ProxyOutcome::Completed(done) => (done.approval_id, false),
        ProxyOutcome::Pending(pending) => (pending.approval_id, true),
    }
}

fn refund(amount: u64) -> ProxyRequest {
    ProxyRequest::post("payments", "/v1/refunds", "Refund a duplicate charge")
        .json(&json!({"order": "P-1", "amount": amount, "currency": "EUR"}))
        .unwrap()
}

fn rule<'v>(report: &'v Value, policy: &str, rule: Option<&str>) -> &'v Value {
    report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["policy"] == policy && r["rule"].as_str() == rule)
        .unwrap_or_else(|| panic!("no row {policy}/{rule:?}: {report}"))
}

fn changed_ids(report: &Value) -> BTreeSet<Uuid> {
    report["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["approval_id"].as_str().unwrap().parse().unwrap())
        .collect()
}

fn change(report: &Value, was: &str, now: &str) -> u64 {
    report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["was"] == was && c["now"] == now && c["other_gates"] == false)
        .map(|c| c["calls"].as_u64().unwrap())
        .sum()
}

const GATE: &str = r#"
[[policy]]
id = "refunds"
[[policy.gate]]
id = "support-leads"
approvers = ["alice"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_compares_a_recorded_history_with_a_stricter_and_a_looser_config() {
    let rec = Recording::new().await;
    let mut serve = rec.serve().await;
    let sdk = rec.sdk();
    // Under the recording config: reads run free, deletes are refused, the rest needs alice.
    let mut reads = BTreeSet::new();
    for _ in 0..3 {
        let (id, pending) = call(
            &sdk,
            ProxyRequest::get("payments", "/v1/balance", "Check the balance"),
        )
        .await;
        assert!(!pending);
        reads.insert(id);
    }
    let mut small = Vec::new();
    for amount in [100, 200, 300, 400] {
        let (id, pending) = call(&sdk, refund(amount)).await;
        assert!(pending);
        small.push(id);
    }
    let (large, pending) = call(&sdk, refund(900_000)).await;
    assert!(pending);
    match sdk
        .proxy_request(ProxyRequest::delete("payments", "/v1/refunds/r_1", "Undo"))
        .await
    {
        Err(Error::PolicyDenied { rule, .. }) => assert_eq!(rule, "no-deletes"),
        other => panic!("expected policy_denied, got {other:?}"),
    }

    // Stricter: reads need approval too, large refunds are refused.
    let stricter = rec.config_with(
        "stricter.toml",
        &format!(
            r#"{GATE}
[[policy.rule]]
id = "no-large-refunds"
methods = ["POST"]
path = "/v1/refunds"
when = [{{ pointer = "/amount", gt = 100000 }}]
action = "deny"
[[policy.rule]]
id = "no-deletes"
methods = ["DELETE"]
path = "/v1/*"
action = "deny"
"#
        ),
    );
    // Read while the service runs.
    let (text, report) = rec.replay(&stricter).await;
    assert_eq!(report["calls"], 8, "{report}");
    assert_eq!(report["unreadable"], 0);
    assert_eq!(change(&report, "allow", "require"), 3);
    assert_eq!(change(&report, "require", "deny"), 1);
    assert_eq!(report["unchanged"], 4);
    let mut expected = reads.clone();
    expected.insert(large);
    assert_eq!(changed_ids(&report), expected);
    assert_eq!(
        rule(&report, "refunds", Some("no-large-refunds"))["deny"],
        1
    );
    let default = rule(&report, "refunds", None);
    assert_eq!(default["matched"], 7);
    assert_eq!(default["gates"]["refunds/support-leads"], 7);
    assert!(text.contains("replayed 8 calls"), "{text}");
    assert!(text.contains("policy   rule"), "{text}");
    assert!(text.contains("allow → require"), "{text}");
    for id in &expected {
        assert!(text.contains(&id.to_string()), "{id} missing: {text}");
    }

    // Looser: small refunds run free, at most 2 an hour; reads stay free.
    let looser = rec.config_with(
        "looser.toml",
        &format!(
            r#"{GATE}
[[policy.rule]]
id = "reads"
methods = ["GET"]
path = "/v1/*"
action = "allow"
[[policy.rule]]
id = "small-refunds"
methods = ["POST"]
path = "/v1/refunds"
when = [{{ pointer = "/amount", le = 5000 }}]
at_most = "2/1h"
action = "allow"
"#
        ),
    );
    // Read after the service stopped (SIGTERM: it checkpoints and removes its WAL).
    let pid = serve.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let exit = tokio::time::timeout(Duration::from_secs(60), serve.wait())
        .await
        .expect("serve stops after SIGTERM")
        .unwrap();
    assert!(exit.success());
    let (text, report) = rec.replay(&looser).await;
    assert_eq!(report["calls"], 8);
    assert_eq!(change(&report, "require", "allow"), 2);
    assert_eq!(report["unchanged"], 6);
    assert_eq!(changed_ids(&report), small[..2].iter().copied().collect());
    let limited = rule(&report, "refunds", Some("small-refunds"));
    assert_eq!(
        (limited["matched"].as_u64(), limited["allow"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(rule(&report, "refunds", Some("reads"))["allow"], 3);
    assert_eq!(rule(&report, "refunds", None)["matched"], 3);
    assert!(
        text.contains("small-refunds  allow (at most 2/1h)"),
        "{text}"
    );

    // Nothing was written: the chain is intact and holds what it held.
    let verify = countersign(
        &["audit", "verify", "--config", rec.config.to_str().unwrap()],
        None,
    )
    .await;
    assert!(verify.status.success(), "{verify:?}");
    assert!(rec.db.exists());
    rec.provider.stop();
}
