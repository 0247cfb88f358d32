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
