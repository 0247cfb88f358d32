//! One test per kind of invalid config, each checking the line, field and message.

use super::*;

#[test]
fn unknown_keys_are_refused() {
    // (replace, by, the text on the line the error must point at, the message)
    let cases = [
        (
            "[server]",
            "verbose = true\n[server]",
            "verbose =",
            "`verbose`",
        ),
        ("listen =", "lisen = \"x\"\nlisten =", "lisen =", "`lisen`"),
        (
            "name = \"Alice Example\"",
            "name = \"A\"\nemail = \"a@x\"",
            "email =",
            "`email`",
        ),
        (
            "policy = \"everything\"",
            "policy = \"everything\"\nkey = \"k\"",
            "key =",
            "`key`",
        ),
        (
            "timeout = \"10s\"",
            "timeout = \"10s\"\nretries = 3",
            "retries =",
            "`retries`",
        ),
        (
            "value = \"{secret}\" }",
            "value = \"{secret}\", query = \"k\" }",
            "query =",
            "`query`",
        ),
        (
            "quorum = 2",
            "quorum = 2\nquorom = 2",
            "quorom =",
            "`quorom`",
        ),
        (
            "path = \"/v1/refunds*\"",
            "path = \"/v1/refunds*\"\nhost = \"x\"",
            "host =",
            "`host`",
        ),
        (
            "[[policy]]\nid = \"open\"",
            "[[policies]]\nid = \"open\"",
            "[[policies]]",
            "`policies`",
        ),
    ];
    for (from, to, needle, key) in cases {
        let err = error_with(from, to);
        let line = at_line_of(&EXAMPLE.replacen(from, to, 1), needle);
        assert!(err.starts_with(&line), "{err:?} should start with {line:?}");
        assert!(
            err.contains(&format!("unknown field {key}")),
            "{err:?} should name {key}"
        );
    }
}

#[test]
fn missing_server_section() {
    let text = EXAMPLE.replacen("[server]", "[[approver]]\nid = \"x\"\nname = \"X\"\n[x]", 1);
    let err = parse(&text).unwrap_err().to_string();
    assert!(err.contains("unknown field `x`"), "{err}");
    let start = EXAMPLE.find("[[approver]]").unwrap();
    let err = parse(&EXAMPLE[start..]).unwrap_err().to_string();
    assert_eq!(
        err,
        "conf/countersign.toml:1:1: the file field `server`: the [server] section is missing"
    );
}

#[test]
fn duplicate_ids_within_a_kind() {
    assert_refused(
        "id = \"bob\"",
        "id = \"alice\"",
        "id",
        "duplicate approver id \"alice\" (first defined on line 11)",
    );
    assert_refused(
        "id = \"batch.job_2\"",
        "id = \"support-agent\"",
        "id",
        "duplicate app id",
    );
    assert_refused(
        "id = \"crm\"",
        "id = \"payments\"",
        "id",
        "duplicate grant id",
    );
    assert_refused(
        "id = \"open\"",
        "id = \"refunds\"",
        "id",
        "duplicate policy id",
    );
    // The same id in different kinds is fine.
    parse(&EXAMPLE.replace("id = \"crm\"", "id = \"refunds\"")).unwrap();
}

#[test]
fn references_must_exist() {
    assert_refused(
        "policy = \"open\"",
        "policy = \"closed\"",
        "policy",
        "unknown policy \"closed\"",
    );
    assert_refused(
        "policy = \"everything\"",
        "policy = \"all\"",
        "policy",
        "unknown policy \"all\"",
    );
    assert_refused(
        "approvers = [\"bob\"]",
        "approvers = [\"carol\"]",
        "approvers",
        "unknown approver \"carol\" (defined: alice, bob)",
    );
    assert_refused(
        "approvers = [\"bob\"]",
        "approvers = [\"bob\", \"bob\"]",
        "approvers",
        "listed twice",
    );
}

#[test]
fn policy_checks() {
    let q = |to: &str| {
        assert_refused(
            "quorum = 2",
            to,
            "quorum",
            "must be between 1 and the number of approvers (2)",
        )
    };
    q("quorum = 0");
    q("quorum = 3");
    q("quorum = -1");
    assert_refused(
        "approvers = [\"bob\"]",
        "approvers = []",
        "approvers",
        "needs at least one approver",
    );
    assert_refused(
        "id = \"everything\"\napprovers = [\"bob\"]",
        "id = \"everything\"",
        "approvers",
        "needs at least one approver",
    );
    assert_refused(
        "window = \"2h30m\"",
        "window = \"2 hours\"",
        "window",
        "expected a duration such as",
    );
    assert_refused(
        "window = \"2h30m\"",
        "window = \"31d\"",
        "window",
        "between 1s and 30d",
    );
    assert_refused(
        "window = \"2h30m\"",
        "window = \"0s\"",
        "window",
        "between 1s and 30d",
    );
    assert_refused(
        "window = \"2h30m\"",
        "window = \"1s500ms\"",
        "window",
        "whole number of seconds",
    );
    parse(&EXAMPLE.replace("window = \"2h30m\"", "window = \"30d\"")).unwrap();
    assert_refused(
        "require_approval = false\n",
        "require_approval = false\n[[policy.rule]]\npath = \"/x\"\n",
        "rule",
        "no effect",
    );
    // Without require_approval, no approvers are needed.
    parse(&EXAMPLE.replace("require_approval = true", "require_approval = false").replace("[[policy.rule]]\nmethods = [\"post\", \"DELETE\"]\npath = \"/v1/refunds*\"\n[[policy.rule]]\npath = \"/v1/customers/*/delete\"\n", "")).unwrap();
}

#[test]
fn rule_checks() {
    assert_refused(
        "methods = [\"post\", \"DELETE\"]",
        "methods = [\"post\", \"GET POST\"]",
        "methods",
        "\"GET POST\" is not an HTTP method",
    );
    assert_refused(
        "methods = [\"post\", \"DELETE\"]",
        "methods = [\"\"]",
        "methods",
        "not an HTTP method",
    );
    assert_refused(
        "methods = [\"post\", \"DELETE\"]",
        "methods = [\"G(ET\"]",
        "methods",
        "not an HTTP method",
    );
    assert_refused(
        "path = \"/v1/refunds*\"",
        "path = \"v1/refunds*\"",
        "path",
        "must start with '/'",
    );
    let err = error_with("path = \"/v1/refunds*\"", "path = \"v1/refunds*\"");
    assert!(
        err.contains("policy \"refunds\" rule 1 field `path`"),
        "{err}"
    );
}

#[test]
fn id_checks() {
    for bad in ["", "has space", "ünï", "a/b", &"x".repeat(65)] {
        let to = format!("id = {bad:?}");
        assert_refused("id = \"crm\"", &to, "id", "1 to 64 characters");
    }
    parse(&EXAMPLE.replace("id = \"crm\"", &format!("id = \"{}\"", "x".repeat(64)))).unwrap();
}

#[test]
fn server_checks() {
    assert_refused(
        "listen = \"127.0.0.1:8470\"",
        "listen = \"localhost:8470\"",
        "listen",
        "not an address",
    );
    assert_refused(
        "listen = \"127.0.0.1:8470\"",
        "listen = \"127.0.0.1\"",
        "listen",
        "not an address",
    );
    assert_refused(
        "public_url = \"http://127.0.0.1:8470/\"",
        "public_url = \"ftp://example.com\"",
        "public_url",
        "http or https",
    );
    assert_refused(
        "public_url = \"http://127.0.0.1:8470/\"",
        "public_url = \"http://x.example/?a=1\"",
        "public_url",
        "query",
    );
    assert_refused(
        "public_url = \"http://127.0.0.1:8470/\"",
        "public_url = \"cs.example.com\"",
        "public_url",
        "not a URL",
    );
    assert_refused(
        "database = \"sqlite://countersign.db\"",
        "database = \"postgres://db/cs\"",
        "database",
        "not supported yet",
    );
    assert_refused(
        "database = \"sqlite://countersign.db\"",
        "database = \"mysql://db/cs\"",
        "database",
        "expected sqlite://",
    );
    assert_refused(
        "database = \"sqlite://countersign.db\"",
        "database = \"sqlite://\"",
        "database",
        "no database file path",
    );
    assert_refused(
        "database = \"sqlite://countersign.db\"",
        "database = \"sqlite::memory:\"",
        "database",
        "in-memory",
    );
    assert_refused(
        "max_request_bytes = 2048",
        "max_request_bytes = 0",
        "max_request_bytes",
        "positive",
    );
    assert_refused(
        "max_response_bytes = 4096",
        "max_response_bytes = -5",
        "max_response_bytes",
        "positive",
    );
    assert_refused(
        "upstream_timeout = \"45s\"",
        "upstream_timeout = \"45\"",
        "upstream_timeout",
        "without a unit",
    );
    assert_refused(
        "upstream_timeout = \"45s\"",
        "upstream_timeout = \"0s\"",
        "upstream_timeout",
        "longer than zero",
    );
}

#[test]
fn grant_checks() {
    let url = |to: &str, message: &str| {
        assert_refused(
            "base_url = \"http://127.0.0.1:9000\"",
            to,
            "base_url",
            message,
        );
    };
    url("base_url = \"file:///etc/passwd\"", "http or https");
    url(
        "base_url = \"http://127.0.0.1:9000/?key=1\"",
        "query or fragment",
    );
    url(
        "base_url = \"http://127.0.0.1:9000/#x\"",
        "query or fragment",
    );
    url(
        "base_url = \"http://user:pw@127.0.0.1:9000\"",
        "credentials",
    );
    url("base_url = \"http://user@127.0.0.1:9000\"", "credentials");
    url("base_url = \"not a url\"", "not a URL");
    let header = |name: &str, message: &str| {
        let to = format!("inject = {{ header = \"{name}\", value = \"{{secret}}\" }}");
        assert_refused(
            "inject = { header = \"X-Api-Key\", value = \"{secret}\" }",
            &to,
            "inject.header",
            message,
        );
    };
    for forbidden in [
        "Host",
        "content-length",
        "Transfer-Encoding",
        "connection",
        "idempotency-key",
    ] {
        header(forbidden, "may not be injected");
    }
    header("X Api", "not a valid header name");
    header("", "not a valid header name");
    header("x-é", "not a valid header name");
    assert_refused(
        "value = \"Bearer {secret}\"",
        "value = \"Bearer {token}\"",
        "inject.value",
        "must contain {secret}",
    );
    assert_refused(
        "value = \"Bearer {secret}\"",
        "value = \"Bearer {secret}\\r\\nX: y\"",
        "inject.value",
        "not a valid header value",
    );
    assert_refused(
        "secret_env = \"CRM_TOKEN\"",
        "secret_env = \"CRM-TOKEN\"",
        "secret_env",
        "not an environment variable name",
    );
    assert_refused(
        "timeout = \"10s\"",
        "timeout = \"ten seconds\"",
        "timeout",
        "not a duration",
    );
    assert_refused(
        "timeout = \"10s\"",
        "timeout = \"0ms\"",
        "timeout",
        "longer than zero",
    );
}

#[test]
fn app_key_checks() {
    assert_refused(
        "api_key_env = \"SUPPORT_AGENT_KEY\"",
        "api_key_env = \"SUPPORT_AGENT_KEY\"\napi_key_sha256 = \"00\"",
        "api_key_sha256",
        "not both",
    );
    assert_refused(
        "id = \"support-agent\"\napi_key_env = \"SUPPORT_AGENT_KEY\"",
        "id = \"support-agent\"",
        "api_key_env",
        "has no API key",
    );
    let short = "api_key_sha256 = \"26E5026BAE\"";
    assert_refused(
        "api_key_sha256 = \"26E5026BAE501DFB3CA603D61C961884AED8E12C1EB49EE8D03A11071DF0F4A7\"",
        short,
        "api_key_sha256",
        "64 hex digits",
    );
    let not_hex = format!("api_key_sha256 = \"{}\"", "zz".repeat(32));
    assert_refused(
        "api_key_sha256 = \"26E5026BAE501DFB3CA603D61C961884AED8E12C1EB49EE8D03A11071DF0F4A7\"",
        &not_hex,
        "api_key_sha256",
        "64 hex digits",
    );
    assert_refused(
        "api_key_env = \"SUPPORT_AGENT_KEY\"",
        "api_key_env = \"1KEY\"",
        "api_key_env",
        "not an environment variable name",
    );
    assert_refused(
        "name = \"Bob Example\"",
        "name = \"  \"",
        "name",
        "non-empty",
    );
}
