//! A tool's arguments against its schema: the schema published with `reason` added, and the
//! checks the gateway makes before it asks for anything (required arguments, JSON types,
//! undeclared arguments, a non-empty reason).

use super::config::{required_of, REASON_ARG};
use serde_json::{json, Map, Value};

/// What the model reads about the `reason` argument.
const REASON_DESCRIPTION: &str = "Why this call is needed, concretely (which order, customer \
or ticket, and what for). The person asked to approve the call reads it; a vague reason may \
get it denied.";

/// `schema` with the required `reason` string added: the schema the client sees.
pub fn published_schema(schema: &Map<String, Value>) -> Map<String, Value> {
    let mut schema = schema.clone();
    let properties = schema
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(properties) = properties {
        properties.insert(
            REASON_ARG.to_string(),
            json!({"type": "string", "minLength": 1, "description": REASON_DESCRIPTION}),
        );
    }
    let required = schema
        .entry("required")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(required) = required {
        required.push(Value::from(REASON_ARG));
    }
    schema
}

/// Checks `args` against a published schema (from [`published_schema`]); the message says
/// what to fix.
pub fn check_arguments(
    schema: &Map<String, Value>,
    args: &Map<String, Value>,
) -> Result<(), String> {
    let empty = Map::new();
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut missing: Vec<&str> = required_of(schema)
        .into_iter()
        .filter(|name| args.get(*name).is_none_or(Value::is_null))
        .collect();
    missing.sort_unstable();
    if !missing.is_empty() {
        return Err(format!(
            "missing required argument(s): {}",
            missing.join(", ")
        ));
    }
    let open = schema.get("additionalProperties") == Some(&Value::Bool(true));
    for (name, value) in args {
        let Some(property) = properties.get(name) else {
            if open {
                continue;
            }
            let mut known: Vec<&str> = properties.keys().map(String::as_str).collect();
            known.sort_unstable();
            return Err(format!(
                "unknown argument `{name}` (the tool takes: {})",
                known.join(", ")
            ));
        };
        let types: Vec<&str> = match property.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        if !types.iter().any(|t| has_type(value, t)) {
            return Err(format!(
                "argument `{name}` must be of type {}, not {}",
                types.join(" or "),
                type_of(value)
            ));
        }
    }
    match args.get(REASON_ARG).and_then(Value::as_str) {
        Some(reason) if !reason.trim().is_empty() => Ok(()),
        _ => Err(format!(
            "argument `{REASON_ARG}` must say concretely why this call is needed"
        )),
    }
}

/// True when `value` is of JSON Schema type `t` (an integer is a number without a fraction).
fn has_type(value: &Value, t: &str) -> bool {
    match t {
        "string" => value.is_string(),
        "integer" => {
            value.is_i64()
                || value.is_u64()
                || value
                    .as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
        }
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => false,
    }
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Map<String, Value> {
        let declared = json!({
            "type": "object",
            "properties": {"order": {"type": "string"}, "amount": {"type": "integer"},
                           "note": {"type": ["string", "null"]}},
            "required": ["order", "amount"],
        });
        published_schema(declared.as_object().unwrap())
    }

    fn check(args: Value) -> Result<(), String> {
        check_arguments(&schema(), args.as_object().unwrap())
    }

    #[test]
    fn reason_is_added_and_required() {
        let s = schema();
        assert_eq!(s["properties"]["reason"]["type"], "string");
        assert_eq!(s["required"], json!(["order", "amount", "reason"]));
        let bare = published_schema(json!({"type": "object"}).as_object().unwrap());
        assert_eq!(bare["required"], json!(["reason"]));
    }

    #[test]
    fn good_arguments_pass() {
        check(json!({"order": "o1", "amount": 5, "reason": "ticket 12"})).unwrap();
        check(json!({"order": "o1", "amount": 5.0, "note": null, "reason": "x"})).unwrap();
    }

    #[test]
    fn missing_and_mistyped_arguments_are_refused() {
        let e = check(json!({"order": "o1"})).unwrap_err();
        assert_eq!(e, "missing required argument(s): amount, reason");
        let e = check(json!({"order": "o1", "amount": "5", "reason": "x"})).unwrap_err();
        assert_eq!(e, "argument `amount` must be of type integer, not string");
        let e = check(json!({"order": "o1", "amount": 5.5, "reason": "x"})).unwrap_err();
        assert!(e.contains("not number"), "{e}");
        let e = check(json!({"order": "o1", "amount": 5, "reason": "  "})).unwrap_err();
        assert!(e.contains("`reason`"), "{e}");
        let e = check(json!({"order": "o1", "amount": 5, "reason": 3})).unwrap_err();
        assert!(e.contains("`reason` must be of type string"), "{e}");
    }

    #[test]
    fn undeclared_arguments_are_refused_unless_the_schema_is_open() {
        let e = check(json!({"order": "o1", "amount": 5, "reason": "x", "to": "me"})).unwrap_err();
        assert!(e.starts_with("unknown argument `to`"), "{e}");
        let mut open = schema();
        open.insert("additionalProperties".into(), Value::Bool(true));
        let args = json!({"order": "o1", "amount": 5, "reason": "x", "to": "me"});
        check_arguments(&open, args.as_object().unwrap()).unwrap();
    }
}
