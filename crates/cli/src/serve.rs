//! `countersign serve`: the service from a config file, until Ctrl-C or SIGTERM.

use anyhow::Context;
use countersign_service::{Config, Secrets, Service};
use std::path::Path;

/// Loads the config and secrets, starts the service and serves until a shutdown signal.
pub async fn run(config_path: &Path) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    let secrets = Secrets::from_env(&config)?;
    let listen = config.server.listen;
    let service = Service::start(config, secrets)
        .await
        .context("starting the service")?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    eprintln!("countersign: listening on {listen}");
    service.serve(listener, shutdown_signal()).await?;
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
