//! Tools for people who write policies, behind `countersign policy`:
//!
//! - [`explain`]: how the policies of a config decide one call, rule by rule, without a
//!   database (rate limits are assumed not reached; the rules that would fall through when
//!   full are named).
//! - [`replay`]: every call recorded in a service's audit log, decided again under another
//!   config, with rate limits simulated in time order, compared with what happened.
//!
//! Both use the service's own checks and evaluation ([`countersign_service::call`],
//! [`countersign_service::policy`]), so they decide as the proxy does.

pub mod explain;
mod miss;
pub mod outcome;
pub mod replay;

pub use miss::{describe_miss, MissView};
pub use outcome::OutcomeView;

use countersign_service::store::StoreError;

/// Exit code of `policy explain` when the call runs without approval.
pub const EXIT_ALLOW: u8 = 0;
/// Exit code of `policy explain` when the call needs approval.
pub const EXIT_REQUIRE: u8 = 10;
/// Exit code of `policy explain` when the call is refused (a rule, the app binding, or the
/// proxy's checks of the call).
pub const EXIT_REFUSED: u8 = 20;
/// Exit code of both commands on an error (bad arguments, unreadable files or database).
pub const EXIT_ERROR: u8 = 1;

/// Why a policy tool could not run.
#[derive(Debug, thiserror::Error)]
pub enum PolicyToolError {
    /// The config has no such app.
    #[error("no app {app:?} in the configuration (apps: {known})")]
    UnknownApp {
        /// The app asked for.
        app: String,
        /// The config's apps, joined.
        known: String,
    },
    /// The config has no such grant.
    #[error("no grant {grant:?} in the configuration (grants: {known})")]
    UnknownGrant {
        /// The grant asked for.
        grant: String,
        /// The config's grants, joined.
        known: String,
    },
    /// The database could not be opened read-only.
    #[error("opening the database {database} read-only: {source}")]
    OpenDatabase {
        /// The database (a PostgreSQL URL without its password).
        database: String,
        /// Why.
        source: StoreError,
    },
    /// Reading the database failed.
    #[error("reading the audit log: {0}")]
    Read(#[from] StoreError),
}

/// Ids joined with `, `, or `(none)`.
fn joined<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<&str> = ids.collect();
    if list.is_empty() {
        "(none)".to_string()
    } else {
        list.join(", ")
    }
}
