//! URL-mode elicitation (MCP 2025-11-25): when a call needs approval and the client declared
//! it can open links (`capabilities.elicitation.url`), the gateway asks it to show the person
//! the `approval_url`.
//!
//! The client's answer (accept, decline, cancel) is only logged: it approves nothing and
//! denies nothing. Accept means the person agreed to open the link; the approval itself is a
//! signature made in their Wallet, which the service checks. The request is sent while the
//! call is handled and its answer is awaited in the background, so a client that never
//! answers does not hold the call; rmcp writes messages concurrently, so the request may reach
//! the client just before or just after the tool's result (over HTTP, after it, on the
//! session's standalone stream).

use rmcp::model::ClientResult;
use rmcp::model::{
    CustomNotification, ElicitRequest, ElicitRequestParams, ServerNotification, ServerRequest,
};
use rmcp::service::{ElicitationMode, Peer, PeerRequestOptions, RoleServer};
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

/// How long the gateway listens for the client's answer (it is only logged).
const ANSWER_WAIT: Duration = Duration::from_secs(600);

/// The elicitation the gateway sends for an approval: the link and what it is for.
pub fn params(approval_id: Uuid, approval_url: &str) -> ElicitRequestParams {
    ElicitRequestParams::UrlElicitationParams {
        meta: None,
        message: "This call needs a person's approval. Open the link to review and sign it in \
                  your Countersign Wallet; nothing you answer here approves or denies it."
            .to_string(),
        url: approval_url.to_string(),
        elicitation_id: approval_id.to_string(),
    }
}

/// Whether the client declared URL-mode elicitation.
pub fn supported(peer: &Peer<RoleServer>) -> bool {
    peer.supported_elicitation_modes()
        .contains(&ElicitationMode::Url)
}

/// Asks the client to show `approval_url` when it can; returns whether it was asked.
///
/// Call it from the request's own handler (so that over HTTP the request travels on that
/// call's stream while it is open).
pub async fn point_at(peer: &Peer<RoleServer>, approval_id: Uuid, approval_url: &str) -> bool {
    if !supported(peer) {
        return false;
    }
    let request =
        ServerRequest::ElicitRequest(ElicitRequest::new(params(approval_id, approval_url)));
    let handle = match peer
        .send_cancellable_request(request, PeerRequestOptions::with_timeout(ANSWER_WAIT))
        .await
    {
        Ok(handle) => handle,
        Err(error) => {
            tracing::info!(%approval_id, %error, "could not send the approval link as an elicitation");
            return false;
        }
    };
    tokio::spawn(async move {
        match handle.await_response().await {
            Ok(ClientResult::ElicitResult(result)) => tracing::info!(
                %approval_id,
                action = ?result.action,
                "the MCP client answered the approval link's elicitation (this decides nothing)"
            ),
            Ok(other) => {
                tracing::info!(%approval_id, ?other, "unexpected answer to an elicitation")
            }
            Err(error) => tracing::info!(%approval_id, %error, "no answer to the elicitation"),
        }
    });
    true
}

/// Tells the client that the interaction the elicitation for `approval_id` started is over
/// (`notifications/elicitation/complete`): the approval has its outcome.
pub async fn completed(peer: &Peer<RoleServer>, approval_id: Uuid) {
    let notification = ServerNotification::CustomNotification(CustomNotification::new(
        "notifications/elicitation/complete",
        Some(json!({ "elicitationId": approval_id.to_string() })),
    ));
    if let Err(error) = peer.send_notification(notification).await {
        tracing::debug!(%approval_id, %error, "could not send notifications/elicitation/complete");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_elicitation_is_url_mode_with_the_approval_link() {
        let id = Uuid::now_v7();
        let value = serde_json::to_value(params(id, "countersign://approve?x=1")).unwrap();
        assert_eq!(value["mode"], "url");
        assert_eq!(value["url"], "countersign://approve?x=1");
        assert_eq!(value["elicitationId"], id.to_string());
        assert!(value.get("requestedSchema").is_none(), "{value}");
    }
}
