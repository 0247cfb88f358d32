//! Past approved requests an approver may compare a new one with.

use super::{corrupt, Store, StoreError};
use countersign_core::Statement;
use sqlx::Row;
use uuid::Uuid;

/// One past approved request.
#[derive(Debug, Clone)]
pub struct PastApproval {
    /// Its id.
    pub id: Uuid,
    /// Its statement.
    pub statement: Statement,
    /// Its body.
    pub body: Vec<u8>,
}

impl Store {
    /// Approvals that needed a person and were approved (whatever their execution did),
    /// named for `approver_id`, through `grant` with `method`, older than `before`: newest
    /// first, at most `limit` rows scanned. The second value is the last id scanned (the
    /// cursor of the next page), `None` when fewer than `limit` rows remained.
    pub async fn approved_history(
        &self,
        approver_id: &str,
        grant: &str,
        method: &str,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<(Vec<PastApproval>, Option<Uuid>), StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.statement, a.body FROM approvals a
             JOIN approval_approvers p ON p.approval_id = a.id
             WHERE p.approver_id = $1 AND a.grant_id = $2
               AND a.status IN ('approved', 'executing', 'succeeded', 'execution_failed')
               AND a.method = $3
               AND a.id < $4
             ORDER BY a.id DESC LIMIT $5",
        )
        .bind(approver_id)
        .bind(grant)
        .bind(method)
        .bind(super::approvals::before_cursor(before))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            let statement: String = row.try_get("statement")?;
            out.push(PastApproval {
                id: id.parse().map_err(corrupt)?,
                statement: serde_json::from_str(&statement).map_err(corrupt)?,
                body: row.try_get("body")?,
            });
        }
        let next = (rows.len() as i64 == limit)
            .then(|| out.last().map(|p| p.id))
            .flatten();
        Ok((out, next))
    }
}
