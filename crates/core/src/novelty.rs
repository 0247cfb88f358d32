//! What is new in a request compared with the approved history of the same kind (grant,
//! method and path template): the first request from an app, a header or body field never
//! seen, a first-seen value where past values repeat (a recipient, an IBAN, a host), a number
//! far above the largest approved. Advisory: it helps a person see what changed, it never
//! decides anything. No I/O.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// A number is notable when it is more than this many times the largest approved before.
pub const LARGER_FACTOR: f64 = 3.0;

/// One request: who asked and what would be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// The app.
    pub app: &'a str,
    /// Request headers (lower-case names).
    pub headers: &'a BTreeMap<String, String>,
    /// The body.
    pub body: &'a [u8],
}

/// Something in the request that the history has not shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Novelty {
    /// Nothing of this kind was approved before.
    FirstOfKind,
    /// The first request of this kind from this app.
    FirstFromApp {
        /// The app.
        app: String,
    },
    /// A header never sent before.
    NewHeader {
        /// Its name.
        name: String,
    },
    /// A body field never sent before.
    NewField {
        /// Its JSON Pointer (array positions as `*`).
        pointer: String,
    },
    /// A value never approved before at a field whose past values repeat.
    NewValue {
        /// The field.
        pointer: String,
        /// The value now.
        value: String,
        /// The values approved before, most frequent first (at most 3).
        usual: Vec<String>,
    },
    /// A number more than [`LARGER_FACTOR`] times the largest approved before.
    Larger {
        /// The field.
        pointer: String,
        /// The number now, as written.
        value: String,
        /// The largest approved before, as written.
        largest: String,
        /// How many times larger.
        ratio: f64,
    },
}

impl fmt::Display for Novelty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Novelty::FirstOfKind => {
                f.write_str("no request of this kind (grant, method, path) was approved before")
            }
            Novelty::FirstFromApp { app } => {
                write!(f, "the first request of this kind from app {app}")
            }
            Novelty::NewHeader { name } => write!(f, "header {name} was never sent before"),
            Novelty::NewField { pointer } => write!(f, "field {pointer} was never sent before"),
            Novelty::NewValue {
                pointer,
                value,
                usual,
            } => write!(
                f,
                "{pointer} {value} was never approved before (usually {})",
                usual.join(", ")
            ),
            Novelty::Larger {
                pointer,
                value,
                largest,
                ratio,
            } => write!(
                f,
                "{pointer} {value} is {} the largest approved ({largest})",
                ratio_words(*ratio)
            ),
        }
    }
}

fn ratio_words(ratio: f64) -> String {
    if ratio >= 10.0 {
        format!("{:.0}×", ratio)
    } else {
        format!("{:.1}×", ratio)
    }
}

/// The path with every segment that holds a digit (an id) replaced by `{}`, version
/// segments (`v1`, `v2`) kept: `/v1/customers/c_81/refunds` and `/v1/customers/c_92/refunds`
/// are of one kind.
pub fn path_template(path: &str) -> String {
    let is_version = |s: &str| {
        s.strip_prefix('v')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    path.split('/')
        .map(|segment| {
            if segment.bytes().any(|b| b.is_ascii_digit()) && !is_version(segment) {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The leaves of a JSON body: pointer (array positions as `*`) → values as written.
fn leaves(body: &[u8]) -> Vec<(String, Value)> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(&value, &mut String::new(), &mut out);
    out
}

fn walk(value: &Value, pointer: &mut String, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(members) => {
            for (name, v) in members {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&name.replace('~', "~0").replace('/', "~1"));
                walk(v, pointer, out);
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for v in items {
                let len = pointer.len();
                pointer.push_str("/*");
                walk(v, pointer, out);
                pointer.truncate(len);
            }
        }
        leaf => out.push((pointer.clone(), leaf.clone())),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What the history says about one field.
#[derive(Default)]
struct FieldHistory {
    /// Value → how often approved.
    strings: HashMap<String, usize>,
    /// Approvals that had the field as a string.
    string_count: usize,
    /// The largest number approved, with its spelling.
    largest: Option<(f64, String)>,
}

/// Compares `current` with `history` (past approved requests of the same kind). Each finding
/// is listed once: a new field inside an array of 2,000 items is one finding, not 2,000; of
/// the numbers at one field over the largest approved, the largest is listed; of the new
/// values at one field, the first.
pub fn compare(current: &Request<'_>, history: &[Request<'_>]) -> Vec<Novelty> {
    if history.is_empty() {
        return vec![Novelty::FirstOfKind];
    }
    let mut found = Vec::new();
    if !history.iter().any(|h| h.app == current.app) {
        found.push(Novelty::FirstFromApp {
            app: current.app.to_string(),
        });
    }
    let seen_headers: BTreeSet<&str> = history
        .iter()
        .flat_map(|h| h.headers.keys().map(String::as_str))
        .collect();
    for name in current.headers.keys() {
        if !seen_headers.contains(name.as_str()) {
            found.push(Novelty::NewHeader { name: name.clone() });
        }
    }
    let mut fields: HashMap<String, FieldHistory> = HashMap::new();
    for past in history {
        for (pointer, value) in leaves(past.body) {
            let field = fields.entry(pointer).or_default();
            match &value {
                Value::String(s) => {
                    *field.strings.entry(s.clone()).or_default() += 1;
                    field.string_count += 1;
                }
                Value::Number(n) => {
                    if let Some(x) = n.as_f64() {
                        if field.largest.as_ref().is_none_or(|(m, _)| x > *m) {
                            field.largest = Some((x, n.to_string()));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for (pointer, value) in leaves(current.body) {
        let Some(field) = fields.get(&pointer) else {
            found.push(Novelty::NewField { pointer });
            continue;
        };
        match &value {
            Value::String(s) => {
                // Past values repeat: fewer distinct values than half the approvals.
                let distinct = field.strings.len();
                let repeats = field.string_count >= 2 && distinct * 2 <= field.string_count;
                if repeats && !field.strings.contains_key(s) {
                    let mut usual: Vec<(&String, &usize)> = field.strings.iter().collect();
                    usual.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                    found.push(Novelty::NewValue {
                        pointer,
                        value: text(&value),
                        usual: usual.into_iter().take(3).map(|(v, _)| v.clone()).collect(),
                    });
                }
            }
            Value::Number(n) => {
                if let (Some(x), Some((largest, spelled))) = (n.as_f64(), &field.largest) {
                    if *largest > 0.0 && x > LARGER_FACTOR * largest {
                        found.push(Novelty::Larger {
                            pointer,
                            value: n.to_string(),
                            largest: spelled.clone(),
                            ratio: x / largest,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    let mut unique: Vec<Novelty> = Vec::new();
    let mut at: HashMap<(u8, String), usize> = HashMap::new();
    for n in found {
        let key = match &n {
            Novelty::FirstOfKind => (0, String::new()),
            Novelty::FirstFromApp { app } => (1, app.clone()),
            Novelty::NewHeader { name } => (2, name.clone()),
            Novelty::NewField { pointer } => (3, pointer.clone()),
            Novelty::NewValue { pointer, .. } => (4, pointer.clone()),
            Novelty::Larger { pointer, .. } => (5, pointer.clone()),
        };
        match at.get(&key) {
            None => {
                at.insert(key, unique.len());
                unique.push(n);
            }
            Some(&i) => {
                if let (Novelty::Larger { ratio: new, .. }, Novelty::Larger { ratio: old, .. }) =
                    (&n, &unique[i])
                {
                    if new > old {
                        unique[i] = n;
                    }
                }
            }
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> BTreeMap<String, String> {
        names
            .iter()
            .map(|n| (n.to_string(), "x".to_string()))
            .collect()
    }

    #[test]
    fn templates_fold_ids() {
        assert_eq!(
            path_template("/v1/customers/c_81/refunds"),
            "/v1/customers/{}/refunds"
        );
        assert_eq!(path_template("/v1/refunds"), "/v1/refunds");
        assert_eq!(path_template("/v2/orders/42"), "/v2/orders/{}");
        assert_eq!(path_template("/api/refunds"), "/api/refunds");
    }

    #[test]
    fn a_recorded_history_marks_what_differs() {
        let h = headers(&["content-type"]);
        let bodies: Vec<String> = (0..6)
            .map(|i| {
                format!(
                    r#"{{"amount": {}, "iban": "DE89370400440532013000", "currency": "EUR"}}"#,
                    1000 + i * 199
                )
            })
            .collect();
        let history: Vec<Request> = bodies
            .iter()
            .map(|b| Request {
                app: "support-agent",
                headers: &h,
                body: b.as_bytes(),
            })
            .collect();
        let same = r#"{"amount": 1500, "iban": "DE89370400440532013000", "currency": "EUR"}"#;
        let ok = Request {
            app: "support-agent",
            headers: &h,
            body: same.as_bytes(),
        };
        assert_eq!(compare(&ok, &history), vec![]);

        let odd_headers = headers(&["content-type", "x-debug"]);
        let odd = r#"{"amount": 199900, "iban": "GB33BUKB20201555555555", "currency": "EUR", "memo": "x"}"#;
        let odd = Request {
            app: "batch-job",
            headers: &odd_headers,
            body: odd.as_bytes(),
        };
        let found = compare(&odd, &history);
        let words: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert!(
            words.contains(&"the first request of this kind from app batch-job".to_string()),
            "{words:?}"
        );
        assert!(
            words.contains(&"header x-debug was never sent before".to_string()),
            "{words:?}"
        );
        assert!(
            words.contains(&"field /memo was never sent before".to_string()),
            "{words:?}"
        );
        assert!(
            words.contains(&"/iban GB33BUKB20201555555555 was never approved before (usually DE89370400440532013000)".to_string()),
            "{words:?}"
        );
        assert!(
            words.contains(&"/amount 199900 is 100× the largest approved (1995)".to_string()),
            "{words:?}"
        );
        // Values that never repeat (order ids) are not news.
        assert!(!words.iter().any(|w| w.starts_with("/currency")));
    }

    #[test]
    fn values_that_do_not_repeat_are_not_flagged() {
        let h = headers(&[]);
        let bodies: Vec<String> = (0..4).map(|i| format!(r#"{{"order": "A-{i}"}}"#)).collect();
        let history: Vec<Request> = bodies
            .iter()
            .map(|b| Request {
                app: "a",
                headers: &h,
                body: b.as_bytes(),
            })
            .collect();
        let now = Request {
            app: "a",
            headers: &h,
            body: br#"{"order": "B-9"}"#,
        };
        assert_eq!(compare(&now, &history), vec![]);
        assert_eq!(compare(&now, &[]), vec![Novelty::FirstOfKind]);
    }

    #[test]
    fn three_times_is_the_line() {
        let h = headers(&[]);
        let history = [Request {
            app: "a",
            headers: &h,
            body: br#"{"items": [{"n": 10}, {"n": 20}]}"#,
        }];
        let at = Request {
            app: "a",
            headers: &h,
            body: br#"{"items": [{"n": 60}]}"#,
        };
        assert_eq!(compare(&at, &history), vec![]);
        let over = Request {
            app: "a",
            headers: &h,
            body: br#"{"items": [{"n": 61}]}"#,
        };
        assert!(
            matches!(&compare(&over, &history)[..], [Novelty::Larger { pointer, .. }] if pointer == "/items/*/n")
        );
    }

    #[test]
    fn a_new_field_in_every_array_item_is_said_once() {
        let h = headers(&[]);
        let history = [Request {
            app: "a",
            headers: &h,
            body: br#"{"items": [{"sku": "S-1"}]}"#,
        }];
        let items: Vec<String> = (0..2000)
            .map(|i| format!(r#"{{"sku": "S-{i}", "note": "n"}}"#))
            .collect();
        let body = format!(r#"{{"items": [{}]}}"#, items.join(","));
        let now = Request {
            app: "a",
            headers: &h,
            body: body.as_bytes(),
        };
        assert_eq!(
            compare(&now, &history),
            vec![Novelty::NewField {
                pointer: "/items/*/note".into()
            }]
        );
        // Many numbers over the line at one field: the largest is said.
        let history = [Request {
            app: "a",
            headers: &h,
            body: br#"{"items": [{"n": 10}]}"#,
        }];
        let now = Request {
            app: "a",
            headers: &h,
            body: br#"{"items": [{"n": 40}, {"n": 500}, {"n": 31}]}"#,
        };
        assert!(matches!(
            &compare(&now, &history)[..],
            [Novelty::Larger { value, .. }] if value == "500"
        ));
    }
}
