//! The MCP server: lists the declared tools and `countersign_wait`, and turns each
//! `tools/call` into a `proxy_request` (or a wait) through the Rust SDK.
//!
//! Nothing the MCP client sends can approve a call: the gateway only asks the service and
//! reads outcomes with the app's key; approving takes an approver's Wallet signature.

use super::args::published_schema;
use super::config::{GatewayConfig, ToolSpec, WAIT_TOOL};
use super::elicit;
use super::progress::{while_waiting, Reporter};
use super::tools::{
    approval_required, bad_arguments, build_request, completed, outcome_error, too_many_calls,
    wait_arguments, wait_schema, MAX_WAIT,
};
use countersign_sdk::{Client, Error, ProxyOutcome};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use uuid::Uuid;

/// Most tool calls one session runs at once (each may block, holding a wait on the service,
/// for up to `block`); more answer `too_many_calls` at once instead of queueing.
pub const MAX_CALLS_PER_SESSION: usize = 16;

/// What the client is told about this server at initialization.
const INSTRUCTIONS: &str = "These tools make API calls through Countersign. Some calls need a \
person's signed approval in their Countersign Wallet: the tool then returns status \
\"approval_required\" with an approval_url to show the person and an approval_id. Call \
countersign_wait with that approval_id to get the outcome (the provider's answer, or \
denied, expired, cancelled, execution_failed, or still pending). Every tool needs a concrete \
`reason`: the approver reads it.";

/// The gateway: the SDK client (acting as one app) and the declared tools, for one session.
#[derive(Clone)]
pub struct Gateway {
    client: Client,
    block: Duration,
    tools: Arc<BTreeMap<String, Declared>>,
    listed: Arc<Vec<Tool>>,
    /// The session's calls running now, at most [`MAX_CALLS_PER_SESSION`].
    calls: Arc<Semaphore>,
}

/// A declared tool with its published schema (with `reason`).
struct Declared {
    spec: ToolSpec,
    schema: Map<String, Value>,
}

impl Gateway {
    /// A gateway for `config`, calling the service with `client`.
    pub fn new(config: GatewayConfig, client: Client) -> Self {
        let mut listed = Vec::with_capacity(config.tools.len() + 1);
        let mut tools = BTreeMap::new();
        for spec in config.tools {
            let schema = published_schema(&spec.input_schema);
            listed.push(Tool::new(
                spec.name.clone(),
                format!(
                    "{} (calls {} {} with grant {:?}; may need a person's approval)",
                    spec.description, spec.method, spec.path, spec.grant
                ),
                schema.clone(),
            ));
            tools.insert(spec.name.clone(), Declared { spec, schema });
        }
        listed.push(Tool::new(
            WAIT_TOOL,
            format!(
                "Wait for the outcome of a call that returned status approval_required: the \
                 provider's answer once approved, or denied / expired / cancelled / \
                 execution_failed, or pending when nobody decided within timeout_seconds \
                 (at most {}). Waiting never approves anything.",
                MAX_WAIT.as_secs()
            ),
            wait_schema(),
        ));
        Self {
            client,
            block: config.block,
            tools: Arc::new(tools),
            listed: Arc::new(listed),
            calls: Arc::new(Semaphore::new(MAX_CALLS_PER_SESSION)),
        }
    }

    /// The gateway for a new session: the same client and tools, its own call limit.
    pub fn for_session(&self) -> Self {
        Self {
            calls: Arc::new(Semaphore::new(MAX_CALLS_PER_SESSION)),
            ..self.clone()
        }
    }

    /// Runs one declared tool. A call that needs approval points the client at the link
    /// (URL-mode elicitation, where supported), then waits up to `block` with progress
    /// notifications, or returns the link at once.
    async fn call_declared(
        &self,
        declared: &Declared,
        args: &Map<String, Value>,
        context: &RequestContext<RoleServer>,
    ) -> CallToolResult {
        let request = match build_request(&declared.spec, &declared.schema, args) {
            Ok(request) => request,
            Err(message) => return bad_arguments(message),
        };
        let pending = match self.client.proxy_request(request).await {
            Ok(ProxyOutcome::Completed(result)) => return completed(&result, None),
            Ok(ProxyOutcome::Pending(pending)) => pending,
            Err(error) => return outcome_error(&error),
        };
        let elicited =
            elicit::point_at(&context.peer, pending.approval_id, &pending.approval_url).await;
        if self.block.is_zero() {
            return approval_required(&pending);
        }
        let reporter = Reporter::for_request(context);
        let waited = while_waiting(
            reporter.as_ref(),
            self.block,
            &waiting_message(pending.approval_id),
            pending.wait(self.block),
        )
        .await;
        let result = match waited {
            Ok(result) => completed(&result, Some(pending.approval_id)),
            Err(Error::Timeout { .. }) => return approval_required(&pending),
            Err(error) => outcome_error(&error),
        };
        if elicited {
            elicit::completed(&context.peer, pending.approval_id).await;
        }
        result
    }

    /// Runs `countersign_wait`, with progress notifications while it waits.
    async fn call_wait(
        &self,
        args: &Map<String, Value>,
        context: &RequestContext<RoleServer>,
    ) -> CallToolResult {
        let (approval_id, timeout) = match wait_arguments(args) {
            Ok(parsed) => parsed,
            Err(message) => return bad_arguments(message),
        };
        let reporter = Reporter::for_request(context);
        let waited = while_waiting(
            reporter.as_ref(),
            timeout,
            &waiting_message(approval_id),
            self.client.wait(approval_id, timeout),
        )
        .await;
        match waited {
            Ok(result) => completed(&result, Some(approval_id)),
            Err(error) => outcome_error(&error),
        }
    }
}

/// What progress notifications say while a call waits.
fn waiting_message(approval_id: Uuid) -> String {
    format!(
        "Waiting for a person's signed approval in their Countersign Wallet (approval {approval_id})"
    )
}

impl ServerHandler for Gateway {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "countersign",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(INSTRUCTIONS)
    }

    fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListToolsResult, ErrorData>> + Send + '_ {
        std::future::ready(Ok(ListToolsResult::with_all_items(
            self.listed.as_ref().clone(),
        )))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Ok(_running) = Arc::clone(&self.calls).try_acquire_owned() else {
            return Ok(too_many_calls(MAX_CALLS_PER_SESSION).into());
        };
        let args = request.arguments.unwrap_or_default();
        let name = request.name.as_ref();
        let call = async {
            if name == WAIT_TOOL {
                return Ok(self.call_wait(&args, &context).await);
            }
            match self.tools.get(name) {
                Some(declared) => Ok(self.call_declared(declared, &args, &context).await),
                None => Err(ErrorData::invalid_params(
                    format!("no tool named {name:?}"),
                    None,
                )),
            }
        };
        // A client that gives up on a call stops its wait (an approval already asked for
        // stays open and can be waited on again).
        tokio::select! {
            result = call => result.map(Into::into),
            () = context.ct.cancelled() => Err(ErrorData::internal_error("the client cancelled the call", None)),
        }
    }
}

#[cfg(test)]
mod tests;
