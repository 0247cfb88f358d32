//! Reading the history of requested calls for tools (`countersign policy replay`): the
//! `requested` audit entries with the request body of their approval, streamed in audit
//! order from a read-only connection, so a running service can go on writing the same
//! database.

use super::StoreError;
use crate::config::{Config, DatabaseUrl};
use countersign_core::audit::AuditKind;
use countersign_core::Timestamp;
use futures::TryStreamExt;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};
use std::path::Path;

/// One `requested` audit entry, borrowed from the row being read.
#[derive(Debug, Clone, Copy)]
pub struct RequestedRow<'r> {
    /// The entry's place in the chain.
    pub seq: i64,
    /// When it was written (`YYYY-MM-DDTHH:MM:SSZ`).
    pub at: &'r str,
    /// The approval it records, as text.
    pub approval_id: Option<&'r str>,
    /// The entry's data (JSON with `statement`, `approval_required`, and in newer entries
    /// `matched` and `requirement`).
    pub data: &'r str,
    /// The request body from the approval's row; `None` when there is no such row.
    pub body: Option<&'r [u8]>,
}

/// Read-only access to a service's database for reading its history.
#[derive(Debug)]
pub struct History {
    pool: AnyPool,
}

impl History {
    /// Opens the database `config` names, read-only; the file must exist.
    pub async fn open_config(config: &Config) -> Result<Self, StoreError> {
        match &config.server.database {
            DatabaseUrl::Sqlite { path } => Self::open(path).await,
            DatabaseUrl::Postgres { url } => {
                sqlx::any::install_default_drivers();
                // Every transaction of this session is read-only: a tool cannot write.
                let mut url = url.clone();
                url.query_pairs_mut()
                    .append_pair("options", "-c default_transaction_read_only=on");
                let pool = AnyPoolOptions::new()
                    .max_connections(1)
                    .connect(url.as_str())
                    .await?;
                Ok(Self { pool })
            }
        }
    }

    /// Opens the SQLite file at `path` read-only (nothing is created or migrated).
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .after_connect(super::sqlite_reader_settings)
            .connect(&super::sqlite_url(path, "ro"))
            .await?;
        Ok(Self { pool })
    }

    /// Calls `visit` with every `requested` entry written at or after `since` (all when
    /// `None`), in audit order, one row at a time; returns how many there were.
    pub async fn for_each_requested(
        &self,
        since: Option<Timestamp>,
        mut visit: impl FnMut(RequestedRow<'_>),
    ) -> Result<u64, StoreError> {
        // `at` is canonical UTC text, so text order is time order.
        let since = since.map_or_else(String::new, |t| t.to_string());
        let mut rows = sqlx::query(
            "SELECT a.seq, a.at, a.approval_id, a.data, p.body
             FROM audit a LEFT JOIN approvals p ON p.id = a.approval_id
             WHERE a.kind = $1 AND a.at >= $2
             ORDER BY a.seq",
        )
        .bind(AuditKind::Requested.as_str())
        .bind(since)
        .fetch(&self.pool);
        let mut count = 0;
        while let Some(row) = rows.try_next().await? {
            let at: String = row.try_get("at")?;
            let approval_id: Option<String> = row.try_get("approval_id")?;
            let data: String = row.try_get("data")?;
            let body: Option<Vec<u8>> = row.try_get("body")?;
            visit(RequestedRow {
                seq: row.try_get("seq")?,
                at: &at,
                approval_id: approval_id.as_deref(),
                data: &data,
                body: body.as_deref(),
            });
            count += 1;
        }
        Ok(count)
    }

    /// Closes the connection.
    pub async fn close(self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AuditDraft, NewApproval, Store};
    use countersign_core::encoding::sha256_hex;
    use countersign_core::{ApprovalStatus, Statement};
    use serde_json::json;
    use uuid::Uuid;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_unix(1_800_000_000 + secs).unwrap()
    }

    async fn request(store: &Store, at: i64, body: &[u8]) -> Uuid {
        let statement = Statement {
            v: 1,
            service: "svc".into(),
            approval_id: Uuid::now_v7(),
            app: "app".into(),
            grant: "g".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:1/x".into(),
            headers: Default::default(),
            body_sha256: sha256_hex(body),
            body_size: body.len() as u64,
            reason: "r".into(),
            created_at: t(at),
            expires_at: t(at + 60),
            policy_id: "p".into(),
        };
        let id = statement.approval_id;
        let new = NewApproval {
            request_digest: statement.request_digest(),
            statement,
            body: body.to_vec(),
            requirement: Vec::new(),
            matched: Vec::new(),
            status: ApprovalStatus::Pending,
            lease: None,
        };
        let audit = vec![
            AuditDraft::approval(
                AuditKind::Requested,
                id,
                "app:app",
                json!({"approval_required": true}),
            ),
            AuditDraft::approval(AuditKind::Expired, id, "service", json!({})),
        ];
        store
            .create_approval(&new, &[], audit, u32::MAX)
            .await
            .unwrap();
        id
    }

    #[tokio::test]
    async fn streams_requested_entries_with_bodies_while_the_service_has_the_file_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Store::open_sqlite(&path).await.unwrap();
        let first = request(&store, 0, b"{\"a\":1}").await;
        let second = request(&store, 100, b"").await;

        let history = History::open(&path).await.unwrap();
        let mut seen = Vec::new();
        let n = history
            .for_each_requested(None, |row| {
                seen.push((
                    row.seq,
                    row.at.to_string(),
                    row.approval_id.map(str::to_string),
                    row.data.to_string(),
                    row.body.map(<[u8]>::to_vec),
                ))
            })
            .await
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(seen[0].0, 1);
        assert_eq!(seen[1].0, 3, "the other kinds of entry are skipped");
        assert_eq!(seen[0].1, t(0).to_string());
        assert_eq!(seen[0].2, Some(first.to_string()));
        assert_eq!(seen[0].3, r#"{"approval_required":true}"#);
        assert_eq!(seen[0].4.as_deref(), Some(&b"{\"a\":1}"[..]));
        assert_eq!(seen[1].4.as_deref(), Some(&b""[..]));

        // Writing goes on while the reader is open.
        let third = request(&store, 200, b"x").await;
        let mut ids = Vec::new();
        history
            .for_each_requested(Some(t(100)), |row| {
                ids.push(row.approval_id.unwrap().parse::<Uuid>().unwrap())
            })
            .await
            .unwrap();
        assert_eq!(ids, vec![second, third]);
        history.close().await;
        store.close().await;

        // And once the service has stopped (its WAL checkpointed and removed).
        let history = History::open(&path).await.unwrap();
        assert_eq!(history.for_each_requested(None, |_| {}).await.unwrap(), 3);
        history.close().await;
    }

    #[tokio::test]
    async fn a_missing_database_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.db");
        assert!(History::open(&path).await.is_err());
        assert!(!path.exists());
    }
}
