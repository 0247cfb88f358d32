//! `countersign mcp`: an MCP gateway (over stdio, or streamable HTTP when the config sets
//! `listen`) that exposes the API calls declared in its own config file as tools; each call
//! goes through Countersign with the gateway's app key, and a call that needs approval waits
//! for a person's signature in their Wallet.
//!
//! - [`config`]: the gateway's config file, checked.
//! - [`listen`]: the HTTP listener's settings (loopback unless a token is set), checked.
//! - [`template`]: `{param}` path templates, filled and percent-encoded.
//! - [`args`]: the published schemas (with `reason`) and the argument checks.
//! - [`tools`]: tool calls to `ProxyRequest`s, and outcomes to tool results.
//! - [`server`]: the MCP server (rmcp) that ties them together.
//! - [`progress`]: progress notifications while a call waits.
//! - [`elicit`]: URL-mode elicitation pointing the client at the approval link.
//! - [`http`], [`sessions`]: the streamable HTTP transport, guarded and bounded.

pub mod args;
pub mod config;
pub mod elicit;
pub mod http;
pub mod listen;
pub mod progress;
pub mod server;
pub mod sessions;
pub mod template;
pub mod tools;

use anyhow::Context;
use rmcp::ServiceExt;
use std::path::Path;

/// The SDK client the gateway acts through: a bearer key, or signing as its app, with the
/// secret read from the variable the config names.
fn client_for(config: &config::GatewayConfig) -> anyhow::Result<countersign_sdk::Client> {
    use config::GatewayAuth;
    use countersign_sdk::Credentials;
    let (env, field) = (config.auth.env(), config.auth.field());
    let secret = std::env::var(env)
        .with_context(|| format!("reading the app's secret from ${env} (named by {field})"))?;
    let credentials = match &config.auth {
        GatewayAuth::ApiKey { .. } => Credentials::api_key(secret),
        GatewayAuth::Hmac { app, .. } => Credentials::hmac(app.clone(), secret),
        GatewayAuth::Ed25519 { app, .. } => Credentials::ed25519(app.clone(), &secret),
    }
    .with_context(|| format!("${env} (named by {field})"))?;
    countersign_sdk::Client::with_credentials(&config.service, credentials)
        .with_context(|| format!("[mcp] service {:?}", config.service))
}

/// Loads the config, reads the app key from its environment variable and serves MCP: on
/// stdin/stdout until the client closes the connection, or over streamable HTTP (when the
/// config sets `listen`) until SIGINT or SIGTERM.
pub async fn run(config_path: &Path) -> anyhow::Result<()> {
    let config = config::GatewayConfig::load(config_path)?;
    let client = client_for(&config)?;
    let tools = config.tools.len();
    let http = config.http.clone();
    let gateway = server::Gateway::new(config, client);
    if let Some(settings) = http {
        return http::serve(gateway, &settings).await;
    }
    tracing::info!(tools, "MCP gateway serving on stdio");
    let running = gateway
        .serve(rmcp::transport::stdio())
        .await
        .context("starting the MCP session")?;
    running.waiting().await.context("running the MCP session")?;
    Ok(())
}
