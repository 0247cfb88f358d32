//! `countersign mcp`: an MCP gateway over stdio that exposes the API calls declared in its
//! own config file as tools; each call goes through Countersign with the gateway's app key,
//! and a call that needs approval waits for a person's signature in their Wallet.
//!
//! - [`config`]: the gateway's config file, checked.
//! - [`template`]: `{param}` path templates, filled and percent-encoded.
//! - [`args`]: the published schemas (with `reason`) and the argument checks.
//! - [`tools`]: tool calls to `ProxyRequest`s, and outcomes to tool results.
//! - [`server`]: the MCP server (rmcp) that ties them together.

pub mod args;
pub mod config;
pub mod server;
pub mod template;
pub mod tools;

use anyhow::Context;
use rmcp::ServiceExt;
use std::path::Path;

/// Loads the config, reads the app key from its environment variable and serves MCP on
/// stdin/stdout until the client closes the connection.
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
    let gateway = server::Gateway::new(config, client);
    tracing::info!(tools, "MCP gateway serving on stdio");
    let running = gateway
        .serve(rmcp::transport::stdio())
        .await
        .context("starting the MCP session")?;
    running.waiting().await.context("running the MCP session")?;
    Ok(())
}
