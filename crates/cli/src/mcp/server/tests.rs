//! The gateway served over an in-process pipe to a raw JSON-RPC client, against the real
//! service and sample provider ([`DemoStack`]), decisions made by a paired approver: URL-mode
//! elicitation whose "accept" approves nothing, and progress while a call blocks.

use super::*;
use crate::stack::DemoStack;
use countersign_approver::{ApproverClient, Verdict};
use rmcp::ServiceExt;
use serde_json::json;
use std::path::Path;
use tokio::io::{
    AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines, ReadHalf, WriteHalf,
};

/// A guard against a hung test, not a timing assertion.
const PATIENCE: Duration = Duration::from_secs(60);

/// A JSON-RPC client writing and reading lines on the gateway's pipe.
struct RawClient {
    write: WriteHalf<DuplexStream>,
    lines: Lines<BufReader<ReadHalf<DuplexStream>>>,
}

impl RawClient {
    async fn send(&mut self, message: Value) {
        let mut line = serde_json::to_vec(&message).unwrap();
        line.push(b'\n');
        self.write.write_all(&line).await.unwrap();
    }

    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(PATIENCE, self.lines.next_line())
            .await
            .expect("the gateway said nothing")
            .unwrap()
            .expect("the gateway closed the pipe");
        serde_json::from_str(&line).unwrap()
    }

    /// Reads until the response to `id`, returning it and what came before it.
    async fn until_response(&mut self, id: u64) -> (Value, Vec<Value>) {
        let mut before = Vec::new();
        loop {
            let message = self.next().await;
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return (message, before);
            }
            before.push(message);
        }
    }
}

/// The gateway (block `block`) for `stack`, served on a pipe, initialized by a client that
/// declares `capabilities`.
async fn connect(stack: &DemoStack, block: &str, capabilities: Value) -> RawClient {
    let text = format!(
        r#"
[mcp]
service = "{}"
app_key_env = "UNUSED"
block = "{block}"
[[tool]]
name = "refund"
description = "Refund an order"
grant = "payments"
method = "POST"
path = "/v1/refunds"
input_schema = {{ type = "object", properties = {{ order = {{ type = "string" }}, amount = {{ type = "integer" }} }}, required = ["order", "amount"] }}
"#,
        stack.url
    );
    let config = GatewayConfig::parse(&text, Path::new("mcp.toml")).unwrap();
    let gateway = Gateway::new(config, stack.agent().unwrap());
    let (server_end, client_end) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(running) = gateway.serve(tokio::io::split(server_end)).await {
            let _ = running.waiting().await;
        }
    });
    let (read, write) = tokio::io::split(client_end);
    let mut client = RawClient {
        write,
        lines: BufReader::new(read).lines(),
    };
    client
        .send(
            json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": capabilities,
            "clientInfo": {"name": "test", "version": "1"}}}),
        )
        .await;
    let (answer, _) = client.until_response(0).await;
    assert_eq!(answer["result"]["serverInfo"]["name"], "countersign");
    client
        .send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;
    client
}

fn refund(id: u64, order: &str, meta: Option<Value>) -> Value {
    let mut params = json!({"name": "refund", "arguments": {
        "order": order, "amount": 1200, "reason": format!("Customer ticket for {order}")}});
    if let Some(meta) = meta {
        params["_meta"] = meta;
    }
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})
}

async fn approve(approver: &ApproverClient, approval_id: Uuid) {
    let review = approver.review(approval_id).await.unwrap();
    approver
        .decide(&review, Verdict::Approve, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_link_is_offered_by_url_elicitation_and_accept_approves_nothing() {
    let stack = DemoStack::start().await.unwrap();
    let mut client = connect(&stack, "0s", json!({"elicitation": {"url": {}}})).await;
    client.send(refund(1, "A-700", None)).await;
    // The elicitation may come just before or just after the result.
    let (mut result, mut asked) = (None, Vec::new());
    while result.is_none() || asked.is_empty() {
        let message = client.next().await;
        match message["method"].as_str() {
            Some("elicitation/create") => asked.push(message),
            None if message["id"] == 1 => result = Some(message),
            _ => panic!("unexpected message {message}"),
        }
    }
    let result = result.unwrap();
    let content = &result["result"]["structuredContent"];
    assert_eq!(content["status"], "approval_required", "{result}");
    let approval_id: Uuid = content["approval_id"].as_str().unwrap().parse().unwrap();
    let params = &asked[0]["params"];
    assert_eq!(params["mode"], "url");
    assert_eq!(params["url"], content["approval_url"]);
    assert_eq!(params["elicitationId"], approval_id.to_string());
    assert!(params.get("requestedSchema").is_none(), "{params}");

    // The client accepts (even with content, as a hostile client might), then pings: the
    // ping's answer means the gateway has read the accept. Nothing else was asked.
    client
        .send(json!({"jsonrpc": "2.0", "id": asked[0]["id"], "result": {
            "action": "accept", "content": {"approved": true}}}))
        .await;
    client
        .send(json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}))
        .await;
    let (_, between) = client.until_response(2).await;
    assert!(between.is_empty(), "{between:?}");

    let agent = stack.agent().unwrap();
    match agent.wait(approval_id, Duration::ZERO).await {
        Err(countersign_sdk::Error::Timeout { .. }) => {}
        other => panic!("the approval must still be pending: {other:?}"),
    }
    assert!(stack.provider.calls().is_empty());

    let approver = stack.pair("alice", "test").await.unwrap();
    approve(&approver, approval_id).await;
    let result = agent.wait(approval_id, PATIENCE).await.unwrap();
    assert_eq!(result.status(), 200);
    assert_eq!(stack.provider.calls().len(), 1);
    stack.stop().await.unwrap();
}

#[tokio::test]
async fn a_client_without_url_elicitation_is_not_asked() {
    let stack = DemoStack::start().await.unwrap();
    // Form mode only: the gateway never uses it.
    let mut client = connect(&stack, "0s", json!({"elicitation": {"form": {}}})).await;
    client.send(refund(1, "A-710", None)).await;
    let (result, before) = client.until_response(1).await;
    assert_eq!(
        result["result"]["structuredContent"]["status"],
        "approval_required"
    );
    client
        .send(json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}))
        .await;
    let (_, after) = client.until_response(2).await;
    assert!(
        before.is_empty() && after.is_empty(),
        "{before:?} {after:?}"
    );
    stack.stop().await.unwrap();
}

#[tokio::test]
async fn a_blocked_call_reports_progress_until_the_outcome() {
    let stack = DemoStack::start().await.unwrap();
    let approver = stack.pair("alice", "test").await.unwrap();
    let mut client = connect(&stack, "100s", json!({"elicitation": {"url": {}}})).await;
    client
        .send(refund(1, "A-720", Some(json!({"progressToken": "p-1"}))))
        .await;
    let mut progress = Vec::new();
    let mut elicited = None;
    let mut completion = false;
    let result = loop {
        let message = client.next().await;
        if message.get("id") == Some(&json!(1)) && message.get("method").is_none() {
            break message;
        }
        match message["method"].as_str() {
            Some("elicitation/create") => {
                elicited = Some(message["params"]["elicitationId"].clone());
                client
                    .send(json!({"jsonrpc": "2.0", "id": message["id"], "result": {"action": "accept"}}))
                    .await;
            }
            Some("notifications/progress") => {
                let params = &message["params"];
                assert_eq!(params["progressToken"], "p-1");
                assert_eq!(params["total"], 100.0);
                progress.push(params["progress"].as_f64().unwrap());
                if progress.len() == 1 {
                    // Approve only once the client has seen the call waiting; the message
                    // names the approval.
                    let text = params["message"].as_str().unwrap();
                    let id = text
                        .rsplit("approval ")
                        .next()
                        .unwrap()
                        .trim_end_matches(')');
                    approve(&approver, id.parse().unwrap()).await;
                }
            }
            Some("notifications/elicitation/complete") => {
                assert_eq!(
                    message["params"]["elicitationId"],
                    elicited.clone().unwrap()
                );
                completion = true;
            }
            _ => panic!("unexpected message {message}"),
        }
    };
    let content = &result["result"]["structuredContent"];
    assert_eq!(content["status"], "completed", "{result}");
    assert_eq!(content["approval_id"], elicited.unwrap());
    assert!(
        completion,
        "no notifications/elicitation/complete before the result"
    );
    assert!(!progress.is_empty());
    assert!(progress.windows(2).all(|w| w[0] < w[1]), "{progress:?}");
    assert_eq!(stack.provider.calls().len(), 1);
    stack.stop().await.unwrap();
}

/// One session runs at most [`MAX_CALLS_PER_SESSION`] calls at once: one more is refused at
/// once, without asking the service; when a call ends, its place is free again.
#[tokio::test]
async fn a_session_runs_a_bounded_number_of_calls_at_once() {
    let stack = DemoStack::start().await.unwrap();
    let approver = stack.pair("alice", "test").await.unwrap();
    let mut client = connect(&stack, "100s", json!({})).await;
    let limit = MAX_CALLS_PER_SESSION as u64;
    for id in 1..=limit {
        client.send(refund(id, &format!("A-8{id:02}"), None)).await;
    }
    // Every one of them asked the service (each waits on its approval).
    let waiting = pending_ids(&approver, MAX_CALLS_PER_SESSION).await;

    client.send(refund(100, "A-900", None)).await;
    let (refused, _) = client.until_response(100).await;
    let content = &refused["result"]["structuredContent"];
    assert_eq!(content["status"], "too_many_calls", "{refused}");
    assert_eq!(refused["result"]["isError"], true);
    assert_eq!(
        approver.list("pending").await.unwrap().len(),
        MAX_CALLS_PER_SESSION,
        "the refused call must not reach the service"
    );

    // One call ends (approved): another one may run.
    approve(&approver, waiting[0]).await;
    let done = loop {
        let message = client.next().await;
        if message.get("method").is_none() && message.get("id").is_some() {
            break message;
        }
    };
    assert_eq!(done["result"]["isError"], false, "{done}");
    assert_eq!(stack.provider.calls().len(), 1);
    client.send(refund(101, "A-901", None)).await;
    let now_waiting = pending_ids(&approver, MAX_CALLS_PER_SESSION).await;
    assert!(!now_waiting.contains(&waiting[0]));
    stack.stop().await.unwrap();
}

/// The ids of the pending requests once there are `n`.
async fn pending_ids(approver: &ApproverClient, n: usize) -> Vec<Uuid> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let rows = approver.list("pending").await.unwrap();
        if rows.len() == n {
            return rows.into_iter().map(|r| r.approval_id).collect();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} pending, not {n}",
            rows.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
