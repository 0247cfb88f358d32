//! A Countersign stack on loopback for the Wallet's end-to-end test: the sample payments
//! provider, the service on a temporary SQLite file, one approver (`alice`) and one app
//! (`support-agent`) whose refunds need approval.

use countersign_cli::demo::{config_with, DEMO_POLICY};
use countersign_cli::sample_provider::SampleProvider;
use countersign_core::encoding::random_token;
use countersign_sdk::Client;
use countersign_service::{Admin, Config, Secrets, Service};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The running stack.
pub struct Stack {
    /// The upstream.
    pub provider: SampleProvider,
    /// The service's base URL.
    pub url: String,
    /// The app's API key.
    pub api_key: String,
    config: Config,
    secret: String,
    listen: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

const SECRET_ENV: &str = "DEMO_PAYMENTS_SECRET";

impl Stack {
    /// Starts everything on free loopback ports (approval window one hour).
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with_window("1h").await
    }

    /// Starts everything with approval window `window` (e.g. `"3s"`).
    pub async fn start_with_window(window: &str) -> anyhow::Result<Self> {
        Self::start_with(window, "").await
    }

    /// Starts everything with approval window `window` and `server_lines` added to the
    /// service's `[server]` table (e.g. `"max_pending_per_app = 20000"`).
    pub async fn start_with(window: &str, server_lines: &str) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let secret = format!("sk_e2e_{}", random_token());
        let api_key = format!("cs_e2e_{}", random_token());
        let provider = SampleProvider::start(&secret).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let listen = listener.local_addr()?.to_string();
        let path = dir.path().join("countersign.toml");
        let text = config_with(
            &listen,
            &provider.base_url(),
            &api_key,
            &dir.path().join("cs.db"),
            server_lines,
            DEMO_POLICY,
        )
        .replace("window = \"1h\"", &format!("window = \"{window}\""));
        std::fs::write(&path, &text)?;
        let config = Config::parse(&text, &path)?;
        let mut stack = Self {
            provider,
            url: format!("http://{listen}"),
            api_key,
            config,
            secret,
            listen,
            stop: None,
            server: None,
            _dir: dir,
        };
        stack.serve(listener).await?;
        Ok(stack)
    }

    async fn serve(&mut self, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
        let secret = self.secret.clone();
        let secrets = Secrets::resolve(&self.config, &|name| {
            (name == SECRET_ENV).then(|| secret.clone())
        })?;
        let service = Service::start(self.config.clone(), secrets).await?;
        let (tx, rx) = oneshot::channel::<()>();
        self.server = Some(tokio::spawn(async move {
            let _ = service
                .serve(listener, async {
                    let _ = rx.await;
                })
                .await;
        }));
        self.stop = Some(tx);
        Ok(())
    }

    /// Stops the service and starts it again on the same address and database.
    pub async fn restart(&mut self, down_for: std::time::Duration) -> anyhow::Result<()> {
        self.halt().await;
        tokio::time::sleep(down_for).await;
        let listener = tokio::net::TcpListener::bind(&self.listen).await?;
        self.serve(listener).await
    }

    async fn halt(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(s) = self.server.take() {
            let _ = s.await;
        }
    }

    /// A one-time pairing link for `approver`.
    pub async fn invite(&self, approver: &str) -> anyhow::Result<String> {
        let admin = Admin::open(self.config.clone()).await?;
        let invite = admin.invite(approver).await?;
        admin.close().await;
        Ok(invite.link)
    }

    /// The agent's SDK client.
    pub fn agent(&self) -> anyhow::Result<Client> {
        Ok(Client::new(&self.url, self.api_key.clone())?)
    }

    /// Stops the service and the provider.
    pub async fn stop(mut self) {
        self.halt().await;
        self.provider.stop();
    }
}
