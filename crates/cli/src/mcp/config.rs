//! The gateway's own config file (`countersign mcp --config F`): which service to call, as
//! which app, and the tools to expose.
//!
//! ```toml
//! [mcp]
//! service = "http://127.0.0.1:8470"
//! app_key_env = "MCP_AGENT_KEY"          # the app's bearer key, or a signing app:
//! # app = "mcp-agent"                     #   its id, and one of
//! # app_secret_env = "MCP_AGENT_SECRET"   #   its HMAC secret (auth = "hmac")
//! # app_private_key_env = "MCP_AGENT_ED"  #   its Ed25519 private key (auth = "ed25519")
//! block = "0s"
//! # listen = "127.0.0.1:8471"   # streamable HTTP at http://127.0.0.1:8471/mcp instead of stdio
//!
//! [[tool]]
//! name = "refund_order"
//! description = "Refund an order; large amounts need a person's approval"
//! grant = "payments"
//! method = "POST"
//! path = "/v1/orders/{order}/refunds"
//! input_schema = { type = "object", properties = { order = { type = "string" }, amount = { type = "integer" } }, required = ["order", "amount"] }
//! ```

use super::listen::{HttpSettings, RawListen};
use super::template::PathTemplate;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The argument every tool gets added to its schema: why the call is needed, shown to the
/// approver.
pub const REASON_ARG: &str = "reason";
/// The name of the built-in tool that waits for an approval's outcome.
pub const WAIT_TOOL: &str = "countersign_wait";
/// The longest `block` accepted (a client's request would time out long before).
const MAX_BLOCK: Duration = Duration::from_secs(600);
/// The JSON types a schema's `type` may name.
const JSON_TYPES: [&str; 7] = [
    "string", "integer", "number", "boolean", "object", "array", "null",
];
/// The methods a tool may use.
const METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read the config file: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, a value of the wrong type, or an unknown or missing key.
    #[error("{}: {message}", file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// Well-formed, but a value is not acceptable.
    #[error("{}: {subject} field `{field}`: {message}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// What the field belongs to: `[mcp]` or `tool "name"` (or `tool #n`).
        subject: String,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// The gateway's configuration, checked.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The Countersign service's base URL.
    pub service: String,
    /// How the gateway authenticates as its app.
    pub auth: GatewayAuth,
    /// How long a call that needs approval waits for the outcome before it returns the link.
    pub block: Duration,
    /// The streamable HTTP listener, when `listen` is set (else the gateway serves stdio).
    pub http: Option<HttpSettings>,
    /// The tools, in file order.
    pub tools: Vec<ToolSpec>,
}

/// How the gateway authenticates as its app, and the environment variable holding the
/// secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayAuth {
    /// A bearer API key (`app_key_env`).
    ApiKey {
        /// The variable.
        env: String,
    },
    /// Signs as `app` with HMAC-SHA256 (`app`, `app_secret_env`).
    Hmac {
        /// The app id.
        app: String,
        /// The variable holding the shared secret.
        env: String,
    },
    /// Signs as `app` with Ed25519 (`app`, `app_private_key_env`: base64url of the seed).
    Ed25519 {
        /// The app id.
        app: String,
        /// The variable holding the private key.
        env: String,
    },
}

impl GatewayAuth {
    /// The field naming the variable.
    pub fn field(&self) -> &'static str {
        match self {
            GatewayAuth::ApiKey { .. } => "app_key_env",
            GatewayAuth::Hmac { .. } => "app_secret_env",
            GatewayAuth::Ed25519 { .. } => "app_private_key_env",
        }
    }

    /// The variable holding the secret.
    pub fn env(&self) -> &str {
        match self {
            GatewayAuth::ApiKey { env }
            | GatewayAuth::Hmac { env, .. }
            | GatewayAuth::Ed25519 { env, .. } => env,
        }
    }
}

/// One declared tool.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    /// The tool's name.
    pub name: String,
    /// What the model reads about it.
    pub description: String,
    /// The grant the call is made with.
    pub grant: String,
    /// The HTTP method (upper case).
    pub method: String,
    /// The path below the grant's base URL, with `{param}` placeholders.
    pub path: PathTemplate,
    /// The input schema as declared (an object schema), without `reason`.
    pub input_schema: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    mcp: RawGateway,
    #[serde(default)]
    tool: Vec<RawTool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGateway {
    service: String,
    #[serde(default)]
    app_key_env: Option<String>,
    #[serde(default)]
    app: Option<String>,
    #[serde(default)]
    app_secret_env: Option<String>,
    #[serde(default)]
    app_private_key_env: Option<String>,
    #[serde(default)]
    block: Option<String>,
    #[serde(default)]
    listen: Option<String>,
    #[serde(default)]
    token_env: Option<String>,
    #[serde(default)]
    allowed_hosts: Option<Vec<String>>,
    #[serde(default)]
    allowed_origins: Option<Vec<String>>,
    #[serde(default)]
    max_sessions: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTool {
    name: String,
    description: String,
    grant: String,
    method: String,
    path: String,
    input_schema: Value,
}

impl GatewayConfig {
    /// Reads and checks the config file.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
            file: file.to_path_buf(),
            source,
        })?;
        Self::parse(&text, file)
    }

    /// Parses and checks config text; `file` names it in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Self, ConfigError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            file: file.to_path_buf(),
            message: e.to_string(),
        })?;
        let invalid = |subject: &str, field: &str, message: String| ConfigError::Invalid {
            file: file.to_path_buf(),
            subject: subject.to_string(),
            field: field.to_string(),
            message,
        };
        let gateway = "[mcp]";
        let service = raw.mcp.service.trim().to_string();
        match url::Url::parse(&service) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            Ok(_) => {
                return Err(invalid(
                    gateway,
                    "service",
                    "must be an http or https URL".into(),
                ));
            }
            Err(e) => return Err(invalid(gateway, "service", format!("not a URL: {e}"))),
        }
        let auth = check_auth(&raw.mcp, &|field, message| invalid(gateway, field, message))?;
        let block = match raw.mcp.block.as_deref() {
            None => Duration::ZERO,
            Some(text) => {
                let block = countersign_service::config::parse_duration(text)
                    .map_err(|e| invalid(gateway, "block", e))?;
                if block > MAX_BLOCK {
                    return Err(invalid(
                        gateway,
                        "block",
                        format!("at most {}s", MAX_BLOCK.as_secs()),
                    ));
                }
                block
            }
        };
        let http = HttpSettings::check(RawListen {
            listen: raw.mcp.listen,
            token_env: raw.mcp.token_env,
            allowed_hosts: raw.mcp.allowed_hosts,
            allowed_origins: raw.mcp.allowed_origins,
            max_sessions: raw.mcp.max_sessions,
        })
        .map_err(|e| invalid(gateway, e.field, e.message))?;
        if raw.tool.is_empty() {
            return Err(invalid("the file", "tool", "declares no [[tool]]".into()));
        }
        let mut names = BTreeSet::new();
        let mut tools = Vec::with_capacity(raw.tool.len());
        for (i, tool) in raw.tool.into_iter().enumerate() {
            let subject = if valid_tool_name(&tool.name) {
                format!("tool {:?}", tool.name)
            } else {
                format!("tool #{}", i + 1)
            };
            let spec = check_tool(tool, &subject, &invalid)?;
            if !names.insert(spec.name.clone()) {
                return Err(invalid(&subject, "name", "is declared twice".into()));
            }
            tools.push(spec);
        }
        Ok(Self {
            service,
            auth,
            block,
            http,
            tools,
        })
    }
}

/// Exactly one of `app_key_env`, `app_secret_env` and `app_private_key_env`; `app` with the
/// last two only.
fn check_auth(
    raw: &RawGateway,
    invalid: &impl Fn(&str, String) -> ConfigError,
) -> Result<GatewayAuth, ConfigError> {
    let given: Vec<(&str, &str)> = [
        ("app_key_env", &raw.app_key_env),
        ("app_secret_env", &raw.app_secret_env),
        ("app_private_key_env", &raw.app_private_key_env),
    ]
    .into_iter()
    .filter_map(|(field, value)| Some((field, value.as_deref()?.trim())))
    .collect();
    let [(field, env)] = given[..] else {
        let field = given.get(1).map_or("app_key_env", |(f, _)| *f);
        return Err(invalid(
            field,
            "give exactly one of app_key_env (a bearer key), app_secret_env (HMAC) and app_private_key_env (Ed25519)".into(),
        ));
    };
    if env.is_empty() {
        return Err(invalid(field, "is empty".into()));
    }
    let env = env.to_string();
    let app = raw.app.as_deref().map(str::trim);
    match (field, app) {
        ("app_key_env", None) => Ok(GatewayAuth::ApiKey { env }),
        ("app_key_env", Some(_)) => Err(invalid(
            "app",
            "goes with app_secret_env or app_private_key_env: a bearer key names its app itself"
                .into(),
        )),
        (_, None | Some("")) => Err(invalid(
            "app",
            format!("the id of the app that signs is required with {field}"),
        )),
        ("app_secret_env", Some(app)) => Ok(GatewayAuth::Hmac {
            app: app.to_string(),
            env,
        }),
        (_, Some(app)) => Ok(GatewayAuth::Ed25519 {
            app: app.to_string(),
            env,
        }),
    }
}

fn check_tool(
    tool: RawTool,
    subject: &str,
    invalid: &impl Fn(&str, &str, String) -> ConfigError,
) -> Result<ToolSpec, ConfigError> {
    if !valid_tool_name(&tool.name) {
        return Err(invalid(
            subject,
            "name",
            format!("{:?}: 1 to 64 characters of A-Z a-z 0-9 _ - .", tool.name),
        ));
    }
    if tool.name == WAIT_TOOL {
        return Err(invalid(
            subject,
            "name",
            format!("{WAIT_TOOL} is the gateway's own tool"),
        ));
    }
    if tool.description.trim().is_empty() {
        return Err(invalid(subject, "description", "is empty".into()));
    }
    if tool.grant.trim().is_empty() {
        return Err(invalid(subject, "grant", "is empty".into()));
    }
    let method = tool.method.trim().to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(invalid(
            subject,
            "method",
            format!("{:?}: one of {}", tool.method, METHODS.join(", ")),
        ));
    }
    let path = PathTemplate::parse(&tool.path)
        .map_err(|e| invalid(subject, "path", format!("{:?}: {e}", tool.path)))?;
    let schema = check_schema(&tool.input_schema)
        .map_err(|message| invalid(subject, "input_schema", message))?;
    let properties = schema.get("properties").and_then(Value::as_object);
    let required = required_of(&schema);
    for param in path.params() {
        let declared = properties.and_then(|p| p.get(param));
        if declared.and_then(|s| s.get("type")) != Some(&Value::from("string")) {
            return Err(invalid(
                subject,
                "path",
                format!("{{{param}}} must be a property of input_schema with type = \"string\""),
            ));
        }
        if !required.contains(param) {
            return Err(invalid(
                subject,
                "path",
                format!("{{{param}}} must be listed in input_schema's required"),
            ));
        }
    }
    Ok(ToolSpec {
        name: tool.name,
        description: tool.description.trim().to_string(),
        grant: tool.grant.trim().to_string(),
        method,
        path,
        input_schema: schema,
    })
}

/// MCP's recommended tool names: 1–64 characters of `A-Z a-z 0-9 _ - .`.
pub fn valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Checks a tool's input schema: an object schema whose `properties` are schemas with known
/// `type`s, whose `required` names declared properties, and which leaves `reason` to the
/// gateway.
fn check_schema(schema: &Value) -> Result<Map<String, Value>, String> {
    let Some(schema) = schema.as_object() else {
        return Err("must be a table (a JSON Schema object)".into());
    };
    if schema.get("type") != Some(&Value::from("object")) {
        return Err("must have type = \"object\"".into());
    }
    let empty = Map::new();
    let properties = match schema.get("properties") {
        None => &empty,
        Some(Value::Object(p)) => p,
        Some(_) => return Err("properties must be a table".into()),
    };
    if properties.contains_key(REASON_ARG) {
        return Err(format!(
            "declares `{REASON_ARG}`, which the gateway adds to every tool itself"
        ));
    }
    for (name, property) in properties {
        let Some(property) = property.as_object() else {
            return Err(format!("property `{name}` must be a table"));
        };
        let types: Vec<&Value> = match property.get("type") {
            None => Vec::new(),
            Some(Value::Array(types)) => types.iter().collect(),
            Some(t) => vec![t],
        };
        for t in types {
            if !t.as_str().is_some_and(|t| JSON_TYPES.contains(&t)) {
                return Err(format!(
                    "property `{name}`: type {t} is not one of {}",
                    JSON_TYPES.join(", ")
                ));
            }
        }
    }
    match schema.get("required") {
        None => {}
        Some(Value::Array(names)) => {
            for name in names {
                match name.as_str() {
                    Some(n) if properties.contains_key(n) => {}
                    _ => return Err(format!("required names {name}, not a declared property")),
                }
            }
        }
        Some(_) => return Err("required must be an array of property names".into()),
    }
    match schema.get("additionalProperties") {
        None | Some(Value::Bool(_)) => {}
        Some(_) => return Err("additionalProperties must be true or false".into()),
    }
    Ok(schema.clone())
}

/// The names in a schema's `required`.
pub(crate) fn required_of(schema: &Map<String, Value>) -> BTreeSet<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[mcp]
service = "http://127.0.0.1:8470"
app_key_env = "MCP_AGENT_KEY"
block = "2s"

[[tool]]
name = "refund_order"
description = "Refund an order"
grant = "payments"
method = "post"
path = "/v1/orders/{order}/refunds"
input_schema = { type = "object", properties = { order = { type = "string" }, amount = { type = "integer" } }, required = ["order", "amount"] }

[[tool]]
name = "balance"
description = "Read the balance"
grant = "payments"
method = "GET"
path = "/v1/balance"
input_schema = { type = "object" }
"#;

    fn parse(text: &str) -> Result<GatewayConfig, ConfigError> {
        GatewayConfig::parse(text, Path::new("mcp.toml"))
    }

    /// The error message of `GOOD` with `from` replaced by `to`.
    fn error_with(from: &str, to: &str) -> String {
        assert!(GOOD.contains(from), "{from:?} is not in the sample");
        parse(&GOOD.replacen(from, to, 1))
            .expect_err("must be refused")
            .to_string()
    }

    #[test]
    fn the_sample_parses() {
        let config = parse(GOOD).unwrap();
        assert_eq!(config.service, "http://127.0.0.1:8470");
        assert_eq!(
            config.auth,
            GatewayAuth::ApiKey {
                env: "MCP_AGENT_KEY".into()
            }
        );
        assert_eq!(config.block, Duration::from_secs(2));
        assert_eq!(config.tools.len(), 2);
        let refund = &config.tools[0];
        assert_eq!(refund.method, "POST");
        assert_eq!(refund.grant, "payments");
        assert_eq!(refund.path.params().collect::<Vec<_>>(), ["order"]);
        assert_eq!(config.tools[1].path.params().count(), 0);
    }

    #[test]
    fn the_gateway_may_sign_as_its_app() {
        let hmac = GOOD.replacen(
            "app_key_env = \"MCP_AGENT_KEY\"",
            "app = \"mcp-agent\"\napp_secret_env = \"MCP_SECRET\"",
            1,
        );
        assert_eq!(
            parse(&hmac).unwrap().auth,
            GatewayAuth::Hmac {
                app: "mcp-agent".into(),
                env: "MCP_SECRET".into()
            }
        );
        let ed = GOOD.replacen(
            "app_key_env = \"MCP_AGENT_KEY\"",
            "app = \"mcp-agent\"\napp_private_key_env = \"MCP_ED\"",
            1,
        );
        assert_eq!(
            parse(&ed).unwrap().auth,
            GatewayAuth::Ed25519 {
                app: "mcp-agent".into(),
                env: "MCP_ED".into()
            }
        );
        for (to, field, says) in [
            (
                "app_secret_env = \"S\"",
                "app",
                "is required with app_secret_env",
            ),
            (
                "app_key_env = \"K\"\napp_secret_env = \"S\"\napp = \"a\"",
                "app_secret_env",
                "exactly one of",
            ),
            (
                "app = \"a\"\napp_key_env = \"K\"",
                "app",
                "goes with app_secret_env",
            ),
            ("# no key", "app_key_env", "exactly one of"),
            ("app_key_env = \" \"", "app_key_env", "is empty"),
        ] {
            let e = error_with("app_key_env = \"MCP_AGENT_KEY\"", to);
            assert!(e.contains(&format!("[mcp] field `{field}`")), "{to}: {e}");
            assert!(e.contains(says), "{to}: {e}");
        }
    }

    #[test]
    fn block_defaults_to_zero() {
        let config = parse(&GOOD.replacen("block = \"2s\"\n", "", 1)).unwrap();
        assert_eq!(config.block, Duration::ZERO);
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let e = error_with("block = \"2s\"", "blok = \"2s\"");
        assert!(e.contains("unknown field `blok`"), "{e}");
        let e = error_with(
            "grant = \"payments\"",
            "grant = \"payments\"\nbody = \"all\"",
        );
        assert!(e.contains("unknown field `body`"), "{e}");
    }

    #[test]
    fn bad_tool_names_are_refused() {
        let e = error_with("name = \"refund_order\"", "name = \"refund order\"");
        assert!(e.contains("tool #1 field `name`"), "{e}");
        let e = error_with("name = \"refund_order\"", "name = \"\"");
        assert!(e.contains("field `name`"), "{e}");
        let e = error_with("name = \"refund_order\"", "name = \"countersign_wait\"");
        assert!(e.contains("the gateway's own tool"), "{e}");
    }

    #[test]
    fn duplicate_tool_names_are_refused() {
        let e = error_with("name = \"balance\"", "name = \"refund_order\"");
        assert!(
            e.contains("tool \"refund_order\" field `name`: is declared twice"),
            "{e}"
        );
    }

    #[test]
    fn path_parameters_must_be_required_string_properties() {
        let e = error_with("/v1/orders/{order}/refunds", "/v1/orders/{id}/refunds");
        assert!(e.contains("field `path`: {id} must be a property"), "{e}");
        let e = error_with(
            "order = { type = \"string\" }",
            "order = { type = \"integer\" }",
        );
        assert!(e.contains("{order} must be a property"), "{e}");
        let e = error_with(
            "required = [\"order\", \"amount\"]",
            "required = [\"amount\"]",
        );
        assert!(
            e.contains("{order} must be listed in input_schema's required"),
            "{e}"
        );
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in [
            "v1/orders",
            "/v1/{order",
            "/v1/{}/x",
            "/v1/x?y=1",
            "/v1/{a-b}",
        ] {
            let e = error_with("/v1/orders/{order}/refunds", bad);
            assert!(e.contains("field `path`"), "{bad}: {e}");
        }
    }

    #[test]
    fn schemas_are_checked() {
        let e = error_with(
            "input_schema = { type = \"object\" }",
            "input_schema = { type = \"array\" }",
        );
        assert!(
            e.contains("field `input_schema`: must have type = \"object\""),
            "{e}"
        );
        let e = error_with(
            "amount = { type = \"integer\" }",
            "reason = { type = \"string\" }",
        );
        assert!(e.contains("declares `reason`"), "{e}");
        let e = error_with(
            "amount = { type = \"integer\" }",
            "amount = { type = \"int\" }",
        );
        assert!(e.contains("property `amount`: type \"int\""), "{e}");
        let e = error_with(
            "required = [\"order\", \"amount\"]",
            "required = [\"order\", \"amout\"]",
        );
        assert!(e.contains("required names \"amout\""), "{e}");
    }

    #[test]
    fn gateway_fields_are_checked() {
        let e = error_with("http://127.0.0.1:8470", "ftp://127.0.0.1");
        assert!(e.contains("[mcp] field `service`"), "{e}");
        let e = error_with("block = \"2s\"", "block = \"soon\"");
        assert!(e.contains("[mcp] field `block`"), "{e}");
        let e = error_with("block = \"2s\"", "block = \"2h\"");
        assert!(e.contains("at most 600s"), "{e}");
        let e = error_with("method = \"post\"", "method = \"TRACE\"");
        assert!(e.contains("tool \"refund_order\" field `method`"), "{e}");
    }

    #[test]
    fn the_listener_is_optional_and_checked() {
        assert_eq!(parse(GOOD).unwrap().http, None);
        let config = parse(&GOOD.replacen(
            "block = \"2s\"",
            "block = \"2s\"\nlisten = \"127.0.0.1:8471\"\nmax_sessions = 4",
            1,
        ))
        .unwrap();
        let http = config.http.unwrap();
        assert_eq!(http.listen.port(), 8471);
        assert_eq!(http.max_sessions, 4);
        let e = error_with("block = \"2s\"", "listen = \"0.0.0.0:8471\"");
        assert!(e.contains("[mcp] field `listen`"), "{e}");
        assert!(e.contains("token_env"), "{e}");
        let e = error_with("block = \"2s\"", "token_env = \"T\"");
        assert!(
            e.contains("[mcp] field `token_env`: applies to the HTTP listener"),
            "{e}"
        );
    }

    #[test]
    fn a_file_without_tools_is_refused() {
        let e = parse("[mcp]\nservice = \"http://x\"\napp_key_env = \"K\"\n").unwrap_err();
        assert!(e.to_string().contains("declares no [[tool]]"), "{e}");
    }
}
