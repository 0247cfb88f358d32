//! Settings every PostgreSQL session of the service starts with, so a replica that goes
//! silent (a network partition, a frozen VM: no FIN, no RST) cannot hold the write lock, or
//! keep others waiting for it, until the kernel gives up on the connection (~15 minutes).
//!
//! They are passed as the connection's startup `options` (`-c name=value`), which every
//! connection of the pools and the LISTEN connection send; PostgreSQL applies them to that
//! session only. A transaction-mode pooler (PgBouncer) does not forward them: the service
//! needs session-level connections anyway (LISTEN).

use std::time::Duration;

/// The session limits (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostgresSession {
    /// `lock_timeout`: how long a write waits for the write lock (an advisory lock) before it
    /// is answered `storage_unavailable`, rather than queueing behind a stuck holder.
    pub lock_timeout: Duration,
    /// `idle_in_transaction_session_timeout`: the server ends a session that holds a
    /// transaction open without sending anything for this long, which rolls it back and
    /// frees its locks. The service never waits on anything but the database inside a write
    /// transaction, so only a vanished replica reaches it.
    pub idle_in_transaction: Duration,
    /// `tcp_keepalives_idle`: after this long without traffic the server probes the client,
    /// and drops the session when `tcp_keepalives_count` probes `tcp_keepalives_interval`
    /// apart go unanswered.
    pub keepalive_idle: Duration,
    /// `tcp_keepalives_interval`.
    pub keepalive_interval: Duration,
    /// `tcp_keepalives_count`.
    pub keepalive_count: u32,
    /// After this long without a notification the LISTEN connection is probed with a query
    /// (a silent partition would otherwise leave it waiting for ever)...
    pub listen_probe_after: Duration,
    /// ...which must answer within this, or the connection is opened again.
    pub listen_probe_timeout: Duration,
}

impl Default for PostgresSession {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_secs(10),
            idle_in_transaction: Duration::from_secs(15),
            keepalive_idle: Duration::from_secs(30),
            keepalive_interval: Duration::from_secs(10),
            keepalive_count: 3,
            listen_probe_after: Duration::from_secs(30),
            listen_probe_timeout: Duration::from_secs(5),
        }
    }
}

impl PostgresSession {
    /// `url` with these settings added to its startup `options` (after any it already has,
    /// which sqlx joins with a space; PostgreSQL applies the last `-c` of a name).
    pub fn apply_to(&self, url: &str) -> Result<String, url::ParseError> {
        let mut parsed = url::Url::parse(url)?;
        let options = [
            ("lock_timeout", millis(self.lock_timeout)),
            (
                "idle_in_transaction_session_timeout",
                millis(self.idle_in_transaction),
            ),
            ("tcp_keepalives_idle", seconds(self.keepalive_idle)),
            ("tcp_keepalives_interval", seconds(self.keepalive_interval)),
            ("tcp_keepalives_count", self.keepalive_count.to_string()),
        ]
        .iter()
        .map(|(name, value)| format!("-c {name}={value}"))
        .collect::<Vec<_>>()
        .join(" ");
        parsed.query_pairs_mut().append_pair("options", &options);
        Ok(parsed.into())
    }
}

/// A duration as PostgreSQL milliseconds (at least 1: 0 would switch the limit off).
fn millis(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

/// A duration in whole seconds (at least 1).
fn seconds(d: Duration) -> String {
    d.as_secs().max(1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options_of(url: &str) -> Vec<String> {
        url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .filter(|(k, _)| k == "options")
            .map(|(_, v)| v.into_owned())
            .collect()
    }

    #[test]
    fn settings_become_startup_options() {
        let url = PostgresSession::default()
            .apply_to("postgres://cs:secret@db.internal:5432/countersign")
            .unwrap();
        assert!(url.starts_with("postgres://cs:secret@db.internal:5432/countersign?"));
        assert_eq!(
            options_of(&url),
            [
                "-c lock_timeout=10000ms -c idle_in_transaction_session_timeout=15000ms \
              -c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3"
            ]
        );
    }

    #[test]
    fn options_already_in_the_url_are_kept_before_ours() {
        let url = PostgresSession::default()
            .apply_to("postgres://db/cs?sslmode=require&options=-c%20search_path%3Dcs")
            .unwrap();
        let options = options_of(&url);
        assert_eq!(options.len(), 2);
        assert_eq!(options[0], "-c search_path=cs");
        assert!(options[1].starts_with("-c lock_timeout="));
        assert!(url.contains("sslmode=require"));
    }

    #[test]
    fn a_zero_limit_is_not_sent_as_off() {
        let session = PostgresSession {
            lock_timeout: Duration::ZERO,
            keepalive_idle: Duration::ZERO,
            ..PostgresSession::default()
        };
        let options = &options_of(&session.apply_to("postgres://db/cs").unwrap())[0];
        assert!(options.contains("lock_timeout=1ms"));
        assert!(options.contains("tcp_keepalives_idle=1 "));
    }
}
