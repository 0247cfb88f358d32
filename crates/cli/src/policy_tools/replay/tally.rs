//! Counting replayed calls: per rule of the new config, per refusal before any rule, and
//! per change of outcome, with the approvals whose outcome changes.

use super::entry::{Recorded, Was};
use super::ReplayOptions;
use countersign_core::Timestamp;
use countersign_service::config::{format_duration, Action, Config};
use countersign_service::policy::{CallDecision, Outcome};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// What a call comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Runs without approval.
    Allow,
    /// Needs approval.
    Require,
    /// A rule refuses it (403 `policy_denied`).
    Deny,
    /// Refused before any rule: the app or grant is gone, or the app may not use the grant.
    Refused,
}

impl Kind {
    /// `allow`, `require`, `deny` or `refused`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Allow => "allow",
            Kind::Require => "require",
            Kind::Deny => "deny",
            Kind::Refused => "refused",
        }
    }
}

/// Why a recorded call is refused under the new config before any rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    AppGone,
    GrantGone,
    GrantNotAllowed,
    PathOutsideGrant,
    InvalidPath,
}

impl Refusal {
    const ALL: [Refusal; 5] = [
        Refusal::AppGone,
        Refusal::GrantGone,
        Refusal::GrantNotAllowed,
        Refusal::PathOutsideGrant,
        Refusal::InvalidPath,
    ];

    fn key(self) -> &'static str {
        match self {
            Refusal::AppGone => "app_gone",
            Refusal::GrantGone => "grant_gone",
            Refusal::GrantNotAllowed => "grant_not_allowed",
            Refusal::PathOutsideGrant => "path_outside_grant",
            Refusal::InvalidPath => "invalid_path",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Refusal::AppGone => "the app is not in the config (401)",
            Refusal::GrantGone => "the grant is not in the config (404 unknown_grant)",
            Refusal::GrantNotAllowed => "the app may not use the grant (403 grant_not_allowed)",
            Refusal::PathOutsideGrant => "the URL is not below the grant's base URL",
            Refusal::InvalidPath => "the path is refused (422 invalid_path)",
        }
    }
}

/// One rule of the new config (or a policy's default requirement), with the calls it
/// decided and what they come to in the end.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRow {
    /// The policy.
    pub policy: String,
    /// The rule; `None` for calls no rule matched (the policy's `require`).
    pub rule: Option<String>,
    /// `allow`, `require finance, manager` or `deny`.
    pub action: String,
    /// The rule's rate limit (`20/1h`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// Calls it decided in its policy.
    pub matched: u64,
    /// Of those, how many would run without approval …
    pub allow: u64,
    /// … need approval …
    pub require: u64,
    /// … or be refused by a rule (this one or another policy's).
    pub deny: u64,
    /// The gates needed (`policy/gate` joined with `+`) and how often.
    pub gates: BTreeMap<String, u64>,
}

/// Calls refused before any rule under the new config, for one reason.
#[derive(Debug, Clone, Serialize)]
pub struct RefusedRow {
    /// `app_gone`, `grant_gone`, `grant_not_allowed`, `path_outside_grant` or
    /// `invalid_path`.
    pub reason: &'static str,
    /// The reason in words.
    pub text: &'static str,
    /// How many calls.
    pub calls: u64,
}

/// How many calls went from one outcome to another.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    /// What happened.
    pub was: Kind,
    /// What would happen now.
    pub now: Kind,
    /// Both need approval, but of other gates.
    pub other_gates: bool,
    /// How many calls.
    pub calls: u64,
}

/// An approval whose outcome changes.
#[derive(Debug, Clone, Serialize)]
pub struct ChangedApproval {
    /// The approval id.
    pub approval_id: Uuid,
    /// When the call was made.
    pub at: Timestamp,
    /// The calling app.
    pub app: String,
    /// What happened.
    pub was: Kind,
    /// What would happen now.
    pub now: Kind,
    /// Both need approval, but of other gates.
    pub other_gates: bool,
}

/// The result of a replay.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    /// The database read.
    pub database: String,
    /// Calls made at or after this were reported (all when `None`).
    pub since: Option<Timestamp>,
    /// The first call reported.
    pub first: Option<Timestamp>,
    /// The last call reported.
    pub last: Option<Timestamp>,
    /// Calls reported.
    pub calls: u64,
    /// Entries that could not be read as a call (or whose approval row is missing).
    pub unreadable: u64,
    /// Per rule of the new config, in file order, each policy's default last.
    pub rules: Vec<RuleRow>,
    /// Calls refused before any rule, per reason (reasons with calls only).
    pub refused: Vec<RefusedRow>,
    /// What happened: calls per outcome.
    pub was: BTreeMap<Kind, u64>,
    /// What would happen now: calls per outcome.
    pub now: BTreeMap<Kind, u64>,
    /// Changes of outcome, most frequent first.
    pub changes: Vec<ChangeRow>,
    /// Calls whose outcome would not change.
    pub unchanged: u64,
    /// Calls whose outcome would change.
    pub changed_total: u64,
    /// The approvals whose outcome changes, in audit order (the first ones only, unless all
    /// were asked for).
    pub changed: Vec<ChangedApproval>,
}

/// The counts being gathered.
pub(super) struct Tally<'c> {
    index: HashMap<(&'c str, Option<&'c str>), usize>,
    rules: Vec<RuleRow>,
    refused: [u64; Refusal::ALL.len()],
    changes: HashMap<(Kind, Kind, bool), u64>,
    was: BTreeMap<Kind, u64>,
    now: BTreeMap<Kind, u64>,
    keep_changed: Option<usize>,
    report: ReplayReport,
    pub(super) unreadable: u64,
}

impl<'c> Tally<'c> {
    pub(super) fn new(config: &'c Config, options: &ReplayOptions) -> Self {
        let mut index = HashMap::new();
        let mut rules = Vec::new();
        for policy in &config.policies {
            for rule in &policy.rules {
                index.insert((policy.id.as_str(), Some(rule.id.as_str())), rules.len());
                let action = match &rule.action {
                    Action::Require(gates) => format!("require {}", gates.join(", ")),
                    other => other.name().to_string(),
                };
                let limit = rule
                    .at_most
                    .map(|l| format!("{}/{}", l.count, format_duration(l.per)));
                rules.push(row(&policy.id, Some(&rule.id), action, limit));
            }
            index.insert((policy.id.as_str(), None), rules.len());
            let action = format!("require {}", policy.require.join(", "));
            rules.push(row(&policy.id, None, action, None));
        }
        Self {
            index,
            rules,
            refused: [0; Refusal::ALL.len()],
            changes: HashMap::new(),
            was: BTreeMap::new(),
            now: BTreeMap::new(),
            keep_changed: options.keep_changed,
            report: ReplayReport {
                database: config.server.database.to_string(),
                since: options.since,
                first: None,
                last: None,
                calls: 0,
                unreadable: 0,
                rules: Vec::new(),
                refused: Vec::new(),
                was: BTreeMap::new(),
                now: BTreeMap::new(),
                changes: Vec::new(),
                unchanged: 0,
                changed_total: 0,
                changed: Vec::new(),
            },
            unreadable: 0,
        }
    }

    /// Counts one reported call.
    pub(super) fn add(&mut self, call: &Recorded<'_>, result: Result<&CallDecision, &Refusal>) {
        let r = &mut self.report;
        r.calls += 1;
        r.first = Some(r.first.map_or(call.created_at, |t| t.min(call.created_at)));
        r.last = Some(r.last.map_or(call.created_at, |t| t.max(call.created_at)));
        let (now, now_gates) = match result {
            Err(refusal) => {
                self.refused[*refusal as usize] += 1;
                (Kind::Refused, None)
            }
            Ok(decision) => {
                let (kind, gates) = match &decision.outcome {
                    Outcome::Allow => (Kind::Allow, None),
                    Outcome::Deny { .. } => (Kind::Deny, None),
                    Outcome::Require { gates, .. } => {
                        let mut keys: Vec<String> = gates
                            .iter()
                            .map(|g| format!("{}/{}", g.policy, g.gate))
                            .collect();
                        keys.sort();
                        (Kind::Require, Some(keys))
                    }
                };
                for evaluation in &decision.evaluations {
                    let key = (evaluation.policy.as_str(), evaluation.rule.as_deref());
                    if let Some(&i) = self.index.get(&key) {
                        let row = &mut self.rules[i];
                        row.matched += 1;
                        match kind {
                            Kind::Allow => row.allow += 1,
                            Kind::Require => row.require += 1,
                            Kind::Deny | Kind::Refused => row.deny += 1,
                        }
                        if let Some(keys) = &gates {
                            *row.gates.entry(keys.join("+")).or_default() += 1;
                        }
                    }
                }
                (kind, gates)
            }
        };
        let (was, was_gates) = match &call.was {
            Was::Allow => (Kind::Allow, None),
            Was::Require(gates) => (Kind::Require, gates.as_ref()),
        };
        *self.was.entry(was).or_default() += 1;
        *self.now.entry(now).or_default() += 1;
        let other_gates = matches!((was_gates, &now_gates), (Some(a), Some(b)) if a != b);
        if was == now && !other_gates {
            self.report.unchanged += 1;
            return;
        }
        *self.changes.entry((was, now, other_gates)).or_default() += 1;
        self.report.changed_total += 1;
        if self
            .keep_changed
            .is_none_or(|keep| self.report.changed.len() < keep)
        {
            self.report.changed.push(ChangedApproval {
                approval_id: call.approval_id,
                at: call.created_at,
                app: call.app.to_string(),
                was,
                now,
                other_gates,
            });
        }
    }

    pub(super) fn finish(self) -> ReplayReport {
        let mut report = self.report;
        report.unreadable = self.unreadable;
        report.rules = self.rules;
        report.refused = Refusal::ALL
            .iter()
            .zip(self.refused)
            .filter(|(_, calls)| *calls > 0)
            .map(|(reason, calls)| RefusedRow {
                reason: reason.key(),
                text: reason.text(),
                calls,
            })
            .collect();
        report.was = self.was;
        report.now = self.now;
        let mut changes: Vec<ChangeRow> = self
            .changes
            .into_iter()
            .map(|((was, now, other_gates), calls)| ChangeRow {
                was,
                now,
                other_gates,
                calls,
            })
            .collect();
        changes.sort_by(|a, b| {
            b.calls
                .cmp(&a.calls)
                .then((a.was, a.now, a.other_gates).cmp(&(b.was, b.now, b.other_gates)))
        });
        report.changes = changes;
        report
    }
}

fn row(policy: &str, rule: Option<&str>, action: String, limit: Option<String>) -> RuleRow {
    RuleRow {
        policy: policy.to_string(),
        rule: rule.map(str::to_string),
        action,
        limit,
        matched: 0,
        allow: 0,
        require: 0,
        deny: 0,
        gates: BTreeMap::new(),
    }
}
