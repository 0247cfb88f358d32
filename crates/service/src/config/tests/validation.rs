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
        "duplicate approver id \"alice\" (first defined on line 13)",
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
    parse(
        &EXAMPLE
            .replace("id = \"crm\"", "id = \"refunds\"")
            .replace("\"payments\", \"crm\"]", "\"payments\", \"refunds\"]"),
    )
    .unwrap();
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
    assert_refused(
        "groups = [\"finance\"]",
        "groups = [\"fin\"]",
        "groups",
        "unknown group \"fin\" (defined: finance)",
    );
    assert_refused(
        "members = [\"alice\", \"bob\"]",
        "members = [\"alice\", \"eve\"]",
        "members",
        "unknown approver \"eve\"",
    );
    let err = error_with(
        "grants = [\"payments\"]\npolicy",
        "grants = [\"payment\"]\npolicy",
    );
    assert!(
        err.contains("field `grants`: unknown grant \"payment\" (defined: payments, crm)"),
        "{err}"
    );
}

#[test]
fn apps_must_name_their_grants() {
    let err = error_with("grants = [\"payments\"]\n", "");
    assert!(err.contains("field `grants`"), "{err}");
    assert!(err.contains("grant_not_allowed"), "{err}");
    // An empty list is allowed: such an app can call nothing.
    parse(&EXAMPLE.replace("grants = [\"payments\"]\n", "grants = []\n")).unwrap();
}

#[test]
fn the_old_policy_form_is_refused_with_the_new_form_shown() {
    for (from, to, field) in [
        (
            "id = \"everything\"\n",
            "id = \"everything\"\nrequire_approval = true\n",
            "require_approval",
        ),
        (
            "id = \"everything\"\n",
            "id = \"everything\"\napprovers = [\"bob\"]\n",
            "approvers",
        ),
        (
            "id = \"everything\"\n",
            "id = \"everything\"\nquorum = 1\n",
            "quorum",
        ),
    ] {
        let err = error_with(from, to);
        assert!(err.contains(&format!("field `{field}`")), "{err}");
        assert!(err.contains("old form"), "{err}");
        assert!(
            err.contains("[[policy.gate]]") && err.contains("action = \"allow\""),
            "{err}"
        );
    }
    // A rule without an action said what needs approval: refused, not reinterpreted.
    let err = error_with(
        "path = \"/v1/refunds*\"\naction = \"require\"\n",
        "path = \"/v1/refunds*\"\n",
    );
    assert!(
        err.contains("field `action`") && err.contains("old form"),
        "{err}"
    );
}

#[test]
fn policy_checks() {
    let q = |to: &str| {
        assert_refused(
            "quorum = 2",
            to,
            "quorum",
            "must be between 1 and the number of people in the gate (2)",
        )
    };
    q("quorum = 0");
    q("quorum = 3");
    q("quorum = -1");
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
    // Without gates, a policy must decide every call by a rule.
    let err = error_with("[[policy.gate]]\nid = \"ops\"\napprovers = [\"bob\"]\n", "");
    assert!(err.contains("has no gates"), "{err}");
    let err = error_with(
        "[[policy.rule]]\npath = \"/*\"\naction = \"allow\"\n",
        "[[policy.rule]]\npath = \"/*\"\nat_most = \"1/1s\"\naction = \"allow\"\n",
    );
    assert!(err.contains("has no gates"), "{err}");
    let err = error_with("approvers = [\"bob\"]", "approvers = []");
    assert!(err.contains("needs approvers and/or groups"), "{err}");
    assert_refused(
        "window = \"2h30m\"",
        "window = \"2h30m\"\nrequire = [\"audit\"]",
        "require",
        "unknown gate \"audit\" (defined: finance)",
    );
    assert_refused(
        "window = \"2h30m\"",
        "window = \"2h30m\"\nrequire = []",
        "require",
        "at least one gate",
    );
}

#[test]
fn gates_that_distinct_people_cannot_fill_are_refused() {
    // finance needs alice AND bob; a second gate of bob alone could never be filled too.
    let text = EXAMPLE.replace(
        "quorum = 2\n[[policy.rule]]",
        "quorum = 2\n[[policy.gate]]\nid = \"boss\"\napprovers = [\"bob\"]\n[[policy.rule]]",
    );
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.contains("field `require`") && err.contains("distinct people"),
        "{err}"
    );
    // With quorum 1 in finance, alice + bob fill both.
    parse(&text.replace("quorum = 2", "quorum = 1")).unwrap();
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
    assert_refused(
        "action = \"deny\"",
        "action = \"block\"",
        "action",
        "unknown action \"block\"",
    );
    assert_refused(
        "action = \"deny\"",
        "action = \"deny\"\ngates = [\"finance\"]",
        "gates",
        "with action = \"require\" only",
    );
    assert_refused(
        "action = \"require\"",
        "action = \"require\"\ngates = [\"nope\"]",
        "gates",
        "unknown gate \"nope\"",
    );
    assert_refused(
        "id = \"tiny\"",
        "id = \"refund-writes\"",
        "id",
        "duplicate rule id",
    );
    for (to, message) in [
        ("at_most = \"5\"", "expected a count and a period"),
        ("at_most = \"0/1m\"", "not a positive whole number"),
        ("at_most = \"5/1x\"", "unknown unit"),
        ("at_most = \"5/0s\"", "between 1s and 360d"),
    ] {
        assert_refused("at_most = \"5/1m\"", to, "at_most", message);
    }
}

#[test]
fn condition_checks() {
    let refused = |to: &str, message: &str| {
        assert_refused(
            "when = [{ pointer = \"/amount\", lt = 10 }]",
            to,
            "when",
            message,
        )
    };
    refused(
        "when = [{ pointer = \"amount\", lt = 10 }]",
        "must be empty or start with '/'",
    );
    refused("when = [{ pointer = \"/amount\" }]", "needs one test");
    refused(
        "when = [{ pointer = \"/amount\", lt = 10, gt = 1 }]",
        "exactly one test",
    );
    refused(
        "when = [{ pointer = \"/amount\", lt = \"ten\" }]",
        "is not a number",
    );
    refused(
        "when = [{ pointer = \"/amount\", lt = true }]",
        "is not a number",
    );
    refused(
        "when = [{ pointer = \"/amount\", in = [] }]",
        "at least one value",
    );
    refused(
        "when = [{ pointer = \"/amount\", eq = [1] }]",
        "not a string, number or boolean",
    );
    refused(
        "when = [{ pointer = \"/iban\", matches = \"(\" }]",
        "not a regular expression",
    );
    let err = error_with(
        "when = [{ pointer = \"/amount\", lt = 10 }]",
        "when = [{ pointer = \"/amount\", lesser = 10 }]",
    );
    assert!(err.contains("unknown field `lesser`"), "{err}");
    // Numbers as strings keep their exact spelling; floats their shortest one.
    let config = parse(&EXAMPLE.replace("lt = 10 }", "le = \"50.00\" }")).unwrap();
    let rule = config
        .policy("refunds")
        .unwrap()
        .rule("tiny")
        .unwrap()
        .clone();
    assert_eq!(rule.when[0].to_string(), "/amount <= 50");
    let config = parse(&EXAMPLE.replace("lt = 10 }", "ge = 0.1 }")).unwrap();
    let rule = config
        .policy("refunds")
        .unwrap()
        .rule("tiny")
        .unwrap()
        .clone();
    assert_eq!(rule.when[0].to_string(), "/amount >= 0.1");
}

#[test]
fn id_checks() {
    for bad in ["", "has space", "ünï", "a/b", &"x".repeat(65)] {
        let to = format!("id = {bad:?}");
        assert_refused("id = \"crm\"", &to, "id", "1 to 64 characters");
    }
    let long = "x".repeat(64);
    parse(
        &EXAMPLE
            .replace("id = \"crm\"", &format!("id = \"{long}\""))
            .replace(
                "\"payments\", \"crm\"]",
                &format!("\"payments\", \"{long}\"]"),
            ),
    )
    .unwrap();
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
        "database = \"postgres://db\"",
        "database",
        "names no database",
    );
    assert_refused(
        "database = \"sqlite://countersign.db\"",
        "database = \"mysql://u:hunter2@db/cs\"",
        "database",
        "\"the value\" is not a database URL",
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
        "max_gated_body_bytes = 1024",
        "max_gated_body_bytes = 2049",
        "max_gated_body_bytes",
        "must be at most max_request_bytes (2048)",
    );
    assert_refused(
        "max_gated_body_bytes = 1024",
        "max_gated_body_bytes = 0",
        "max_gated_body_bytes",
        "positive",
    );
    assert_refused(
        "max_pending_per_app = 50",
        "max_pending_per_app = 0",
        "max_pending_per_app",
        "positive",
    );
    assert_refused(
        "max_pending_per_app = 50",
        "max_pending_per_app = 99999999999",
        "max_pending_per_app",
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

#[test]
fn a_postgres_url_selects_postgres_and_never_shows_its_password() {
    let text = EXAMPLE.replace(
        "database = \"sqlite://countersign.db\"",
        "database = \"postgres://cs:hunter2@db.internal:5433/countersign?sslmode=require\"",
    );
    let config = Config::parse(&text, Path::new("/etc/cs/c.toml")).unwrap();
    let DatabaseUrl::Postgres { url } = &config.server.database else {
        panic!("expected PostgreSQL, got {:?}", config.server.database);
    };
    assert_eq!(url.password(), Some("hunter2"));
    let shown = config.server.database.to_string();
    assert_eq!(
        shown,
        "postgres://cs:***@db.internal:5433/countersign?sslmode=require"
    );
    assert!(!format!("{:?}", config.server).contains("hunter2"));
    let unix = EXAMPLE.replace(
        "database = \"sqlite://countersign.db\"",
        "database = \"postgresql://cs@%2Frun%2Fpostgresql/countersign\"",
    );
    assert!(matches!(
        Config::parse(&unix, Path::new("c.toml"))
            .unwrap()
            .server
            .database,
        DatabaseUrl::Postgres { .. }
    ));
}
