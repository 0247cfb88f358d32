//! Three `countersign serve` processes on one PostgreSQL database, as behind a load balancer:
//! one execution however many replicas take the approval at once, a decision on one replica
//! waking a long poll and a Wallet stream held on another, a replica killed mid-call settled
//! by another and never re-sent, expiry recorded once, and the audit chain verified (and a
//! changed byte found) on PostgreSQL.
//!
//! Runs when `COUNTERSIGN_TEST_POSTGRES` names a PostgreSQL server (`scripts/postgres.sh`
//! starts one; `scripts/test.sh` does); otherwise each test says it was skipped.

use countersign_approver::{ApproverClient, Verdict};
use countersign_cli::demo::config_with;
use countersign_cli::sample_provider::{Behaviour, SampleProvider};
use countersign_core::api::WalletEventKind;
use countersign_core::encoding::random_token;
use countersign_core::keys::{generate_signing_key, SigningKey};
use countersign_core::{DeepLink, ServerUrl};
use countersign_kit::database::postgres_server;
use countersign_sdk::{ApprovalStatus, Client, Error, FailureReason, ProxyOutcome, ProxyRequest};
use countersign_service::store::{scratch, Store};
use futures::StreamExt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::process::{Child, Command};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_countersign");
/// The variable the demo config names for the grant's secret.
const SECRET_ENV: &str = "DEMO_PAYMENTS_SECRET";
const WAIT: Duration = Duration::from_secs(30);
const REPLICAS: usize = 3;

/// Refunds need alice, within `{window}`. (The replicas also get a short execution lease, so
/// a killed replica's call settles quickly.)
const POLICY: &str = r#"[[policy]]
id = "refunds"
window = "{window}"

[[policy.gate]]
id = "finance"
approvers = ["alice"]

[[policy.rule]]
id = "refunds-need-finance"
methods = ["POST"]
path = "/v1/refunds*"
action = "require"
gates = ["finance"]

[[policy.rule]]
id = "reads"
methods = ["GET"]
path = "/v1/balance"
action = "allow"
"#;

/// One PostgreSQL database, a sample provider, and a config file per replica.
struct Cluster {
    dir: tempfile::TempDir,
    database: String,
    provider: SampleProvider,
    secret: String,
    api_key: String,
    listens: Vec<SocketAddr>,
    configs: Vec<PathBuf>,
    replicas: Vec<Option<Child>>,
}

impl Cluster {
    /// `None` (and a note on stderr) when no PostgreSQL server is configured.
    async fn start() -> Option<Cluster> {
        Self::start_with_window("1h").await
    }

    /// As [`start`](Self::start), approvals open for `window`.
    async fn start_with_window(window: &str) -> Option<Cluster> {
        let server = match postgres_server() {
            Some(s) => s,
            None => {
                eprintln!(
                    "skipped: set {} to a PostgreSQL server URL (scripts/postgres.sh start)",
                    scratch::TEST_SERVER_ENV
                );
                return None;
            }
        };
        let database = scratch::create_database(&server).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let secret = format!("sk_rep_{}", random_token());
        let api_key = format!("cs_rep_{}", random_token());
        let provider = SampleProvider::start(&secret).await.unwrap();
        let mut listens = Vec::new();
        let mut configs = Vec::new();
        for i in 0..REPLICAS {
            let listen = free_port();
            // The config names an SQLite file; COUNTERSIGN_DATABASE_URL replaces it.
            let text = config_with(
                &listen.to_string(),
                &provider.base_url(),
                &api_key,
                &dir.path().join("unused.db"),
                "execution_lease = \"2s\"",
                &POLICY.replace("{window}", window),
            );
            let path = dir.path().join(format!("replica-{i}.toml"));
            std::fs::write(&path, text).unwrap();
            listens.push(listen);
            configs.push(path);
        }
        let mut cluster = Cluster {
            dir,
            database,
            provider,
            secret,
            api_key,
            listens,
            configs,
            replicas: Vec::new(),
        };
        // All three start at once: migrations must take turns.
        let started: Vec<Child> = (0..REPLICAS).map(|i| cluster.spawn(i)).collect();
        cluster.replicas = started.into_iter().map(Some).collect();
        for i in 0..REPLICAS {
            cluster.wait_healthy(i).await;
        }
        Some(cluster)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env(SECRET_ENV, &self.secret)
            .env("COUNTERSIGN_DATABASE_URL", &self.database)
            .env("COUNTERSIGN_LOG", "warn,countersign=info")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    fn spawn(&self, i: usize) -> Child {
        let log = std::fs::File::create(self.dir.path().join(format!("replica-{i}.log"))).unwrap();
        self.command(&["serve", "--config", self.configs[i].to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    fn log_path(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("replica-{i}.log"))
    }

    async fn wait_healthy(&mut self, i: usize) {
        let url = self.url(i);
        let log = self.log_path(i);
        let child = self.replicas[i].as_mut().expect("replica started");
        countersign_kit::process::wait_healthy(child, &url, || {
            std::fs::read_to_string(&log).unwrap_or_default()
        })
        .await;
    }

    /// SIGKILL replica `i`.
    async fn kill(&mut self, i: usize) {
        let mut child = self.replicas[i].take().expect("running");
        child.kill().await.unwrap();
    }

    fn url(&self, i: usize) -> String {
        format!("http://{}", self.listens[i])
    }

    fn sdk(&self, i: usize) -> Client {
        Client::new(&self.url(i), self.api_key.clone()).unwrap()
    }

    /// Runs a subcommand with replica 0's config to completion (bounded).
    async fn run(&self, args: &[&str]) -> Output {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--config", self.configs[0].to_str().unwrap()]);
        tokio::time::timeout(WAIT, self.command(&full).output())
            .await
            .unwrap_or_else(|_| panic!("countersign {args:?} did not finish"))
            .unwrap()
    }

    /// Pairs alice through replica `through` (invited by the CLI); returns her key and one
    /// client per replica (the same device, signed in on each).
    async fn pair_alice(&self, through: usize) -> (SigningKey, Vec<ApproverClient>) {
        let out = self.run(&["approver", "invite", "alice"]).await;
        assert!(out.status.success(), "{out:?}");
        let link = String::from_utf8(out.stdout).unwrap();
        let DeepLink::Pair { code, .. } = DeepLink::parse(link.trim()).unwrap() else {
            panic!("not a pairing link: {link}");
        };
        let http = reqwest::Client::new();
        let key = generate_signing_key();
        let server = ServerUrl::parse(&self.url(through)).unwrap();
        let pairing = ApproverClient::pair(&http, &server, &code, "replica test", &key)
            .await
            .unwrap();
        let clients = (0..REPLICAS)
            .map(|i| {
                let mut p = pairing.clone();
                p.server = ServerUrl::parse(&self.url(i)).unwrap();
                ApproverClient::new(reqwest::Client::new(), p, key.clone())
            })
            .collect();
        (key, clients)
    }

    async fn request(&self, through: usize, reason: &str) -> Uuid {
        let request = ProxyRequest::post("payments", "/v1/refunds", reason)
            .json(&serde_json::json!({"order": "P-1", "amount": 500, "currency": "EUR"}))
            .unwrap();
        match self.sdk(through).proxy_request(request).await.unwrap() {
            ProxyOutcome::Pending(p) => p.approval_id,
            other => panic!("expected pending, got {other:?}"),
        }
    }

    async fn store(&self) -> Store {
        Store::open_postgres(&self.database).await.unwrap()
    }

    /// Audit entries of `kind` about `id`.
    async fn audit_count(&self, id: Uuid, kind: &str) -> usize {
        let store = self.store().await;
        let n = store
            .audit_for(id)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.kind == kind)
            .count();
        store.close().await;
        n
    }

    async fn stop(mut self) {
        for child in self.replicas.iter_mut().flatten() {
            let pid = child.id().expect("running").to_string();
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status();
            let _ = tokio::time::timeout(WAIT, child.wait()).await;
        }
        self.provider.stop();
        assert!(
            !self.dir.path().join("unused.db").exists(),
            "COUNTERSIGN_DATABASE_URL must replace the config's SQLite file"
        );
    }
}

fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_approvals_across_replicas_run_the_call_once() {
    let Some(cluster) = Cluster::start().await else {
        return;
    };
    let (_, alice) = cluster.pair_alice(1).await;
    let id = cluster.request(0, "Refund order P-1").await;
    let review = alice[2].review(id).await.unwrap();

    // 99 approvals of the same request at once, a third through each replica.
    let attempts = (0..99).map(|n| {
        let client = alice[n % REPLICAS].clone();
        let review = review.clone();
        tokio::spawn(async move { client.decide(&review, Verdict::Approve, None).await })
    });
    let results = futures::future::join_all(attempts).await;
    let accepted = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    assert_eq!(accepted, 1, "exactly one decision is recorded: {results:?}");

    match cluster.sdk(2).wait(id, WAIT).await {
        Ok(done) => assert_eq!(done.status(), 200),
        other => panic!("expected the provider's answer, got {other:?}"),
    }
    // Let any (wrong) second execution arrive, then count.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(cluster.provider.calls().len(), 1, "one upstream call");
    assert_eq!(cluster.audit_count(id, "decided").await, 1);
    assert_eq!(cluster.audit_count(id, "execution_started").await, 1);
    assert_eq!(cluster.audit_count(id, "executed").await, 1);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_decision_on_one_replica_wakes_a_long_poll_and_a_wallet_stream_on_another() {
    let Some(cluster) = Cluster::start().await else {
        return;
    };
    let (_, alice) = cluster.pair_alice(0).await;
    let mut stream = alice[2].events(None).await.unwrap();
    let id = cluster.request(1, "Refund order P-2").await;

    // The stream on replica 2 hears of the request made through replica 1.
    let created = next_event_about(&mut stream, id).await;
    assert_eq!(created, WalletEventKind::Created);

    // An agent long-polls replica 2; alice decides through replica 0.
    let waiting = tokio::spawn({
        let sdk = cluster.sdk(2);
        async move { sdk.wait(id, WAIT).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let review = alice[0].review(id).await.unwrap();
    alice[0]
        .decide(&review, Verdict::Approve, None)
        .await
        .unwrap();

    assert_eq!(
        next_event_about(&mut stream, id).await,
        WalletEventKind::Decided
    );
    match waiting.await.unwrap() {
        Ok(done) => assert_eq!(done.status(), 200),
        other => panic!("expected the provider's answer, got {other:?}"),
    }
    assert_eq!(
        next_event_about(&mut stream, id).await,
        WalletEventKind::Completed
    );
    cluster.stop().await;
}

/// The kind of the next event on `stream` about `id` (bounded).
async fn next_event_about(
    stream: &mut countersign_approver::EventStream,
    id: Uuid,
) -> WalletEventKind {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let item = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("an event in time");
        match item.expect("the stream goes on") {
            Ok((_, event)) if event.approval_id == id => return event.kind,
            Ok(_) => continue,
            Err(e) => panic!("stream error: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_killed_mid_call_is_settled_by_another_and_the_call_is_never_resent() {
    let Some(mut cluster) = Cluster::start().await else {
        return;
    };
    let (_, alice) = cluster.pair_alice(0).await;
    cluster.provider.set_behaviour(Behaviour::Hang);
    let id = cluster
        .request(0, "Refund order P-3; the provider hangs")
        .await;
    // Decided through replica 0, which runs the call.
    let review = alice[0].review(id).await.unwrap();
    alice[0]
        .decide(&review, Verdict::Approve, None)
        .await
        .unwrap();
    eventually("the provider receives the call", || {
        cluster.provider.calls().len() == 1
    })
    .await;
    cluster.kill(0).await;
    cluster.provider.set_behaviour(Behaviour::Normal);

    // Replica 1 or 2 settles it once the lease (2 s) lapses; the agent waits on replica 1.
    match cluster.sdk(1).wait(id, WAIT).await {
        Err(Error::ExecutionFailed { reason, .. }) => {
            assert_eq!(reason, FailureReason::OutcomeUnknown)
        }
        other => panic!("expected ExecutionFailed(OutcomeUnknown), got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(cluster.provider.calls().len(), 1, "never re-sent");
    assert_eq!(cluster.audit_count(id, "execution_failed").await, 1);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approval_expires_once_while_its_replica_is_down() {
    let Some(mut cluster) = Cluster::start_with_window("3s").await else {
        return;
    };
    // A 3 s window, created through replica 0, which then dies.
    let id = cluster.request(0, "Quick refund R-1").await;
    cluster.kill(0).await;
    // Nobody polls until it has expired: the other replicas' expiry tasks act on their own.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let store = cluster.store().await;
    let record = store.approval(id).await.unwrap().unwrap();
    store.close().await;
    assert_eq!(record.status, ApprovalStatus::Expired);
    assert_eq!(cluster.audit_count(id, "expired").await, 1);
    match cluster.sdk(2).wait(id, WAIT).await {
        Err(Error::Expired { .. }) => {}
        other => panic!("expected Expired, got {other:?}"),
    }
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_verify_holds_on_postgres_and_finds_a_changed_byte() {
    let Some(cluster) = Cluster::start().await else {
        return;
    };
    let (_, alice) = cluster.pair_alice(1).await;
    let id = cluster.request(2, "Refund order P-4").await;
    let review = alice[0].review(id).await.unwrap();
    alice[0]
        .decide(&review, Verdict::Deny, Some("not this one".into()))
        .await
        .unwrap();
    let verify = cluster.run(&["audit", "verify"]).await;
    assert!(verify.status.success(), "{verify:?}");

    // The database refuses to change the log, whoever asks…
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&cluster.database)
        .await
        .unwrap();
    let refused = sqlx::query("UPDATE audit SET actor = 'someone else' WHERE seq = 2")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("append-only"), "{refused}");
    // …unless a superuser turns the triggers off; then verify names the changed entry.
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE audit SET actor = 'app:someone-else' WHERE seq = 2")
        .execute(&mut conn)
        .await
        .unwrap();
    let verify = cluster.run(&["audit", "verify"]).await;
    assert!(!verify.status.success());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(text.contains('2'), "names the entry: {text}");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrate_prepares_a_database_and_export_moves_an_sqlite_install_to_postgres() {
    let Some(server) = postgres_server() else {
        eprintln!("skipped: set {}", scratch::TEST_SERVER_ENV);
        return;
    };
    // An SQLite install with history: one approval approved and executed, one pending.
    let dir = tempfile::tempdir().unwrap();
    let secret = format!("sk_exp_{}", random_token());
    let api_key = format!("cs_exp_{}", random_token());
    let provider = SampleProvider::start(&secret).await.unwrap();
    let listen = free_port();
    let config = dir.path().join("countersign.toml");
    let sqlite = dir.path().join("countersign.db");
    std::fs::write(
        &config,
        config_with(
            &listen.to_string(),
            &provider.base_url(),
            &api_key,
            &sqlite,
            "",
            &POLICY.replace("{window}", "1h"),
        ),
    )
    .unwrap();
    let command = |args: &[&str], database: Option<&str>| {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .args(["--config", config.to_str().unwrap()])
            .env(SECRET_ENV, &secret)
            .env("COUNTERSIGN_LOG", "warn")
            .env_remove("COUNTERSIGN_DATABASE_URL")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if let Some(url) = database {
            cmd.env("COUNTERSIGN_DATABASE_URL", url);
        }
        cmd
    };
    let serve = |database: Option<&str>| {
        command(&["serve"], database)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let url = format!("http://{listen}");
    let mut child = serve(None);
    countersign_kit::process::wait_healthy(&mut child, &url, String::new).await;
    let sdk = Client::new(&url, api_key.clone()).unwrap();
    let refund = |reason: &'static str| {
        let sdk = sdk.clone();
        async move {
            let request = ProxyRequest::post("payments", "/v1/refunds", reason)
                .json(&serde_json::json!({"order": "P-9", "amount": 900, "currency": "EUR"}))
                .unwrap();
            match sdk.proxy_request(request).await.unwrap() {
                ProxyOutcome::Pending(p) => p.approval_id,
                other => panic!("expected pending, got {other:?}"),
            }
        }
    };
    let out = command(&["approver", "invite", "alice"], None)
        .output()
        .await
        .unwrap();
    let link = String::from_utf8(out.stdout).unwrap();
    let DeepLink::Pair {
        server: pair_url,
        code,
    } = DeepLink::parse(link.trim()).unwrap()
    else {
        panic!("not a pairing link");
    };
    let key = generate_signing_key();
    let http = reqwest::Client::new();
    let pairing = ApproverClient::pair(&http, &pair_url, &code, "export test", &key)
        .await
        .unwrap();
    let alice = ApproverClient::new(http, pairing, key);
    let done = refund("Refund P-9 (approved before the move)").await;
    let review = alice.review(done).await.unwrap();
    alice.decide(&review, Verdict::Approve, None).await.unwrap();
    sdk.wait(done, WAIT).await.unwrap();
    let pending = refund("Refund P-9 again (pending across the move)").await;
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    child.wait().await.unwrap();

    // migrate: three at once on a new database, each succeeds.
    let target = scratch::create_database(&server).await.unwrap();
    let runs = (0..3).map(|_| command(&["migrate"], Some(&target)).output());
    for out in futures::future::join_all(runs).await {
        let out = out.unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("schema at migration"));
    }

    // export into it (the config still names the SQLite file).
    let out = command(&["export", "--to", &target], None)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("its audit chain verifies"), "{text}");
    // A second export into the now non-empty database is refused.
    let out = command(&["export", "--to", &target], None)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not empty"),
        "{out:?}"
    );

    // The service on PostgreSQL: the history is there, the device still signs in, and the
    // pending approval is decided and runs there.
    let mut child = serve(Some(&target));
    countersign_kit::process::wait_healthy(&mut child, &url, String::new).await;
    assert_eq!(
        sdk.approval(done).await.unwrap().status,
        ApprovalStatus::Succeeded
    );
    let review = alice.review(pending).await.unwrap();
    alice.decide(&review, Verdict::Approve, None).await.unwrap();
    let result = sdk.wait(pending, WAIT).await.unwrap();
    assert_eq!(result.status(), 200);
    assert_eq!(provider.calls().len(), 2, "each refund ran once");
    let verify = command(&["audit", "verify"], Some(&target))
        .output()
        .await
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    child.wait().await.unwrap();
    provider.stop();
}
