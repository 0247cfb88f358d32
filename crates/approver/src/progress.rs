//! What an approval still needs, for people: the rule that decided in each policy, and each
//! gate's progress with who has approved in it and who can still fill it.
//!
//! Pure and shared by the desktop Wallet and the headless approver, so both say the same.
//! Names here are the service's raw text: callers reveal hidden characters before showing
//! them.
//!
//! One person's approval counts toward one gate only (the service matches people to gate
//! seats). Who "can still fill" a gate is everyone eligible in it now who has not decided
//! yet; a gate with fewer such people than approvals missing cannot be filled. The gates can
//! also be unfillable together while each looks fillable alone (two gates missing one each,
//! with the same single person left for both): [`PolicyProgress::cannot_complete`] says so,
//! from the same matching of people to seats the service does.
//!
//! A service older than gates sends an empty `policy`: the progress then falls back to the
//! approvals counted against `quorum`, and the policy is the statement's `policy_id` with the
//! deciding rule unknown.

use countersign_core::api::{GateStatus, Progress, WalletApprovalDetail};
use countersign_core::{ApprovalStatus, Verdict};

/// Which rule of a policy decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleMatch {
    /// This rule matched.
    Rule(String),
    /// No rule matched: the policy's default requirement applied.
    Default,
    /// The service did not say (a service older than policy gates).
    Unknown,
}

/// One gate's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateState {
    /// Every approval it needs is counted.
    Filled,
    /// Waiting for `missing` more approvals from `from` (everyone eligible now who has not
    /// decided). When `from` has more people than `missing`, any `missing` of them will do.
    Waiting {
        /// Approvals still missing.
        missing: u32,
        /// Who can still approve in it.
        from: Vec<String>,
    },
    /// Fewer people eligible now (and not decided yet) than approvals missing: it cannot be
    /// filled, so the request cannot be approved.
    Unfillable {
        /// Approvals still missing.
        missing: u32,
        /// The few who could still approve in it (maybe nobody).
        from: Vec<String>,
    },
    /// Not filled, and the request is no longer pending.
    Closed,
}

/// One gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateLine {
    /// The gate's name.
    pub gate: String,
    /// Approvals needed.
    pub quorum: u32,
    /// Approvals counted (at most `quorum`).
    pub approvals: u32,
    /// Whose approvals count toward it.
    pub approved_by: Vec<String>,
    /// Filled, waiting, unfillable or closed.
    pub state: GateState,
}

/// One policy of the call, with its gates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyLine {
    /// The policy id.
    pub policy: String,
    /// The rule that decided in it.
    pub rule: RuleMatch,
    /// `allow`, `require` or `deny`, when the service said.
    pub action: Option<String>,
    /// Its gates that this approval needs.
    pub gates: Vec<GateLine>,
}

/// The policy side of an approval, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProgress {
    /// Each policy, in the service's order.
    pub policies: Vec<PolicyLine>,
    /// Approvals counted and needed, over all gates ("2 of 3").
    pub progress: Progress,
    /// Denials given (one ends the request).
    pub denials: u32,
    /// True when the service sent no gates (an older service): `progress` counts approvals
    /// against its `quorum`.
    pub legacy: bool,
    /// True while pending when the people eligible now cannot fill every gate: the request
    /// can no longer be approved (it can still be denied, or it expires).
    pub cannot_complete: bool,
}

impl PolicyProgress {
    /// Every gate, in order.
    pub fn gates(&self) -> impl Iterator<Item = &GateLine> {
        self.policies.iter().flat_map(|p| p.gates.iter())
    }
}

/// Builds the policy progress of `detail`.
pub fn policy_progress(detail: &WalletApprovalDetail) -> PolicyProgress {
    let status = &detail.policy;
    let count = |v: Verdict| {
        let mut who: Vec<&str> = detail
            .decisions
            .iter()
            .filter(|d| d.decision == v)
            .map(|d| d.approver_id.as_str())
            .collect();
        who.sort_unstable();
        who.dedup();
        who.len() as u32
    };
    let denials = count(Verdict::Deny);
    let pending = detail.status == ApprovalStatus::Pending;

    let mut policies: Vec<PolicyLine> = status
        .matched
        .iter()
        .map(|m| PolicyLine {
            policy: m.policy.clone(),
            rule: match &m.rule {
                Some(rule) => RuleMatch::Rule(rule.clone()),
                None => RuleMatch::Default,
            },
            action: Some(m.action.clone()),
            gates: Vec::new(),
        })
        .collect();
    if policies.is_empty() {
        policies.push(PolicyLine {
            policy: detail.statement.policy_id.clone(),
            rule: RuleMatch::Unknown,
            action: None,
            gates: Vec::new(),
        });
    }

    if status.gates.is_empty() {
        let needed = detail.quorum.max(1);
        return PolicyProgress {
            policies,
            progress: Progress {
                approvals: count(Verdict::Approve).min(needed),
                needed,
            },
            denials,
            legacy: true,
            cannot_complete: false,
        };
    }

    let decided: Vec<&str> = detail
        .decisions
        .iter()
        .map(|d| d.approver_id.as_str())
        .collect();
    for g in &status.gates {
        let line = gate_line(g, &decided, pending);
        match policies.iter_mut().find(|p| p.policy == g.policy) {
            Some(p) => p.gates.push(line),
            None => policies.push(PolicyLine {
                policy: g.policy.clone(),
                rule: RuleMatch::Unknown,
                action: None,
                gates: vec![line],
            }),
        }
    }
    let progress = status.progress();
    let cannot_complete = pending && !can_still_fill(&status.gates, &decided);
    PolicyProgress {
        policies,
        progress,
        denials,
        legacy: false,
        cannot_complete,
    }
}

fn gate_line(g: &GateStatus, decided: &[&str], pending: bool) -> GateLine {
    let approvals = (g.approved_by.len() as u32).min(g.quorum);
    let missing = g.quorum - approvals;
    let state = if missing == 0 {
        GateState::Filled
    } else if !pending {
        GateState::Closed
    } else {
        let from = undecided(&g.eligible, decided);
        if (from.len() as u32) < missing {
            GateState::Unfillable { missing, from }
        } else {
            GateState::Waiting { missing, from }
        }
    };
    GateLine {
        gate: g.gate.clone(),
        quorum: g.quorum,
        approvals,
        approved_by: g.approved_by.clone(),
        state,
    }
}

/// The eligible people who have not decided yet, each once, in the service's order.
fn undecided(eligible: &[String], decided: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for person in eligible {
        if !decided.contains(&person.as_str()) && !out.contains(person) {
            out.push(person.clone());
        }
    }
    out
}

/// True when the people counted so far plus everyone eligible who has not decided can fill
/// every seat of every gate, one seat per person (the service's matching of people to seats).
fn can_still_fill(gates: &[GateStatus], decided: &[&str]) -> bool {
    let mut people: Vec<&str> = Vec::new();
    for g in gates {
        let counted = g.approved_by.iter().map(String::as_str);
        let open = g
            .eligible
            .iter()
            .map(String::as_str)
            .filter(|p| !decided.contains(p));
        for p in counted.chain(open) {
            if !people.contains(&p) {
                people.push(p);
            }
        }
    }
    // seat → gate; a person may sit in a gate's seat when eligible in it or counted in it.
    let seat_gate: Vec<usize> = gates
        .iter()
        .enumerate()
        .flat_map(|(i, g)| std::iter::repeat_n(i, g.quorum as usize))
        .collect();
    let may_sit = |person: &str, gate: usize| {
        let g = &gates[gate];
        g.eligible.iter().any(|e| e == person) || g.approved_by.iter().any(|a| a == person)
    };
    let mut holder: Vec<Option<usize>> = vec![None; seat_gate.len()];
    let mut seated = 0;
    for person in 0..people.len() {
        let mut visited = vec![false; seat_gate.len()];
        if augment(
            person,
            &people,
            &seat_gate,
            &may_sit,
            &mut holder,
            &mut visited,
        ) {
            seated += 1;
        }
    }
    seated == seat_gate.len()
}

fn augment(
    person: usize,
    people: &[&str],
    seat_gate: &[usize],
    may_sit: &dyn Fn(&str, usize) -> bool,
    holder: &mut [Option<usize>],
    visited: &mut [bool],
) -> bool {
    for seat in 0..seat_gate.len() {
        if visited[seat] || !may_sit(people[person], seat_gate[seat]) {
            continue;
        }
        visited[seat] = true;
        let free = match holder[seat] {
            None => true,
            Some(other) => augment(other, people, seat_gate, may_sit, holder, visited),
        };
        if free {
            holder[seat] = Some(person);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::tests::detail;
    use countersign_core::api::{DecisionSummary, PolicyMatch, PolicyStatus};

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn gate(policy: &str, gate: &str, quorum: u32, eligible: &[&str], by: &[&str]) -> GateStatus {
        GateStatus {
            policy: policy.into(),
            gate: gate.into(),
            quorum,
            eligible: names(eligible),
            approved_by: names(by),
        }
    }

    fn approve(who: &str) -> DecisionSummary {
        DecisionSummary {
            approver_id: who.into(),
            decision: Verdict::Approve,
            comment: None,
            decided_at: "2026-11-24T12:01:00Z".parse().unwrap(),
        }
    }

    fn with(gates: Vec<GateStatus>, approved: &[&str]) -> WalletApprovalDetail {
        let mut d = detail();
        d.quorum = gates.iter().map(|g| g.quorum).sum();
        d.decisions = approved.iter().map(|a| approve(a)).collect();
        d.policy = PolicyStatus {
            matched: vec![PolicyMatch {
                policy: "refunds".into(),
                rule: Some("large".into()),
                action: "require".into(),
            }],
            gates,
        };
        d
    }

    #[test]
    fn overlapping_gates_count_a_person_once() {
        // carol is in both gates; the service counted her in finance.
        let d = with(
            vec![
                gate(
                    "refunds",
                    "finance",
                    2,
                    &["alice", "carol", "bob"],
                    &["carol"],
                ),
                gate("refunds", "manager", 1, &["carol", "dave"], &[]),
            ],
            &["carol"],
        );
        let p = policy_progress(&d);
        assert_eq!(
            p.progress,
            Progress {
                approvals: 1,
                needed: 3
            }
        );
        assert_eq!(p.policies.len(), 1);
        assert_eq!(p.policies[0].rule, RuleMatch::Rule("large".into()));
        let gates: Vec<&GateLine> = p.gates().collect();
        assert_eq!(
            gates[0].state,
            GateState::Waiting {
                missing: 1,
                from: names(&["alice", "bob"])
            }
        );
        assert_eq!(
            gates[1].state,
            GateState::Waiting {
                missing: 1,
                from: names(&["dave"])
            }
        );
        assert!(!p.cannot_complete);
    }

    #[test]
    fn a_gate_nobody_can_fill_any_more() {
        let d = with(
            vec![
                gate("refunds", "finance", 1, &["alice"], &["alice"]),
                gate("refunds", "legal", 1, &[], &[]),
            ],
            &["alice"],
        );
        let p = policy_progress(&d);
        let gates: Vec<&GateLine> = p.gates().collect();
        assert_eq!(gates[0].state, GateState::Filled);
        assert_eq!(
            gates[1].state,
            GateState::Unfillable {
                missing: 1,
                from: vec![]
            }
        );
        assert!(p.cannot_complete);
    }

    #[test]
    fn gates_fillable_alone_but_not_together() {
        // dave is the only one left for both gates: each looks fillable, together not.
        let d = with(
            vec![
                gate("refunds", "finance", 1, &["carol", "dave"], &[]),
                gate("refunds", "manager", 1, &["carol", "dave"], &[]),
            ],
            &[],
        );
        assert!(!policy_progress(&d).cannot_complete);
        let mut d = d;
        d.decisions.push(DecisionSummary {
            decision: Verdict::Deny,
            ..approve("carol")
        });
        let p = policy_progress(&d);
        assert!(p
            .gates()
            .all(|g| matches!(g.state, GateState::Waiting { .. })));
        assert!(p.cannot_complete);
        assert_eq!(p.denials, 1);
        // Once the request is over, nothing is waiting.
        d.status = ApprovalStatus::Denied;
        let p = policy_progress(&d);
        assert!(p.gates().all(|g| g.state == GateState::Closed));
        assert!(!p.cannot_complete);
    }

    #[test]
    fn an_older_service_falls_back_to_the_quorum() {
        let mut d = detail();
        d.quorum = 2;
        d.decisions = vec![approve("alice")];
        let p = policy_progress(&d);
        assert!(p.legacy);
        assert_eq!(
            p.progress,
            Progress {
                approvals: 1,
                needed: 2
            }
        );
        assert_eq!(p.policies.len(), 1);
        assert_eq!(p.policies[0].policy, "refunds");
        assert_eq!(p.policies[0].rule, RuleMatch::Unknown);
        assert!(p.policies[0].gates.is_empty());
    }

    #[test]
    fn two_policies_each_with_their_rule_and_gates() {
        let mut d = with(
            vec![
                gate("refunds", "finance", 1, &["alice"], &[]),
                gate("agent-limits", "ops", 1, &["bob"], &[]),
            ],
            &[],
        );
        d.policy.matched.push(PolicyMatch {
            policy: "agent-limits".into(),
            rule: None,
            action: "require".into(),
        });
        let p = policy_progress(&d);
        assert_eq!(p.policies[1].policy, "agent-limits");
        assert_eq!(p.policies[1].rule, RuleMatch::Default);
        assert_eq!(p.policies[1].gates[0].gate, "ops");
        assert_eq!(p.progress.needed, 2);
    }
}
