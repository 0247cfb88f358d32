//! The document against itself, the error codes and the checked-in `docs/openapi.json`.
//! (That every route the router serves is in it is checked against the running service, in
//! `tests/tests/openapi.rs`.)

use super::*;
use crate::routes::document;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn json() -> Value {
    serde_json::to_value(document()).unwrap()
}

/// `(method, path, operation)` of every operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[test]
fn the_checked_in_document_is_the_generated_one() {
    let generated = document().to_pretty_json().unwrap() + "\n";
    if std::env::var_os("COUNTERSIGN_WRITE_OPENAPI").is_some() {
        std::fs::write(checked_in(), &generated).unwrap();
    }
    let file = std::fs::read_to_string(checked_in()).unwrap_or_default();
    assert!(
        file == generated,
        "docs/openapi.json is not the document the service serves; regenerate it with \
         COUNTERSIGN_WRITE_OPENAPI=1 cargo test -p countersign-service openapi"
    );
}

#[test]
fn it_is_openapi_3_1_with_both_security_schemes() {
    let doc = json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    let schemes = &doc["components"]["securitySchemes"];
    for name in [APP_KEY, WALLET_SESSION] {
        assert_eq!(schemes[name]["type"], "http", "{name}");
        assert_eq!(schemes[name]["scheme"], "bearer", "{name}");
    }
    assert_eq!(
        doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["$ref"],
        "#/components/schemas/ErrorCode"
    );
}

#[test]
fn every_operation_says_how_it_is_authenticated_and_what_it_answers() {
    let doc = json();
    let ops = operations(&doc);
    assert!(ops.len() >= 15, "only {} operations", ops.len());
    let mut ids = BTreeSet::new();
    for (method, path, op) in ops {
        let at = format!("{method} {path}");
        assert!(
            ids.insert(op["operationId"].to_string()),
            "{at}: duplicate operationId"
        );
        let security = op["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{at}: no security"));
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{at}: no success"
        );
        let authenticated = security
            .iter()
            .any(|s| s.as_object().is_some_and(|s| !s.is_empty()));
        // (Signing in answers 401 too, without a bearer credential.)
        assert!(
            !authenticated || responses.contains_key("401"),
            "{at}: a credential is required, but 401 is not documented"
        );
        for template in path.split('/').filter(|s| s.starts_with('{')) {
            let name = template.trim_matches(|c| c == '{' || c == '}');
            assert!(
                op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path")),
                "{at}: path parameter {name} undocumented"
            );
        }
        for (status, response) in responses {
            if status.starts_with(['4', '5']) {
                let codes = &response["content"]["application/json"]["schema"]["allOf"][1]
                    ["properties"]["error"]["properties"]["code"]["enum"];
                let codes = codes
                    .as_array()
                    .unwrap_or_else(|| panic!("{at} {status}: no codes"));
                for code in codes {
                    let code = ErrorCode::ALL.iter().find(|c| c.as_str() == code);
                    assert_eq!(
                        code.map(|c| c.status().as_u16().to_string()).as_ref(),
                        Some(status),
                        "{at}: {code:?} under {status}"
                    );
                }
            }
        }
    }
}

/// Codes answered by the router itself for paths and methods no operation has.
const ROUTER_CODES: [ErrorCode; 2] = [ErrorCode::NoSuchEndpoint, ErrorCode::MethodNotAllowed];

#[test]
fn every_error_code_is_documented_on_an_operation() {
    let doc = json();
    let mut documented: BTreeSet<String> = ROUTER_CODES.iter().map(|c| c.to_string()).collect();
    for (_, _, op) in operations(&doc) {
        for response in op["responses"].as_object().unwrap().values() {
            if let Some(codes) = response["content"]["application/json"]["schema"]["allOf"][1]
                ["properties"]["error"]["properties"]["code"]["enum"]
                .as_array()
            {
                documented.extend(codes.iter().map(|c| c.as_str().unwrap().to_string()));
            }
        }
    }
    let all: BTreeSet<String> = ErrorCode::ALL.iter().map(|c| c.to_string()).collect();
    assert_eq!(
        documented, all,
        "every ErrorCode must be listed in the error responses of the operations that answer it"
    );
}

#[test]
fn error_responses_group_codes_by_status_once_each() {
    let responses = responses_of(&[
        &AUTH,
        &[
            ErrorCode::ApprovalNotFound,
            ErrorCode::Unauthorized,
            ErrorCode::UnknownGrant,
        ],
    ]);
    assert_eq!(responses.keys().collect::<Vec<_>>(), ["401", "404"]);
    let value = serde_json::to_value(&responses["404"]).unwrap();
    let codes = &value["content"]["application/json"]["schema"]["allOf"][1]["properties"]["error"]
        ["properties"]["code"]["enum"];
    assert_eq!(
        codes,
        &serde_json::json!(["approval_not_found", "unknown_grant"])
    );
    let value = serde_json::to_value(&responses["401"]).unwrap();
    assert_eq!(
        value["content"]["application/json"]["schema"]["allOf"][1]["properties"]["error"]
            ["properties"]["code"]["enum"],
        serde_json::json!(["unauthorized"])
    );
}
