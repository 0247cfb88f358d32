//! Path templates: `/v1/orders/{order}/refunds`, filled from a tool's string arguments, each
//! value percent-encoded as one path segment in the one spelling the service accepts
//! (`docs/protocol.md`, "Requests an app may make"): letters, digits and `-._~!$&'()*+,=:@`
//! raw, every other allowed character as `%XX` in upper-case hex. Values the service would
//! refuse in a path, or that would change its shape, are refused here with a message the
//! model can act on.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};
use std::fmt;

/// Encoded: everything but letters, digits and `-._~!$&'()*+,=:@`, which the service wants
/// raw (it refuses their escapes).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// A path with `{param}` placeholders, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Param(String),
}

/// A template that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The path does not start with `/`.
    #[error("must start with /")]
    NotAbsolute,
    /// A query or fragment: only the path belongs here.
    #[error("must be a path only (no ? or #)")]
    QueryOrFragment,
    /// `{` without `}`, or a `}` alone.
    #[error("unbalanced {{ or }}")]
    Unbalanced,
    /// A placeholder name that is not an identifier.
    #[error("{{{0}}} is not a parameter name (letters, digits and _)")]
    BadName(String),
    /// A placeholder that is not a whole path segment, e.g. `/v1/x{id}`.
    #[error("{{{0}}} must be a whole path segment")]
    NotASegment(String),
}

/// A value that cannot fill a placeholder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FillError {
    /// The argument is missing.
    #[error("argument `{0}` is missing")]
    Missing(String),
    /// The argument is not a string.
    #[error("argument `{0}` must be a string")]
    NotAString(String),
    /// The value would change the path's shape: empty, all dots (`.`, `..`, …), or
    /// containing `/` or `\`.
    #[error("argument `{param}` ({value:?}) would change the path: it must be one non-empty path segment without / or \\, and not . or ..")]
    ChangesThePath {
        /// The parameter.
        param: String,
        /// The refused value.
        value: String,
    },
    /// The value holds a character the service refuses in any spelling in a path: `;`,
    /// `%`, a control character, or a non-ASCII character.
    #[error("argument `{param}` ({value:?}) cannot be put in a path: {why}")]
    Unspellable {
        /// The parameter.
        param: String,
        /// The refused value.
        value: String,
        /// Which character, and why.
        why: &'static str,
    },
}

impl PathTemplate {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        if !text.starts_with('/') {
            return Err(TemplateError::NotAbsolute);
        }
        if text.contains(['?', '#']) {
            return Err(TemplateError::QueryOrFragment);
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let literal = &rest[..open];
            if literal.contains('}') {
                return Err(TemplateError::Unbalanced);
            }
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or(TemplateError::Unbalanced)?;
            let name = &after[..close];
            if name.is_empty()
                || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                || name.starts_with(|c: char| c.is_ascii_digit())
            {
                return Err(TemplateError::BadName(name.to_string()));
            }
            let next = &after[close + 1..];
            if !literal.ends_with('/') || !(next.is_empty() || next.starts_with('/')) {
                return Err(TemplateError::NotASegment(name.to_string()));
            }
            if !literal.is_empty() {
                parts.push(Part::Literal(literal.to_string()));
            }
            parts.push(Part::Param(name.to_string()));
            rest = next;
        }
        if rest.contains('}') {
            return Err(TemplateError::Unbalanced);
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Self { parts })
    }

    /// The placeholders' names, in order.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Param(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// The path with every placeholder replaced by its argument, percent-encoded.
    pub fn fill(&self, args: &Map<String, Value>) -> Result<String, FillError> {
        let mut path = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => path.push_str(text),
                Part::Param(name) => {
                    let value = match args.get(name) {
                        None => return Err(FillError::Missing(name.clone())),
                        Some(Value::String(value)) => value,
                        Some(_) => return Err(FillError::NotAString(name.clone())),
                    };
                    if value.bytes().all(|b| b == b'.') || value.contains(['/', '\\']) {
                        return Err(FillError::ChangesThePath {
                            param: name.clone(),
                            value: value.clone(),
                        });
                    }
                    if let Some(why) = unspellable(value) {
                        return Err(FillError::Unspellable {
                            param: name.clone(),
                            value: value.clone(),
                            why,
                        });
                    }
                    path.extend(utf8_percent_encode(value, SEGMENT));
                }
            }
        }
        Ok(path)
    }
}

/// Why the service would refuse `value` in a path whatever its spelling, if it would.
fn unspellable(value: &str) -> Option<&'static str> {
    if value.contains(';') {
        Some("`;` (matrix parameters) is refused in paths")
    } else if value.contains('%') {
        Some("`%` is refused in paths (an encoded `%` could be decoded twice)")
    } else if value.chars().any(char::is_control) {
        Some("control characters are refused in paths")
    } else if !value.is_ascii() {
        Some("non-ASCII characters are refused in paths (they have no single spelling)")
    } else {
        None
    }
}

impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Literal(text) => f.write_str(text)?,
                Part::Param(name) => write!(f, "{{{name}}}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn parses_and_prints_back() {
        for text in [
            "/v1/orders/{order}/refunds",
            "/v1/balance",
            "/{a}/{b}",
            "/x/{id}",
        ] {
            let t = PathTemplate::parse(text).unwrap();
            assert_eq!(t.to_string(), text);
        }
        let t = PathTemplate::parse("/v1/{org}/repos/{repo_2}").unwrap();
        assert_eq!(t.params().collect::<Vec<_>>(), ["org", "repo_2"]);
    }

    #[test]
    fn refuses_malformed_templates() {
        use TemplateError::*;
        let cases = [
            ("v1/x", NotAbsolute),
            ("/v1/x?y", QueryOrFragment),
            ("/v1/x#y", QueryOrFragment),
            ("/v1/{x", Unbalanced),
            ("/v1/x}", Unbalanced),
            ("/v1/{}", BadName(String::new())),
            ("/v1/{a-b}", BadName("a-b".into())),
            ("/v1/{1a}", BadName("1a".into())),
            ("/v1/x{id}", NotASegment("id".into())),
            ("/v1/{id}.json", NotASegment("id".into())),
        ];
        for (text, error) in cases {
            assert_eq!(PathTemplate::parse(text), Err(error), "{text}");
        }
    }

    #[test]
    fn fills_with_percent_encoded_segments() {
        let t = PathTemplate::parse("/v1/orders/{order}/refunds").unwrap();
        let fill = |value: &str| t.fill(&args(json!({ "order": value }))).unwrap();
        assert_eq!(fill("o-1_2.3~"), "/v1/orders/o-1_2.3~/refunds");
        assert_eq!(
            fill("a b?c#d\"<>[]^`{|}"),
            "/v1/orders/a%20b%3Fc%23d%22%3C%3E%5B%5D%5E%60%7B%7C%7D/refunds"
        );
        assert_eq!(
            fill("a:b@c!$&'()*+,="),
            "/v1/orders/a:b@c!$&'()*+,=/refunds"
        );
        assert_eq!(fill("a..b"), "/v1/orders/a..b/refunds");
    }

    #[test]
    fn refuses_values_the_service_refuses_in_any_spelling() {
        let t = PathTemplate::parse("/v1/orders/{order}").unwrap();
        for bad in ["a;b", "a%20b", "%2e", "é", "a\u{7}b", "a\nb"] {
            match t.fill(&args(json!({ "order": bad }))) {
                Err(FillError::Unspellable { value, .. }) => assert_eq!(value, bad),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn refuses_values_that_change_the_path() {
        let t = PathTemplate::parse("/v1/orders/{order}").unwrap();
        for bad in ["", ".", "..", "...", "../x", "a/b", "/", "a\\b", "..\\x"] {
            match t.fill(&args(json!({ "order": bad }))) {
                Err(FillError::ChangesThePath { param, value }) => {
                    assert_eq!(param, "order");
                    assert_eq!(value, bad);
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn refuses_missing_and_non_string_values() {
        let t = PathTemplate::parse("/v1/orders/{order}").unwrap();
        assert_eq!(t.fill(&Map::new()), Err(FillError::Missing("order".into())));
        assert_eq!(
            t.fill(&args(json!({"order": 7}))),
            Err(FillError::NotAString("order".into()))
        );
    }
}
