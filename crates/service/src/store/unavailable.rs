//! Which database errors mean "the database cannot be reached for now" (answered 503
//! `storage_unavailable`, worth a retry) rather than "the database refused this" (500).

use sqlx::error::DatabaseError;
use sqlx::postgres::PgDatabaseError;
use sqlx::sqlite::SqliteError;

/// PostgreSQL SQLSTATEs of a server that is going away, starting, full of connections, or a
/// standby that takes no writes (during a failover). Class `08` (connection exceptions) is
/// matched as a whole.
const POSTGRES_UNAVAILABLE: &[&str] = &[
    "57P01", // admin_shutdown: the connection was terminated (pg_terminate_backend, shutdown)
    "57P02", // crash_shutdown
    "57P03", // cannot_connect_now: starting up or shutting down
    "53300", // too_many_connections
    "25006", // read_only_sql_transaction: a standby (failover under way)
    "55P03", // lock_not_available: the write lock was not granted within lock_timeout
    "25P03", // idle_in_transaction_session_timeout: the server ended this silent session
];

/// SQLite primary result codes of a file that cannot be used for now: locked by another
/// process beyond the busy timeout, an I/O error, or a file that cannot be opened.
const SQLITE_UNAVAILABLE: &[i64] = &[
    5,  // SQLITE_BUSY
    10, // SQLITE_IOERR
    14, // SQLITE_CANTOPEN
];

/// True when `e` says the database cannot be reached for now.
pub(super) fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
                postgres_unavailable(pg.code(), pg.message())
            } else if let Some(sqlite) = db.try_downcast_ref::<SqliteError>() {
                sqlite
                    .code()
                    .and_then(|code| code.parse::<i64>().ok())
                    .is_some_and(|code| SQLITE_UNAVAILABLE.contains(&(code & 0xff)))
            } else {
                false
            }
        }
        _ => false,
    }
}

/// True when a PostgreSQL error `code` (SQLSTATE) with `message` says the server cannot be
/// used for now.
fn postgres_unavailable(code: &str, message: &str) -> bool {
    code.starts_with("08")
        || POSTGRES_UNAVAILABLE.contains(&code)
        // object_not_in_prerequisite_state is also raised by ordinary statements; only this
        // message (a database with ALLOW_CONNECTIONS false, e.g. during maintenance) is
        // an outage.
        || (code == "55000" && message.contains("not currently accepting connections"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_unavailable_and_refusals_are_not() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(is_unavailable(&sqlx::Error::Io(refused)));
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(is_unavailable(&sqlx::Error::PoolClosed));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
        assert!(!is_unavailable(&sqlx::Error::ColumnNotFound("x".into())));
    }

    #[test]
    fn postgres_codes_of_an_outage() {
        assert!(postgres_unavailable("08006", "connection failure"));
        assert!(postgres_unavailable("57P01", "terminating connection"));
        assert!(postgres_unavailable(
            "57P03",
            "the database system is starting up"
        ));
        assert!(postgres_unavailable(
            "55000",
            "database \"cs\" is not currently accepting connections"
        ));
        assert!(postgres_unavailable(
            "55P03",
            "canceling statement due to lock timeout"
        ));
        assert!(!postgres_unavailable("55000", "currval is not yet defined"));
        assert!(!postgres_unavailable("23505", "duplicate key value"));
        assert!(!postgres_unavailable(
            "P0001",
            "the audit log is append-only"
        ));
    }
}
