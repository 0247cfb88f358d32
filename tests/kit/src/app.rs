//! The integration suite's harness (re-exported as `countersign_tests`).
//!
//! [`TestApp::spawn`] runs the real service on loopback: a temporary directory with an SQLite
//! file (or a new PostgreSQL database, see [`crate::database`]), the [`SampleProvider`] as the upstream on `127.0.0.1:0`, a config text built from
//! [`AppOptions`] and parsed with [`Config::parse`], secrets resolved through a closure (no
//! process environment), `Service::start_with_clock` and `serve` on a bound listener until
//! stopped (the kit's [`Serving`]). Everything a test needs hangs off the returned [`TestApp`]: SDK clients
//! for two apps, an [`Admin`] on the same database, direct [`Store`] access, raw HTTP helpers
//! for bad-input tests, and [`TestApp::pair_approver`] for Wallet-side actors
//! ([`TestApprover`]), which keep their signing keys so tests can sign anything.
//!
//! The configuration always defines the approvers [`APPROVERS`] (`alice`, `bob`, `carol`,
//! `dave`); the policy names only [`AppOptions::approvers`] (default `alice`, `bob`), so
//! `carol` is an approver who is *not* on the policy. There are two apps, [`APP`] and
//! [`OTHER_APP`], both bound to the grant [`GRANT`] only, and a second grant
//! [`UNBOUND_GRANT`] that no app may use. By default the policy lets `GET /v1/*` run at
//! once (so `GET /v1/balance` does) and every other call needs one gate of the approvers;
//! [`AppOptions::policy`] replaces the policy section with any TOML.
//!
//! ```no_run
//! # async fn example() {
//! use countersign_kit::app::{AppOptions, TestApp};
//! let app = TestApp::spawn(AppOptions::default()).await;
//! let alice = app.pair_approver("alice").await;
//! let pending = app.request_refund("Refund order A-1").await;
//! alice.approve(pending.approval_id).await.unwrap();
//! let result = pending.wait(std::time::Duration::from_secs(10)).await.unwrap();
//! assert_eq!(result.status(), 200);
//! app.shutdown().await;
//! # }
//! ```

use crate::sample_provider::SampleProvider;
use crate::serving::Serving;
use countersign_approver::{ApproverClient, DecisionResponse, Pairing};
use countersign_core::api::{DecisionRequest, WalletEvent};
use countersign_core::app_request::{AppSigner, HmacSecret};
use countersign_core::audit::AuditEntry;
use countersign_core::encoding::{random_token, sha256_hex};
use countersign_core::keys::{generate_signing_key, SigningKey};
use countersign_core::{ApprovalStatus, Decision, DeepLink, Verdict};
use countersign_sdk::{Client, Credentials, PendingApproval, ProxyOutcome, ProxyRequest};
use countersign_service::clock::{SharedClock, SystemClock};
use countersign_service::state::AppState;
use countersign_service::store::Store;
use countersign_service::{Admin, Config};
use futures::StreamExt;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;
use uuid::Uuid;

pub use crate::sample_provider::{Behaviour, RecordedCall};

/// The main app's id.
pub const APP: &str = "support-agent";
/// A second app, for "not yours" tests.
pub const OTHER_APP: &str = "other-agent";
/// The grant both apps use.
pub const GRANT: &str = "payments";
/// A grant no app is bound to (same provider).
pub const UNBOUND_GRANT: &str = "ledger";
/// The grant's policy id.
pub const POLICY: &str = "refunds";
/// The variable name the grant's secret is resolved from (through a closure, not the env).
pub const SECRET_ENV: &str = "TEST_PAYMENTS_SECRET";
/// Every approver in the configuration.
pub const APPROVERS: [&str; 4] = ["alice", "bob", "carol", "dave"];
/// The provider path that needs approval by default.
pub const REFUND_PATH: &str = "/v1/refunds";
/// A provider path that needs no approval by default.
pub const BALANCE_PATH: &str = "/v1/balance";
/// The default bound of the helpers' waits.
pub const WAIT: Duration = Duration::from_secs(15);

/// What to put in the configuration of a [`TestApp`].
#[derive(Clone)]
pub struct AppOptions {
    /// Approver ids the policy names (each must be one of [`APPROVERS`]).
    pub approvers: Vec<String>,
    /// Approvals needed.
    pub quorum: u32,
    /// The approval window, in the config's duration syntax (`"2s"`, `"1h"`).
    pub window: String,
    /// TOML that replaces the generated `[[policy]]` section (it must define the policy
    /// [`POLICY`]; it may add `[[group]]`s and more policies).
    pub policy: Option<String>,
    /// A policy id of [`APP`]'s own (`[[app]] policy = …`), defined in [`Self::policy`].
    pub app_policy: Option<String>,
    /// `server.upstream_timeout`, if set.
    pub upstream_timeout: Option<String>,
    /// `server.max_request_bytes`, if set.
    pub max_request_bytes: Option<u64>,
    /// `server.max_gated_body_bytes`, if set.
    pub max_gated_body_bytes: Option<u64>,
    /// `server.max_pending_per_app`, if set.
    pub max_pending_per_app: Option<u64>,
    /// The service's clock (default: the system clock).
    pub clock: Option<SharedClock>,
    /// How [`APP`] and [`OTHER_APP`] authenticate (default: bearer keys).
    pub app_auth: AppAuthMode,
    /// The HMAC secrets of [`APP`] and [`OTHER_APP`] under [`AppAuthMode::Hmac`] (default:
    /// random ones).
    pub hmac_secrets: Option<(String, String)>,
    /// `server.allow_bearer_apps`, if set.
    pub allow_bearer_apps: Option<bool>,
    /// More TOML appended to the configuration (e.g. further `[[app]]`s).
    pub extra_toml: Option<String>,
}

/// How the kit's two apps authenticate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AppAuthMode {
    /// Bearer API keys (`api_key_sha256`).
    #[default]
    Bearer,
    /// Signed requests, HMAC-SHA256 (`auth = "hmac"`, secrets in [`APP_SECRET_ENV`] and
    /// [`OTHER_APP_SECRET_ENV`]).
    Hmac,
    /// Signed requests, Ed25519 (`auth = "ed25519"`, fresh keys).
    Ed25519,
}

/// The variable [`APP`]'s HMAC secret is resolved from (through a closure, not the env).
pub const APP_SECRET_ENV: &str = "TEST_APP_SIGNING_SECRET";
/// The variable [`OTHER_APP`]'s HMAC secret is resolved from.
pub const OTHER_APP_SECRET_ENV: &str = "TEST_OTHER_APP_SIGNING_SECRET";

/// One of the kit's apps: how it is configured and how its clients authenticate.
#[derive(Debug, Clone)]
pub struct AppIdentity {
    /// The app id.
    pub id: &'static str,
    /// The TOML lines of its `[[app]]` entry that say how it authenticates.
    pub config_lines: String,
    /// What its SDK clients authenticate with.
    pub credentials: Credentials,
    /// Its signing key or secret (signing modes only).
    pub signer: Option<AppSigner>,
    /// `(variable, value)` the service resolves for it (HMAC only).
    pub env: Option<(String, String)>,
}

impl AppIdentity {
    /// The identity of app `id` under `mode`: `api_key` for bearer, `hmac_secret` (or a
    /// random one) for HMAC, a fresh key for Ed25519.
    pub fn new(
        id: &'static str,
        mode: AppAuthMode,
        api_key: &str,
        secret_env: &str,
        hmac_secret: Option<&str>,
    ) -> Self {
        match mode {
            AppAuthMode::Bearer => Self {
                id,
                config_lines: format!("api_key_sha256 = \"{}\"\n", sha256_hex(api_key)),
                credentials: Credentials::api_key(api_key).expect("API key"),
                signer: None,
                env: None,
            },
            AppAuthMode::Hmac => {
                let secret = hmac_secret
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("cs_hmac_{}", random_token()));
                Self {
                    id,
                    config_lines: format!("auth = \"hmac\"\nsecret_env = \"{secret_env}\"\n"),
                    credentials: Credentials::hmac(id, secret.clone()).expect("HMAC secret"),
                    signer: Some(AppSigner::Hmac(
                        HmacSecret::new(secret.clone().into_bytes()).expect("HMAC secret"),
                    )),
                    env: Some((secret_env.to_string(), secret)),
                }
            }
            AppAuthMode::Ed25519 => {
                let key = generate_signing_key();
                let private = countersign_core::encoding::b64_encode(key.to_bytes());
                Self {
                    id,
                    config_lines: format!(
                        "auth = \"ed25519\"\npublic_key = \"{}\"\n",
                        countersign_core::keys::encode_public_key(&key.verifying_key())
                    ),
                    credentials: Credentials::ed25519(id, &private).expect("Ed25519 key"),
                    signer: Some(AppSigner::Ed25519(key)),
                    env: None,
                }
            }
        }
    }
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            approvers: vec!["alice".into(), "bob".into()],
            quorum: 1,
            window: "1h".into(),
            policy: None,
            app_policy: None,
            upstream_timeout: None,
            max_request_bytes: None,
            max_gated_body_bytes: None,
            max_pending_per_app: None,
            clock: None,
            app_auth: AppAuthMode::Bearer,
            hmac_secrets: None,
            allow_bearer_apps: None,
            extra_toml: None,
        }
    }
}

impl fmt::Debug for AppOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppOptions")
            .field("approvers", &self.approvers)
            .field("quorum", &self.quorum)
            .field("window", &self.window)
            .field("policy", &self.policy)
            .field("app_policy", &self.app_policy)
            .field("upstream_timeout", &self.upstream_timeout)
            .field("max_request_bytes", &self.max_request_bytes)
            .field("max_gated_body_bytes", &self.max_gated_body_bytes)
            .field("max_pending_per_app", &self.max_pending_per_app)
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .field("app_auth", &self.app_auth)
            .field("allow_bearer_apps", &self.allow_bearer_apps)
            .field("extra_toml", &self.extra_toml)
            .finish()
    }
}

impl AppOptions {
    /// Sets the policy's approvers.
    pub fn approvers(mut self, ids: &[&str]) -> Self {
        self.approvers = ids.iter().map(|s| s.to_string()).collect();
        self
    }
    /// Sets the quorum.
    pub fn quorum(mut self, quorum: u32) -> Self {
        self.quorum = quorum;
        self
    }
    /// Sets the window (`"2s"`, `"1h"`, …).
    pub fn window(mut self, window: &str) -> Self {
        self.window = window.into();
        self
    }
    /// Replaces the generated policy section with `toml` (see [`AppOptions::policy`]).
    pub fn policy(mut self, toml: &str) -> Self {
        self.policy = Some(toml.into());
        self
    }
    /// Gives [`APP`] its own policy `id` (defined in the policy TOML).
    pub fn app_policy(mut self, id: &str) -> Self {
        self.app_policy = Some(id.into());
        self
    }
    /// Sets `server.upstream_timeout`.
    pub fn upstream_timeout(mut self, timeout: &str) -> Self {
        self.upstream_timeout = Some(timeout.into());
        self
    }
    /// Sets `server.max_request_bytes`.
    pub fn max_request_bytes(mut self, bytes: u64) -> Self {
        self.max_request_bytes = Some(bytes);
        self
    }
    /// Sets `server.max_gated_body_bytes`.
    pub fn max_gated_body_bytes(mut self, bytes: u64) -> Self {
        self.max_gated_body_bytes = Some(bytes);
        self
    }
    /// Sets `server.max_pending_per_app`.
    pub fn max_pending_per_app(mut self, count: u64) -> Self {
        self.max_pending_per_app = Some(count);
        self
    }
    /// Uses `clock` (e.g. a [`ManualClock`](countersign_service::clock::ManualClock)).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }
    /// Makes [`APP`] and [`OTHER_APP`] authenticate as `mode` says.
    pub fn app_auth(mut self, mode: AppAuthMode) -> Self {
        self.app_auth = mode;
        self
    }
    /// Under [`AppAuthMode::Hmac`], these secrets for [`APP`] and [`OTHER_APP`].
    pub fn hmac_secrets(mut self, app: &str, other: &str) -> Self {
        self.hmac_secrets = Some((app.into(), other.into()));
        self
    }
    /// Sets `server.allow_bearer_apps`.
    pub fn allow_bearer_apps(mut self, allow: bool) -> Self {
        self.allow_bearer_apps = Some(allow);
        self
    }
    /// Appends `toml` to the configuration.
    pub fn extra_toml(mut self, toml: &str) -> Self {
        self.extra_toml = Some(toml.into());
        self
    }
}

/// The inputs of [`config_text`] that are not options.
#[derive(Debug, Clone)]
pub struct ConfigParts<'a> {
    /// `server.listen` (also the public URL's authority).
    pub listen: SocketAddr,
    /// The grant's base URL.
    pub provider_url: &'a str,
    /// The database URL (`sqlite://…` or `postgres://…`).
    pub database: &'a str,
    /// The TOML lines saying how [`APP`] authenticates ([`AppIdentity::config_lines`]).
    pub app_auth: &'a str,
    /// The same for [`OTHER_APP`].
    pub other_app_auth: &'a str,
}

/// The TOML configuration of a test service.
pub fn config_text(opts: &AppOptions, parts: &ConfigParts<'_>) -> String {
    let mut t = String::new();
    t.push_str(&format!(
        "[server]\nlisten = \"{listen}\"\npublic_url = \"http://{listen}\"\ndatabase = \"{db}\"\n",
        listen = parts.listen,
        db = parts.database,
    ));
    if let Some(timeout) = &opts.upstream_timeout {
        t.push_str(&format!("upstream_timeout = \"{timeout}\"\n"));
    }
    if let Some(bytes) = opts.max_request_bytes {
        t.push_str(&format!("max_request_bytes = {bytes}\n"));
    }
    if let Some(bytes) = opts.max_gated_body_bytes {
        t.push_str(&format!("max_gated_body_bytes = {bytes}\n"));
    }
    if let Some(count) = opts.max_pending_per_app {
        t.push_str(&format!("max_pending_per_app = {count}\n"));
    }
    if let Some(allow) = opts.allow_bearer_apps {
        t.push_str(&format!("allow_bearer_apps = {allow}\n"));
    }
    for id in APPROVERS {
        let mut name = id.to_string();
        name[..1].make_ascii_uppercase();
        t.push_str(&format!(
            "\n[[approver]]\nid = \"{id}\"\nname = \"{name} Example\"\n"
        ));
    }
    for (id, auth) in [(APP, parts.app_auth), (OTHER_APP, parts.other_app_auth)] {
        t.push_str(&format!(
            "\n[[app]]\nid = \"{id}\"\n{auth}grants = [\"{GRANT}\"]\n"
        ));
        if let (APP, Some(policy)) = (id, &opts.app_policy) {
            t.push_str(&format!("policy = \"{policy}\"\n"));
        }
    }
    for grant in [GRANT, UNBOUND_GRANT] {
        t.push_str(&format!(
            "\n[[grant]]\nid = \"{grant}\"\nbase_url = \"{}\"\nsecret_env = \"{SECRET_ENV}\"\ninject = {{ header = \"Authorization\", value = \"Bearer {{secret}}\" }}\npolicy = \"{POLICY}\"\n",
            parts.provider_url
        ));
    }
    match &opts.policy {
        Some(policy) => t.push_str(&format!("\n{policy}\n")),
        None => {
            let approvers: Vec<String> =
                opts.approvers.iter().map(|a| format!("\"{a}\"")).collect();
            t.push_str(&format!(
                "\n[[policy]]\nid = \"{POLICY}\"\nwindow = \"{}\"\n[[policy.gate]]\nid = \"approvers\"\napprovers = [{}]\nquorum = {}\n[[policy.rule]]\nid = \"reads\"\nmethods = [\"GET\"]\npath = \"/v1/*\"\naction = \"allow\"\n",
                opts.window,
                approvers.join(", "),
                opts.quorum,
            ));
        }
    }
    if let Some(extra) = &opts.extra_toml {
        t.push_str(&format!("\n{extra}\n"));
    }
    t
}

/// An HTTP answer read by the raw helpers.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    /// HTTP status.
    pub status: u16,
    /// `error.code` of an error body, else empty.
    pub code: String,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: serde_json::Value,
}

impl RawAnswer {
    async fn read(answer: reqwest::Response) -> Self {
        let status = answer.status().as_u16();
        let bytes = answer.bytes().await.expect("reading an answer body");
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        Self { status, code, body }
    }

    /// `(status, code)`, handy in `assert_eq!`.
    pub fn pair(&self) -> (u16, &str) {
        (self.status, self.code.as_str())
    }
}

/// See [`TestApp::snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The audit log's last `seq`.
    pub audit_len: i64,
    /// Calls the provider received.
    pub upstream_calls: usize,
    /// `(id, status, number of decisions)` of each approval asked about (`None`: unknown).
    pub approvals: Vec<Option<(Uuid, ApprovalStatus, usize)>>,
}

pub use crate::database::on_postgres;

/// A running service with its upstream, database and clients (see the crate docs).
pub struct TestApp {
    /// `http://127.0.0.1:<port>` (kept across [`restart`](Self::restart)).
    pub base_url: String,
    /// The address the service listens on.
    pub addr: SocketAddr,
    /// The upstream.
    pub provider: SampleProvider,
    /// The secret the grant injects (`Authorization: Bearer <secret>`).
    pub provider_secret: String,
    /// The main app's API key.
    pub api_key: String,
    /// The other app's API key.
    pub other_api_key: String,
    /// How [`APP`] authenticates (its clients' credentials, its signer).
    pub app: AppIdentity,
    /// How [`OTHER_APP`] authenticates.
    pub other_app: AppIdentity,
    /// Every `(variable, value)` the service resolves secrets from.
    pub env: Vec<(String, String)>,
    /// SDK client of [`APP`].
    pub sdk: Client,
    /// SDK client of [`OTHER_APP`].
    pub other_sdk: Client,
    /// Admin access to the same database.
    pub admin: Admin,
    /// The parsed configuration.
    pub config: Config,
    /// The configuration text (also written to [`config_path`](Self::config_path)).
    pub config_text: String,
    /// The config file.
    pub config_path: PathBuf,
    /// The database URL: an SQLite file in [`dir`](Self::dir), or a fresh PostgreSQL
    /// database when `COUNTERSIGN_TEST_POSTGRES` names a server (the kit's `test_database`).
    pub database: String,
    /// A plain HTTP client for raw requests (no timeout on the client; set one per request).
    pub http: reqwest::Client,
    /// The options the app was spawned with.
    pub opts: AppOptions,
    /// The temporary directory (removed on drop).
    pub dir: TempDir,
    running: Option<Serving>,
}

impl fmt::Debug for TestApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestApp")
            .field("base_url", &self.base_url)
            .field("provider", &self.provider.base_url())
            .field("database", &self.database)
            .field("running", &self.running.is_some())
            .finish_non_exhaustive()
    }
}

impl TestApp {
    /// Starts the provider and the service (see the crate docs). Panics on any failure.
    pub async fn spawn(opts: AppOptions) -> TestApp {
        let dir = tempfile::tempdir().expect("temporary directory");
        let provider_secret = format!("sk_test_{}", random_token());
        let provider = SampleProvider::start(&provider_secret)
            .await
            .expect("starting the sample provider");
        let api_key = format!("cs_test_{}", random_token());
        let other_api_key = format!("cs_other_{}", random_token());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the service port");
        let addr = listener.local_addr().expect("local address");
        let database = crate::database::test_database(dir.path())
            .await
            .expect("creating the test database");
        let secrets = opts.hmac_secrets.clone();
        let app = AppIdentity::new(
            APP,
            opts.app_auth,
            &api_key,
            APP_SECRET_ENV,
            secrets.as_ref().map(|s| s.0.as_str()),
        );
        let other_app = AppIdentity::new(
            OTHER_APP,
            opts.app_auth,
            &other_api_key,
            OTHER_APP_SECRET_ENV,
            secrets.as_ref().map(|s| s.1.as_str()),
        );
        let mut env = vec![(SECRET_ENV.to_string(), provider_secret.clone())];
        env.extend(app.env.clone());
        env.extend(other_app.env.clone());
        let config_path = dir.path().join("countersign.toml");
        let config_text = config_text(
            &opts,
            &ConfigParts {
                listen: addr,
                provider_url: &provider.base_url(),
                database: &database,
                app_auth: &app.config_lines,
                other_app_auth: &other_app.config_lines,
            },
        );
        std::fs::write(&config_path, &config_text).expect("writing the config file");
        let config = Config::parse(&config_text, &config_path)
            .unwrap_or_else(|e| panic!("test config refused: {e}\n{config_text}"));
        let base_url = format!("http://{addr}");
        let running = start(&config, &env, &opts, listener).await;
        let admin = Admin::open(config.clone()).await.expect("opening admin");
        let sdk = Client::with_credentials(&base_url, app.credentials.clone()).expect("SDK");
        let other_sdk =
            Client::with_credentials(&base_url, other_app.credentials.clone()).expect("SDK");
        TestApp {
            base_url,
            addr,
            provider,
            provider_secret,
            api_key,
            other_api_key,
            app,
            other_app,
            env,
            sdk,
            other_sdk,
            admin,
            config,
            config_text,
            config_path,
            database,
            http: reqwest::Client::new(),
            opts,
            dir,
            running: Some(running),
        }
    }

    /// The running service's shared state. Panics when stopped.
    pub fn state(&self) -> &AppState {
        &self.running.as_ref().expect("the service is stopped").state
    }

    /// The running service's store (reads here never trigger expiry, unlike `GET`).
    pub fn store(&self) -> &Store {
        &self.state().store
    }

    /// The service id (signed into statements).
    pub fn service_id(&self) -> String {
        self.state().service_id.clone()
    }

    /// True while the service runs.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Stops the service gracefully and returns once it has stopped (store closed). The
    /// directory, provider and admin stay usable. Does nothing when stopped already.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            match tokio::time::timeout(Duration::from_secs(60), running.stop()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("the service ended with an error: {e}"),
                Err(_) => panic!("the service did not stop within 60 s"),
            }
        }
    }

    /// Stops (if running) and starts the service again on the same address and database.
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener = bind_again(self.addr).await;
        self.running = Some(start(&self.config, &self.env, &self.opts, listener).await);
    }

    /// Stops the service gracefully and closes the admin's database handle.
    pub async fn shutdown(mut self) {
        self.stop().await;
        self.provider.stop();
        self.admin.close().await;
    }

    /// A fresh SDK client of [`APP`] (as a worker after a restart would make).
    pub fn new_client(&self) -> Client {
        Client::with_credentials(&self.base_url, self.app.credentials.clone()).expect("SDK")
    }

    /// A `POST /v1/refunds` request with a JSON body.
    pub fn refund(reason: &str) -> ProxyRequest {
        ProxyRequest::post(GRANT, REFUND_PATH, reason)
            .json(&serde_json::json!({"order": "A-1042", "amount": 1999, "currency": "EUR"}))
            .expect("JSON body")
    }

    /// Asks for a refund as [`APP`] and returns the pending approval (panics otherwise).
    pub async fn request_refund(&self, reason: &str) -> PendingApproval {
        match self.sdk.proxy_request(Self::refund(reason)).await {
            Ok(ProxyOutcome::Pending(p)) => p,
            Ok(ProxyOutcome::Completed(r)) => panic!("the refund ran without approval: {r:?}"),
            Err(e) => panic!("proxy_request failed: {e}"),
        }
    }

    /// Makes a one-time pairing link for `approver_id` (through [`Admin::invite`]).
    pub async fn invite(&self, approver_id: &str) -> (countersign_core::ServerUrl, String) {
        let invite = self.admin.invite(approver_id).await.expect("invite");
        match DeepLink::parse(&invite.link).expect("pairing link") {
            DeepLink::Pair { server, code } => (server, code),
            other => panic!("not a pairing link: {other:?}"),
        }
    }

    /// Invites `approver_id`, generates a device key, and pairs it.
    pub async fn pair_approver(&self, approver_id: &str) -> TestApprover {
        let (server, code) = self.invite(approver_id).await;
        let key = generate_signing_key();
        let pairing = ApproverClient::pair(
            &self.http,
            &server,
            &code,
            &format!("{approver_id}'s test device"),
            &key,
        )
        .await
        .unwrap_or_else(|e| panic!("pairing {approver_id}: {e}"));
        TestApprover::new(pairing, key)
    }

    /// A raw request to `path` (e.g. `/v1/proxy`) with an optional body (sent as JSON
    /// content), optional bearer token and extra headers.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
    ) -> RawAnswer {
        raw_request(
            &self.http,
            &self.base_url,
            method,
            path,
            body,
            bearer,
            headers,
        )
        .await
    }

    /// `POST path` with `body` as JSON text and an optional bearer token.
    pub async fn raw_post(&self, path: &str, body: &str, bearer: Option<&str>) -> RawAnswer {
        self.raw("POST", path, Some(body), bearer, &[]).await
    }

    /// `GET path` with an optional bearer token.
    pub async fn raw_get(&self, path: &str, bearer: Option<&str>) -> RawAnswer {
        self.raw("GET", path, None, bearer, &[]).await
    }

    /// Runs `refused`, checks its answer is `(status, code)` with a message, and that nothing
    /// changed: the audit log, the upstream call count and the given approvals' stored state.
    pub async fn refused_without_change<F>(&self, ids: &[Uuid], want: (u16, &str), refused: F)
    where
        F: Future<Output = RawAnswer>,
    {
        let before = self.snapshot(ids).await;
        let answer = refused.await;
        assert_eq!(answer.pair(), want, "{:?}", answer.body);
        assert!(
            answer.body["error"]["message"].is_string(),
            "an error body has a message: {:?}",
            answer.body
        );
        // Let anything a wrongly accepted request started settle before comparing.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(self.snapshot(ids).await, before, "{want:?} changed state");
    }

    /// The approval's status in the store (no expiry side effect).
    pub async fn stored_status(&self, id: Uuid) -> Option<ApprovalStatus> {
        self.store()
            .approval(id)
            .await
            .expect("reading the store")
            .map(|r| r.status)
    }

    /// Waits (bounded by `timeout`) until the stored status of `id` is `want`; panics with
    /// the last status otherwise. Reads the store, so it never causes expiry itself.
    pub async fn wait_for_status(&self, id: Uuid, want: ApprovalStatus, timeout: Duration) {
        let reached = eventually(timeout, || async {
            (self.stored_status(id).await == Some(want)).then_some(())
        })
        .await;
        if reached.is_none() {
            let last = self.stored_status(id).await;
            panic!("approval {id} did not become {want} within {timeout:?}; it is {last:?}");
        }
    }

    /// The service's `request_digest` of `id` (from the store).
    pub async fn request_digest(&self, id: Uuid) -> String {
        self.store()
            .approval(id)
            .await
            .expect("reading the store")
            .expect("no such approval")
            .request_digest
    }

    /// The whole audit log, in order.
    pub async fn audit(&self) -> Vec<AuditEntry> {
        self.store()
            .audit_after(0, i64::MAX)
            .await
            .expect("reading the audit log")
    }

    /// The number of audit entries.
    pub async fn audit_len(&self) -> i64 {
        self.store().audit_head().await.expect("audit head")
    }

    /// The kinds of the audit entries about `id`, in order.
    pub async fn audit_kinds(&self, id: Uuid) -> Vec<String> {
        self.store()
            .audit_for(id)
            .await
            .expect("reading the audit log")
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    /// How many calls the provider has received.
    pub fn upstream_calls(&self) -> usize {
        self.provider.calls().len()
    }

    /// What a refused request must not change: the audit length (every state change is
    /// audited), the upstream call count, and the stored status and decision count of `ids`.
    pub async fn snapshot(&self, ids: &[Uuid]) -> Snapshot {
        let mut approvals = Vec::new();
        for &id in ids {
            let record = self.store().approval(id).await.expect("reading the store");
            approvals.push(record.map(|r| (id, r.status, r.decisions.len())));
        }
        Snapshot {
            audit_len: self.audit_len().await,
            upstream_calls: self.upstream_calls(),
            approvals,
        }
    }
}

async fn start(
    config: &Config,
    env: &[(String, String)],
    opts: &AppOptions,
    listener: tokio::net::TcpListener,
) -> Serving {
    let clock = opts.clock.clone().unwrap_or_else(|| Arc::new(SystemClock));
    Serving::start_with_env(config, env, clock, listener)
        .await
        .expect("starting the service")
}

/// Binds `addr` again after a stop (retrying briefly while the old socket goes away).
async fn bind_again(addr: SocketAddr) -> tokio::net::TcpListener {
    let mut last = None;
    for _ in 0..50 {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => return l,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cannot bind {addr} again: {last:?}");
}

/// A raw HTTP request (see [`TestApp::raw`]); usable against any base URL.
pub async fn raw_request(
    http: &reqwest::Client,
    base_url: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    bearer: Option<&str>,
    headers: &[(&str, &str)],
) -> RawAnswer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("HTTP method");
    let mut request = http
        .request(method, format!("{base_url}{path}"))
        .timeout(Duration::from_secs(30));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    RawAnswer::read(request.send().await.expect("sending a raw request")).await
}

/// Polls `probe` (every 50 ms) until it gives `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A paired Wallet device: the approver client plus its signing key.
#[derive(Clone)]
pub struct TestApprover {
    /// The device's client (sessions handled for you).
    pub client: ApproverClient,
    /// The device key (so tests can sign arbitrary decisions).
    pub key: Arc<SigningKey>,
    /// What pairing returned.
    pub pairing: Pairing,
    http: reqwest::Client,
}

impl fmt::Debug for TestApprover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestApprover")
            .field("pairing", &self.pairing)
            .finish_non_exhaustive()
    }
}

impl TestApprover {
    /// A device for `pairing` signing with `key`.
    pub fn new(pairing: Pairing, key: SigningKey) -> Self {
        // No total timeout: the event stream stays open.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("HTTP client");
        // The device's own client is built as the Wallet and headless approver build theirs.
        let clients = countersign_approver::HttpClients::new("countersign-tests").expect("HTTP");
        Self {
            client: ApproverClient::with_clients(&clients, pairing.clone(), key.clone()),
            key: Arc::new(key),
            pairing,
            http,
        }
    }

    /// The approver id.
    pub fn approver_id(&self) -> &str {
        &self.pairing.approver_id
    }

    /// The device's key id.
    pub fn key_id(&self) -> &str {
        &self.pairing.key_id
    }

    /// Reviews `id` (verifying it), signs and sends `verdict`.
    pub async fn decide(
        &self,
        id: Uuid,
        verdict: Verdict,
        comment: Option<&str>,
    ) -> Result<DecisionResponse, countersign_approver::ApproverError> {
        let review = self.client.review(id).await?;
        self.client
            .decide(&review, verdict, comment.map(str::to_string))
            .await
    }

    /// Reviews and approves `id`.
    pub async fn approve(
        &self,
        id: Uuid,
    ) -> Result<DecisionResponse, countersign_approver::ApproverError> {
        self.decide(id, Verdict::Approve, None).await
    }

    /// Reviews and denies `id` with `comment`.
    pub async fn deny(
        &self,
        id: Uuid,
        comment: &str,
    ) -> Result<DecisionResponse, countersign_approver::ApproverError> {
        self.decide(id, Verdict::Deny, Some(comment)).await
    }

    /// An honest signed decision on `id` (reviewed and verified), not sent.
    pub async fn signed_decision(&self, id: Uuid, verdict: Verdict) -> DecisionRequest {
        let review = self.client.review(id).await.expect("review");
        self.client
            .sign_decision(&review, verdict, None)
            .expect("signing")
    }

    /// An unsigned decision by this device on `id` over `request_digest`, dated now.
    pub fn decision(&self, id: Uuid, request_digest: &str, verdict: Verdict) -> Decision {
        Decision {
            v: countersign_core::PROTOCOL_VERSION,
            approval_id: id,
            request_digest: request_digest.to_string(),
            decision: verdict,
            comment: None,
            decided_at: countersign_core::Timestamp::now(),
            approver_id: self.approver_id().to_string(),
            key_id: self.key_id().to_string(),
        }
    }

    /// Signs any `decision` with this device's key.
    pub fn sign(&self, decision: Decision) -> DecisionRequest {
        let signature = decision.sign(&self.key);
        DecisionRequest {
            decision,
            signature,
        }
    }

    /// Signs in with challenge–response over raw HTTP and returns the session token.
    pub async fn session_token(&self) -> String {
        let base = self.pairing.server.as_str();
        let challenge = raw_request(
            &self.http,
            base,
            "POST",
            "/v1/wallet/challenge",
            Some(&serde_json::json!({"key_id": self.key_id()}).to_string()),
            None,
            &[],
        )
        .await;
        assert_eq!(challenge.status, 200, "challenge: {:?}", challenge.body);
        let nonce = challenge.body["nonce"].as_str().expect("nonce").to_string();
        let signature = countersign_core::session::sign_nonce(&self.key, &nonce);
        let session = raw_request(
            &self.http,
            base,
            "POST",
            "/v1/wallet/session",
            Some(
                &serde_json::json!({"key_id": self.key_id(), "nonce": nonce, "signature": signature})
                    .to_string(),
            ),
            None,
            &[],
        )
        .await;
        assert_eq!(session.status, 200, "session: {:?}", session.body);
        session.body["token"].as_str().expect("token").to_string()
    }

    /// Posts `request` as-is to `/v1/wallet/approvals/{id}/decision` with a fresh session of
    /// this device.
    pub async fn post_decision(&self, id: Uuid, request: &DecisionRequest) -> RawAnswer {
        let token = self.session_token().await;
        self.post_decision_with(&token, id, request).await
    }

    /// Posts `request` as-is with the session `token`.
    pub async fn post_decision_with(
        &self,
        token: &str,
        id: Uuid,
        request: &DecisionRequest,
    ) -> RawAnswer {
        let body = serde_json::to_string(request).expect("serialising a decision");
        raw_request(
            &self.http,
            self.pairing.server.as_str(),
            "POST",
            &format!("/v1/wallet/approvals/{id}/decision"),
            Some(&body),
            Some(token),
            &[],
        )
        .await
    }
}

/// The next decodable event of `stream` within `timeout`; panics on timeout or stream end.
pub async fn next_event(
    stream: &mut countersign_approver::EventStream,
    timeout: Duration,
) -> (u64, WalletEvent) {
    match tokio::time::timeout(timeout, stream.next()).await {
        Err(_) => panic!("no wallet event within {timeout:?}"),
        Ok(None) => panic!("the wallet event stream ended"),
        Ok(Some(Ok(item))) => item,
        Ok(Some(Err(e))) => panic!("bad wallet event: {e}"),
    }
}

/// A second service on `app`'s configuration and database, serving on another loopback port.
pub struct Replica {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    serving: Serving,
}

impl Replica {
    /// Starts it.
    pub async fn start(app: &TestApp) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let serving =
            Serving::start_with_env(&app.config, &app.env, Arc::new(SystemClock), listener)
                .await
                .expect("starting the second service");
        Self {
            base_url: serving.url.clone(),
            serving,
        }
    }

    /// A raw `GET` with a bearer token.
    pub async fn get(&self, app: &TestApp, path: &str, token: &str) -> RawAnswer {
        raw_request(
            &app.http,
            &self.base_url,
            "GET",
            path,
            None,
            Some(token),
            &[],
        )
        .await
    }

    /// A raw `POST` of JSON without a token.
    pub async fn post(&self, app: &TestApp, path: &str, body: serde_json::Value) -> RawAnswer {
        let body = body.to_string();
        raw_request(
            &app.http,
            &self.base_url,
            "POST",
            path,
            Some(&body),
            None,
            &[],
        )
        .await
    }

    /// Stops it gracefully.
    pub async fn stop(self) {
        self.serving.stop().await.unwrap();
    }
}

impl Replica {
    /// An SDK client of [`APP`] on this replica.
    pub fn sdk(&self, app: &TestApp) -> Client {
        Client::with_credentials(&self.base_url, app.app.credentials.clone()).expect("SDK")
    }

    /// `approver`'s device, signed in through this replica.
    pub fn approver(&self, approver: &TestApprover) -> ApproverClient {
        let mut pairing = approver.pairing.clone();
        pairing.server = countersign_core::ServerUrl::parse(&self.base_url).expect("replica URL");
        ApproverClient::new(reqwest::Client::new(), pairing, (*approver.key).clone())
    }
}
