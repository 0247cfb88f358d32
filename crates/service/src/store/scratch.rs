//! Fresh, empty PostgreSQL databases for tests and benchmarks.

use super::StoreError;
use countersign_core::encoding::random_bytes;
use sqlx::{Connection, Executor, PgConnection};

/// The environment variable naming a PostgreSQL server (a URL of any database on it) that
/// tests and benchmarks may create databases on; unset, they run on SQLite only.
pub const TEST_SERVER_ENV: &str = "COUNTERSIGN_TEST_POSTGRES";

/// Creates a new empty database `cs_<random>` on the server `server` is a URL of, and
/// returns that database's URL.
pub async fn create_database(server: &str) -> Result<String, StoreError> {
    let mut url = url::Url::parse(server).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let name = format!("cs_{}", hex::encode(random_bytes::<8>()));
    let mut conn = PgConnection::connect(server).await?;
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    conn.close().await?;
    url.set_path(&name);
    Ok(url.to_string())
}

/// Makes the database at `database_url` (on the server `server` is a URL of, connecting as a
/// superuser) refuse new connections and ends every session on it, waiting until they are
/// gone (`allowed` false: an outage as clients see it); or accepts connections again
/// (`allowed` true).
pub async fn allow_connections(
    server: &str,
    database_url: &str,
    allowed: bool,
) -> Result<(), StoreError> {
    let url = url::Url::parse(database_url).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let name = url.path().trim_start_matches('/').to_string();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StoreError::Corrupt(format!("database name {name:?}")));
    }
    let mut conn = PgConnection::connect(server).await?;
    conn.execute(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allowed}").as_str())
        .await?;
    if !allowed {
        // pg_terminate_backend only signals: wait until the sessions have ended.
        let mut tries = 0;
        loop {
            let left: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
            )
            .bind(&name)
            .fetch_one(&mut conn)
            .await?;
            if left == 0 {
                break;
            }
            tries += 1;
            if tries > 200 {
                return Err(StoreError::Corrupt(format!(
                    "{left} sessions on {name} did not end"
                )));
            }
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
            )
            .bind(&name)
            .execute(&mut conn)
            .await?;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    conn.close().await?;
    Ok(())
}
