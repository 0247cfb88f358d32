//! The HTTP guard, driven through the router without a socket: Host, Origin, bearer token,
//! body size and session bound. No tool is called (the SDK client points nowhere).

use super::*;
use crate::mcp::config::GatewayConfig;
use crate::mcp::listen::{HttpSettings, RawListen};
use axum::body::Body;
use axum::http::Request;
use std::path::Path;
use tower::ServiceExt;

const TOKEN: &str = "0123456789abcdef0123456789abcdef-token";
const PORT: u16 = 8471;

fn gateway() -> Gateway {
    let config = GatewayConfig::parse(
        r#"
[mcp]
service = "http://127.0.0.1:1"
app_key_env = "K"
[[tool]]
name = "t"
description = "d"
grant = "g"
method = "GET"
path = "/v1/x"
input_schema = { type = "object" }
"#,
        Path::new("mcp.toml"),
    )
    .unwrap();
    let client = countersign_sdk::Client::new(&config.service, "k").unwrap();
    Gateway::new(config, client)
}

fn settings(raw: RawListen) -> HttpSettings {
    HttpSettings::check(RawListen {
        listen: Some(format!("127.0.0.1:{PORT}")),
        ..raw
    })
    .unwrap()
    .unwrap()
}

fn app(raw: RawListen, token: Option<&str>) -> Router {
    let settings = settings(raw);
    let token = token.map(|t| BearerToken::new("T", t).unwrap());
    router(
        gateway(),
        &settings,
        settings.listen,
        token,
        CancellationToken::new(),
    )
    .unwrap()
}

fn initialize() -> Request<Body> {
    post(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#,
    )
}

fn post(body: &str) -> Request<Body> {
    Request::post(MCP_PATH)
        .header(header::HOST, format!("127.0.0.1:{PORT}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json, text/event-stream")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn with(mut request: Request<Body>, name: header::HeaderName, value: &str) -> Request<Body> {
    request.headers_mut().insert(name, value.parse().unwrap());
    request
}

async fn status(app: &Router, request: Request<Body>) -> StatusCode {
    app.clone().oneshot(request).await.unwrap().status()
}

#[tokio::test]
async fn a_loopback_client_opens_a_session() {
    let app = app(RawListen::default(), None);
    let response = app.clone().oneshot(initialize()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key(SESSION_HEADER));
    for host in [format!("localhost:{PORT}"), format!("[::1]:{PORT}")] {
        let request = with(initialize(), header::HOST, &host);
        assert_eq!(status(&app, request).await, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn foreign_hosts_are_refused() {
    let app = app(RawListen::default(), None);
    for host in [
        "evil.example".to_string(),
        format!("evil.example:{PORT}"),
        "127.0.0.1:1".to_string(),
        "localhost".to_string(),
        format!("127.0.0.1.evil.example:{PORT}"),
    ] {
        let request = with(initialize(), header::HOST, &host);
        assert_eq!(status(&app, request).await, StatusCode::FORBIDDEN, "{host}");
    }
}

#[tokio::test]
async fn browser_origins_are_refused_unless_listed() {
    let app = app(
        RawListen {
            allowed_origins: Some(vec!["http://localhost:6274".into()]),
            ..RawListen::default()
        },
        None,
    );
    for origin in [
        "http://evil.example",
        "null",
        &format!("http://127.0.0.1:{PORT}"),
        "http://localhost:6275",
        "https://localhost:6274",
    ] {
        let request = with(initialize(), header::ORIGIN, origin);
        assert_eq!(
            status(&app, request).await,
            StatusCode::FORBIDDEN,
            "{origin}"
        );
    }
    let request = with(initialize(), header::ORIGIN, "http://localhost:6274");
    assert_eq!(status(&app, request).await, StatusCode::OK);
    // No Origin at all: not a browser (desktop clients send none).
    assert_eq!(status(&app, initialize()).await, StatusCode::OK);
}

#[tokio::test]
async fn without_an_origin_list_every_origin_is_refused() {
    let app = app(RawListen::default(), None);
    let request = with(initialize(), header::ORIGIN, "http://localhost:6274");
    assert_eq!(status(&app, request).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_bearer_token_is_required_when_configured() {
    let app = app(RawListen::default(), Some(TOKEN));
    let response = app.clone().oneshot(initialize()).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    for presented in [
        "Bearer".to_string(),
        "Bearer ".to_string(),
        format!("Bearer {}", &TOKEN[..TOKEN.len() - 1]),
        format!("Bearer {TOKEN}x"),
        format!("bearer {TOKEN}"),
        format!("Basic {TOKEN}"),
        TOKEN.to_string(),
    ] {
        let request = with(initialize(), header::AUTHORIZATION, &presented);
        assert_eq!(
            status(&app, request).await,
            StatusCode::UNAUTHORIZED,
            "{presented}"
        );
    }
    let request = with(
        initialize(),
        header::AUTHORIZATION,
        &format!("Bearer {TOKEN}"),
    );
    assert_eq!(status(&app, request).await, StatusCode::OK);
    // Every request needs it, not only the first.
    let list = post(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#);
    assert_eq!(status(&app, list).await, StatusCode::UNAUTHORIZED);
}

#[test]
fn short_or_odd_tokens_are_refused() {
    assert!(BearerToken::new("T", "short").is_err());
    assert!(BearerToken::new("T", &format!("{TOKEN}\n")).is_err());
    assert!(BearerToken::new("T", &format!("{TOKEN} x")).is_err());
    assert!(BearerToken::new("T", TOKEN).is_ok());
}

#[tokio::test]
async fn large_bodies_are_refused() {
    let app = app(RawListen::default(), None);
    let padding = "x".repeat(MAX_BODY);
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-11-25","capabilities":{{}},"clientInfo":{{"name":"{padding}","version":"1"}}}}}}"#
    );
    assert_eq!(
        status(&app, post(&body)).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn sessions_are_bounded() {
    let app = app(
        RawListen {
            max_sessions: Some(2),
            ..RawListen::default()
        },
        None,
    );
    let first = app.clone().oneshot(initialize()).await.unwrap();
    let id = first.headers()[SESSION_HEADER]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(status(&app, initialize()).await, StatusCode::OK);
    let refused = app.clone().oneshot(initialize()).await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key(header::RETRY_AFTER));
    // Closing one makes room for another.
    let close = Request::delete(MCP_PATH)
        .header(header::HOST, format!("127.0.0.1:{PORT}"))
        .header(SESSION_HEADER, &id)
        .body(Body::empty())
        .unwrap();
    assert!(status(&app, close).await.is_success());
    assert_eq!(status(&app, initialize()).await, StatusCode::OK);
}

#[tokio::test]
async fn the_bound_holds_when_sessions_are_opened_at_once() {
    let settings = settings(RawListen {
        max_sessions: Some(3),
        ..RawListen::default()
    });
    let app = router(
        gateway(),
        &settings,
        settings.listen,
        None,
        CancellationToken::new(),
    )
    .unwrap();
    let attempts = (0..12).map(|_| app.clone().oneshot(initialize()));
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().status())
        .collect();
    let opened = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(opened, 3, "{statuses:?}");
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::OK || s.is_server_error()));
}
