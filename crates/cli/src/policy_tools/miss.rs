//! Why a rule did not decide a call, in words.

use countersign_service::config::{format_duration, Literal, Rule, Test};
use countersign_service::policy::{parse_json, CallFacts, ConditionMiss, Json, RuleMiss};
use serde::Serialize;

/// Why a rule did not match, for people and for `--json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissView {
    /// `method`, `path`, `condition` or `rate_limited`.
    pub kind: &'static str,
    /// Which condition (1-based), for `condition`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<usize>,
    /// The condition as written (`/amount <= 5000`), for `condition`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    /// `not_json`, `missing`, `type_mismatch` or `false`, for `condition`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<&'static str>,
    /// The whole explanation in words.
    pub text: String,
}

/// Describes `miss` of `rule` for the call `facts`.
pub fn describe_miss(rule: &Rule, facts: &CallFacts<'_>, miss: &RuleMiss) -> MissView {
    let plain = |kind, text| MissView {
        kind,
        condition: None,
        test: None,
        why: None,
        text,
    };
    match miss {
        RuleMiss::Method => plain(
            "method",
            format!(
                "method {} is not {}",
                facts.method,
                one_of(&rule.methods, " or ")
            ),
        ),
        RuleMiss::Path => plain(
            "path",
            format!("path {} does not match {}", facts.path, rule.path.as_str()),
        ),
        RuleMiss::RateLimited { count, limit } => plain(
            "rate_limited",
            format!(
                "its limit of {} per {} is reached ({count} matches)",
                limit.count,
                format_duration(limit.per)
            ),
        ),
        RuleMiss::Condition { index, why } => {
            let condition = &rule.when[*index];
            let pointer = shown_pointer(&condition.pointer);
            let (why_kind, reason) = match why {
                ConditionMiss::NotJson(_) => ("not_json", why.to_string()),
                ConditionMiss::Missing => ("missing", format!("the body has no {pointer}")),
                ConditionMiss::TypeMismatch(found) => (
                    "type_mismatch",
                    format!(
                        "{pointer} is a {found}, the test compares {}",
                        expected_type(&condition.test)
                    ),
                ),
                ConditionMiss::False => (
                    "false",
                    match value_at(facts, &condition.pointer) {
                        Some(value) => format!("{pointer} is {value}"),
                        None => "the value fails the test".to_string(),
                    },
                ),
            };
            MissView {
                kind: "condition",
                condition: Some(index + 1),
                test: Some(condition.to_string()),
                why: Some(why_kind),
                text: format!(
                    "condition {} of {} ({condition}) does not hold: {reason}",
                    index + 1,
                    rule.when.len()
                ),
            }
        }
    }
}

/// `GET`, `GET or HEAD`, or `any method`.
fn one_of(items: &[String], last: &str) -> String {
    match items {
        [] => "any method".to_string(),
        [one] => one.clone(),
        [rest @ .., final_one] => format!("{}{last}{final_one}", rest.join(", ")),
    }
}

fn shown_pointer(pointer: &str) -> String {
    if pointer.is_empty() {
        "the body".to_string()
    } else {
        pointer.to_string()
    }
}

/// The JSON type(s) a test compares.
fn expected_type(test: &Test) -> String {
    let literal_type = |l: &Literal| match l {
        Literal::String(_) => "a string",
        Literal::Number(_) => "a number",
        Literal::Bool(_) => "a boolean",
    };
    match test {
        Test::Eq(l) | Test::Ne(l) => literal_type(l).to_string(),
        Test::Lt(_) | Test::Le(_) | Test::Gt(_) | Test::Ge(_) => "a number".to_string(),
        Test::In(list) => {
            let mut types: Vec<&str> = list.iter().map(literal_type).collect();
            types.dedup();
            types.join(" or ")
        }
        Test::Matches(_) => "a string".to_string(),
    }
}

/// The value at `pointer` as JSON text (numbers exactly as read), when the body has one.
fn value_at(facts: &CallFacts<'_>, pointer: &str) -> Option<String> {
    let body = parse_json(facts.body).ok()?;
    Some(match body.pointer(pointer)? {
        Json::Null => "null".to_string(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => format!("{s:?}"),
        Json::Array(_) => "an array".to_string(),
        Json::Object(_) => "an object".to_string(),
    })
}
