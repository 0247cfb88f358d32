//! The audit log's hash chain.
//!
//! Each entry's `hash` is SHA-256 over the 32 raw bytes of `prev_hash` followed by the JCS
//! form of the entry without its `hash` member. The first entry's `prev_hash` is 64 zeros.

use crate::encoding::sha256_hex;
use crate::jcs;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// An app asked for a call (with its reason).
    Requested,
    /// An approver's signed decision was accepted.
    Decided,
    /// The move to `executing` was committed; the call is about to be sent.
    ExecutionStarted,
    /// The upstream call ran and answered.
    Executed,
    /// The upstream call failed, was refused, or its outcome is unknown.
    ExecutionFailed,
    /// The window closed.
    Expired,
    /// The app cancelled.
    Cancelled,
    /// A one-time pairing code was issued.
    PairingCodeCreated,
    /// A Wallet device key was registered for an approver.
    DevicePaired,
    /// A grant was revoked.
    GrantRevoked,
    /// A Wallet device key was revoked: it signs in and decides nothing more.
    DeviceRevoked,
    /// A pending approval's decision was withdrawn because its device key was revoked.
    DecisionWithdrawn,
    /// Unused pairing codes of an approver were cancelled (the approver was removed).
    PairingCodesCancelled,
    /// The configuration (policies, grants, approvers, apps) the service runs with changed.
    ConfigChanged,
}

impl AuditKind {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Decided => "decided",
            Self::ExecutionStarted => "execution_started",
            Self::Executed => "executed",
            Self::ExecutionFailed => "execution_failed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::PairingCodeCreated => "pairing_code_created",
            Self::DevicePaired => "device_paired",
            Self::GrantRevoked => "grant_revoked",
            Self::DeviceRevoked => "device_revoked",
            Self::DecisionWithdrawn => "decision_withdrawn",
            Self::PairingCodesCancelled => "pairing_codes_cancelled",
            Self::ConfigChanged => "config_changed",
        }
    }
}

/// One audit log entry (protocol field names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: i64,
    /// When it was written.
    pub at: Timestamp,
    /// What it records (an [`AuditKind`] name).
    pub kind: String,
    /// The approval concerned, if any.
    pub approval_id: Option<Uuid>,
    /// Who caused it: `app:<id>`, `approver:<id>`, `service`, `admin`, `config`.
    pub actor: String,
    /// Details; never secrets.
    pub data: Value,
    /// `hash` of the previous entry.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// Where and why a chain does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("audit chain breaks at seq {seq}: {why}")]
pub struct ChainBreak {
    /// The first entry that does not verify.
    pub seq: i64,
    /// What is wrong with it.
    pub why: String,
}

#[derive(Serialize)]
struct Unsealed<'a> {
    seq: i64,
    at: &'a Timestamp,
    kind: &'a str,
    approval_id: &'a Option<Uuid>,
    actor: &'a str,
    data: &'a Value,
    prev_hash: &'a str,
}

impl AuditEntry {
    /// Builds the entry that follows `prev_hash` and computes its hash.
    pub fn seal(
        seq: i64,
        at: Timestamp,
        kind: AuditKind,
        approval_id: Option<Uuid>,
        actor: String,
        data: Value,
        prev_hash: String,
    ) -> Self {
        let mut entry = Self {
            seq,
            at,
            kind: kind.as_str().to_string(),
            approval_id,
            actor,
            data,
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        entry
    }

    /// The hash this entry should carry, from its other fields.
    pub fn compute_hash(&self) -> String {
        let unsealed = Unsealed {
            seq: self.seq,
            at: &self.at,
            kind: &self.kind,
            approval_id: &self.approval_id,
            actor: &self.actor,
            data: &self.data,
            prev_hash: &self.prev_hash,
        };
        let mut input =
            hex::decode(&self.prev_hash).unwrap_or_else(|_| self.prev_hash.as_bytes().to_vec());
        input.extend(jcs::to_canonical_bytes(&unsealed).expect("an audit entry always serializes"));
        sha256_hex(input)
    }
}

/// Checks a log entry by entry, in `seq` order from the first entry.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev_hash: String,
    next_seq: i64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            prev_hash: GENESIS_HASH.to_string(),
            next_seq: 1,
        }
    }
}

impl ChainVerifier {
    /// A verifier expecting the first entry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next entry against the ones before it.
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        let fail = |why: String| ChainBreak {
            seq: entry.seq,
            why,
        };
        if entry.seq != self.next_seq {
            let expected = self.next_seq;
            return Err(fail(format!(
                "expected seq {expected}: an entry is missing or out of order"
            )));
        }
        if entry.prev_hash != self.prev_hash {
            return Err(fail(
                "prev_hash does not match the previous entry's hash".into(),
            ));
        }
        if entry.compute_hash() != entry.hash {
            return Err(fail("hash does not match the entry's content".into()));
        }
        self.prev_hash = entry.hash.clone();
        self.next_seq += 1;
        Ok(())
    }

    /// How many entries verified so far.
    pub fn count(&self) -> u64 {
        (self.next_seq - 1) as u64
    }
}

/// Checks a whole log, in `seq` order from the first entry; `Ok` holds the entry count.
pub fn verify_chain<I: IntoIterator<Item = AuditEntry>>(entries: I) -> Result<u64, ChainBreak> {
    let mut verifier = ChainVerifier::new();
    for entry in entries {
        verifier.push(&entry)?;
    }
    Ok(verifier.count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for seq in 1..=n {
            let prev = out
                .last()
                .map(|e| e.hash.clone())
                .unwrap_or_else(|| GENESIS_HASH.into());
            out.push(AuditEntry::seal(
                seq,
                "2026-11-24T12:00:00Z".parse().unwrap(),
                AuditKind::Requested,
                None,
                "app:a".into(),
                json!({"reason": format!("r{seq}")}),
                prev,
            ));
        }
        out
    }

    #[test]
    fn wire_names_are_the_serde_names() {
        for kind in [
            AuditKind::DeviceRevoked,
            AuditKind::DecisionWithdrawn,
            AuditKind::PairingCodesCancelled,
            AuditKind::GrantRevoked,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain(chain(5)), Ok(5));
    }

    #[test]
    fn a_changed_entry_is_named() {
        let mut entries = chain(5);
        entries[2].data = json!({"reason": "r3!"});
        assert_eq!(verify_chain(entries).unwrap_err().seq, 3);
    }

    #[test]
    fn a_removed_entry_is_named() {
        let mut entries = chain(5);
        entries.remove(1);
        assert_eq!(verify_chain(entries).unwrap_err().seq, 3);
    }

    #[test]
    fn a_resealed_entry_breaks_the_next_link() {
        let mut entries = chain(5);
        entries[1].actor = "app:b".into();
        entries[1].hash = entries[1].compute_hash();
        assert_eq!(verify_chain(entries).unwrap_err().seq, 3);
    }
}
