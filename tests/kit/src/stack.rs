//! [`DemoStack`]: the sample provider and the service on loopback, on a temporary SQLite file
//! or a given database, configured by [`crate::config::demo_config`] (or another policy), with
//! as many replicas as asked for. The demo and the pipeline benchmark run on it.

use crate::config::{config_with, DEMO_POLICY, SECRET_ENV};
use crate::sample_provider::SampleProvider;
use crate::serving::Serving;
use countersign_approver::ApproverClient;
use countersign_core::encoding::random_token;
use countersign_core::keys::generate_signing_key;
use countersign_core::DeepLink;
use countersign_sdk::Client;
use countersign_service::clock::SystemClock;
use countersign_service::state::AppState;
use countersign_service::{Admin, Config};
use std::sync::Arc;

/// The demo config's service serving on `listener`.
async fn serve(
    config: &Config,
    provider_secret: &str,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<Serving> {
    Serving::start(
        config,
        SECRET_ENV,
        provider_secret,
        Arc::new(SystemClock),
        listener,
    )
    .await
}

/// A running provider and service (one or more replicas on one database).
pub struct DemoStack {
    /// The provider (counts the calls it receives).
    pub provider: SampleProvider,
    /// The grant's managed secret, which the provider expects.
    pub provider_secret: String,
    /// The agent's API key.
    pub api_key: String,
    /// The first replica's base URL (kept across [`restart`](Self::restart)).
    pub url: String,
    /// The loaded configuration.
    pub config: Config,
    /// The first replica's shared state (replaced by [`restart`](Self::restart)).
    pub state: AppState,
    /// Every replica, the first one first; the first is `None` while restarting.
    replicas: Vec<Option<Serving>>,
    _dir: tempfile::TempDir,
}

impl DemoStack {
    /// Starts the provider and the service on free loopback ports.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with("", DEMO_POLICY).await
    }

    /// For benchmarks that create many pending approvals (`max_pending_per_app` raised to
    /// 10,000,000), with `policy` (TOML defining the policy `refunds`).
    pub async fn start_for_benchmark(policy: &str) -> anyhow::Result<Self> {
        Self::start_with("max_pending_per_app = 10000000", policy).await
    }

    /// Like [`DemoStack::start`], with `server_lines` added to `[server]` and `policy`.
    pub async fn start_with(server_lines: &str, policy: &str) -> anyhow::Result<Self> {
        Self::start_on(None, server_lines, policy).await
    }

    /// Like [`DemoStack::start_with`], on `database` (a URL) instead of a temporary SQLite file.
    pub async fn start_on(
        database: Option<&str>,
        server_lines: &str,
        policy: &str,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let provider_secret = format!("sk_demo_{}", random_token());
        let api_key = format!("cs_demo_{}", random_token());
        let provider = SampleProvider::start(&provider_secret).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let listen = listener.local_addr()?.to_string();
        let config_path = dir.path().join("countersign.toml");
        let sqlite = dir.path().join("countersign.db");
        let mut text = config_with(
            &listen,
            &provider.base_url(),
            &api_key,
            &sqlite,
            server_lines,
            policy,
        );
        if let Some(url) = database {
            text = text.replacen(
                &format!("database = \"sqlite://{}\"", sqlite.display()),
                &format!("database = \"{url}\""),
                1,
            );
        }
        std::fs::write(&config_path, &text)?;
        let config = Config::parse(&text, &config_path)?;
        let first = serve(&config, &provider_secret, listener).await?;
        Ok(Self {
            provider,
            provider_secret,
            api_key,
            url: first.url.clone(),
            config,
            state: first.state.clone(),
            replicas: vec![Some(first)],
            _dir: dir,
        })
    }

    /// Starts one more replica of the service on the same configuration and database, on its
    /// own loopback port; returns its base URL.
    pub async fn add_replica(&mut self) -> anyhow::Result<String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let replica = serve(&self.config, &self.provider_secret, listener).await?;
        let url = replica.url.clone();
        self.replicas.push(Some(replica));
        Ok(url)
    }

    /// Stops the first replica, waits `down_for`, and starts it again on the same address
    /// and database.
    pub async fn restart(&mut self, down_for: std::time::Duration) -> anyhow::Result<()> {
        if let Some(first) = self.replicas[0].take() {
            first.stop().await?;
        }
        tokio::time::sleep(down_for).await;
        let address = self.url.trim_start_matches("http://");
        let listener = tokio::net::TcpListener::bind(address).await?;
        let first = serve(&self.config, &self.provider_secret, listener).await?;
        self.state = first.state.clone();
        self.replicas[0] = Some(first);
        Ok(())
    }

    /// The base URLs of every replica, the first one's first.
    pub fn urls(&self) -> Vec<String> {
        std::iter::once(self.url.clone())
            .chain(
                self.replicas
                    .iter()
                    .skip(1)
                    .flatten()
                    .map(|r| r.url.clone()),
            )
            .collect()
    }

    /// An SDK client for the demo agent on the replica at `url`.
    pub fn agent_at(&self, url: &str) -> anyhow::Result<Client> {
        Ok(Client::new(url, self.api_key.clone())?)
    }

    /// An SDK client for the demo agent.
    pub fn agent(&self) -> anyhow::Result<Client> {
        self.agent_at(&self.url)
    }

    /// Administrative access to the service's database.
    pub async fn admin(&self) -> anyhow::Result<Admin> {
        Ok(Admin::open(self.config.clone()).await?)
    }

    /// A one-time pairing link for `approver_id`.
    pub async fn invite(&self, approver_id: &str) -> anyhow::Result<String> {
        let admin = self.admin().await?;
        let invite = admin.invite(approver_id).await;
        admin.close().await;
        Ok(invite?.link)
    }

    /// Pairs a fresh in-memory key for `approver_id` through a one-time link.
    pub async fn pair(
        &self,
        approver_id: &str,
        device_name: &str,
    ) -> anyhow::Result<ApproverClient> {
        let link = DeepLink::parse(&self.invite(approver_id).await?)?;
        let key = generate_signing_key();
        let http = countersign_approver::HttpClients::new("countersign-demo")?;
        let pairing = ApproverClient::pair_link(&http.requests, &link, device_name, &key).await?;
        Ok(ApproverClient::with_clients(&http, pairing, key))
    }

    /// Stops every replica gracefully, then the provider.
    pub async fn stop(self) -> anyhow::Result<()> {
        for replica in self.replicas.into_iter().flatten() {
            replica.stop().await?;
        }
        self.provider.stop();
        Ok(())
    }
}
