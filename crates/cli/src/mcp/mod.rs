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

/// Loads the config, reads the app key from its environment variable and serves MCP: on
/// stdin/stdout until the client closes the connection, or over streamable HTTP (when the
/// config sets `listen`) until SIGINT or SIGTERM.
pub async fn run(config_path: &Path) -> anyhow::Result<()> {
    let config = config::GatewayConfig::load(config_path)?;
    let key = std::env::var(&config.app_key_env).with_context(|| {
        format!(
            "reading the app's API key from ${} (named by app_key_env)",
            config.app_key_env
        )
    })?;
    let client = countersign_sdk::Client::new(&config.service, key)
        .with_context(|| format!("[mcp] service {:?}", config.service))?;
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
