//! What a tool call becomes: the [`ProxyRequest`] made from a declared tool and its
//! arguments, and the tool results made from what the service answers.
//!
//! Every result carries a JSON object (as structured content and as text) whose `status`
//! says what happened: `completed` (the provider answered; `isError` when it answered ≥ 400),
//! `approval_required` (with `approval_id`, `approval_url`, `expires_at`), `pending` (the
//! wait ended, the approval goes on), or `denied`, `expired`, `cancelled`,
//! `execution_failed`, `refused`, `error` (all with `isError`).

use super::args::check_arguments;
use super::config::{ToolSpec, REASON_ARG};
use countersign_core::encoding::b64_encode;
use countersign_sdk::{ApprovalResult, Error, PendingApproval, ProxyRequest};
use rmcp::model::CallToolResult;
use serde_json::{json, Map, Value};
use std::time::Duration;
use uuid::Uuid;

/// The wait of `countersign_wait` when the model does not say.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);
/// The longest wait `countersign_wait` accepts (longer asks are shortened to it).
pub const MAX_WAIT: Duration = Duration::from_secs(300);

/// The request a call of `spec` with `args` makes, or what is wrong with the arguments.
///
/// `schema` is the published schema (with `reason`). The path parameters fill the path;
/// the other arguments (but `reason`) become the query of a `GET`/`HEAD`, or the JSON body
/// of any other method (no body when there are none).
pub fn build_request(
    spec: &ToolSpec,
    schema: &Map<String, Value>,
    args: &Map<String, Value>,
) -> Result<ProxyRequest, String> {
    check_arguments(schema, args)?;
    let path = spec.path.fill(args).map_err(|e| e.to_string())?;
    let reason = args
        .get(REASON_ARG)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string();
    let params: Vec<&str> = spec.path.params().collect();
    let rest: Map<String, Value> = args
        .iter()
        .filter(|(name, _)| name.as_str() != REASON_ARG && !params.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let mut request = ProxyRequest::new(&spec.grant, &spec.method, path, reason);
    if matches!(spec.method.as_str(), "GET" | "HEAD") {
        for (name, value) in rest {
            let text = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
            request = request.query(name, text);
        }
    } else if !rest.is_empty() {
        request = request
            .json(&Value::Object(rest))
            .map_err(|e| e.to_string())?;
    }
    Ok(request)
}

/// The provider's answer to a call that ran.
pub fn completed(result: &ApprovalResult, approval_id: Option<Uuid>) -> CallToolResult {
    let mut value = json!({
        "status": "completed",
        "http_status": result.status(),
    });
    if let Some(id) = approval_id {
        value["approval_id"] = json!(id);
    }
    put_body(&mut value, result.body());
    if result.truncated() {
        value["body_truncated"] = json!(true);
    }
    if result.status() >= 400 {
        CallToolResult::structured_error(value)
    } else {
        CallToolResult::structured(value)
    }
}

/// A call that waits for a person's approval.
pub fn approval_required(pending: &PendingApproval) -> CallToolResult {
    CallToolResult::structured(json!({
        "status": "approval_required",
        "approval_id": pending.approval_id,
        "approval_url": pending.approval_url,
        "expires_at": pending.expires_at.to_string(),
        "message": "A person must approve this call in their Countersign Wallet before it is \
    made. Give them approval_url, then call countersign_wait with approval_id to get the outcome.",
    }))
}

/// An error of the SDK: an approval's final outcome, a refusal, or a transport problem.
/// [`Error::Timeout`] is not an error here: the approval is still `pending`.
pub fn outcome_error(error: &Error) -> CallToolResult {
    let value = match error {
        Error::Timeout { approval_id } => {
            return CallToolResult::structured(json!({
                "status": "pending",
                "approval_id": approval_id,
                "message": "Nobody has decided yet. Call countersign_wait again later.",
            }));
        }
        Error::Denied {
            approval_id,
            approver,
            comment,
            rule,
        } => json!({
            "status": "denied",
            "approval_id": approval_id,
            "approver": approver,
            "comment": comment,
            "rule": rule,
            "message": "A person denied this call; it was not made. Do not retry it unchanged.",
        }),
        Error::Expired { approval_id } => json!({
            "status": "expired",
            "approval_id": approval_id,
            "message": "Nobody approved in time; the call was not made.",
        }),
        Error::Cancelled { approval_id } => json!({
            "status": "cancelled",
            "approval_id": approval_id,
            "message": "The request was withdrawn; the call was not made.",
        }),
        Error::ExecutionFailed {
            approval_id,
            reason,
            message,
            status,
            body,
        } => {
            let mut value = json!({
                "status": "execution_failed",
                "approval_id": approval_id,
                "reason": reason,
                "message": message,
                "http_status": status,
            });
            if let Some(body) = body {
                put_body(&mut value, body);
            }
            value
        }
        Error::PolicyDenied { rule, message } => json!({
            "status": "refused",
            "rule": rule,
            "message": message,
        }),
        Error::Api {
            status,
            code,
            message,
        } => json!({
            "status": "error",
            "http_status": status,
            "code": code,
            "message": message,
        }),
        other => json!({"status": "error", "message": other.to_string()}),
    };
    CallToolResult::structured_error(value)
}

/// Arguments that cannot be used: a tool error the model can read and fix.
pub fn bad_arguments(message: impl Into<String>) -> CallToolResult {
    CallToolResult::structured_error(json!({
        "status": "invalid_arguments",
        "message": message.into(),
    }))
}

/// The session already runs as many calls as it may: a tool error, nothing was sent.
pub fn too_many_calls(limit: usize) -> CallToolResult {
    CallToolResult::structured_error(json!({
        "status": "too_many_calls",
        "message": format!(
            "this session already runs {limit} tool calls at once; wait for one to finish \
             (nothing was sent for this call)"
        ),
    }))
}

/// The arguments of `countersign_wait`: the approval and how long to wait.
pub fn wait_arguments(args: &Map<String, Value>) -> Result<(Uuid, Duration), String> {
    if let Some(name) = args
        .keys()
        .find(|k| !matches!(k.as_str(), "approval_id" | "timeout_seconds"))
    {
        return Err(format!(
            "unknown argument `{name}` (the tool takes: approval_id, timeout_seconds)"
        ));
    }
    let id = match args.get("approval_id") {
        Some(Value::String(id)) => Uuid::parse_str(id.trim())
            .map_err(|_| format!("approval_id {id:?} is not an approval id (a UUID)"))?,
        Some(_) => return Err("argument `approval_id` must be of type string".into()),
        None => return Err("missing required argument(s): approval_id".into()),
    };
    let wait = match args.get("timeout_seconds") {
        None | Some(Value::Null) => DEFAULT_WAIT,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(secs) if secs.is_finite() && secs >= 0.0 => {
                Duration::from_secs_f64(secs.min(MAX_WAIT.as_secs_f64()))
            }
            _ => return Err("timeout_seconds must be a number ≥ 0".into()),
        },
        Some(_) => return Err("argument `timeout_seconds` must be of type number".into()),
    };
    Ok((id, wait))
}

/// The input schema of `countersign_wait`.
pub fn wait_schema() -> Map<String, Value> {
    let schema = json!({
        "type": "object",
        "properties": {
            "approval_id": {
                "type": "string",
                "description": "The approval_id a tool returned with status approval_required.",
            },
            "timeout_seconds": {
                "type": "number",
                "minimum": 0,
                "maximum": MAX_WAIT.as_secs(),
                "description": format!(
                    "How long to wait for the outcome (default {}, at most {}).",
                    DEFAULT_WAIT.as_secs(),
                    MAX_WAIT.as_secs()
                ),
            },
        },
        "required": ["approval_id"],
        "additionalProperties": false,
    });
    match schema {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// Puts a body into `value`: as JSON when it is JSON, as text when it is UTF-8, else as
/// `body_base64url`.
fn put_body(value: &mut Value, body: &[u8]) {
    if body.is_empty() {
        return;
    }
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        value["body"] = json;
    } else if let Ok(text) = std::str::from_utf8(body) {
        value["body"] = Value::from(text);
    } else {
        value["body_base64url"] = Value::from(b64_encode(body));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::args::published_schema;
    use crate::mcp::config::GatewayConfig;
    use std::path::Path;

    fn spec(method: &str, path: &str) -> (ToolSpec, Map<String, Value>) {
        let text = format!(
            r#"
[mcp]
service = "http://127.0.0.1:1"
app_key_env = "K"
[[tool]]
name = "t"
description = "d"
grant = "g"
method = "{method}"
path = "{path}"
input_schema = {{ type = "object", properties = {{ order = {{ type = "string" }}, amount = {{ type = "integer" }} }}, required = ["order"] }}
"#
        );
        let config = GatewayConfig::parse(&text, Path::new("t.toml")).unwrap();
        let spec = config.tools.into_iter().next().unwrap();
        let schema = published_schema(&spec.input_schema);
        (spec, schema)
    }

    fn args(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn other_arguments_become_the_json_body() {
        let (spec, schema) = spec("POST", "/v1/orders/{order}/refunds");
        let request = build_request(
            &spec,
            &schema,
            &args(json!({"order": "o 1", "amount": 5, "reason": " ticket 9 "})),
        )
        .unwrap();
        assert_eq!(request.grant, "g");
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/v1/orders/o%201/refunds");
        assert_eq!(request.reason, "ticket 9");
        let body: Value = serde_json::from_slice(request.body.as_deref().unwrap()).unwrap();
        assert_eq!(body, json!({"amount": 5}));
    }

    #[test]
    fn no_other_arguments_no_body() {
        let (spec, schema) = spec("DELETE", "/v1/orders/{order}");
        let request =
            build_request(&spec, &schema, &args(json!({"order": "o1", "reason": "r"}))).unwrap();
        assert_eq!(request.body, None);
    }

    #[test]
    fn get_arguments_become_the_query() {
        let (spec, schema) = spec("GET", "/v1/orders/{order}");
        let request = build_request(
            &spec,
            &schema,
            &args(json!({"order": "o1", "amount": 5, "reason": "r"})),
        )
        .unwrap();
        assert_eq!(request.query["amount"], "5");
        assert_eq!(request.body, None);
    }

    #[test]
    fn bad_arguments_and_hostile_paths_are_refused() {
        let (spec, schema) = spec("POST", "/v1/orders/{order}/refunds");
        let e = build_request(&spec, &schema, &args(json!({"order": "o1"}))).unwrap_err();
        assert!(e.contains("reason"), "{e}");
        for hostile in ["../x", "a/b", "..", ""] {
            let e = build_request(
                &spec,
                &schema,
                &args(json!({"order": hostile, "reason": "r"})),
            )
            .unwrap_err();
            assert!(e.contains("would change the path"), "{hostile:?}: {e}");
        }
    }

    #[test]
    fn wait_arguments_are_checked_and_capped() {
        let id = Uuid::now_v7();
        let (got, wait) = wait_arguments(&args(json!({"approval_id": id.to_string()}))).unwrap();
        assert_eq!((got, wait), (id, DEFAULT_WAIT));
        let (_, wait) = wait_arguments(&args(
            json!({"approval_id": id.to_string(), "timeout_seconds": 1e9}),
        ))
        .unwrap();
        assert_eq!(wait, MAX_WAIT);
        assert!(wait_arguments(&args(json!({}))).is_err());
        assert!(wait_arguments(&args(json!({"approval_id": "nope"}))).is_err());
        assert!(wait_arguments(&args(
            json!({"approval_id": id.to_string(), "timeout_seconds": -1})
        ))
        .is_err());
        assert!(wait_arguments(&args(json!({"approval_id": id.to_string(), "x": 1}))).is_err());
    }

    #[test]
    fn outcomes_become_tool_results() {
        let id = Uuid::now_v7();
        let timeout = outcome_error(&Error::Timeout { approval_id: id });
        assert_eq!(timeout.is_error, Some(false));
        assert_eq!(timeout.structured_content.unwrap()["status"], "pending");
        let denied = outcome_error(&Error::Denied {
            approval_id: id,
            approver: "alice".into(),
            comment: Some("no".into()),
            rule: None,
        });
        assert_eq!(denied.is_error, Some(true));
        let value = denied.structured_content.unwrap();
        assert_eq!(
            (value["status"].as_str(), value["comment"].as_str()),
            (Some("denied"), Some("no"))
        );
    }
}
