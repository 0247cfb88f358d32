//! The review screen's content, built in Rust from a fetched and verified approval.
//!
//! The view receives only display data. The digest shown (and its fingerprint) is the one the
//! Wallet recomputed with the core crate from the statement below it; the decision signed later
//! is bound to that same digest (see [`crate::wallet::Wallet::decide`]).

use crate::body::{body_view, cut_short, BodyKind, BodyView};
use crate::pages::{BodyHead, BodyPage, BodyPages};
use crate::reveal::{reveal, reveal_name, Revealed};
use countersign_approver::progress::{
    policy_progress, GateLine, GateState, PolicyLine, PolicyProgress, RuleMatch,
};
use countersign_core::api::{
    DecisionSummary, ExecutionFailure, UpstreamResponse, WalletApprovalDetail,
};
use countersign_core::novelty::Novelty;
use countersign_core::statement::fingerprint;
use countersign_core::{ApprovalStatus, ServerUrl, Timestamp, Verdict};
use serde::Serialize;
use ts_rs::TS;
use uuid::Uuid;

/// One request header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct HeaderView {
    /// Lower-case name.
    pub name: Revealed,
    /// Value.
    pub value: Revealed,
}

/// One decision so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DecisionView {
    /// Who.
    pub approver_id: Revealed,
    /// Approve or deny.
    pub decision: Verdict,
    /// Their comment.
    pub comment: Option<Revealed>,
    /// When.
    pub decided_at: Timestamp,
}

/// Approvals needed and counted, over all gates (against `quorum` with a service older than
/// gates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct QuorumView {
    /// Approvals needed.
    pub needed: u32,
    /// Approvals counted (one person counts toward one gate only).
    pub approvals: u32,
    /// Denials given (one ends the request).
    pub denials: u32,
}

/// The policy side of the review: each policy's deciding rule and each gate's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PolicyView {
    /// The statement's policy id, as signed (`grantpolicy+apppolicy` when an app's own
    /// policy applies too).
    pub policy_id: Revealed,
    /// Each policy of the call, in the service's order.
    pub policies: Vec<PolicyLineView>,
    /// True when the service sent no gates (older than gates): only the count is known.
    pub legacy: bool,
    /// True while pending when the people eligible now cannot fill every gate: the request
    /// can no longer be approved.
    pub cannot_complete: bool,
}

/// One policy with the rule that decided in it and its gates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PolicyLineView {
    /// The policy id.
    pub policy: Revealed,
    /// The deciding rule.
    pub rule: RuleView,
    /// `allow`, `require` or `deny`, when the service said.
    pub action: Option<Revealed>,
    /// The gates this approval needs in it.
    pub gates: Vec<GateView>,
}

/// Which rule decided in a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[derive(TS)]
pub enum RuleView {
    /// This rule matched.
    Rule {
        /// The rule id.
        id: Revealed,
    },
    /// No rule matched: the policy's default requirement applied.
    Default,
    /// The service did not say (older than gates).
    Unknown,
}

/// One gate: "N of Q", who approved in it and who is still needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct GateView {
    /// The gate's name.
    pub gate: Revealed,
    /// Approvals it needs.
    pub quorum: u32,
    /// Approvals counted in it.
    pub approvals: u32,
    /// Whose approvals count in it.
    pub approved_by: Vec<Revealed>,
    /// What it is waiting for.
    pub state: GateStateView,
}

/// What a gate is waiting for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[derive(TS)]
pub enum GateStateView {
    /// Filled.
    Filled,
    /// `missing` more approvals from `from`; `any` when any `missing` of them will do
    /// (otherwise every one of them is needed).
    Waiting {
        /// Approvals missing.
        missing: u32,
        /// Who can still approve in it.
        from: Vec<Revealed>,
        /// More people than approvals missing.
        any: bool,
    },
    /// Fewer people eligible now (and not decided) than approvals missing: it cannot be
    /// filled (`from` may be empty: nobody eligible now).
    Unfillable {
        /// Approvals missing.
        missing: u32,
        /// The few who could still approve in it.
        from: Vec<Revealed>,
    },
    /// Not filled, and the request is over.
    Closed,
}

/// What happened to the call after the decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct OutcomeView {
    /// The final or current state.
    pub status: ApprovalStatus,
    /// The provider's HTTP status, when it answered.
    pub provider_status: Option<u16>,
    /// The provider's body, when it answered.
    pub provider_body: Option<BodyView>,
    /// Why it failed, for people.
    pub failure: Option<Revealed>,
}

/// At most this many "what is new" lines are listed.
pub const MAX_NOVELTIES: usize = 20;

/// Whether the body lets Approve be pressed: it must be shown whole and seen to the end.
/// The view pages the body and reports the end seen ([`crate::Wallet::body_seen`]); the Wallet
/// refuses to sign an approval of a digest whose body was not reported seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct BodyGate {
    /// The whole body is in the view (not cut short).
    pub shown_whole: bool,
    /// Why it cannot be approved when not shown whole.
    pub why_not: Option<String>,
    /// The Wallet recorded this digest's body as seen to the end (an empty body always is).
    pub seen: bool,
}

impl BodyGate {
    /// The gate of a request body described by `b`, not yet seen (unless empty).
    pub fn of(b: &BodyHead) -> Self {
        let why_not = cut_short(b.truncated, b.size);
        BodyGate {
            shown_whole: why_not.is_none(),
            why_not,
            seen: b.kind == BodyKind::Empty,
        }
    }

    /// True when an approval may be signed.
    pub fn open(&self) -> bool {
        self.shown_whole && self.seen
    }
}

/// Everything the review screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReviewView {
    /// The service.
    pub server: String,
    /// The approval.
    pub approval_id: Uuid,
    /// The app's reason (shown first and large).
    pub reason: Revealed,
    /// The app.
    pub app: Revealed,
    /// The grant.
    pub grant: Revealed,
    /// HTTP method.
    pub method: Revealed,
    /// The resolved upstream URL.
    pub url: Revealed,
    /// Non-secret headers.
    pub headers: Vec<HeaderView>,
    /// The body's description (kind, size, duplicates, pages).
    pub body: BodyHead,
    /// Its first page; the view asks for the others ([`crate::Wallet::body_page`]).
    pub body_page: BodyPage,
    /// Whether the body lets Approve be pressed (shown whole, seen to the end).
    pub body_gate: BodyGate,
    /// What is new compared with the approved history of this kind of request, in words
    /// (revealed: values come from the body). Empty when nothing is, or the service has no
    /// history endpoint.
    pub what_is_new: Vec<Revealed>,
    /// Why the comparison could not be made, when it failed for another reason than an older
    /// service.
    pub what_is_new_note: Option<String>,
    /// The request digest the Wallet recomputed (full hex).
    pub digest: String,
    /// Its short fingerprint.
    pub fingerprint: String,
    /// When requested.
    pub created_at: Timestamp,
    /// When the window closes.
    pub expires_at: Timestamp,
    /// Seconds left when this view was made.
    pub seconds_left: i64,
    /// The approval's state.
    pub status: ApprovalStatus,
    /// Approvals counted and needed.
    pub quorum: QuorumView,
    /// The policies, their deciding rules and the gates.
    pub policy: PolicyView,
    /// Decisions so far.
    pub decisions: Vec<DecisionView>,
    /// True while this Wallet may still decide (pending, window open, not decided by this key).
    pub can_decide: bool,
    /// The approver (of this Wallet's pairings) the request is shown to and decided as: the
    /// pairing's name, revealed (set by the Wallet; `None` outside it).
    pub deciding_as: Option<Revealed>,
    /// The outcome, once there is one.
    pub outcome: Option<OutcomeView>,
    /// True when any shown text hid characters (the view shows a warning banner).
    pub warning: bool,
}

/// True when `approver_id` can still decide on `detail` at `now`: it is pending, its window is
/// open and they have not decided yet.
pub fn can_decide(detail: &WalletApprovalDetail, approver_id: &str, now: Timestamp) -> bool {
    detail.status == ApprovalStatus::Pending
        && now.seconds_until(&detail.statement.expires_at) > 0
        && !detail
            .decisions
            .iter()
            .any(|d| d.approver_id == approver_id)
}

/// True when `approver_id` may approve `detail` as its gates are now (a service older than
/// gates lists none: then whoever it is addressed to).
pub fn is_eligible(detail: &WalletApprovalDetail, approver_id: &str) -> bool {
    detail.policy.gates.is_empty()
        || detail
            .policy
            .gates
            .iter()
            .any(|g| g.eligible.iter().any(|e| e == approver_id))
}

/// Builds the view of `detail` whose locally computed digest is `digest`.
pub fn review_view(
    server: &ServerUrl,
    detail: &WalletApprovalDetail,
    digest: &str,
    my_approver_id: &str,
    now: Timestamp,
) -> ReviewView {
    let pages = BodyPages::of(
        &detail.body,
        countersign_core::body::content_type(&detail.statement.headers),
    );
    review_view_paged(server, detail, digest, my_approver_id, now, &pages)
}

/// [`review_view`] with the request body already cut into `pages` (the Wallet keeps them to
/// serve the other pages).
pub fn review_view_paged(
    server: &ServerUrl,
    detail: &WalletApprovalDetail,
    digest: &str,
    my_approver_id: &str,
    now: Timestamp,
    pages: &BodyPages,
) -> ReviewView {
    let st = &detail.statement;
    let headers: Vec<HeaderView> = st
        .headers
        .iter()
        .map(|(k, v)| HeaderView {
            name: reveal(k),
            value: reveal(v),
        })
        .collect();
    let body = pages.head().clone();
    let body_page = pages.page(0).expect("a body has a first page");
    let body_gate = BodyGate::of(&body);
    let decisions: Vec<DecisionView> = detail.decisions.iter().map(decision_view).collect();
    let progress = policy_progress(detail);
    let quorum = quorum_view(&progress);
    let policy = policy_view(&st.policy_id, &progress);
    let seconds_left = now.seconds_until(&st.expires_at).max(0);
    let can_decide = can_decide(detail, my_approver_id, now);
    let outcome = outcome_view(
        detail.status,
        detail.response.as_ref(),
        detail.failure.as_ref(),
    );
    let mut view = ReviewView {
        server: server.to_string(),
        approval_id: st.approval_id,
        reason: reveal(&st.reason),
        app: reveal(&st.app),
        grant: reveal(&st.grant),
        method: reveal(&st.method),
        url: reveal(&st.url),
        headers,
        body,
        body_page,
        body_gate,
        what_is_new: Vec::new(),
        what_is_new_note: None,
        digest: digest.to_string(),
        fingerprint: fingerprint(digest),
        created_at: st.created_at,
        expires_at: st.expires_at,
        seconds_left,
        status: detail.status,
        quorum,
        policy,
        decisions,
        can_decide,
        deciding_as: None,
        outcome,
        warning: false,
    };
    view.warning = any_warning(&view);
    view
}

impl ReviewView {
    /// Sets what is new, each [`Novelty`] in words, revealed as one line (at most
    /// [`MAX_NOVELTIES`], then a line saying how many more).
    pub fn set_what_is_new(&mut self, found: &[Novelty]) {
        self.what_is_new = found
            .iter()
            .take(MAX_NOVELTIES)
            .map(|n| reveal_name(&n.to_string()))
            .collect();
        if found.len() > MAX_NOVELTIES {
            let more = found.len() - MAX_NOVELTIES;
            self.what_is_new
                .push(reveal_name(&format!("and {more} more differences")));
        }
        self.warning = any_warning(self);
    }
}

fn any_warning(v: &ReviewView) -> bool {
    [&v.reason, &v.app, &v.grant, &v.method, &v.url]
        .iter()
        .any(|r| r.warning)
        || v.body.warning
        || v.headers.iter().any(|h| h.name.warning || h.value.warning)
        || policy_warning(&v.policy)
        || v.decisions.iter().any(|d| d.approver_id.warning)
        || v.what_is_new.iter().any(|n| n.warning)
}

fn policy_warning(p: &PolicyView) -> bool {
    let names = |list: &[Revealed]| list.iter().any(|n| n.warning);
    p.policy_id.warning
        || p.policies.iter().any(|l| {
            l.policy.warning
                || matches!(&l.rule, RuleView::Rule { id } if id.warning)
                || l.action.as_ref().is_some_and(|a| a.warning)
                || l.gates.iter().any(|g| {
                    g.gate.warning
                        || names(&g.approved_by)
                        || match &g.state {
                            GateStateView::Waiting { from, .. }
                            | GateStateView::Unfillable { from, .. } => names(from),
                            GateStateView::Filled | GateStateView::Closed => false,
                        }
                })
        })
}

fn decision_view(d: &DecisionSummary) -> DecisionView {
    DecisionView {
        approver_id: reveal_name(&d.approver_id),
        decision: d.decision,
        comment: d.comment.as_deref().map(reveal),
        decided_at: d.decided_at,
    }
}

/// Approvals counted over the gates (or against the quorum of an older service), and denials.
pub fn quorum_view(p: &PolicyProgress) -> QuorumView {
    QuorumView {
        needed: p.progress.needed,
        approvals: p.progress.approvals,
        denials: p.denials,
    }
}

/// The policy part, every name from the service revealed.
pub fn policy_view(policy_id: &str, p: &PolicyProgress) -> PolicyView {
    PolicyView {
        policy_id: reveal_name(policy_id),
        policies: p.policies.iter().map(policy_line_view).collect(),
        legacy: p.legacy,
        cannot_complete: p.cannot_complete,
    }
}

fn names(list: &[String]) -> Vec<Revealed> {
    list.iter().map(|n| reveal_name(n)).collect()
}

fn policy_line_view(l: &PolicyLine) -> PolicyLineView {
    PolicyLineView {
        policy: reveal_name(&l.policy),
        rule: match &l.rule {
            RuleMatch::Rule(id) => RuleView::Rule {
                id: reveal_name(id),
            },
            RuleMatch::Default => RuleView::Default,
            RuleMatch::Unknown => RuleView::Unknown,
        },
        action: l.action.as_deref().map(reveal_name),
        gates: l.gates.iter().map(gate_view).collect(),
    }
}

fn gate_view(g: &GateLine) -> GateView {
    GateView {
        gate: reveal_name(&g.gate),
        quorum: g.quorum,
        approvals: g.approvals,
        approved_by: names(&g.approved_by),
        state: match &g.state {
            GateState::Filled => GateStateView::Filled,
            GateState::Waiting { missing, from } => GateStateView::Waiting {
                missing: *missing,
                any: from.len() as u32 > *missing,
                from: names(from),
            },
            GateState::Unfillable { missing, from } => GateStateView::Unfillable {
                missing: *missing,
                from: names(from),
            },
            GateState::Closed => GateStateView::Closed,
        },
    }
}

/// The outcome part, present once the request left `pending`.
pub fn outcome_view(
    status: ApprovalStatus,
    response: Option<&UpstreamResponse>,
    failure: Option<&ExecutionFailure>,
) -> Option<OutcomeView> {
    if status == ApprovalStatus::Pending {
        return None;
    }
    Some(OutcomeView {
        status,
        provider_status: response
            .map(|r| r.status)
            .or_else(|| failure.and_then(|f| f.status)),
        provider_body: response
            .map(|r| body_view(&r.body, countersign_core::body::content_type(&r.headers)))
            .or_else(|| {
                failure
                    .and_then(|f| f.body.as_deref())
                    .map(|b| body_view(b, None))
            }),
        failure: failure.map(|f| reveal(&f.message)),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pages::PageLines;
    use countersign_core::api::{GateStatus, PolicyMatch, PolicyStatus};
    use countersign_core::encoding::sha256_hex;
    use countersign_core::Statement;

    pub(crate) fn detail(reason: &str, body: &[u8]) -> WalletApprovalDetail {
        detail_with(
            "019a0000-0000-7000-8000-000000000001".parse().unwrap(),
            2,
            reason,
            body,
        )
    }

    /// A pending request `id` on the test service that needs `quorum` approvals, with a
    /// consistent statement and digest.
    pub(crate) fn detail_with(
        id: uuid::Uuid,
        quorum: u32,
        reason: &str,
        body: &[u8],
    ) -> WalletApprovalDetail {
        let statement = Statement {
            v: 1,
            service: "svc_test".into(),
            approval_id: id,
            app: "support-agent".into(),
            grant: "payments".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:9000/v1/refunds".into(),
            headers: [("content-type".to_string(), "application/json".to_string())].into(),
            body_sha256: sha256_hex(body),
            body_size: body.len() as u64,
            reason: reason.into(),
            created_at: "2026-11-24T12:00:00Z".parse().unwrap(),
            expires_at: "2026-11-24T13:00:00Z".parse().unwrap(),
            policy_id: "refunds".into(),
        };
        WalletApprovalDetail {
            request_digest: statement.request_digest(),
            statement,
            body: body.to_vec(),
            status: ApprovalStatus::Pending,
            decisions: vec![],
            quorum,
            policy: Default::default(),
            response: None,
            failure: None,
        }
    }

    fn server() -> ServerUrl {
        ServerUrl::parse("http://127.0.0.1:8470").unwrap()
    }

    #[test]
    fn view_shows_the_recomputed_digest_and_its_fingerprint() {
        let d = detail("Refund order 42", br#"{"order":42}"#);
        let digest = d.statement.request_digest();
        let now = "2026-11-24T12:30:00Z".parse().unwrap();
        let v = review_view(&server(), &d, &digest, "alice", now);
        assert_eq!(v.digest, digest);
        assert_eq!(v.fingerprint, fingerprint(&digest));
        assert_eq!(v.fingerprint.len(), 19);
        assert_eq!(v.seconds_left, 1800);
        let PageLines::Json(lines) = &v.body_page.lines else {
            panic!("json lines")
        };
        let tokens: Vec<&str> = lines.iter().map(|l| l.token.text.as_str()).collect();
        assert_eq!(tokens, vec!["{", "42", "}"]);
        assert_eq!((v.body.pages, v.body.lines), (1, 3));
        assert!(v.can_decide);
        assert!(!v.warning);
        assert_eq!(v.outcome, None);
        assert_eq!(
            v.quorum,
            QuorumView {
                needed: 2,
                approvals: 0,
                denials: 0
            }
        );
    }

    #[test]
    fn the_body_is_shown_by_its_content_type_with_duplicates_flagged() {
        let raw = "{\"amount\":1999, \"memo\":\"Refund\\u00e9 \u{202E}\",\"amount\":199900000}"
            .as_bytes();
        let mut d = detail("Refund order 42", raw);
        let now = "2026-11-24T12:30:00Z".parse().unwrap();
        let v = review_view(&server(), &d, &d.request_digest, "alice", now);
        assert_eq!(v.body.kind, crate::body::BodyKind::Json);
        let PageLines::Json(lines) = &v.body_page.lines else {
            panic!("json lines")
        };
        let amounts: Vec<&str> = lines
            .iter()
            .filter(|l| l.duplicate)
            .map(|l| l.token.text.as_str())
            .collect();
        assert_eq!(amounts, vec!["1999", "199900000"]);
        assert_eq!(v.body.duplicates[0].text, "amount");
        assert!(v.warning, "the memo hides U+202E");
        // The same bytes sent as a form are a form table, not JSON.
        d.statement.headers = [(
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        )]
        .into();
        let body = br#"{"a":"&amount=1000000&","amount":1}"#;
        d.body = body.to_vec();
        let v = review_view(&server(), &d, &d.request_digest, "alice", now);
        assert_eq!(v.body.kind, crate::body::BodyKind::Form);
        let PageLines::Form(fields) = &v.body_page.lines else {
            panic!("form fields")
        };
        assert!(fields
            .iter()
            .any(|f| f.name.text == "amount" && f.value.as_ref().unwrap().text == "1000000"));
    }

    #[test]
    fn hostile_reason_is_flagged_and_not_decidable_twice() {
        let mut d = detail("<script>x</script>\u{202E}evil", b"{}");
        d.decisions.push(DecisionSummary {
            approver_id: "alice".into(),
            decision: Verdict::Approve,
            comment: Some("ok\u{200B}".into()),
            decided_at: "2026-11-24T12:01:00Z".parse().unwrap(),
        });
        let now = "2026-11-24T12:30:00Z".parse().unwrap();
        let v = review_view(&server(), &d, &d.request_digest, "alice", now);
        assert!(v.warning);
        assert_eq!(v.reason.text, "<script>x</script>⟨U+202E⟩evil");
        assert!(!v.can_decide, "alice already decided");
        assert_eq!(v.quorum.approvals, 1);
        assert_eq!(v.decisions[0].comment.as_ref().unwrap().text, "ok⟨U+200B⟩");
        let bob = review_view(&server(), &d, &d.request_digest, "bob", now);
        assert!(bob.can_decide);
    }

    fn gate(policy: &str, gate: &str, quorum: u32, eligible: &[&str], by: &[&str]) -> GateStatus {
        GateStatus {
            policy: policy.into(),
            gate: gate.into(),
            quorum,
            eligible: eligible.iter().map(|s| s.to_string()).collect(),
            approved_by: by.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn approved(d: &mut WalletApprovalDetail, who: &str) {
        d.decisions.push(DecisionSummary {
            approver_id: who.into(),
            decision: Verdict::Approve,
            comment: None,
            decided_at: "2026-11-24T12:01:00Z".parse().unwrap(),
        });
    }

    /// A detail under policy `refunds` (rule `large`) with `gates`.
    fn gated(gates: Vec<GateStatus>) -> WalletApprovalDetail {
        let mut d = detail("Refund order 42", b"{}");
        d.quorum = gates.iter().map(|g| g.quorum).sum();
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

    fn texts(list: &[Revealed]) -> Vec<&str> {
        list.iter().map(|r| r.text.as_str()).collect()
    }

    fn view(d: &WalletApprovalDetail, me: &str) -> ReviewView {
        let now = "2026-11-24T12:30:00Z".parse().unwrap();
        review_view(&server(), d, &d.request_digest, me, now)
    }

    #[test]
    fn overlapping_gates_count_carol_once() {
        let mut d = gated(vec![
            gate(
                "refunds",
                "finance",
                2,
                &["alice", "carol", "bob"],
                &["carol"],
            ),
            gate("refunds", "manager", 1, &["carol", "dave"], &[]),
        ]);
        approved(&mut d, "carol");
        let v = view(&d, "dave");
        assert_eq!(
            v.quorum,
            QuorumView {
                needed: 3,
                approvals: 1,
                denials: 0
            }
        );
        assert_eq!(v.policy.policy_id.text, "refunds");
        assert!(!v.policy.legacy && !v.policy.cannot_complete);
        let refunds = &v.policy.policies[0];
        assert_eq!(refunds.policy.text, "refunds");
        assert!(matches!(&refunds.rule, RuleView::Rule { id } if id.text == "large"));
        assert_eq!(refunds.action.as_ref().unwrap().text, "require");
        let [finance, manager] = &refunds.gates[..] else {
            panic!("two gates")
        };
        assert_eq!((finance.approvals, finance.quorum), (1, 2));
        assert_eq!(texts(&finance.approved_by), ["carol"]);
        assert!(matches!(&finance.state,
            GateStateView::Waiting { missing: 1, from, any: true } if texts(from) == ["alice", "bob"]));
        // carol counts in finance only: manager still needs dave, not her.
        assert_eq!((manager.approvals, manager.quorum), (0, 1));
        assert!(manager.approved_by.is_empty());
        assert!(matches!(&manager.state,
            GateStateView::Waiting { missing: 1, from, any: false } if texts(from) == ["dave"]));
        assert!(v.can_decide);
        assert!(!v.warning);
    }

    #[test]
    fn a_gate_nobody_is_eligible_for_cannot_be_filled() {
        let mut d = gated(vec![
            gate("refunds", "finance", 1, &["alice"], &["alice"]),
            gate("refunds", "legal", 1, &[], &[]),
        ]);
        approved(&mut d, "alice");
        let v = view(&d, "bob");
        let gates = &v.policy.policies[0].gates;
        assert_eq!(gates[0].state, GateStateView::Filled);
        assert!(matches!(&gates[1].state,
            GateStateView::Unfillable { missing: 1, from } if from.is_empty()));
        assert!(v.policy.cannot_complete);
        assert_eq!((v.quorum.approvals, v.quorum.needed), (1, 2));
        // It can still be denied.
        assert!(v.can_decide);
        let json = serde_json::to_value(&gates[1].state).unwrap();
        assert_eq!(json["state"], "unfillable");
        assert_eq!(json["missing"], 1);
    }

    #[test]
    fn an_older_service_without_gates_falls_back_to_the_quorum() {
        let mut d = detail("Refund order 42", b"{}");
        approved(&mut d, "alice");
        assert_eq!(d.policy, PolicyStatus::default());
        let v = view(&d, "bob");
        assert_eq!(
            v.quorum,
            QuorumView {
                needed: 2,
                approvals: 1,
                denials: 0
            }
        );
        assert!(v.policy.legacy);
        assert!(!v.policy.cannot_complete);
        let [refunds] = &v.policy.policies[..] else {
            panic!("one policy")
        };
        assert_eq!(refunds.policy.text, "refunds");
        assert_eq!(refunds.rule, RuleView::Unknown);
        assert!(refunds.action.is_none() && refunds.gates.is_empty());
    }

    #[test]
    fn two_policies_and_a_default_requirement() {
        let mut d = gated(vec![
            gate("refunds", "finance", 1, &["alice"], &[]),
            gate("agent-limits", "ops", 1, &["bob"], &[]),
        ]);
        d.statement.policy_id = "refunds+agent-limits".into();
        d.request_digest = d.statement.request_digest();
        d.policy.matched.push(PolicyMatch {
            policy: "agent-limits".into(),
            rule: None,
            action: "require".into(),
        });
        let v = view(&d, "alice");
        assert_eq!(v.policy.policy_id.text, "refunds+agent-limits");
        let limits = &v.policy.policies[1];
        assert_eq!(limits.rule, RuleView::Default);
        assert_eq!(limits.gates[0].gate.text, "ops");
        assert_eq!(v.quorum.needed, 2);
    }

    #[test]
    fn hostile_names_are_revealed_and_warned_about() {
        let mut d = gated(vec![gate(
            "refunds",
            "fin\u{202E}ecnan",
            2,
            &["alice", "mallory\nfinance: 2 of 2"],
            &["alice"],
        )]);
        d.policy.matched[0].rule = Some("big\u{200B}".into());
        approved(&mut d, "alice");
        let v = view(&d, "bob");
        assert!(v.warning);
        let line = &v.policy.policies[0];
        assert!(matches!(&line.rule, RuleView::Rule { id } if id.text == "big⟨U+200B⟩"));
        let g = &line.gates[0];
        assert_eq!(g.gate.text, "fin⟨U+202E⟩ecnan");
        assert!(matches!(&g.state,
            GateStateView::Waiting { from, .. } if texts(from) == ["mallory⟨U+000A⟩finance: 2 of 2"]));
        // Plain names raise no warning by themselves.
        let mut plain = gated(vec![gate("refunds", "finance", 1, &["alice"], &[])]);
        plain.policy.matched[0].rule = None;
        assert!(!view(&plain, "bob").warning);
    }

    #[test]
    fn outcome_shows_the_provider_answer_or_failure() {
        let resp = UpstreamResponse {
            status: 201,
            headers: [("content-type".to_string(), "application/json".to_string())].into(),
            body: br#"{"id":"re_1"}"#.to_vec(),
            body_truncated: false,
            duration_ms: 12,
        };
        let o = outcome_view(ApprovalStatus::Succeeded, Some(&resp), None).unwrap();
        assert_eq!(o.provider_status, Some(201));
        assert!(o.provider_body.unwrap().display.text.contains("re_1"));
        let fail = ExecutionFailure {
            reason: countersign_core::api::FailureReason::ProviderError,
            message: "provider answered 502".into(),
            status: Some(502),
            body: None,
        };
        let o = outcome_view(ApprovalStatus::ExecutionFailed, None, Some(&fail)).unwrap();
        assert_eq!(o.provider_status, Some(502));
        assert_eq!(o.failure.unwrap().text, "provider answered 502");
        assert!(outcome_view(ApprovalStatus::Pending, None, None).is_none());
    }

    #[test]
    fn what_is_new_is_listed_in_words_and_capped() {
        let d = detail("Refund order 42", br#"{"order":42}"#);
        let mut v = view(&d, "alice");
        assert!(v.what_is_new.is_empty());
        let many: Vec<Novelty> = (0..25)
            .map(|i| Novelty::NewHeader {
                name: format!("x-h{i}"),
            })
            .collect();
        v.set_what_is_new(&many);
        assert_eq!(v.what_is_new.len(), MAX_NOVELTIES + 1);
        assert_eq!(v.what_is_new[0].text, "header x-h0 was never sent before");
        assert_eq!(v.what_is_new[MAX_NOVELTIES].text, "and 5 more differences");
        assert!(!v.warning);
        v.set_what_is_new(&[Novelty::FirstFromApp {
            app: "batch\u{202E}job".into(),
        }]);
        assert_eq!(
            v.what_is_new[0].text,
            "the first request of this kind from app batch⟨U+202E⟩job"
        );
        assert!(v.warning);
    }

    #[test]
    fn the_body_gate_needs_the_whole_body_and_an_empty_one_is_seen() {
        let v = view(&detail("r", br#"{"a":1}"#), "alice");
        assert!(v.body_gate.shown_whole && !v.body_gate.seen && !v.body_gate.open());
        let v = view(&detail("r", b""), "alice");
        assert!(v.body_gate.open());
        let many = format!("[{}1]", "1,".repeat(300_000));
        let v = view(&detail("r", many.as_bytes()), "alice");
        assert!(!v.body_gate.shown_whole && !v.body_gate.open());
        assert!(v.body_gate.why_not.unwrap().contains("cannot be approved"));
    }
}
