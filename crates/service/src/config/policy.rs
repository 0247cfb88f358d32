//! The checked form of `[[group]]` and `[[policy]]`: gates, rules, body conditions and rate
//! limits. Evaluation is in [`crate::policy`].

use super::PathPattern;
use crate::policy::Decimal;
use std::time::Duration;

/// `[[group]]`: a named set of approvers that gates can refer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConfig {
    /// The group id.
    pub id: String,
    /// Approver ids, in file order.
    pub members: Vec<String>,
}

/// `[[policy]]`: which calls run, need which gates, or are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyConfig {
    /// The policy id.
    pub id: String,
    /// How long an approval may stay pending (default 1 h, at most 30 d).
    pub window: Duration,
    /// Gates a call needs when no rule matches (default: every gate).
    pub require: Vec<String>,
    /// The gates, in file order.
    pub gates: Vec<Gate>,
    /// The rules, in file order; the first that matches decides.
    pub rules: Vec<Rule>,
}

/// `[[policy.gate]]`: a set of people of whom `quorum` must approve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// The gate id, unique within its policy.
    pub id: String,
    /// The approvers named directly.
    pub approvers: Vec<String>,
    /// The groups named.
    pub groups: Vec<String>,
    /// Everyone eligible: the approvers and the groups' members, sorted, without repeats.
    pub members: Vec<String>,
    /// Distinct approvals needed.
    pub quorum: u32,
}

/// `[[policy.rule]]`: when it matches, its action decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule id (given, or `rule-N` by position).
    pub id: String,
    /// Upper-case methods; empty means any method. Compared exactly.
    pub methods: Vec<String>,
    /// The path pattern, compared case-sensitively with the canonical path.
    pub path: PathPattern,
    /// Conditions on the JSON body; all must hold.
    pub when: Vec<Condition>,
    /// How often the rule may match per app; past that, evaluation goes on to the next rule.
    pub at_most: Option<RateLimit>,
    /// What a match decides.
    pub action: Action,
}

/// What a matching rule decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The call runs without approval.
    Allow,
    /// The call needs these gates of the policy.
    Require(Vec<String>),
    /// The call is refused (403 `policy_denied`).
    Deny,
}

impl Action {
    /// The action's name in the file.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Require(_) => "require",
            Action::Deny => "deny",
        }
    }
}

/// A condition on the JSON body: the value at `pointer` passes `test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// An RFC 6901 JSON Pointer (`""` is the whole body).
    pub pointer: String,
    /// The test.
    pub test: Test,
}

/// A literal of a condition, from the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// A string.
    String(String),
    /// A number, kept exactly.
    Number(Decimal),
    /// `true` or `false`.
    Bool(bool),
}

/// The test of a [`Condition`].
#[derive(Debug, Clone)]
pub enum Test {
    /// Equal (numbers as decimals, strings exactly).
    Eq(Literal),
    /// Of the same type and not equal.
    Ne(Literal),
    /// A number below.
    Lt(Decimal),
    /// A number at most.
    Le(Decimal),
    /// A number above.
    Gt(Decimal),
    /// A number at least.
    Ge(Decimal),
    /// Equal to one of these.
    In(Vec<Literal>),
    /// A string the whole of which matches this regular expression.
    Matches(regex::Regex),
}

impl Test {
    /// The test's name in the file.
    pub fn name(&self) -> &'static str {
        match self {
            Test::Eq(_) => "eq",
            Test::Ne(_) => "ne",
            Test::Lt(_) => "lt",
            Test::Le(_) => "le",
            Test::Gt(_) => "gt",
            Test::Ge(_) => "ge",
            Test::In(_) => "in",
            Test::Matches(_) => "matches",
        }
    }
}

impl PartialEq for Test {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Test::Eq(a), Test::Eq(b)) | (Test::Ne(a), Test::Ne(b)) => a == b,
            (Test::Lt(a), Test::Lt(b))
            | (Test::Le(a), Test::Le(b))
            | (Test::Gt(a), Test::Gt(b))
            | (Test::Ge(a), Test::Ge(b)) => a == b,
            (Test::In(a), Test::In(b)) => a == b,
            (Test::Matches(a), Test::Matches(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl Eq for Test {}

/// `at_most = "20/1h"`: at most `count` matches per app within `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Matches allowed in the period.
    pub count: u32,
    /// The sliding period.
    pub per: Duration,
}

impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::String(s) => write!(f, "{s:?}"),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pointer = &self.pointer;
        match &self.test {
            Test::Eq(l) => write!(f, "{pointer} == {l}"),
            Test::Ne(l) => write!(f, "{pointer} != {l}"),
            Test::Lt(n) => write!(f, "{pointer} < {n}"),
            Test::Le(n) => write!(f, "{pointer} <= {n}"),
            Test::Gt(n) => write!(f, "{pointer} > {n}"),
            Test::Ge(n) => write!(f, "{pointer} >= {n}"),
            Test::In(list) => {
                let items: Vec<String> = list.iter().map(ToString::to_string).collect();
                write!(f, "{pointer} in [{}]", items.join(", "))
            }
            Test::Matches(re) => write!(f, "{pointer} matches {:?}", re.as_str()),
        }
    }
}

impl Rule {
    /// True when the rule's methods and path pattern cover `method` on `path` (exactly,
    /// case-sensitively); its conditions and rate limit are not checked.
    pub fn matches_request(&self, method: &str, path: &str) -> bool {
        (self.methods.is_empty() || self.methods.iter().any(|m| m == method))
            && self.path.matches(path)
    }

    /// A secret-free description for the audit log's record of configuration changes.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "methods": self.methods,
            "path": self.path.as_str(),
            "when": self.when.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "at_most": self.at_most.map(|l| format!("{}/{}", l.count, super::format_duration(l.per))),
            "action": self.action.name(),
            "gates": match &self.action {
                Action::Require(gates) => gates.clone(),
                _ => Vec::new(),
            },
        })
    }
}

impl PolicyConfig {
    /// The gate with this id.
    pub fn gate(&self, id: &str) -> Option<&Gate> {
        self.gates.iter().find(|g| g.id == id)
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}
