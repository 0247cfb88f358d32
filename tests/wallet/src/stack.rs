//! A Countersign stack on loopback for the Wallet's end-to-end test: the test kit's stack
//! (the sample payments provider, the service on a temporary SQLite file, one approver
//! `alice` and one app `support-agent` whose refunds need approval), with the approval window
//! the test needs.

use countersign_kit::config::DEMO_POLICY;
use countersign_kit::stack::DemoStack;
use countersign_sdk::{PendingApproval, ProxyOutcome, ProxyRequest};
use std::ops::{Deref, DerefMut};

/// The second approver of [`Stack::start_two_approvers`].
pub const ON_CALL: &str = "oncall";

/// Refunds need alice, payouts need `oncall`; reads run free. (The `[[approver]]` table
/// adds `oncall` to the kit's approvers.)
pub const TWO_APPROVERS_POLICY: &str = r#"[[approver]]
id = "oncall"
name = "On Call"

[[policy]]
id = "refunds"
window = "1h"
require = ["support-leads"]

[[policy.gate]]
id = "support-leads"
approvers = ["alice"]
quorum = 1

[[policy.gate]]
id = "on-call"
approvers = ["oncall"]
quorum = 1

[[policy.rule]]
id = "payouts-need-on-call"
methods = ["POST"]
path = "/v1/payouts"
action = "require"
gates = ["on-call"]

[[policy.rule]]
id = "reads"
methods = ["GET"]
path = "/v1/*"
action = "allow"
"#;

/// The running stack (the kit's [`DemoStack`]: `provider`, `url`, `api_key`, `agent()`,
/// `invite()`, `restart()` …).
pub struct Stack(DemoStack);

impl Stack {
    /// Starts everything on free loopback ports (approval window one hour).
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with_window("1h").await
    }

    /// Starts everything with approval window `window` (e.g. `"3s"`).
    pub async fn start_with_window(window: &str) -> anyhow::Result<Self> {
        Self::start_with(window, "").await
    }

    /// Starts everything with approval window `window` and `server_lines` added to the
    /// service's `[server]` table (e.g. `"max_pending_per_app = 20000"`).
    pub async fn start_with(window: &str, server_lines: &str) -> anyhow::Result<Self> {
        let policy = DEMO_POLICY.replace("window = \"1h\"", &format!("window = \"{window}\""));
        Ok(Self(DemoStack::start_with(server_lines, &policy).await?))
    }

    /// Starts everything with a second approver, `oncall` ("On Call"): refunds need alice
    /// (gate `support-leads`), payouts (`POST /v1/payouts`) need oncall (gate `on-call`), so
    /// each approver has requests of their own ([`TWO_APPROVERS_POLICY`]).
    pub async fn start_two_approvers() -> anyhow::Result<Self> {
        Ok(Self(DemoStack::start_with("", TWO_APPROVERS_POLICY).await?))
    }

    /// Stops the service and the provider.
    pub async fn stop(self) {
        if let Err(e) = self.0.stop().await {
            eprintln!("stopping the stack: {e}");
        }
    }
}

impl Stack {
    /// A POST to `path` of the payments grant with the JSON `body`, by the stack's agent,
    /// that waits for approval. Panics when it ran without one (every path the tests use
    /// needs an approval) or the service refused it.
    pub async fn pending_request(
        &self,
        path: &str,
        reason: &str,
        body: serde_json::Value,
    ) -> PendingApproval {
        let request = ProxyRequest::post("payments", path, reason)
            .json(&body)
            .unwrap();
        match self.agent().unwrap().proxy_request(request).await.unwrap() {
            ProxyOutcome::Pending(p) => p,
            ProxyOutcome::Completed(_) => panic!("{path} ran without approval"),
        }
    }

    /// A POST to `path` whose body carries its reason, waiting for approval
    /// ([`Self::pending_request`]).
    pub async fn pending_at(&self, path: &str, reason: &str) -> PendingApproval {
        self.pending_request(path, reason, serde_json::json!({"reason": reason}))
            .await
    }
}

impl Deref for Stack {
    type Target = DemoStack;
    fn deref(&self) -> &DemoStack {
        &self.0
    }
}

impl DerefMut for Stack {
    fn deref_mut(&mut self) -> &mut DemoStack {
        &mut self.0
    }
}
