//! The one door to the service: the approver client crate, re-exported for this crate's
//! modules. Only [`crate::source`] calls it.

pub use countersign_approver::{ApproverClient, ApproverError, HttpClients, Pairing, Review};
