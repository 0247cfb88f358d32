//! Appending to and reading the hash-chained audit log.

use super::{corrupt, ApprovalHead, Store, StoreError};
use countersign_core::audit::{AuditEntry, AuditKind, ChainBreak, ChainVerifier, GENESIS_HASH};
use countersign_core::Timestamp;
use serde_json::Value;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

/// An audit entry before it has a place in the chain.
#[derive(Debug, Clone)]
pub struct AuditDraft {
    /// What happened.
    pub kind: AuditKind,
    /// The approval concerned.
    pub approval_id: Option<Uuid>,
    /// Who caused it.
    pub actor: String,
    /// Details (never secrets).
    pub data: Value,
}

impl AuditDraft {
    /// A draft about an approval.
    pub fn approval(kind: AuditKind, id: Uuid, actor: impl Into<String>, data: Value) -> Self {
        Self {
            kind,
            approval_id: Some(id),
            actor: actor.into(),
            data,
        }
    }
    /// A draft about no approval in particular.
    pub fn general(kind: AuditKind, actor: impl Into<String>, data: Value) -> Self {
        Self {
            kind,
            approval_id: None,
            actor: actor.into(),
            data,
        }
    }
}

/// Appends `draft` after the current last entry. Call inside a write transaction.
pub(crate) async fn append(
    conn: &mut AnyConnection,
    draft: AuditDraft,
    at: Timestamp,
) -> Result<AuditEntry, StoreError> {
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let entry = AuditEntry::seal(
        seq,
        at,
        draft.kind,
        draft.approval_id,
        draft.actor,
        draft.data,
        prev_hash,
    );
    sqlx::query(
        "INSERT INTO audit (seq, at, kind, approval_id, actor, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(entry.seq)
    .bind(entry.at.to_string())
    .bind(&entry.kind)
    .bind(entry.approval_id.map(|u| u.to_string()))
    .bind(&entry.actor)
    .bind(entry.data.to_string())
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut *conn)
    .await?;
    // On PostgreSQL a trigger notifies the replicas (migration 0004), delivered when (and only
    // if) the transaction commits.
    Ok(entry)
}

/// The PostgreSQL notification channel every audit append notifies (by trigger).
pub(crate) const APPENDED_CHANNEL: &str = "countersign_audit_appended";

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<AuditEntry, StoreError> {
    let at: String = row.try_get("at")?;
    let approval_id: Option<String> = row.try_get("approval_id")?;
    let data: String = row.try_get("data")?;
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        at: at.parse().map_err(corrupt)?,
        kind: row.try_get("kind")?,
        approval_id: approval_id
            .map(|s| s.parse().map_err(corrupt))
            .transpose()?,
        actor: row.try_get("actor")?,
        data: serde_json::from_str(&data).map_err(corrupt)?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// The `head_*` columns of [`Store::audit_after_with_heads`].
fn head_from_row(row: &sqlx::any::AnyRow) -> Result<Option<ApprovalHead>, StoreError> {
    let Some(id) = row.try_get::<Option<String>, _>("head_id")? else {
        return Ok(None);
    };
    let statement: String = row.try_get("head_statement")?;
    let approvers: Option<String> = row.try_get("head_approvers")?;
    Ok(Some(ApprovalHead {
        id: id.parse().map_err(corrupt)?,
        status: super::approvals::status_of(&row.try_get::<String, _>("head_status")?)?,
        statement: serde_json::from_str(&statement).map_err(corrupt)?,
        quorum: row.try_get::<i64, _>("head_quorum")? as u32,
        approvers: approvers
            .map(|a| a.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
    }))
}

impl Store {
    /// Appends one entry on its own (for changes that have no other row to write).
    pub async fn append_audit(
        &self,
        draft: AuditDraft,
        at: Timestamp,
    ) -> Result<AuditEntry, StoreError> {
        let mut tx = self.begin_write().await?;
        let entry = append(&mut tx, draft, at).await?;
        self.commit(tx).await?;
        Ok(entry)
    }

    /// Up to `limit` entries with `seq > after`, in order.
    pub async fn audit_after(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query("SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Up to `limit` entries with `seq > after`, in order, each with the head of the approval
    /// it is about (`None` for general entries) — one query per page, for the event feed and
    /// event streams.
    pub async fn audit_after_with_heads(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(AuditEntry, Option<ApprovalHead>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.*, p.id AS head_id, p.status AS head_status, p.statement AS head_statement,
                p.quorum AS head_quorum,
                (SELECT string_agg(x.approver_id, ',' ORDER BY x.approver_id)
                 FROM approval_approvers x WHERE x.approval_id = p.id) AS head_approvers
             FROM audit e LEFT JOIN approvals p ON p.id = e.approval_id
             WHERE e.seq > $1 ORDER BY e.seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| Ok((entry_from_row(row)?, head_from_row(row)?)))
            .collect()
    }

    /// Entries about one approval, in order.
    pub async fn audit_for(&self, approval_id: Uuid) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query("SELECT * FROM audit WHERE approval_id = $1 ORDER BY seq")
            .bind(approval_id.to_string())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// The `seq` of the last entry (0 when empty).
    pub async fn audit_head(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM audit")
                .fetch_one(&self.reader)
                .await?,
        )
    }

    /// Checks the whole chain, reading it in pages; `Ok(Ok(n))` is the number of entries.
    pub async fn verify_audit(&self) -> Result<Result<u64, ChainBreak>, StoreError> {
        let mut verifier = ChainVerifier::new();
        let mut after = 0;
        loop {
            let rows = sqlx::query("SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT 1000")
                .bind(after)
                .fetch_all(&self.reader)
                .await?;
            if rows.is_empty() {
                return Ok(Ok(verifier.count()));
            }
            for row in &rows {
                let seq: i64 = row.try_get("seq")?;
                let checked = entry_from_row(row)
                    .map_err(|e| ChainBreak {
                        seq,
                        why: format!("entry does not decode: {e}"),
                    })
                    .and_then(|entry| verifier.push(&entry));
                if let Err(brk) = checked {
                    return Ok(Err(brk));
                }
                after = seq;
            }
        }
    }
}
