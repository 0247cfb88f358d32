//! A tiny "payments" provider on loopback, used by the demo and the tests as the upstream.
//!
//! It checks the managed secret, records every call it receives (so tests can count
//! executions at the upstream), and can be told to fail, slow down or hang.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How the provider answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// Answer normally.
    Normal,
    /// Answer every call with this status and a JSON error body.
    Fail(u16),
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Never answer (until the server is stopped).
    Hang,
}

/// One call the provider received.
#[derive(Debug, Clone)]
pub struct RecordedCall {
    /// Method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl RecordedCall {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
struct Shared {
    secret: String,
    behaviour: Mutex<Behaviour>,
    calls: Mutex<Vec<RecordedCall>>,
    /// Woken after each recorded call.
    received: tokio::sync::Notify,
}

/// A running sample provider.
#[derive(Debug)]
pub struct SampleProvider {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl SampleProvider {
    /// Starts on 127.0.0.1 on a free port; calls must carry `Authorization: Bearer <secret>`.
    pub async fn start(secret: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            secret: secret.to_string(),
            behaviour: Mutex::new(Behaviour::Normal),
            calls: Mutex::new(Vec::new()),
            received: tokio::sync::Notify::new(),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes how later calls are answered.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        *self.shared.behaviour.lock().expect("behaviour lock") = behaviour;
    }

    /// Every call received so far.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.calls.lock().expect("calls lock").clone()
    }

    /// The calls received after the first `seen`, waiting until there is at least one.
    pub async fn calls_after(&self, seen: usize) -> Vec<RecordedCall> {
        loop {
            // Made before the check, so a call recorded in between still wakes it.
            let received = self.shared.received.notified();
            let calls = self.calls();
            if calls.len() > seen {
                return calls[seen..].to_vec();
            }
            received.await;
        }
    }

    /// Stops the server.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for SampleProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.calls.lock().expect("calls lock").push(RecordedCall {
        method: method.to_string(),
        uri: uri.to_string(),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    });
    shared.received.notify_waiters();
    let behaviour = shared.behaviour.lock().expect("behaviour lock").clone();
    match behaviour {
        Behaviour::Normal => {}
        Behaviour::Fail(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (
                status,
                Json(json!({"error": {"type": "api_error", "message": "the provider failed"}})),
            )
                .into_response();
        }
        Behaviour::Delay(d) => tokio::time::sleep(d).await,
        Behaviour::Hang => std::future::pending::<()>().await,
    }
    let expected = format!("Bearer {}", shared.secret);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"type": "auth", "message": "invalid API key"}})),
        )
            .into_response();
    }
    let n = shared.calls.lock().expect("calls lock").len();
    match (method.as_str(), uri.path()) {
        ("POST", "/v1/refunds") => {
            let Ok(req) = serde_json::from_slice::<Value>(&body) else {
                return (StatusCode::BAD_REQUEST, Json(json!({"error": {"type": "invalid_request", "message": "body is not JSON"}})))
                    .into_response();
            };
            Json(json!({
                "id": format!("re_{n:06}"),
                "object": "refund",
                "status": "succeeded",
                "order": req.get("order"),
                "amount": req.get("amount"),
                "currency": req.get("currency"),
                "idempotency_key": headers.get("idempotency-key").and_then(|v| v.to_str().ok()),
            }))
            .into_response()
        }
        ("GET", "/v1/balance") => Json(json!({"object": "balance", "available": [{"amount": 125_000, "currency": "EUR"}]})).into_response(),
        _ => (StatusCode::NOT_FOUND, Json(json!({"error": {"type": "not_found", "message": format!("no route {}", uri.path())}})))
            .into_response(),
    }
}

/// `countersign sample-provider`: runs the provider as its own process until `shutdown`
/// completes, for tests written in other languages.
///
/// Prints `listening on http://127.0.0.1:<port>` as the first line of stdout, then one JSON
/// line per call received: `{"method", "uri", "idempotency_key", "body"}` (`body` as lossy
/// UTF-8 text, `idempotency_key` null when absent).
pub async fn run_process(
    secret: &str,
    behaviour: Behaviour,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let provider = SampleProvider::start(secret).await?;
    provider.set_behaviour(behaviour);
    println!("listening on {}", provider.base_url());
    let mut seen = 0;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            calls = provider.calls_after(seen) => {
                seen += calls.len();
                for call in calls {
                    println!("{}", json!({
                        "method": call.method,
                        "uri": call.uri,
                        "idempotency_key": call.header("idempotency-key"),
                        "body": String::from_utf8_lossy(&call.body),
                    }));
                }
            }
        }
    }
    provider.stop();
    Ok(())
}
