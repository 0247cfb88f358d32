//! Policy evaluation, with no I/O: which rule of a policy decides a call, and what the call
//! then needs — to run, the signed approvals of some gates, or nothing (it is refused).
//!
//! Rules see the method and the canonical path the provider will be sent (ambiguous
//! spellings are refused before, by [`crate::call`]). The first rule whose method, path,
//! body conditions and rate limit all hold decides; with none, the policy's `require` does.
//! Every doubt falls to the strict side: an unreadable body fails conditions, a spelling
//! that misses an `allow` rule needs approval.

mod condition;
mod decimal;
mod gates;
mod json;

pub use condition::ConditionMiss;
pub use decimal::Decimal;
pub use gates::{assign, satisfied, Seats};
pub use json::{parse as parse_json, Json, JsonError};

use crate::config::{Action, AppConfig, Config, GrantConfig, PolicyConfig, RateLimit, Rule};
use std::time::Duration;

/// What policies look at in a call.
#[derive(Debug, Clone, Copy)]
pub struct CallFacts<'a> {
    /// The upper-case method.
    pub method: &'a str,
    /// The canonical path below the grant's base URL, without the query.
    pub path: &'a str,
    /// The `content-type` header, if any.
    pub content_type: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

/// How often rate-limited rules have matched for the calling app.
pub trait RateCounts {
    /// Matches of `rule` of `policy` within the last `per`.
    fn count(&self, policy: &str, rule: &str, per: Duration) -> u64;
}

/// No rule has matched yet (for tools and tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCounts;

impl RateCounts for NoCounts {
    fn count(&self, _: &str, _: &str, _: Duration) -> u64 {
        0
    }
}

impl<S: std::hash::BuildHasher> RateCounts for std::collections::HashMap<(String, String), u64, S> {
    fn count(&self, policy: &str, rule: &str, _: Duration) -> u64 {
        self.get(&(policy.to_string(), rule.to_string()))
            .copied()
            .unwrap_or(0)
    }
}

/// What one policy decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Runs without approval.
    Allow,
    /// Needs these gates of the policy.
    Require(Vec<String>),
    /// Refused.
    Deny,
}

/// Why a rule did not decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleMiss {
    /// The method is not one of the rule's.
    Method,
    /// The path does not match the pattern.
    Path,
    /// Condition `index` (0-based) does not hold.
    Condition {
        /// Which condition.
        index: usize,
        /// Why.
        why: ConditionMiss,
    },
    /// The rule has matched `count` times within its period already.
    RateLimited {
        /// Matches so far.
        count: u64,
        /// The limit.
        limit: RateLimit,
    },
}

/// One policy's evaluation: the deciding rule (if any), the verdict, and why each earlier
/// rule did not decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The policy.
    pub policy: String,
    /// The rule that decided; `None` when no rule matched and the policy's `require` applied.
    pub rule: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// The rules tried before the deciding one, with why they did not match.
    pub misses: Vec<(String, RuleMiss)>,
    /// The deciding rule's rate limit, when it has one (its match must be counted).
    pub limit: Option<RateLimit>,
}

/// Evaluates `policy` for a call (`counts` are the calling app's), with why each earlier
/// rule did not match.
pub fn evaluate(
    facts: &CallFacts<'_>,
    policy: &PolicyConfig,
    counts: &dyn RateCounts,
) -> Evaluation {
    evaluate_with(facts, policy, counts, true)
}

/// [`evaluate`]; `trace` false leaves `misses` empty (the live path needs only the verdict).
fn evaluate_with(
    facts: &CallFacts<'_>,
    policy: &PolicyConfig,
    counts: &dyn RateCounts,
    trace: bool,
) -> Evaluation {
    let mut body: Option<Result<Json, String>> = None;
    let mut misses = Vec::new();
    for rule in &policy.rules {
        match rule_matches(rule, facts, &policy.id, counts, &mut body) {
            Ok(()) => {
                return Evaluation {
                    policy: policy.id.clone(),
                    rule: Some(rule.id.clone()),
                    verdict: match &rule.action {
                        Action::Allow => Verdict::Allow,
                        Action::Require(gates) => Verdict::Require(gates.clone()),
                        Action::Deny => Verdict::Deny,
                    },
                    misses,
                    limit: rule.at_most,
                }
            }
            Err(miss) if trace => misses.push((rule.id.clone(), miss)),
            Err(_) => {}
        }
    }
    Evaluation {
        policy: policy.id.clone(),
        rule: None,
        verdict: Verdict::Require(policy.require.clone()),
        misses,
        limit: None,
    }
}

fn rule_matches(
    rule: &Rule,
    facts: &CallFacts<'_>,
    policy: &str,
    counts: &dyn RateCounts,
    body: &mut Option<Result<Json, String>>,
) -> Result<(), RuleMiss> {
    if !rule.methods.is_empty() && !rule.methods.iter().any(|m| m == facts.method) {
        return Err(RuleMiss::Method);
    }
    if !rule.path.matches(facts.path) {
        return Err(RuleMiss::Path);
    }
    for (index, cond) in rule.when.iter().enumerate() {
        let body = body.get_or_insert_with(|| read_body(facts));
        condition::check(cond, body).map_err(|why| RuleMiss::Condition { index, why })?;
    }
    if let Some(limit) = rule.at_most {
        let count = counts.count(policy, &rule.id, limit.per);
        if count >= u64::from(limit.count) {
            return Err(RuleMiss::RateLimited { count, limit });
        }
    }
    Ok(())
}

/// The body as JSON, when its content type says JSON and it is strictly so.
fn read_body(facts: &CallFacts<'_>) -> Result<Json, String> {
    match facts.content_type {
        Some(ct) if is_json_content_type(ct) => json::parse(facts.body).map_err(|e| e.to_string()),
        Some(ct) => Err(format!("its content-type is {ct:?}, not JSON")),
        None => Err("it has no content-type".to_string()),
    }
}

/// `application/json` or `application/<x>+json`, with parameters allowed.
pub fn is_json_content_type(value: &str) -> bool {
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json") && !sub.contains(['/', ' ']))
}

/// A gate an approval needs, with who may fill it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequiredGate {
    /// The policy the gate belongs to.
    pub policy: String,
    /// The gate id.
    pub gate: String,
    /// Distinct approvals needed.
    pub quorum: u32,
    /// Who is eligible, sorted.
    pub members: Vec<String>,
}

/// What the policies of a call decide together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every policy allows it: it runs now.
    Allow,
    /// It needs every one of these gates (of all policies that require approval).
    Require {
        /// The gates.
        gates: Vec<RequiredGate>,
        /// The shortest window of the requiring policies.
        window: Duration,
    },
    /// A policy refuses it.
    Deny {
        /// The refusing policy.
        policy: String,
        /// The refusing rule.
        rule: String,
    },
}

/// The evaluation of a call under its grant's policy and, if it has one, its app's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallDecision {
    /// The grant's policy's evaluation first, then the app's.
    pub evaluations: Vec<Evaluation>,
    /// The stricter outcome.
    pub outcome: Outcome,
}

impl CallDecision {
    /// `policy` ids joined with `+` (the statement's `policy_id`).
    pub fn policy_id(&self) -> String {
        self.evaluations
            .iter()
            .map(|e| e.policy.as_str())
            .collect::<Vec<_>>()
            .join("+")
    }

    /// Rate-limited rules that decided, whose match is to be counted.
    pub fn limited_rules(&self) -> impl Iterator<Item = (&str, &str, RateLimit)> {
        self.evaluations
            .iter()
            .filter_map(|e| Some((e.policy.as_str(), e.rule.as_deref()?, e.limit?)))
    }
}

/// Why a call is refused before any rule runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unbound {
    /// The app may not use this grant.
    #[error("app {app:?} may not use grant {grant:?} (its grants: {allowed})")]
    GrantNotAllowed {
        /// The app.
        app: String,
        /// The grant asked for.
        grant: String,
        /// The app's grants, joined.
        allowed: String,
    },
    /// The configuration names a policy it does not define (refused at load; never seen).
    #[error("unknown policy {0:?}")]
    UnknownPolicy(String),
}

/// Evaluates a call by `app` through `grant`: the grant's policy, and the app's own as well
/// when it has one; the stricter outcome wins (deny over require over allow; the gates of
/// both policies are needed). Each evaluation says why earlier rules missed.
pub fn evaluate_call(
    config: &Config,
    app: &AppConfig,
    grant: &GrantConfig,
    facts: &CallFacts<'_>,
    counts: &dyn RateCounts,
) -> Result<CallDecision, Unbound> {
    call_with(config, app, grant, facts, counts, true)
}

/// [`evaluate_call`] without the misses: what the proxy runs on every call.
pub fn decide_call(
    config: &Config,
    app: &AppConfig,
    grant: &GrantConfig,
    facts: &CallFacts<'_>,
    counts: &dyn RateCounts,
) -> Result<CallDecision, Unbound> {
    call_with(config, app, grant, facts, counts, false)
}

fn call_with(
    config: &Config,
    app: &AppConfig,
    grant: &GrantConfig,
    facts: &CallFacts<'_>,
    counts: &dyn RateCounts,
    trace: bool,
) -> Result<CallDecision, Unbound> {
    if !app.grants.contains(&grant.id) {
        return Err(Unbound::GrantNotAllowed {
            app: app.id.clone(),
            grant: grant.id.clone(),
            allowed: app.grants.join(", "),
        });
    }
    let mut policies = vec![&grant.policy];
    if let Some(own) = &app.policy {
        if *own != grant.policy {
            policies.push(own);
        }
    }
    let mut evaluations = Vec::new();
    for id in policies {
        let policy = config
            .policy(id)
            .ok_or_else(|| Unbound::UnknownPolicy(id.clone()))?;
        evaluations.push((policy, evaluate_with(facts, policy, counts, trace)));
    }
    let outcome = combine(&evaluations);
    Ok(CallDecision {
        evaluations: evaluations.into_iter().map(|(_, e)| e).collect(),
        outcome,
    })
}

fn combine(evaluations: &[(&PolicyConfig, Evaluation)]) -> Outcome {
    if let Some((_, denied)) = evaluations.iter().find(|(_, e)| e.verdict == Verdict::Deny) {
        return Outcome::Deny {
            policy: denied.policy.clone(),
            rule: denied.rule.clone().unwrap_or_default(),
        };
    }
    let mut gates = Vec::new();
    let mut window: Option<Duration> = None;
    for (policy, evaluation) in evaluations {
        if let Verdict::Require(ids) = &evaluation.verdict {
            window = Some(window.map_or(policy.window, |w| w.min(policy.window)));
            for id in ids {
                if let Some(gate) = policy.gate(id) {
                    gates.push(RequiredGate {
                        policy: policy.id.clone(),
                        gate: gate.id.clone(),
                        quorum: gate.quorum,
                        members: gate.members.clone(),
                    });
                }
            }
        }
    }
    match window {
        None => Outcome::Allow,
        // Validation makes this unreachable; should it happen, nobody could approve: refuse.
        Some(_) if gates.is_empty() => Outcome::Deny {
            policy: evaluations[0].1.policy.clone(),
            rule: "(a requirement without gates)".to_string(),
        },
        Some(window) => Outcome::Require { gates, window },
    }
}

#[cfg(test)]
mod tests;
