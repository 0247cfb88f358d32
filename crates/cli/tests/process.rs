//! The real `countersign` binary as separate processes: crash recovery after SIGKILL, audit
//! verification and tamper detection on the database file, config refusal at start, and
//! grant and device revocation on a running service.

use countersign_approver::{ApproverClient, Verdict};
use countersign_cli::demo::demo_config;
use countersign_cli::sample_provider::{Behaviour, SampleProvider};
use countersign_core::encoding::random_token;
use countersign_core::keys::generate_signing_key;
use countersign_core::DeepLink;
use countersign_sdk::{ApprovalStatus, Client, Error, FailureReason, ProxyOutcome, ProxyRequest};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;
use tokio::process::{Child, Command};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_countersign");
/// The variable `demo_config` names for the grant's secret.
const SECRET_ENV: &str = "DEMO_PAYMENTS_SECRET";
const WAIT: Duration = Duration::from_secs(20);

/// A config file, a database and a sample provider in a temporary directory.
struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
    db: PathBuf,
    listen: SocketAddr,
    provider: SampleProvider,
    secret: String,
    api_key: String,
}

/// A running `countersign serve`.
struct Serve {
    child: Child,
    log: PathBuf,
}

impl Setup {
    async fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let secret = format!("sk_proc_{}", random_token());
        let api_key = format!("cs_proc_{}", random_token());
        let provider = SampleProvider::start(&secret).await.unwrap();
        let listen = free_port();
        let config = dir.path().join("countersign.toml");
        let db = dir.path().join("countersign.db");
        // A short execution lease, so a call cut off by a killed service is settled quickly.
        let text = demo_config(&listen.to_string(), &provider.base_url(), &api_key, &db).replacen(
            "[server]\n",
            "[server]\nexecution_lease = \"2s\"\n",
            1,
        );
        std::fs::write(&config, text).unwrap();
        Setup {
            dir,
            config,
            db,
            listen,
            provider,
            secret,
            api_key,
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.listen)
    }

    fn sdk(&self) -> Client {
        Client::new(&self.base_url(), self.api_key.clone()).unwrap()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env(SECRET_ENV, &self.secret)
            .env("COUNTERSIGN_LOG", "warn,countersign=info")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    /// Runs a short-lived subcommand with `--config` to completion (bounded).
    async fn run(&self, args: &[&str]) -> Output {
        let config = self.config.to_str().unwrap();
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--config", config]);
        let output = self.command(&full).output();
        tokio::time::timeout(Duration::from_secs(60), output)
            .await
            .unwrap_or_else(|_| panic!("countersign {args:?} did not finish"))
            .unwrap()
    }

    /// Starts `countersign serve` and waits until `/healthz` answers.
    async fn serve(&self, log_name: &str) -> Serve {
        let log = self.dir.path().join(log_name);
        let file = std::fs::File::create(&log).unwrap();
        let child = self
            .command(&["serve", "--config", self.config.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        let mut serve = Serve { child, log };
        let url = self.base_url();
        let log = serve.log.clone();
        countersign_kit::process::wait_healthy(&mut serve.child, &url, || {
            std::fs::read_to_string(&log).unwrap_or_default()
        })
        .await;
        serve
    }

    /// `approver invite` through the binary, then pairing in-process.
    async fn pair(&self, approver: &str) -> ApproverClient {
        let out = self.run(&["approver", "invite", approver]).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let link = String::from_utf8(out.stdout).unwrap();
        let DeepLink::Pair { server, code } = DeepLink::parse(link.trim()).unwrap() else {
            panic!("not a pairing link: {link}");
        };
        assert_eq!(server.as_str(), self.base_url());
        let http = reqwest::Client::new();
        let key = generate_signing_key();
        let pairing = ApproverClient::pair(&http, &server, &code, "process test", &key)
            .await
            .unwrap();
        ApproverClient::new(http, pairing, key)
    }

    async fn refund(&self, reason: &str) -> Uuid {
        let request = ProxyRequest::post("payments", "/v1/refunds", reason)
            .json(&serde_json::json!({"order": "P-1", "amount": 500, "currency": "EUR"}))
            .unwrap();
        match self.sdk().proxy_request(request).await.unwrap() {
            ProxyOutcome::Pending(p) => p.approval_id,
            other => panic!("expected pending, got {other:?}"),
        }
    }
}

impl Serve {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL, and reap.
    async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }

    /// SIGTERM, and wait (bounded) for a clean exit.
    async fn terminate(mut self) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("serve stops after SIGTERM")
            .unwrap();
        assert!(
            exit.success(),
            "serve exited with {exit}: {}",
            self.log_text()
        );
    }
}

fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_killed_mid_call_settles_the_approval_as_outcome_unknown_and_never_resends() {
    let setup = Setup::new().await;
    let serve = setup.serve("serve-1.log").await;
    let alice = setup.pair("alice").await;
    setup.provider.set_behaviour(Behaviour::Hang);

    let id = setup
        .refund("Refund order P-1; the provider will hang")
        .await;
    let review = alice.review(id).await.unwrap();
    alice.decide(&review, Verdict::Approve, None).await.unwrap();
    eventually("the provider receives the call", || {
        setup.provider.calls().len() == 1
    })
    .await;
    assert_eq!(
        setup.sdk().approval(id).await.unwrap().status,
        ApprovalStatus::Executing
    );

    serve.kill().await;
    setup.provider.set_behaviour(Behaviour::Normal);
    let serve = setup.serve("serve-2.log").await;

    // Settled once the dead process's lease (2 s) lapses, by the new process's sweep.
    let mut view = setup.sdk().approval(id).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while view.status == ApprovalStatus::Executing && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        view = setup.sdk().approval(id).await.unwrap();
    }
    assert_eq!(view.status, ApprovalStatus::ExecutionFailed);
    let failure = view.failure.expect("a failure");
    assert_eq!(failure.reason, FailureReason::OutcomeUnknown);
    match setup.sdk().wait(id, WAIT).await {
        Err(Error::ExecutionFailed { reason, .. }) => {
            assert_eq!(reason, FailureReason::OutcomeUnknown)
        }
        other => panic!("expected ExecutionFailed(OutcomeUnknown), got {other:?}"),
    }
    // Let anything the restart might (wrongly) re-send arrive, then count.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let calls = setup.provider.calls();
    assert_eq!(calls.len(), 1, "the call was re-sent: {calls:?}");
    assert_eq!(
        calls[0].header("idempotency-key"),
        Some(id.to_string().as_str())
    );

    // A second restart changes nothing either.
    serve.terminate().await;
    let serve = setup.serve("serve-3.log").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(setup.provider.calls().len(), 1);
    assert_eq!(
        setup.sdk().approval(id).await.unwrap().status,
        ApprovalStatus::ExecutionFailed
    );
    let verify = setup.run(&["audit", "verify"]).await;
    assert!(verify.status.success(), "{verify:?}");
    serve.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_passes_on_an_intact_log_and_names_the_entry_a_flipped_byte_breaks() {
    let setup = Setup::new().await;
    let serve = setup.serve("serve.log").await;
    let alice = setup.pair("alice").await;
    let marker = "ZQXJ-4242";
    let reason = format!("Refund the duplicate charge on order {marker}");
    let id = setup.refund(&reason).await;
    let review = alice.review(id).await.unwrap();
    alice.decide(&review, Verdict::Approve, None).await.unwrap();
    setup.sdk().wait(id, WAIT).await.unwrap();

    let intact = setup.run(&["audit", "verify"]).await;
    assert_eq!(intact.status.code(), Some(0), "{intact:?}");
    let stdout = String::from_utf8_lossy(&intact.stdout);
    assert!(stdout.contains("audit chain intact"), "{stdout}");
    serve.terminate().await;

    // Which seq records the request (read before tampering).
    let store = countersign_service::store::Store::open_sqlite(&setup.db)
        .await
        .unwrap();
    let requested = store
        .audit_for(id)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.kind == "requested")
        .unwrap()
        .seq;
    store.close().await;

    // The reason is stored twice: in the approval row (not covered by the chain) and in the
    // `requested` audit entry. Flip one letter of each stored copy in turn (in the database
    // file, or in its WAL if one is left) and verify.
    // Each `audit verify` opens and closes the database, which checkpoints the WAL into the
    // main file and removes it; run it once so the main file holds everything, and read each
    // file only if it still exists when its turn comes.
    let settled = setup.run(&["audit", "verify"]).await;
    assert_eq!(settled.status.code(), Some(0), "{settled:?}");
    let files: Vec<PathBuf> = ["", "-wal"]
        .iter()
        .map(|suffix| PathBuf::from(format!("{}{suffix}", setup.db.display())))
        .collect();
    let mut detected = Vec::new();
    let mut copies = 0;
    for file in &files {
        let original = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("reading {}: {e}", file.display()),
        };
        for offset in find_all(&original, marker.as_bytes()) {
            copies += 1;
            let mut tampered = original.clone();
            assert_eq!(tampered[offset], b'Z');
            tampered[offset] = b'Y';
            std::fs::write(file, &tampered).unwrap();
            let out = setup.run(&["audit", "verify"]).await;
            std::fs::write(file, &original).unwrap();
            match out.status.code() {
                Some(0) => {}
                Some(1) => detected.push(String::from_utf8_lossy(&out.stderr).to_string()),
                other => panic!("audit verify exited with {other:?}: {out:?}"),
            }
        }
    }
    assert!(
        copies >= 2,
        "the reason was not found on disk ({copies} copies)"
    );
    assert!(!detected.is_empty(), "no flipped byte was detected");
    for stderr in &detected {
        assert!(
            stderr.contains(&format!("seq {requested}")),
            "stderr does not name seq {requested}: {stderr}"
        );
    }
    // Restored: intact again.
    let again = setup.run(&["audit", "verify"]).await;
    assert_eq!(again.status.code(), Some(0), "{again:?}");
}

fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

async fn refused_config(setup: &Setup, text: &str) -> String {
    std::fs::write(&setup.config, text).unwrap();
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        setup
            .command(&["serve", "--config", setup.config.to_str().unwrap()])
            .output(),
    )
    .await
    .expect("serve refuses a bad config at once")
    .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    String::from_utf8(out.stderr).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_config_is_refused_at_start_naming_the_line_and_the_field() {
    let setup = Setup::new().await;
    let good = std::fs::read_to_string(&setup.config).unwrap();
    let file = setup.config.display().to_string();

    // A grant referring to a policy that does not exist.
    let text = good.replace("policy = \"refunds\"", "policy = \"refundz\"");
    let stderr = refused_config(&setup, &text).await;
    let line = line_of(&text, "policy = \"refundz\"");
    assert!(stderr.contains(&format!("{file}:{line}:")), "{stderr}");
    assert!(
        stderr.contains("`policy`") && stderr.contains("refundz"),
        "{stderr}"
    );

    // A misspelt key.
    let text = good.replace("quorum = 1", "quorom = 1");
    let stderr = refused_config(&setup, &text).await;
    let line = line_of(&text, "quorom");
    assert!(stderr.contains(&format!("{file}:{line}:")), "{stderr}");
    assert!(stderr.contains("quorom"), "{stderr}");

    // A bad value.
    let text = good.replace("window = \"1h\"", "window = \"soon\"");
    let stderr = refused_config(&setup, &text).await;
    let line = line_of(&text, "window = \"soon\"");
    assert!(stderr.contains(&format!("{file}:{line}:")), "{stderr}");
    assert!(stderr.contains("window"), "{stderr}");

    // A missing secret names the variable, and nothing is served.
    std::fs::write(&setup.config, &good).unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--config", setup.config.to_str().unwrap()])
        .env_remove(SECRET_ENV)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(SECRET_ENV) && stderr.contains("secret_env"),
        "{stderr}"
    );
    assert!(!setup.db.exists(), "a refused start created the database");
    assert!(
        std::net::TcpStream::connect(setup.listen).is_err(),
        "something listens on the port"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_revoke_takes_effect_on_a_running_service_at_once() {
    let setup = Setup::new().await;
    let serve = setup.serve("serve.log").await;
    let alice = setup.pair("alice").await;
    // Approved before the revocation: still runs; pending across it: fails without a call.
    let before = setup.refund("Refund order P-2").await;
    let review = alice.review(before).await.unwrap();
    alice.decide(&review, Verdict::Approve, None).await.unwrap();
    setup.sdk().wait(before, WAIT).await.unwrap();
    let across = setup.refund("Refund order P-3").await;
    let calls_before = setup.provider.calls().len();

    let out = setup.run(&["grant", "revoke", "payments"]).await;
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("grant payments revoked"));

    match setup
        .sdk()
        .proxy_request(ProxyRequest::get(
            "payments",
            "/v1/balance",
            "Balance check",
        ))
        .await
    {
        Err(Error::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (403, "grant_revoked"))
        }
        other => panic!("expected 403 grant_revoked, got {other:?}"),
    }
    let review = alice.review(across).await.unwrap();
    alice.decide(&review, Verdict::Approve, None).await.unwrap();
    match setup.sdk().wait(across, WAIT).await {
        Err(Error::ExecutionFailed { reason, .. }) => {
            assert_eq!(reason, FailureReason::GrantRevoked)
        }
        other => panic!("expected ExecutionFailed(GrantRevoked), got {other:?}"),
    }
    assert_eq!(setup.provider.calls().len(), calls_before);

    let again = setup.run(&["grant", "revoke", "payments"]).await;
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("revoked already"));
    let unknown = setup.run(&["grant", "revoke", "stripe"]).await;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("stripe"));
    let verify = setup.run(&["audit", "verify"]).await;
    assert!(verify.status.success(), "{verify:?}");
    serve.terminate().await;
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn assert_signed_out(client: &ApproverClient) {
    match client.list("pending").await {
        Err(countersign_approver::ApproverError::Api { status: 401, .. }) => {}
        other => panic!("expected 401, got {other:?}"),
    }
}

/// How many audit entries of `kind` the database holds (read beside the running service).
async fn audit_count(setup: &Setup, kind: &str) -> usize {
    let store = countersign_service::store::Store::open_sqlite(&setup.db)
        .await
        .unwrap();
    let n = store
        .audit_after(0, i64::MAX)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == kind)
        .count();
    store.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_list_device_revoke_and_approver_remove_take_effect_on_a_running_service_at_once() {
    let setup = Setup::new().await;
    // A gate of two, so an approval stays pending and can be withdrawn.
    let text = std::fs::read_to_string(&setup.config)
        .unwrap()
        .replace(
            "[[app]]",
            "[[approver]]\nid = \"bob\"\nname = \"Bob Example\"\n\n[[app]]",
        )
        .replace(
            "approvers = [\"alice\"]\nquorum = 1",
            "approvers = [\"alice\", \"bob\"]\nquorum = 2",
        );
    assert!(text.contains("quorum = 2"), "{text}");
    std::fs::write(&setup.config, text).unwrap();
    let serve = setup.serve("serve.log").await;
    let phone = setup.pair("alice").await;
    let laptop = setup.pair("alice").await;
    let phone_key = phone.pairing().key_id.clone();
    let laptop_key = laptop.pairing().key_id.clone();
    let id = setup.refund("Refund order P-4").await;
    assert_eq!(phone.list("pending").await.unwrap().len(), 1);

    let list = setup.run(&["device", "list"]).await;
    assert!(list.status.success(), "{list:?}");
    let table = stdout(&list);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("KEY ID"), "{table}");
    assert_eq!(lines.len(), 3, "{table}");
    for key in [&phone_key, &laptop_key] {
        let line = lines.iter().find(|l| l.starts_with(key.as_str())).unwrap();
        assert!(
            line.contains("alice") && line.contains("process test"),
            "{table}"
        );
        assert!(
            line.ends_with(" -"),
            "live devices have no revocation time: {table}"
        );
    }

    // One device: its session ends at once, the other keeps working.
    let out = setup.run(&["device", "revoke", &phone_key]).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout(&out).contains(&format!("revoked device {phone_key} of alice")),
        "{out:?}"
    );
    assert_signed_out(&phone).await;
    assert_eq!(laptop.list("pending").await.unwrap().len(), 1);
    let table = stdout(&setup.run(&["device", "list"]).await);
    let phone_line = table.lines().find(|l| l.starts_with(&phone_key)).unwrap();
    assert!(!phone_line.ends_with(" -"), "{table}");

    // Twice: said, not an error, one audit entry. Unknown: exit 1, named.
    let again = setup.run(&["device", "revoke", &phone_key]).await;
    assert_eq!(again.status.code(), Some(0), "{again:?}");
    assert!(stdout(&again).contains("revoked already"), "{again:?}");
    assert_eq!(audit_count(&setup, "device_revoked").await, 1);
    let unknown = setup.run(&["device", "revoke", "key_nope"]).await;
    assert_eq!(unknown.status.code(), Some(1), "{unknown:?}");
    assert!(
        stderr(&unknown).contains("no device with key id \"key_nope\""),
        "{unknown:?}"
    );

    // The whole approver: the laptop's approval on the pending refund is withdrawn.
    let review = laptop.review(id).await.unwrap();
    let answer = laptop
        .decide(&review, Verdict::Approve, None)
        .await
        .unwrap();
    assert_eq!(answer.status, ApprovalStatus::Pending);
    let out = setup.run(&["approver", "remove", "alice"]).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout(&out).contains(&format!(
            "revoked device {laptop_key} of alice (process test); withdrew 1 decision on pending approvals: {id}"
        )),
        "{out:?}"
    );
    assert!(
        stderr(&out).contains("still in the configuration"),
        "{out:?}"
    );
    assert_signed_out(&laptop).await;
    let view = setup.sdk().approval(id).await.unwrap();
    assert_eq!(view.status, ApprovalStatus::Pending);
    assert_eq!(audit_count(&setup, "decision_withdrawn").await, 1);
    let again = setup.run(&["approver", "remove", "alice"]).await;
    assert_eq!(again.status.code(), Some(0), "{again:?}");
    assert!(
        stdout(&again).contains("alice has no live device"),
        "{again:?}"
    );
    assert_eq!(audit_count(&setup, "device_revoked").await, 2);
    let verify = setup.run(&["audit", "verify"]).await;
    assert!(verify.status.success(), "{verify:?}");
    serve.terminate().await;
}
