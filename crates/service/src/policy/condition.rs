//! Body conditions: whether the value at a JSON Pointer passes a test. Anything uncertain —
//! a body that is not strict JSON, a missing member, a type mismatch — makes a condition
//! false, so an `allow` rule never matches by accident.

use super::json::Json;
use crate::config::{Condition, Literal, Test};
use std::fmt;

/// Why a condition does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionMiss {
    /// The body is not JSON the condition can read (content type, syntax, duplicates).
    NotJson(String),
    /// The pointer names nothing.
    Missing,
    /// The value is of another type than the test compares.
    TypeMismatch(&'static str),
    /// The value fails the test.
    False,
}

impl fmt::Display for ConditionMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConditionMiss::NotJson(why) => write!(f, "the body is not JSON: {why}"),
            ConditionMiss::Missing => f.write_str("the body has no such member"),
            ConditionMiss::TypeMismatch(found) => write!(f, "the value is a {found}"),
            ConditionMiss::False => f.write_str("the value fails the test"),
        }
    }
}

/// Checks `condition` against `body` (already read, or why it could not be).
pub fn check(condition: &Condition, body: &Result<Json, String>) -> Result<(), ConditionMiss> {
    let body = body
        .as_ref()
        .map_err(|why| ConditionMiss::NotJson(why.clone()))?;
    let value = body
        .pointer(&condition.pointer)
        .ok_or(ConditionMiss::Missing)?;
    let passed = match &condition.test {
        Test::Eq(literal) => equals(value, literal)?,
        Test::Ne(literal) => !equals(value, literal)?,
        Test::Lt(bound) => number(value)? < bound,
        Test::Le(bound) => number(value)? <= bound,
        Test::Gt(bound) => number(value)? > bound,
        Test::Ge(bound) => number(value)? >= bound,
        Test::In(literals) => {
            // Equal to one of them; a type mismatch only when no literal has the value's type.
            let results: Vec<Result<bool, ConditionMiss>> =
                literals.iter().map(|l| equals(value, l)).collect();
            if results.iter().any(|r| matches!(r, Ok(true))) {
                true
            } else if results.iter().all(Result::is_err) {
                return Err(ConditionMiss::TypeMismatch(value.type_name()));
            } else {
                false
            }
        }
        Test::Matches(regex) => match value {
            Json::String(s) => regex.is_match(s),
            other => return Err(ConditionMiss::TypeMismatch(other.type_name())),
        },
    };
    if passed {
        Ok(())
    } else {
        Err(ConditionMiss::False)
    }
}

fn number(value: &Json) -> Result<&super::Decimal, ConditionMiss> {
    match value {
        Json::Number(n) => Ok(n),
        other => Err(ConditionMiss::TypeMismatch(other.type_name())),
    }
}

/// Equality of a value and a literal of the same type; a type mismatch is an error.
fn equals(value: &Json, literal: &Literal) -> Result<bool, ConditionMiss> {
    match (value, literal) {
        (Json::String(a), Literal::String(b)) => Ok(a == b),
        (Json::Number(a), Literal::Number(b)) => Ok(a == b),
        (Json::Bool(a), Literal::Bool(b)) => Ok(a == b),
        (other, _) => Err(ConditionMiss::TypeMismatch(other.type_name())),
    }
}

#[cfg(test)]
mod tests {
    use super::super::json::parse;
    use super::*;
    use crate::policy::Decimal;

    fn num(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    fn cond(pointer: &str, test: Test) -> Condition {
        Condition {
            pointer: pointer.into(),
            test,
        }
    }

    fn body(text: &str) -> Result<Json, String> {
        parse(text.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_at_the_boundary() {
        let le = cond("/amount", Test::Le(num("50.00")));
        for (text, holds) in [
            (r#"{"amount": 50}"#, true),
            (r#"{"amount": 50.000}"#, true),
            (r#"{"amount": 5e1}"#, true),
            (r#"{"amount": 5000e-2}"#, true),
            (r#"{"amount": 50.0000000000000000001}"#, false),
            (r#"{"amount": 51}"#, false),
            (r#"{"amount": -50}"#, true),
        ] {
            assert_eq!(check(&le, &body(text)).is_ok(), holds, "{text}");
        }
        let gt = cond("/amount", Test::Gt(num("500000")));
        assert!(check(&gt, &body(r#"{"amount": 500000.01}"#)).is_ok());
        assert_eq!(
            check(&gt, &body(r#"{"amount": 500000}"#)),
            Err(ConditionMiss::False)
        );
        assert!(check(&cond("/n", Test::Lt(num("1"))), &body(r#"{"n": 0.99}"#)).is_ok());
        assert!(check(&cond("/n", Test::Ge(num("1"))), &body(r#"{"n": 1.0}"#)).is_ok());
    }

    #[test]
    fn uncertainty_is_false() {
        let le = cond("/amount", Test::Le(num("50")));
        assert_eq!(
            check(&le, &body(r#"{"amount": "10"}"#)),
            Err(ConditionMiss::TypeMismatch("string"))
        );
        assert_eq!(
            check(&le, &body(r#"{"other": 1}"#)),
            Err(ConditionMiss::Missing)
        );
        assert!(matches!(
            check(&le, &body(r#"{"amount": 1, "amount": 999999}"#)),
            Err(ConditionMiss::NotJson(_))
        ));
        assert!(matches!(
            check(&le, &body("amount=1")),
            Err(ConditionMiss::NotJson(_))
        ));
        // `ne` with another type is false too: it never says "different" about the unknown.
        let ne = cond("/currency", Test::Ne(Literal::String("JPY".into())));
        assert_eq!(
            check(&ne, &body(r#"{"currency": 1}"#)),
            Err(ConditionMiss::TypeMismatch("number"))
        );
        assert!(check(&ne, &body(r#"{"currency": "EUR"}"#)).is_ok());
        assert_eq!(
            check(&ne, &body(r#"{"currency": "JPY"}"#)),
            Err(ConditionMiss::False)
        );
    }

    #[test]
    fn strings_lists_and_patterns() {
        let currencies = cond(
            "/currency",
            Test::In(vec![
                Literal::String("EUR".into()),
                Literal::String("USD".into()),
            ]),
        );
        assert!(check(&currencies, &body(r#"{"currency": "EUR"}"#)).is_ok());
        assert_eq!(
            check(&currencies, &body(r#"{"currency": "eur"}"#)),
            Err(ConditionMiss::False)
        );
        assert!(check(&currencies, &body(r#"{"currency": ["EUR"]}"#)).is_err());
        let mixed = cond(
            "/v",
            Test::In(vec![
                Literal::Number(num("1")),
                Literal::String("one".into()),
            ]),
        );
        assert!(check(&mixed, &body(r#"{"v": 1.0}"#)).is_ok());
        assert!(check(&mixed, &body(r#"{"v": "one"}"#)).is_ok());
        assert_eq!(
            check(&mixed, &body(r#"{"v": true}"#)),
            Err(ConditionMiss::TypeMismatch("boolean"))
        );
        let pattern = cond(
            "/iban",
            Test::Matches(regex::Regex::new("^(?:DE[0-9]{20})$").unwrap()),
        );
        assert!(check(&pattern, &body(r#"{"iban": "DE89370400440532013000"}"#)).is_ok());
        assert!(check(&pattern, &body(r#"{"iban": "xDE89370400440532013000"}"#)).is_err());
        let flag = cond("/live", Test::Eq(Literal::Bool(false)));
        assert!(check(&flag, &body(r#"{"live": false}"#)).is_ok());
    }
}
