//! Which database a test or benchmark runs on.

use countersign_service::store::scratch;
use std::path::Path;

/// The database URL for a test: `sqlite://<dir>/countersign.db`, or when the environment
/// variable `COUNTERSIGN_TEST_POSTGRES` names a PostgreSQL server, a new empty database on it
/// (so a suite runs unchanged on either backend).
pub async fn test_database(dir: &Path) -> anyhow::Result<String> {
    Ok(match postgres_server() {
        Some(server) => scratch::create_database(&server).await?,
        None => format!("sqlite://{}", dir.join("countersign.db").display()),
    })
}

/// The PostgreSQL server `COUNTERSIGN_TEST_POSTGRES` names, if any.
pub fn postgres_server() -> Option<String> {
    std::env::var(scratch::TEST_SERVER_ENV)
        .ok()
        .filter(|s| !s.is_empty())
}

/// True when [`test_database`] gives PostgreSQL databases.
pub fn on_postgres() -> bool {
    postgres_server().is_some()
}
