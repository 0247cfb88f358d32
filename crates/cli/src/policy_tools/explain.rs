//! `countersign policy explain`: how a config's policies decide one call, rule by rule.
//!
//! The call goes through the proxy's own checks first ([`call::check`]: method, one
//! spelling of the path, headers, body size), then [`evaluate_call`] with [`NoCounts`]:
//! rate limits are assumed not reached. Each rate-limited rule that decides is then taken as
//! full, in turn, to show where the call would fall through.

use super::miss::{describe_miss, MissView};
use super::outcome::{gate_text, OutcomeView};
use super::{joined, PolicyToolError};
use countersign_core::api::ProxyRequestBody;
use countersign_service::call;
use countersign_service::config::{format_duration, AppConfig, Config, GrantConfig, RateLimit};
use countersign_service::policy::{
    evaluate_call, CallDecision, CallFacts, Evaluation, NoCounts, RateCounts, Unbound, Verdict,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;
use std::time::Duration;

/// The content type assumed for a body given without one.
pub const DEFAULT_CONTENT_TYPE: &str = "application/json";

/// The call to explain.
#[derive(Debug, Clone, Default)]
pub struct ExplainInput {
    /// The calling app.
    pub app: String,
    /// The grant it names.
    pub grant: String,
    /// The method (any case, as an app may send it).
    pub method: String,
    /// The path below the grant's base URL.
    pub path: String,
    /// The `content-type` header; [`DEFAULT_CONTENT_TYPE`] when a body is given without one.
    pub content_type: Option<String>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
}

/// The call as the proxy would see it.
#[derive(Debug, Clone, Serialize)]
pub struct CallSummary {
    /// The calling app.
    pub app: String,
    /// The grant.
    pub grant: String,
    /// The method, upper case.
    pub method: String,
    /// The path.
    pub path: String,
    /// The content type sent.
    pub content_type: Option<String>,
    /// Body size in bytes.
    pub body_bytes: usize,
}

/// One rule as evaluation met it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleTrace {
    /// The rule id.
    pub rule: String,
    /// `allow`, `require` or `deny`.
    pub action: &'static str,
    /// True for the rule that decided.
    pub decided: bool,
    /// Why it did not match (rules that did not decide).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub miss: Option<MissView>,
    /// The rule's rate limit (`20/1h`), if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// One policy's evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyTrace {
    /// The policy id.
    pub policy: String,
    /// Why it applies: `grant payments` or `app strict-agent`.
    pub applies_as: String,
    /// The rules tried, in order, the deciding one last.
    pub rules: Vec<RuleTrace>,
    /// The rules after the deciding one, not tried.
    pub not_tried: Vec<String>,
    /// The deciding rule; `None` when none matched and the policy's `require` applied.
    pub decided_by: Option<String>,
    /// `allow`, `require` or `deny`.
    pub verdict: &'static str,
    /// The gates this policy requires (for `require`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<String>,
}

/// A rate-limited rule taken as full.
#[derive(Debug, Clone, Serialize)]
pub struct LimitedRule {
    /// The policy.
    pub policy: String,
    /// The rule.
    pub rule: String,
    /// `20/1h`.
    pub limit: String,
}

/// What happens once rate-limited rules that decided are full.
#[derive(Debug, Clone, Serialize)]
pub struct FallThrough {
    /// The rules newly taken as full at this step.
    pub full: Vec<LimitedRule>,
    /// The deciding rule of each policy then (`policy/rule`, or `policy/(default)`).
    pub decided_by: Vec<String>,
    /// The outcome then.
    pub outcome: OutcomeView,
}

/// The whole explanation.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The call.
    pub call: CallSummary,
    /// Each policy's evaluation: the grant's, then the app's own (empty when the call is
    /// refused before any rule).
    pub policies: Vec<PolicyTrace>,
    /// The final outcome, with rate limits not reached.
    pub outcome: OutcomeView,
    /// The exit code: 0 allow, 10 require, 20 refused.
    pub exit_code: u8,
    /// Where the call goes as rate-limited rules fill, in order.
    pub when_limits_fill: Vec<FallThrough>,
}

/// Explains how `config` decides `input`.
pub fn explain(config: &Config, input: &ExplainInput) -> Result<Explanation, PolicyToolError> {
    let app = config
        .app(&input.app)
        .ok_or_else(|| PolicyToolError::UnknownApp {
            app: input.app.clone(),
            known: joined(config.apps.iter().map(|a| a.id.as_str())),
        })?;
    let grant = config
        .grant(&input.grant)
        .ok_or_else(|| PolicyToolError::UnknownGrant {
            grant: input.grant.clone(),
            known: joined(config.grants.iter().map(|g| g.id.as_str())),
        })?;
    let content_type = input.content_type.clone().or_else(|| {
        input
            .body
            .as_ref()
            .map(|_| DEFAULT_CONTENT_TYPE.to_string())
    });
    let request = ProxyRequestBody {
        grant: grant.id.clone(),
        method: input.method.clone(),
        path: input.path.clone(),
        query: BTreeMap::new(),
        headers: content_type
            .iter()
            .map(|ct| ("content-type".to_string(), ct.clone()))
            .collect(),
        body: input.body.clone(),
        reason: "policy explain".to_string(),
    };
    let body = input.body.as_deref().unwrap_or_default();
    let mut summary = CallSummary {
        app: app.id.clone(),
        grant: grant.id.clone(),
        method: input.method.to_ascii_uppercase(),
        path: input.path.clone(),
        content_type: content_type.clone(),
        body_bytes: body.len(),
    };
    let checked = match call::check(&request, grant, config.server.max_request_bytes) {
        Ok(checked) => checked,
        Err(refusal) => {
            return Ok(refused(
                summary,
                refusal.status.as_u16(),
                refusal.code.as_str(),
                refusal.message,
            ))
        }
    };
    summary.method.clone_from(&checked.method);
    let facts = CallFacts {
        method: &checked.method,
        path: &checked.path,
        content_type: checked.headers.get("content-type").map(String::as_str),
        body: &checked.body,
    };
    let decision = match evaluate_call(config, app, grant, &facts, &NoCounts) {
        Ok(decision) => decision,
        Err(unbound) => {
            let code = match unbound {
                Unbound::GrantNotAllowed { .. } => "grant_not_allowed",
                Unbound::UnknownPolicy(_) => "internal",
            };
            return Ok(refused(summary, 403, code, unbound.to_string()));
        }
    };
    let policies = decision
        .evaluations
        .iter()
        .map(|e| trace(config, app, grant, &facts, e))
        .collect();
    let outcome = OutcomeView::from(&decision.outcome);
    Ok(Explanation {
        call: summary,
        policies,
        exit_code: outcome.exit_code(),
        outcome,
        when_limits_fill: fall_throughs(config, app, grant, &facts, &decision),
    })
}

fn refused(call: CallSummary, status: u16, code: &str, message: String) -> Explanation {
    let outcome = OutcomeView::Refused {
        status,
        code: code.to_string(),
        message,
    };
    Explanation {
        call,
        policies: Vec::new(),
        exit_code: outcome.exit_code(),
        outcome,
        when_limits_fill: Vec::new(),
    }
}

fn trace(
    config: &Config,
    app: &AppConfig,
    grant: &GrantConfig,
    facts: &CallFacts<'_>,
    evaluation: &Evaluation,
) -> PolicyTrace {
    let policy = config
        .policy(&evaluation.policy)
        .expect("evaluate_call only names policies of the config");
    let applies_as = if evaluation.policy == grant.policy {
        format!("grant {}", grant.id)
    } else {
        format!("app {}", app.id)
    };
    let mut rules: Vec<RuleTrace> = evaluation
        .misses
        .iter()
        .map(|(id, miss)| {
            let rule = policy.rule(id).expect("misses name the policy's rules");
            RuleTrace {
                rule: id.clone(),
                action: rule.action.name(),
                decided: false,
                miss: Some(describe_miss(rule, facts, miss)),
                limit: rule.at_most.map(limit_text),
            }
        })
        .collect();
    let mut not_tried = Vec::new();
    if let Some(decider) = &evaluation.rule {
        let position = policy.rules.iter().position(|r| &r.id == decider);
        let position = position.expect("the deciding rule is the policy's");
        rules.push(RuleTrace {
            rule: decider.clone(),
            action: policy.rules[position].action.name(),
            decided: true,
            miss: None,
            limit: policy.rules[position].at_most.map(limit_text),
        });
        not_tried = policy.rules[position + 1..]
            .iter()
            .map(|r| r.id.clone())
            .collect();
    }
    let (verdict, gates) = match &evaluation.verdict {
        Verdict::Allow => ("allow", Vec::new()),
        Verdict::Require(gates) => ("require", gates.clone()),
        Verdict::Deny => ("deny", Vec::new()),
    };
    PolicyTrace {
        policy: evaluation.policy.clone(),
        applies_as,
        rules,
        not_tried,
        decided_by: evaluation.rule.clone(),
        verdict,
        gates,
    }
}

/// Counts that say "full" for the given rules and nothing for the others.
struct Full(HashSet<(String, String)>);

impl RateCounts for Full {
    fn count(&self, policy: &str, rule: &str, _: Duration) -> u64 {
        if self.0.contains(&(policy.to_string(), rule.to_string())) {
            u64::MAX
        } else {
            0
        }
    }
}

fn limit_text(limit: RateLimit) -> String {
    format!("{}/{}", limit.count, format_duration(limit.per))
}

/// Takes the rate-limited rules that decide as full, step by step, until none decides.
fn fall_throughs(
    config: &Config,
    app: &AppConfig,
    grant: &GrantConfig,
    facts: &CallFacts<'_>,
    first: &CallDecision,
) -> Vec<FallThrough> {
    let mut full = Full(HashSet::new());
    let mut steps = Vec::new();
    let mut decision = first.clone();
    loop {
        let newly: Vec<LimitedRule> = decision
            .limited_rules()
            .map(|(policy, rule, limit)| LimitedRule {
                policy: policy.to_string(),
                rule: rule.to_string(),
                limit: limit_text(limit),
            })
            .collect();
        if newly.is_empty() {
            return steps;
        }
        for r in &newly {
            full.0.insert((r.policy.clone(), r.rule.clone()));
        }
        decision = match evaluate_call(config, app, grant, facts, &full) {
            Ok(decision) => decision,
            Err(_) => return steps,
        };
        steps.push(FallThrough {
            full: newly,
            decided_by: decision
                .evaluations
                .iter()
                .map(|e| format!("{}/{}", e.policy, e.rule.as_deref().unwrap_or("(default)")))
                .collect(),
            outcome: OutcomeView::from(&decision.outcome),
        });
    }
}

impl Explanation {
    /// The explanation for people.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let c = &self.call;
        let _ = writeln!(
            out,
            "{} {} by app {} through grant {}",
            c.method, c.path, c.app, c.grant
        );
        let body = match (&c.content_type, c.body_bytes) {
            (None, 0) => "no body, no content-type".to_string(),
            (None, n) => format!("{n} bytes of body, no content-type"),
            (Some(ct), n) => format!("{n} bytes of body, content-type {ct}"),
        };
        let _ = writeln!(out, "  {body}");
        if let OutcomeView::Refused { .. } = self.outcome {
            let _ = writeln!(out, "\n{}", self.outcome_text());
            return out;
        }
        let _ = writeln!(
            out,
            "  path accepted by the proxy (one spelling); rate limits assumed not reached"
        );
        for p in &self.policies {
            let _ = writeln!(out, "\npolicy {} ({}):", p.policy, p.applies_as);
            let width = p.rules.iter().map(|r| r.rule.len()).max().unwrap_or(0);
            for (i, r) in p.rules.iter().enumerate() {
                let what = match &r.miss {
                    Some(miss) => format!("no: {}", miss.text),
                    None => format!("DECIDES: {}", p.verdict_with_limit(r)),
                };
                let _ = writeln!(out, "  {}. {:width$}  {what}", i + 1, r.rule);
            }
            if p.decided_by.is_none() {
                let _ = writeln!(
                    out,
                    "  no rule matched: the policy's require applies: {}",
                    p.gates.join(", ")
                );
            }
            if !p.not_tried.is_empty() {
                let _ = writeln!(out, "  not tried: {}", p.not_tried.join(", "));
            }
        }
        let _ = writeln!(out, "\n{}", self.outcome_text());
        if !self.when_limits_fill.is_empty() {
            let _ = writeln!(out, "\nrate limits (assumed not reached above):");
        }
        for step in &self.when_limits_fill {
            let rules: Vec<String> = step
                .full
                .iter()
                .map(|r| format!("{} of policy {} ({})", r.rule, r.policy, r.limit))
                .collect();
            let _ = writeln!(
                out,
                "  once {} is full: decided by {}; {}",
                rules.join(" and "),
                step.decided_by.join(" + "),
                step.outcome.summary()
            );
        }
        out
    }

    fn outcome_text(&self) -> String {
        let code = self.exit_code;
        match &self.outcome {
            OutcomeView::Require {
                gates,
                window,
                people_needed,
            } => {
                let mut text = format!("outcome: needs approval within {window} (exit {code})");
                for g in gates {
                    let _ = write!(text, "\n  gate {}", gate_text(g));
                }
                if gates.len() > 1 {
                    let _ = write!(
                        text,
                        "\n  one person counts toward one gate only: {people_needed} different people must approve"
                    );
                }
                text
            }
            other => format!("outcome: {} (exit {code})", other.summary()),
        }
    }
}

impl PolicyTrace {
    /// `require finance, manager`, `allow (at most 20/1h, assumed not reached)`.
    fn verdict_with_limit(&self, rule: &RuleTrace) -> String {
        let mut text = match self.verdict {
            "require" => format!("require {}", self.gates.join(", ")),
            other => other.to_string(),
        };
        if let Some(limit) = &rule.limit {
            let _ = write!(text, " (at most {limit}, assumed not reached)");
        }
        text
    }
}

#[cfg(test)]
mod tests;
