//! A scripted Countersign service on 127.0.0.1 for the SDK's HTTP tests.

#![allow(dead_code)]

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use uuid::Uuid;

/// The API key the tests use.
pub const KEY: &str = "cs_test_very_secret_key";

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A JSON body with this status.
    Json(u16, Value),
    /// A JSON body with this status and a `Retry-After` header (seconds).
    JsonRetryAfter(u16, Value, u64),
    /// A text body with this status.
    Text(u16, &'static str),
    /// `200` headers, then the connection breaks in the middle of the body.
    DropMidBody,
}

/// What the server saw of one request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Clone, Default)]
struct Script {
    replies: Arc<Mutex<VecDeque<Reply>>>,
    last: Arc<Mutex<Option<Reply>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// A running scripted server. Replies are given in order; the last one repeats.
pub struct Server {
    pub base: String,
    script: Script,
}

impl Server {
    /// Starts a server on a fresh port.
    pub async fn start(replies: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on(listener, replies)
    }

    /// Starts a server on `listener`.
    pub fn start_on(listener: TcpListener, replies: Vec<Reply>) -> Server {
        let base = format!("http://{}", listener.local_addr().unwrap());
        let script = Script {
            replies: Arc::new(Mutex::new(replies.into())),
            ..Script::default()
        };
        let app = Router::new().fallback(answer).with_state(script.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server { base, script }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.script.seen.lock().unwrap().clone()
    }

    /// A client for this server.
    pub fn client(&self) -> countersign_sdk::Client {
        countersign_sdk::Client::new(&self.base, KEY).unwrap()
    }
}

async fn answer(
    State(script): State<Script>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    script.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        authorization: headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_string()),
        body: body.to_vec(),
    });
    let reply = {
        let next = script.replies.lock().unwrap().pop_front();
        let mut last = script.last.lock().unwrap();
        if let Some(r) = next {
            *last = Some(r);
        }
        last.clone().expect("the script has no replies")
    };
    match reply {
        Reply::Json(status, value) => json_response(status, &value, None),
        Reply::JsonRetryAfter(status, value, secs) => json_response(status, &value, Some(secs)),
        Reply::Text(status, text) => (StatusCode::from_u16(status).unwrap(), text).into_response(),
        Reply::DropMidBody => {
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from_static(b"{\"approval_id\":")),
                Err(std::io::Error::other("connection dropped by the test")),
            ];
            Response::builder()
                .header("content-type", "application/json")
                .body(Body::from_stream(futures::stream::iter(chunks)))
                .unwrap()
        }
    }
}

fn json_response(status: u16, value: &Value, retry_after: Option<u64>) -> Response {
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if let Some(secs) = retry_after {
        builder = builder.header("retry-after", secs.to_string());
    }
    builder.body(Body::from(value.to_string())).unwrap()
}

/// A raw server that closes the first `drops` connections after reading the request, then
/// answers every later one with `200` and `body`. Returns its base URL.
pub async fn dropping_server(drops: usize, body: Value) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut dropped = 0;
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            read_head(&mut socket).await;
            if dropped < drops {
                dropped += 1;
                drop(socket);
                continue;
            }
            let text = body.to_string();
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                text.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(text.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    base
}

async fn read_head(socket: &mut tokio::net::TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// An `ApprovalView` with `status`.
pub fn view(id: Uuid, status: &str) -> Value {
    json!({
        "approval_id": id,
        "status": status,
        "expires_at": "2030-01-01T00:00:00Z",
        "decisions": [],
    })
}

/// A `succeeded` view with a provider answer.
pub fn succeeded(id: Uuid, status: u16, body: &[u8]) -> Value {
    let mut v = view(id, "succeeded");
    v["response"] = json!({
        "status": status,
        "headers": {"content-type": "application/json"},
        "body": b64(body),
        "body_truncated": false,
        "duration_ms": 42,
    });
    v
}

/// A `denied` view with an approve by alice and a deny by bob.
pub fn denied(id: Uuid) -> Value {
    let mut v = view(id, "denied");
    v["decisions"] = json!([
        {"approver_id": "alice", "decision": "approve", "comment": null, "decided_at": "2029-12-31T23:00:00Z"},
        {"approver_id": "bob", "decision": "deny", "comment": "not this week", "decided_at": "2029-12-31T23:01:00Z"},
    ]);
    v
}

/// An `execution_failed` view.
pub fn failed(id: Uuid, reason: &str, status: Option<u16>, body: Option<&[u8]>) -> Value {
    let mut v = view(id, "execution_failed");
    v["failure"] = json!({"reason": reason, "message": "it broke"});
    if let Some(s) = status {
        v["failure"]["status"] = json!(s);
    }
    if let Some(b) = body {
        v["failure"]["body"] = json!(b64(b));
    }
    v
}

/// The `202` body of `POST /v1/proxy`.
pub fn pending_body(id: Uuid) -> Value {
    json!({
        "approval_id": id,
        "approval_url": format!("countersign://approval/{id}?server=http%3A%2F%2F127.0.0.1"),
        "expires_at": "2030-01-01T00:00:00Z",
        "status": "pending",
    })
}

/// An error body.
pub fn error_body(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

/// base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    countersign_core::encoding::b64_encode(bytes)
}

/// A fresh approval id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
