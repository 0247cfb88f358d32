//! The demo's configuration, which the demo, the benchmarks and the process tests start the
//! service with: one approver (`alice`), one app (`support-agent`), one grant (`payments`,
//! on the sample provider) and a policy.

use countersign_core::encoding::sha256_hex;
use std::path::Path;

/// The environment variable name the demo grant reads its secret from.
pub const SECRET_ENV: &str = "DEMO_PAYMENTS_SECRET";

/// The demo's policy: reads run, deletes are refused, everything else needs alice.
pub const DEMO_POLICY: &str = r#"[[policy]]
id = "refunds"
window = "1h"                      # calls that match no rule need every gate

[[policy.gate]]
id = "support-leads"
approvers = ["alice"]
quorum = 1

[[policy.rule]]
id = "reads"
methods = ["GET"]
path = "/v1/*"
action = "allow"

[[policy.rule]]
id = "no-deletes"
methods = ["DELETE"]
path = "/v1/*"
action = "deny"
"#;

/// The demo's configuration: one approver, one app, one grant whose refunds need approval.
pub fn demo_config(listen: &str, provider_url: &str, api_key: &str, database: &Path) -> String {
    config_with(listen, provider_url, api_key, database, "", DEMO_POLICY)
}

/// The demo's configuration with `server_lines` added to `[server]` and `policy` (TOML
/// defining the policy `refunds`) instead of [`DEMO_POLICY`].
pub fn config_with(
    listen: &str,
    provider_url: &str,
    api_key: &str,
    database: &Path,
    server_lines: &str,
    policy: &str,
) -> String {
    format!(
        r#"[server]
listen = "{listen}"
public_url = "http://{listen}"
database = "sqlite://{db}"
{server_lines}
[[approver]]
id = "alice"
name = "Alice Example"

[[app]]
id = "support-agent"
api_key_sha256 = "{key_hash}"
grants = ["payments"]

[[grant]]
id = "payments"
base_url = "{provider_url}"
secret_env = "{SECRET_ENV}"
inject = {{ header = "Authorization", value = "Bearer {{secret}}" }}
policy = "refunds"

{policy}
"#,
        db = database.display(),
        key_hash = sha256_hex(api_key),
    )
}
