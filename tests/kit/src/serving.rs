//! One service serving on a loopback listener until stopped: how every harness of the kit
//! (the demo stack, the integration suite's `TestApp`, their replicas) runs one.

use countersign_service::clock::SharedClock;
use countersign_service::state::AppState;
use countersign_service::{Config, Secrets, Service, ServiceError};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A started service and its serving task.
pub struct Serving {
    /// `http://<listener's address>`.
    pub url: String,
    /// The service's shared state.
    pub state: AppState,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), ServiceError>>,
}

impl Serving {
    /// Starts a service for `config` — the grant secret `secret` answering the environment
    /// variable `secret_env`, time from `clock` — serving on `listener`.
    pub async fn start(
        config: &Config,
        secret_env: &str,
        secret: &str,
        clock: SharedClock,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let env = [(secret_env.to_string(), secret.to_string())];
        Self::start_with_env(config, &env, clock, listener).await
    }

    /// [`Serving::start`] with every secret the config names given as `(variable, value)`
    /// pairs (grant secrets, app API keys, HMAC secrets of signing apps).
    pub async fn start_with_env(
        config: &Config,
        env: &[(String, String)],
        clock: SharedClock,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let secrets = Secrets::resolve(config, &|name| {
            env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
        })?;
        let service = Service::start_with_clock(config.clone(), secrets, clock).await?;
        let state = service.state().clone();
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(service.serve(listener, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            url,
            state,
            stop,
            task,
        })
    }

    /// Stops it gracefully and waits until it has (store closed).
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        Ok(())
    }
}
