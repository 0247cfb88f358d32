//! The gateway over streamable HTTP (rmcp's transport) at `/mcp`, guarded: a bearer token
//! when configured (compared in constant time), the `Host` names the listener is reached by
//! and no browser `Origin` but those listed (DNS rebinding), bodies of at most
//! [`MAX_BODY`], and at most `max_sessions` sessions.

use super::listen::HttpSettings;
use super::server::Gateway;
use super::sessions::BoundedSessions;
use anyhow::{bail, Context};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use axum::Router;
use countersign_service::config::{constant_time_eq, hash_api_key};
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The path the MCP endpoint is served at.
pub const MCP_PATH: &str = "/mcp";
/// The largest request body accepted (a JSON-RPC message with a tool's arguments).
pub const MAX_BODY: usize = 1024 * 1024;
/// The header naming an MCP session.
const SESSION_HEADER: &str = "mcp-session-id";

/// The bearer token clients must send, kept as its SHA-256.
#[derive(Clone)]
pub struct BearerToken([u8; 32]);

impl BearerToken {
    /// The token in `value` (read from the variable `var`): at least
    /// [`MIN_TOKEN_LEN`](super::listen::MIN_TOKEN_LEN) visible ASCII characters.
    pub fn new(var: &str, value: &str) -> anyhow::Result<Self> {
        let min = super::listen::MIN_TOKEN_LEN;
        if value.len() < min {
            bail!("${var} (token_env) must hold a token of at least {min} characters");
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            bail!("${var} (token_env) must hold visible ASCII characters only (a stray newline?)");
        }
        Ok(Self(hash_api_key(value)))
    }

    /// Whether `headers` carry `Authorization: Bearer <this token>`.
    fn admits(&self, headers: &HeaderMap) -> bool {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        constant_time_eq(&hash_api_key(presented), &self.0)
    }
}

/// What the guard in front of rmcp's service checks.
struct Guard {
    token: Option<BearerToken>,
    sessions: Arc<BoundedSessions>,
}

/// The router serving `gateway` at [`MCP_PATH`], as bound to `bound` with `settings`.
/// Cancelling `shutdown` ends every session and stream.
pub fn router(
    gateway: Gateway,
    settings: &HttpSettings,
    bound: SocketAddr,
    token: Option<BearerToken>,
    shutdown: CancellationToken,
) -> anyhow::Result<Router> {
    let hosts = settings.hosts_for(bound);
    if hosts.is_empty() {
        // rmcp reads an empty list as "any Host": never let that happen.
        bail!("no Host names to accept for {bound}: set allowed_hosts");
    }
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(settings.allowed_origins.clone())
        .enforce_origin_validation()
        .with_max_request_body_bytes(MAX_BODY)
        .with_cancellation_token(shutdown);
    let sessions = Arc::new(BoundedSessions::new(settings.max_sessions));
    let service = StreamableHttpService::new(
        move || Ok(gateway.for_session()),
        Arc::clone(&sessions),
        config,
    );
    let guard = Arc::new(Guard { token, sessions });
    Ok(Router::new()
        .route_service(MCP_PATH, service)
        .layer(axum::middleware::from_fn_with_state(guard, guard_request)))
}

/// Refuses a request without the bearer token (401), and a new session while the sessions
/// are full (503); rmcp checks the rest.
async fn guard_request(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    if let Some(token) = &guard.token {
        if !token.admits(request.headers()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "Unauthorized: send Authorization: Bearer <the gateway's token>",
            )
                .into_response();
        }
    }
    let opens_session =
        request.method() == Method::POST && !request.headers().contains_key(SESSION_HEADER);
    if opens_session && guard.sessions.is_full().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "30")],
            format!(
                "Service Unavailable: too many MCP sessions (at most {}); close one or wait \
                 for idle ones to expire",
                guard.sessions.max()
            ),
        )
            .into_response();
    }
    next.run(request).await
}

/// Serves `gateway` over streamable HTTP until SIGINT or SIGTERM; prints
/// `listening on http://ADDR/mcp` on stdout once bound.
pub async fn serve(gateway: Gateway, settings: &HttpSettings) -> anyhow::Result<()> {
    let token = match &settings.token_env {
        Some(var) => {
            let value = std::env::var(var)
                .with_context(|| format!("reading the gateway's bearer token from ${var}"))?;
            Some(BearerToken::new(var, &value)?)
        }
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let bound = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let app = router(gateway, settings, bound, token, shutdown.clone())?;
    println!("listening on http://{bound}{MCP_PATH}");
    tracing::info!(%bound, "MCP gateway serving streamable HTTP");
    // Without TCP_NODELAY, the SSE answer's second small write waits for the client's delayed
    // ACK (~40 ms per call).
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            crate::serve::shutdown_signal().await;
            shutdown.cancel();
        })
        .await
        .context("serving MCP over HTTP")
}

#[cfg(test)]
mod tests;
