//! What a `requested` audit entry says about a call: who made it, the call as the provider
//! was to see it, when, and what the policy decided then.

use countersign_core::Timestamp;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use uuid::Uuid;

/// What the recorded decision was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Was {
    /// The call ran without approval.
    Allow,
    /// It needed approval; the gates (`policy/gate`, sorted) when the entry names them
    /// (entries written before gates existed do not).
    Require(Option<Vec<String>>),
}

/// One recorded call.
#[derive(Debug, Clone)]
pub struct Recorded<'a> {
    /// The approval.
    pub approval_id: Uuid,
    /// The calling app.
    pub app: Cow<'a, str>,
    /// The grant.
    pub grant: Cow<'a, str>,
    /// The method, upper case.
    pub method: Cow<'a, str>,
    /// The resolved upstream URL.
    pub url: Cow<'a, str>,
    /// The `content-type` header sent.
    pub content_type: Option<String>,
    /// When it was made (rate limits count from this).
    pub created_at: Timestamp,
    /// What was decided.
    pub was: Was,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    statement: StatementPart<'a>,
    approval_required: Option<bool>,
    #[serde(borrow)]
    matched: Option<Vec<MatchPart<'a>>>,
    #[serde(borrow)]
    requirement: Option<Vec<GatePart<'a>>>,
}

#[derive(Deserialize)]
struct StatementPart<'a> {
    approval_id: Uuid,
    #[serde(borrow)]
    app: Cow<'a, str>,
    #[serde(borrow)]
    grant: Cow<'a, str>,
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow)]
    url: Cow<'a, str>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    created_at: Timestamp,
}

#[derive(Deserialize)]
struct MatchPart<'a> {
    #[serde(borrow)]
    action: Cow<'a, str>,
}

#[derive(Deserialize)]
struct GatePart<'a> {
    #[serde(borrow)]
    policy: Cow<'a, str>,
    #[serde(borrow)]
    gate: Cow<'a, str>,
}

/// Reads an entry's data; `None` when it is not a recorded call this tool understands.
pub fn parse(data: &str) -> Option<Recorded<'_>> {
    let data: Data<'_> = serde_json::from_str(data).ok()?;
    let required = match (data.approval_required, &data.matched) {
        (Some(required), _) => required,
        (None, Some(matched)) => matched.iter().any(|m| m.action == "require"),
        (None, None) => return None,
    };
    let was = if required {
        Was::Require(data.requirement.map(|gates| {
            let mut keys: Vec<String> = gates
                .iter()
                .map(|g| format!("{}/{}", g.policy, g.gate))
                .collect();
            keys.sort();
            keys
        }))
    } else {
        Was::Allow
    };
    let s = data.statement;
    let content_type = s.headers.get("content-type").cloned();
    Some(Recorded {
        approval_id: s.approval_id,
        app: s.app,
        grant: s.grant,
        method: s.method,
        url: s.url,
        content_type,
        created_at: s.created_at,
        was,
    })
}

/// The path the app asked for: the URL's path below `base_path` (the grant's base URL
/// path without its trailing `/`); `None` when the URL is not below it.
pub fn path_below<'u>(url: &'u url::Url, base_path: &str) -> Option<&'u str> {
    let rest = url.path().strip_prefix(base_path)?;
    rest.starts_with('/').then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_current_and_older_entries() {
        let current = r#"{"statement":{"v":1,"service":"s","approval_id":"0193a4c0-0000-7000-8000-000000000001","app":"a","grant":"g","method":"POST","url":"http://h/api/v1/refunds?x=1","headers":{"content-type":"application/json"},"body_sha256":"","body_size":0,"reason":"r","created_at":"2026-11-24T12:00:00Z","expires_at":"2026-11-24T13:00:00Z","policy_id":"p"},"approval_required":true,"matched":[{"policy":"p","action":"require"}],"requirement":[{"policy":"p","gate":"z","quorum":1,"members":[]},{"policy":"p","gate":"a","quorum":1,"members":[]}]}"#;
        let r = parse(current).unwrap();
        assert_eq!(r.app, "a");
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        assert_eq!(r.was, Was::Require(Some(vec!["p/a".into(), "p/z".into()])));
        assert_eq!(r.created_at.to_string(), "2026-11-24T12:00:00Z");

        let older = current
            .replace(r#","matched":[{"policy":"p","action":"require"}]"#, "")
            .replace(r#","requirement":[{"policy":"p","gate":"z","quorum":1,"members":[]},{"policy":"p","gate":"a","quorum":1,"members":[]}]"#, "")
            .replace(r#""approval_required":true"#, r#""approval_required":false"#);
        assert_eq!(parse(&older).unwrap().was, Was::Allow);
        let no_decision = older.replace(r#","approval_required":false"#, "");
        assert!(parse(&no_decision).is_none());
        assert!(parse("{}").is_none());
        assert!(parse("not json").is_none());
    }

    #[test]
    fn the_path_is_taken_below_the_base_path() {
        let url = url::Url::parse("http://h/api/v1/refunds?x=1").unwrap();
        assert_eq!(path_below(&url, "/api"), Some("/v1/refunds"));
        assert_eq!(path_below(&url, ""), Some("/api/v1/refunds"));
        assert_eq!(path_below(&url, "/ap"), None);
        assert_eq!(path_below(&url, "/other"), None);
        let root = url::Url::parse("http://h/api").unwrap();
        assert_eq!(path_below(&root, "/api"), None);
    }
}
