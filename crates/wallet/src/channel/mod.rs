//! The local channel between the Wallet's two processes: the tray process, which holds the
//! [`crate::Wallet`] (keys, signing, sync, notifications), and the window process, which shows
//! the view and forwards each of its commands here.
//!
//! One JSON object per line over a Unix stream socket (one end of a `socketpair` the tray
//! process hands the window process it starts). The window process sends [`Call`]s; the tray
//! process answers each with an [`Answer`] carrying the same id, in any order, and pushes
//! [`ToWindow`] events (Wallet updates, links, the title, raise) at any time.
//!
//! - [`framing`]: reading and writing bounded lines ([`MAX_LINE`]); a longer line, malformed
//!   JSON or a message of an unknown type ends the connection with a [`ChannelError`].
//! - [`client`]: the window side: calls with ids, answers matched to them, events handed on.
//! - [`server`]: the tray side: each call dispatched (concurrently), its answer written back.
//!
//! Nothing that signs crosses the channel: `decide` names a request and echoes the digest the
//! view showed, as the view's command always did; the key never leaves the tray process.

pub mod client;
pub mod framing;
pub mod server;

use crate::error::ErrorBody;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use framing::{encode, write_line, LineReader, MAX_LINE};

/// A view command forwarded by the window process: `{"id", "command", "args"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// Chosen by the window process; the answer carries it back.
    pub id: u64,
    /// The command's name (one of the view's commands).
    pub command: String,
    /// Its arguments as the view sent them (an object with camelCase keys, or null).
    #[serde(default)]
    pub args: Value,
}

/// The answer to one [`Call`]: `{"id", "result"}` or `{"id", "error": {code, message}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The call's id.
    pub id: u64,
    /// The command's value, when it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

impl Answer {
    /// An answer from a command's outcome.
    pub fn new(id: u64, outcome: Result<Value, ErrorBody>) -> Self {
        match outcome {
            Ok(value) => Self {
                id,
                result: Some(value),
                error: None,
            },
            Err(e) => Self {
                id,
                result: None,
                error: Some(e),
            },
        }
    }

    /// The outcome it carries; an answer with both or neither is malformed.
    pub fn into_outcome(self) -> Result<Value, ErrorBody> {
        match (self.result, self.error) {
            (Some(v), None) => Ok(v),
            (None, Some(e)) => Err(e),
            // `null` results deserialize as absent: a command returning nothing.
            (None, None) => Ok(Value::Null),
            (Some(_), Some(_)) => Err(error_body(
                "channel",
                "the Wallet answered with both a result and an error",
            )),
        }
    }
}

/// The events the view listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ViewEvent {
    /// A [`crate::WalletUpdate`].
    #[serde(rename = "wallet-update")]
    WalletUpdate,
    /// A `countersign://` link (its text).
    #[serde(rename = "open-link")]
    OpenLink,
}

impl ViewEvent {
    /// The event's name, as the view listens for it.
    pub fn name(self) -> &'static str {
        match self {
            ViewEvent::WalletUpdate => "wallet-update",
            ViewEvent::OpenLink => "open-link",
        }
    }
}

/// What the tray process sends the window process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ToWindow {
    /// The answer to a call.
    Answer(Answer),
    /// An event for the view.
    Event {
        /// Which.
        event: ViewEvent,
        /// Its payload.
        payload: Value,
    },
    /// The window's title (it shows the pending count).
    Title {
        /// The text.
        title: String,
    },
    /// Bring the window forward (an open was asked for while it is shown).
    Raise,
}

/// The error codes the channel itself answers with (the Wallet's own are
/// [`crate::WalletError::code`]).
pub mod codes {
    /// The command is not one of the view's.
    pub const UNKNOWN_COMMAND: &str = "unknown_command";
    /// The arguments do not fit the command.
    pub const BAD_ARGUMENTS: &str = "bad_arguments";
    /// The connection to the tray process is gone.
    pub const CHANNEL: &str = "channel";
}

/// An [`ErrorBody`] with this code and message.
pub fn error_body(code: &str, message: impl Into<String>) -> ErrorBody {
    ErrorBody {
        code: code.into(),
        message: message.into(),
    }
}

/// A failure of the channel itself; each ends the connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// Reading or writing the socket failed.
    #[error("the Wallet's channel failed: {0}")]
    Io(#[from] std::io::Error),
    /// A line longer than [`MAX_LINE`] bytes (refused, not buffered).
    #[error("a message on the Wallet's channel is longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// A line that is not a message of the expected kind.
    #[error("a malformed message on the Wallet's channel: {0}")]
    Malformed(#[from] serde_json::Error),
    /// The connection ended in the middle of a line.
    #[error("the Wallet's channel closed in the middle of a message")]
    Truncated,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_have_the_documented_shape() {
        let call = Call {
            id: 7,
            command: "inbox".into(),
            args: json!({"offset": 0, "limit": 50}),
        };
        assert_eq!(
            serde_json::to_value(&call).unwrap(),
            json!({"id": 7, "command": "inbox", "args": {"offset": 0, "limit": 50}})
        );
        let ok = ToWindow::Answer(Answer::new(7, Ok(json!([1]))));
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            json!({"type": "answer", "id": 7, "result": [1]})
        );
        let err = ToWindow::Answer(Answer::new(8, Err(error_body("not_reviewed", "open it"))));
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"type": "answer", "id": 8, "error": {"code": "not_reviewed", "message": "open it"}})
        );
        let event = ToWindow::Event {
            event: ViewEvent::OpenLink,
            payload: json!("countersign://x"),
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"type": "event", "event": "open-link", "payload": "countersign://x"})
        );
        assert_eq!(
            serde_json::to_value(ToWindow::Raise).unwrap(),
            json!({"type": "raise"})
        );
    }

    #[test]
    fn answers_carry_exactly_one_outcome() {
        assert_eq!(Answer::new(1, Ok(json!(2))).into_outcome(), Ok(json!(2)));
        let both = Answer {
            id: 1,
            result: Some(json!(1)),
            error: Some(error_body("x", "y")),
        };
        assert_eq!(both.into_outcome().unwrap_err().code, codes::CHANNEL);
        let unit: Answer = serde_json::from_value(json!({"id": 3, "result": null})).unwrap();
        assert_eq!(unit.into_outcome(), Ok(Value::Null));
    }

    #[test]
    fn unknown_message_types_and_fields_are_refused() {
        for text in [
            r#"{"type":"sign","id":1}"#,
            r#"{"type":"event","event":"eval","payload":"x"}"#,
            r#"{"type":"answer","id":1,"result":1,"extra":true}"#,
        ] {
            assert!(
                serde_json::from_str::<ToWindow>(text).is_err(),
                "accepted {text}"
            );
        }
        assert!(serde_json::from_str::<Call>(r#"{"id":1,"command":"x","key":"k"}"#).is_err());
        assert!(serde_json::from_str::<Call>(r#"{"command":"x"}"#).is_err());
    }
}
