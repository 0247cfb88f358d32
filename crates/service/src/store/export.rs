//! Copying a whole install to another database (`countersign export`): approvals with their
//! decisions, devices, pairing codes, revocations, rate-limit counts and the audit chain,
//! byte for byte, in one transaction on the target, which must be empty.
//!
//! The used nonces of signed app requests are copied (a captured request stays refused).
//! Wallet challenges and session tokens are not copied: they last minutes, and Wallets sign
//! in again. The per-app pending counts are rebuilt by the target's own triggers.

use super::{Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::Row;

/// How a column is read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int,
    Blob,
}

/// The tables copied, in an order that satisfies foreign keys, with every column.
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    ("meta", &[("key", Kind::Text), ("value", Kind::Text)]),
    // Used nonces of signed app requests: a request captured just before the move must not
    // work again on the new database.
    (
        "app_nonces",
        &[
            ("app_id", Kind::Text),
            ("nonce", Kind::Text),
            ("expires_at", Kind::Int),
        ],
    ),
    (
        "approvals",
        &[
            ("id", Kind::Text),
            ("app_id", Kind::Text),
            ("grant_id", Kind::Text),
            ("policy_id", Kind::Text),
            ("quorum", Kind::Int),
            ("status", Kind::Text),
            ("statement", Kind::Text),
            ("request_digest", Kind::Text),
            ("body", Kind::Blob),
            ("created_at", Kind::Int),
            ("expires_at", Kind::Int),
            ("response", Kind::Text),
            ("failure", Kind::Text),
            ("requirement", Kind::Text),
            ("matched", Kind::Text),
            ("method", Kind::Text),
            ("lease_owner", Kind::Text),
            ("lease_until_ms", Kind::Int),
        ],
    ),
    (
        "approval_approvers",
        &[("approval_id", Kind::Text), ("approver_id", Kind::Text)],
    ),
    (
        "decisions",
        &[
            // The order decisions arrived in (SQLite's rowid; a column on PostgreSQL).
            ("rowid", Kind::Int),
            ("approval_id", Kind::Text),
            ("approver_id", Kind::Text),
            ("key_id", Kind::Text),
            ("verdict", Kind::Text),
            ("comment", Kind::Text),
            ("decided_at", Kind::Int),
            ("signed", Kind::Text),
            ("signature", Kind::Text),
            ("withdrawn_at", Kind::Int),
        ],
    ),
    (
        "devices",
        &[
            ("key_id", Kind::Text),
            ("approver_id", Kind::Text),
            ("public_key", Kind::Text),
            ("device_name", Kind::Text),
            ("created_at", Kind::Int),
            ("revoked_at", Kind::Int),
        ],
    ),
    (
        "pairing_codes",
        &[
            ("code_hash", Kind::Text),
            ("approver_id", Kind::Text),
            ("created_at", Kind::Int),
            ("expires_at", Kind::Int),
            ("used_at", Kind::Int),
            ("key_id", Kind::Text),
        ],
    ),
    (
        "grant_revocations",
        &[("grant_id", Kind::Text), ("revoked_at", Kind::Int)],
    ),
    (
        "rule_hits",
        &[
            ("policy_id", Kind::Text),
            ("rule_id", Kind::Text),
            ("app_id", Kind::Text),
            ("at_ms", Kind::Int),
        ],
    ),
    (
        "audit",
        &[
            ("seq", Kind::Int),
            ("at", Kind::Text),
            ("kind", Kind::Text),
            ("approval_id", Kind::Text),
            ("actor", Kind::Text),
            ("data", Kind::Text),
            ("prev_hash", Kind::Text),
            ("hash", Kind::Text),
        ],
    ),
];

/// Rows read per query from the source.
const PAGE: i64 = 1000;

/// Why an export did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The target holds approvals or audit entries already.
    #[error("the target database is not empty ({0}); export only into a new database")]
    TargetNotEmpty(String),
    /// Only SQLite installs are exported (PostgreSQL has its own tools: `pg_dump`).
    #[error("only an SQLite database can be exported; back PostgreSQL up with pg_dump")]
    SourceNotSqlite,
    /// Reading or writing failed (nothing was committed on the target).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an export copied: rows per table, in copy order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    /// `(table, rows)`.
    pub tables: Vec<(&'static str, u64)>,
}

impl Store {
    /// Copies everything of this SQLite database into `target` (freshly migrated, with no
    /// approvals, audit entries or devices) in one transaction; the source is only read.
    pub async fn export_to(&self, target: &Store) -> Result<ExportReport, ExportError> {
        if self.backend != super::Backend::Sqlite {
            return Err(ExportError::SourceNotSqlite);
        }
        let mut tx = target.begin_write().await?;
        for table in ["approvals", "audit", "devices"] {
            let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            if rows > 0 {
                return Err(ExportError::TargetNotEmpty(format!("{table}: {rows} rows")));
            }
        }
        // The target's own service id (made if it ever started) gives way to the source's.
        sqlx::query("DELETE FROM meta")
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        let mut report = Vec::new();
        for (table, columns) in TABLES {
            let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
            let list = names.join(", ");
            let params: Vec<String> = (1..=names.len()).map(|n| format!("${n}")).collect();
            let insert = format!(
                "INSERT INTO {table} ({list}) VALUES ({})",
                params.join(", ")
            );
            // Pages in the source's rowid order, which keeps audit and decision order.
            let select = format!(
                "SELECT {list}, rowid AS export_cursor FROM {table} WHERE rowid > $1 ORDER BY rowid LIMIT $2"
            );
            let mut cursor = 0_i64;
            let mut copied = 0_u64;
            loop {
                let rows = sqlx::query(&select)
                    .bind(cursor)
                    .bind(PAGE)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(StoreError::from)?;
                for row in &rows {
                    let mut query = sqlx::query(&insert);
                    for (name, kind) in columns.iter() {
                        query = bind_column(query, row, name, *kind)?;
                    }
                    query.execute(&mut *tx).await.map_err(StoreError::from)?;
                    copied += 1;
                    cursor = row.try_get("export_cursor").map_err(StoreError::from)?;
                }
                if (rows.len() as i64) < PAGE {
                    break;
                }
            }
            report.push((*table, copied));
        }
        if target.backend == super::Backend::Postgres {
            // Decisions added later continue after the copied ones.
            sqlx::query(
                "SELECT 1 FROM setval(pg_get_serial_sequence('decisions', 'rowid'), \
                 GREATEST((SELECT MAX(rowid) FROM decisions), 1))",
            )
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        }
        target.commit(tx).await?;
        Ok(ExportReport { tables: report })
    }
}

fn bind_column<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    row: &AnyRow,
    name: &str,
    kind: Kind,
) -> Result<sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>, StoreError> {
    Ok(match kind {
        Kind::Text => query.bind(row.try_get::<Option<String>, _>(name)?),
        Kind::Int => query.bind(row.try_get::<Option<i64>, _>(name)?),
        Kind::Blob => query.bind(row.try_get::<Option<Vec<u8>>, _>(name)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tables that are deliberately not copied (see the module docs).
    const NOT_COPIED: &[&str] = &["app_pending", "wallet_nonces", "wallet_sessions"];

    /// Every table of the SQLite schema is either copied, with exactly its columns, or named
    /// as not copied: a migration that adds a table or column without updating the export
    /// fails here.
    #[tokio::test]
    async fn the_export_covers_every_table_and_column_of_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("s.db")).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table'
               AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
        )
        .fetch_all(&store.reader)
        .await
        .unwrap();
        for table in &tables {
            if NOT_COPIED.contains(&table.as_str()) {
                continue;
            }
            let Some((_, columns)) = TABLES.iter().find(|(t, _)| t == table) else {
                panic!("table {table} is neither exported nor listed as not copied");
            };
            let actual: Vec<String> =
                sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                    .fetch_all(&store.reader)
                    .await
                    .unwrap();
            let mut listed: Vec<&str> = columns
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| *n != "rowid")
                .collect();
            let mut actual: Vec<&str> = actual.iter().map(String::as_str).collect();
            listed.sort_unstable();
            actual.sort_unstable();
            assert_eq!(listed, actual, "columns of {table}");
        }
        assert_eq!(TABLES.len() + NOT_COPIED.len(), tables.len());
        store.close().await;
    }
}
