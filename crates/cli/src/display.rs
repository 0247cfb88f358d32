//! Printing approvals in a terminal: untrusted text goes through
//! [`countersign_core::text::reveal`] (the one hidden-character table the Wallet uses too), so
//! escape sequences and bidi controls cannot rewrite the screen or reorder what the approver
//! reads.

use countersign_approver::progress::{policy_progress, GateLine, GateState, RuleMatch};
use countersign_approver::{Review, WalletApprovalDetail, WalletApprovalSummary};
use countersign_core::api::Progress;
use countersign_core::body::{body_view, content_type, BodyKind, DUPLICATE_NOTE};
use countersign_core::novelty::Novelty;
use countersign_core::statement::fingerprint;
use countersign_core::text::{reveal, reveal_line, Revealed};
use std::fmt::Write;

const REVEALED: &str = " [!hidden characters revealed]";

/// "What is new" lines, shown before the review (nothing when nothing is new).
pub fn what_is_new(found: &[Novelty]) -> String {
    if found.is_empty() {
        return String::new();
    }
    let mut out = String::from("What is new compared with past approvals of this kind:\n");
    for n in found {
        let _ = writeln!(out, "  ! {}", inert_name(&n.to_string()));
    }
    out
}

/// One line of untrusted text made inert, with a warning mark when something was hidden.
pub fn inert(text: &str) -> String {
    let r = reveal(text);
    if r.suspicious {
        format!("{}{REVEALED}", r.text)
    } else {
        r.text
    }
}

/// A name from the service (policy, rule, gate, approver) made inert on one line: line feeds
/// and tabs are revealed too, so a name cannot start what looks like another line.
pub fn inert_name(name: &str) -> String {
    let r = reveal_line(name);
    if r.suspicious {
        format!("{}{REVEALED}", r.text)
    } else {
        r.text
    }
}

fn names(list: &[String]) -> String {
    list.iter()
        .map(|n| inert_name(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "2 of 3 approvals".
pub fn progress(p: &Progress) -> String {
    format!(
        "{} of {} approval{}",
        p.approvals,
        p.needed,
        if p.needed == 1 { "" } else { "s" }
    )
}

/// One gate: "1 of 2; approved by carol; still needed: any 1 of: alice, bob".
pub fn gate(g: &GateLine) -> String {
    let mut parts = vec![format!("{} of {}", g.approvals, g.quorum)];
    if !g.approved_by.is_empty() {
        parts.push(format!("approved by {}", names(&g.approved_by)));
    }
    parts.push(match &g.state {
        GateState::Filled => "filled".into(),
        GateState::Waiting { missing, from } if from.len() as u32 > *missing => {
            format!("still needed: any {missing} of: {}", names(from))
        }
        GateState::Waiting { from, .. } => format!("still needed: {}", names(from)),
        GateState::Unfillable { from, .. } if from.is_empty() => {
            "nobody eligible now — it cannot be approved".into()
        }
        GateState::Unfillable { missing, from } => format!(
            "only {} eligible now for {missing} more — it cannot be approved",
            names(from)
        ),
        GateState::Closed => "not filled".into(),
    });
    parts.join("; ")
}

/// The policy part of a review: the policy id, the rule that matched in each policy, and
/// each gate with who approved and who is still needed.
pub fn policy(d: &WalletApprovalDetail) -> String {
    let p = policy_progress(d);
    let mut out = String::new();
    let _ = writeln!(out, "Policy:   {}", inert_name(&d.statement.policy_id));
    for line in &p.policies {
        let rule = match &line.rule {
            RuleMatch::Rule(id) => match &line.action {
                Some(action) => format!("rule {} ({})", inert_name(id), inert_name(action)),
                None => format!("rule {}", inert_name(id)),
            },
            RuleMatch::Default => "no rule matched: the policy's default requirement".into(),
            RuleMatch::Unknown => "which rule matched is not known (older service)".into(),
        };
        let _ = writeln!(out, "  {}: {rule}", inert_name(&line.policy));
        for g in &line.gates {
            let _ = writeln!(out, "    gate {}: {}", inert_name(&g.gate), gate(g));
        }
    }
    let denials = match p.denials {
        0 => String::new(),
        1 => ", 1 denial".into(),
        n => format!(", {n} denials"),
    };
    let legacy = if p.legacy {
        " (this service does not report gates)"
    } else {
        ""
    };
    let _ = writeln!(out, "Approvals: {}{denials}{legacy}", progress(&p.progress));
    if p.cannot_complete {
        let _ = writeln!(
            out,
            "  The people eligible now cannot fill every gate (one person counts in one gate only) — it cannot be approved."
        );
    }
    out
}

/// One line of `approver pending`.
pub fn pending_row(row: &WalletApprovalSummary) -> String {
    let progress = row
        .progress
        .map(|p| format!("  {}", progress(&p)))
        .unwrap_or_default();
    format!(
        "{}  {} {}  app={} expires={}{progress}  {}",
        row.approval_id,
        inert_name(&row.method),
        inert(&row.url),
        inert(&row.app),
        row.expires_at,
        inert(&row.reason)
    )
}

/// The body section of a review, from the one body view ([`countersign_core::body`]) that
/// the Wallet shows too: the kind is chosen by `content_type`; JSON token by token as written
/// with duplicate member names flagged, a form as a decoded table, text, or a hex dump.
pub fn body(bytes: &[u8], content_type: Option<&str>) -> String {
    let v = body_view(bytes, content_type, reveal, reveal_line);
    let mut hidden = false;
    let mut show = |r: &Revealed| -> String {
        hidden |= r.suspicious;
        r.text.clone()
    };
    let kind = match v.kind {
        BodyKind::Empty => "empty",
        BodyKind::Json => "JSON",
        BodyKind::Form => "form",
        BodyKind::Text => "text",
        BodyKind::Binary => "binary, as hex",
    };
    let mut out = format!("Body:     {} bytes, {kind}", v.size);
    match &v.content_type {
        Some(ct) => {
            let _ = write!(out, " (content-type {})", show(ct));
        }
        None => out.push_str(" (no content-type)"),
    }
    if v.truncated {
        out.push_str(", showing the start only");
    }
    out.push('\n');
    if let Some(note) = &v.note {
        let _ = writeln!(out, "  Note: {note}");
    }
    const DUP: &str = "   [duplicate name]";
    match v.kind {
        BodyKind::Empty => {}
        BodyKind::Json => {
            for l in &v.json {
                let mut line = "  ".repeat(l.depth as usize + 1);
                if let Some(k) = &l.key {
                    let _ = write!(line, "{}: ", show(k));
                }
                line.push_str(&show(&l.token));
                if l.comma {
                    line.push(',');
                }
                if l.duplicate {
                    line.push_str(DUP);
                }
                let _ = writeln!(out, "{line}");
            }
        }
        BodyKind::Form => {
            if v.form.is_empty() {
                out.push_str("  (no fields)\n");
            }
            for f in &v.form {
                let mut line = format!("  {}", show(&f.name));
                match &f.value {
                    Some(value) => {
                        let _ = write!(line, " = {}", show(value));
                    }
                    None => line.push_str(" (no value)"),
                }
                if let Some(raw) = &f.raw {
                    let _ = write!(line, "   (as written: {})", show(raw));
                }
                if f.duplicate {
                    line.push_str(DUP);
                }
                let _ = writeln!(out, "{line}");
            }
        }
        BodyKind::Text | BodyKind::Binary => {
            let text = show(&v.display);
            for line in text.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    if !v.duplicates.is_empty() {
        let names: Vec<String> = v
            .duplicates
            .iter()
            .map(|d| format!("\"{}\"", show(d)))
            .collect();
        let _ = writeln!(
            out,
            "  Duplicate names: {} — {DUPLICATE_NOTE}.",
            names.join(", ")
        );
    }
    if hidden {
        let _ = writeln!(out, "  {}", REVEALED.trim_start());
    }
    out
}

/// The review screen of the headless approver.
pub fn review(r: &Review) -> String {
    let s = r.statement();
    let d = r.detail();
    let mut out = String::new();
    let _ = writeln!(out, "Approval {}  [{}]", s.approval_id, d.status);
    let _ = writeln!(out, "Reason:   {}", inert(&s.reason));
    let _ = writeln!(
        out,
        "App:      {}   Grant: {}",
        inert(&s.app),
        inert(&s.grant)
    );
    let _ = writeln!(out, "Request:  {} {}", inert_name(&s.method), inert(&s.url));
    for (name, value) in &s.headers {
        let _ = writeln!(out, "Header:   {}: {}", inert(name), inert(value));
    }
    out.push_str(&body(r.body(), content_type(&s.headers)));
    let _ = writeln!(out, "Expires:  {}", s.expires_at);
    out.push_str(&policy(d));
    let _ = writeln!(
        out,
        "Digest:   {} (fingerprint {})",
        r.digest(),
        fingerprint(r.digest())
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_executed() {
        assert_eq!(
            inert("a\u{1b}[31mb"),
            "a⟨U+001B⟩[31mb [!hidden characters revealed]"
        );
    }

    #[test]
    fn the_terminal_uses_the_one_table() {
        // Characters the old terminal table missed.
        assert_eq!(
            inert("a\u{34F}b\u{FE0F}c\u{180B}\u{1D173}\u{13430}\u{2028}\u{A0}"),
            "a⟨U+034F⟩b⟨U+FE0F⟩c⟨U+180B⟩⟨U+1D173⟩⟨U+13430⟩⟨U+2028⟩⟨U+00A0⟩ [!hidden characters revealed]"
        );
        assert_eq!(
            inert_name("Alice\u{3000}Example\n"),
            "Alice⟨U+3000⟩Example⟨U+000A⟩ [!hidden characters revealed]"
        );
        assert_eq!(inert_name("Alice Example"), "Alice Example");
    }

    use countersign_core::api::{DecisionSummary, GateStatus, PolicyMatch, PolicyStatus};
    use countersign_core::encoding::sha256_hex;
    use countersign_core::{ApprovalStatus, Statement, Verdict};

    fn detail(policy_id: &str) -> WalletApprovalDetail {
        let statement = Statement {
            v: 1,
            service: "svc_test".into(),
            approval_id: "019a0000-0000-7000-8000-000000000001".parse().unwrap(),
            app: "support-agent".into(),
            grant: "payments".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:9000/v1/refunds".into(),
            headers: Default::default(),
            body_sha256: sha256_hex(b"{}"),
            body_size: 2,
            reason: "Refund order 42".into(),
            created_at: "2026-11-24T12:00:00Z".parse().unwrap(),
            expires_at: "2026-11-24T13:00:00Z".parse().unwrap(),
            policy_id: policy_id.into(),
        };
        WalletApprovalDetail {
            request_digest: statement.request_digest(),
            statement,
            body: b"{}".to_vec(),
            status: ApprovalStatus::Pending,
            decisions: vec![],
            quorum: 2,
            policy: PolicyStatus::default(),
            response: None,
            failure: None,
        }
    }

    fn gate(policy: &str, gate: &str, quorum: u32, eligible: &[&str], by: &[&str]) -> GateStatus {
        let names = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        GateStatus {
            policy: policy.into(),
            gate: gate.into(),
            quorum,
            eligible: names(eligible),
            approved_by: names(by),
        }
    }

    fn matched(policy: &str, rule: Option<&str>) -> PolicyMatch {
        PolicyMatch {
            policy: policy.into(),
            rule: rule.map(Into::into),
            action: "require".into(),
        }
    }

    fn approve(d: &mut WalletApprovalDetail, who: &str) {
        d.decisions.push(DecisionSummary {
            approver_id: who.into(),
            decision: Verdict::Approve,
            comment: None,
            decided_at: "2026-11-24T12:01:00Z".parse().unwrap(),
        });
    }

    #[test]
    fn policy_shows_rules_gates_who_approved_and_who_is_needed() {
        let mut d = detail("refunds+agent-limits");
        d.policy = PolicyStatus {
            matched: vec![
                matched("refunds", Some("large")),
                matched("agent-limits", None),
            ],
            gates: vec![
                gate(
                    "refunds",
                    "finance",
                    2,
                    &["alice", "carol", "bob"],
                    &["carol"],
                ),
                gate("refunds", "manager", 1, &["carol", "dave"], &[]),
                gate("agent-limits", "ops", 1, &["erin"], &["erin"]),
            ],
        };
        approve(&mut d, "carol");
        approve(&mut d, "erin");
        assert_eq!(
            policy(&d),
            "Policy:   refunds+agent-limits\n\
             \x20 refunds: rule large (require)\n\
             \x20   gate finance: 1 of 2; approved by carol; still needed: any 1 of: alice, bob\n\
             \x20   gate manager: 0 of 1; still needed: dave\n\
             \x20 agent-limits: no rule matched: the policy's default requirement\n\
             \x20   gate ops: 1 of 1; approved by erin; filled\n\
             Approvals: 2 of 4 approvals\n"
        );
    }

    #[test]
    fn a_gate_nobody_can_fill_says_it_cannot_be_approved() {
        let mut d = detail("refunds");
        d.policy = PolicyStatus {
            matched: vec![matched("refunds", Some("large"))],
            gates: vec![
                gate("refunds", "finance", 1, &["alice"], &["alice"]),
                gate("refunds", "legal", 1, &[], &[]),
                gate("refunds", "board", 2, &["zoe"], &[]),
            ],
        };
        approve(&mut d, "alice");
        let text = policy(&d);
        assert!(
            text.contains("    gate legal: 0 of 1; nobody eligible now — it cannot be approved\n")
        );
        assert!(text.contains(
            "    gate board: 0 of 2; only zoe eligible now for 2 more — it cannot be approved\n"
        ));
        assert!(text.contains(
            "Approvals: 1 of 4 approvals\n  The people eligible now cannot fill every gate"
        ));
    }

    #[test]
    fn an_older_service_shows_the_quorum_count() {
        let mut d = detail("refunds");
        approve(&mut d, "alice");
        assert_eq!(
            policy(&d),
            "Policy:   refunds\n\
             \x20 refunds: which rule matched is not known (older service)\n\
             Approvals: 1 of 2 approvals (this service does not report gates)\n"
        );
    }

    #[test]
    fn hostile_names_stay_on_their_line_and_are_revealed() {
        let mut d = detail("refunds");
        d.policy = PolicyStatus {
            matched: vec![matched("refunds\u{202E}", Some("big\u{1b}[2J"))],
            gates: vec![gate(
                "refunds\u{202E}",
                "finance\u{200B}",
                1,
                &["mallory\nApprovals: 1 of 1 approval", "bob\t"],
                &[],
            )],
        };
        let text = policy(&d);
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(!text
            .chars()
            .any(|c| c == '\u{202E}' || c == '\u{1b}' || c == '\u{200B}' || c == '\t'));
        assert!(text.contains(
            "  refunds⟨U+202E⟩ [!hidden characters revealed]: rule big⟨U+001B⟩[2J [!hidden characters revealed] (require)\n"
        ));
        assert!(text.contains(
            "    gate finance⟨U+200B⟩ [!hidden characters revealed]: 0 of 1; still needed: any 1 of: \
             mallory⟨U+000A⟩Approvals: 1 of 1 approval [!hidden characters revealed], bob⟨U+0009⟩ [!hidden characters revealed]\n"
        ));
        assert!(text.ends_with("Approvals: 0 of 1 approval\n"));
    }

    #[test]
    fn pending_rows_show_progress_when_the_service_sends_it() {
        let d = detail("refunds");
        let s = &d.statement;
        let mut row = WalletApprovalSummary {
            approval_id: s.approval_id,
            status: ApprovalStatus::Pending,
            reason: "Refund \u{202E}order".into(),
            app: s.app.clone(),
            grant: s.grant.clone(),
            method: s.method.clone(),
            url: s.url.clone(),
            created_at: s.created_at,
            expires_at: s.expires_at,
            progress: None,
        };
        let head = "019a0000-0000-7000-8000-000000000001  POST http://127.0.0.1:9000/v1/refunds  \
                    app=support-agent expires=2026-11-24T13:00:00Z";
        assert_eq!(
            pending_row(&row),
            format!("{head}  Refund ⟨U+202E⟩order [!hidden characters revealed]")
        );
        row.progress = Some(Progress {
            approvals: 2,
            needed: 3,
        });
        assert_eq!(
            pending_row(&row),
            format!("{head}  2 of 3 approvals  Refund ⟨U+202E⟩order [!hidden characters revealed]")
        );
    }

    const JSON: Option<&str> = Some("application/json");
    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    #[test]
    fn bodies_are_shown_by_their_content_type() {
        assert_eq!(
            body(br#"{"a":1}"#, JSON),
            "Body:     7 bytes, JSON (content-type application/json)\n  {\n    \"a\": 1\n  }\n"
        );
        assert_eq!(
            body(b"plain", Some("text/plain")),
            "Body:     5 bytes, text (content-type text/plain)\n  plain\n"
        );
        // Bytes are hex whatever they look like when no content type says otherwise.
        assert_eq!(
            body(&[0xff, 0x00], None),
            format!(
                "Body:     2 bytes, binary, as hex (no content-type)\n  00000000  {:<47}  |..|\n",
                "ff 00"
            )
        );
        assert_eq!(
            body(b"", None),
            "Body:     0 bytes, empty (no content-type)\n"
        );
    }

    #[test]
    fn duplicate_members_are_all_shown_as_written_and_flagged() {
        let text = body(
            br#"{"amount":1999, "memo":"Refund","amount":199900000, "n":1e2}"#,
            JSON,
        );
        assert!(
            text.contains("\n    \"amount\": 1999,   [duplicate name]\n"),
            "{text}"
        );
        assert!(text.contains("\n    \"amount\": 199900000,   [duplicate name]\n"));
        assert!(text.contains("\n    \"memo\": \"Refund\",\n"));
        assert!(text.contains("\"n\": 1e2\n"));
        assert!(
            text.ends_with("  Duplicate names: \"amount\" — the provider may read the last one.\n")
        );
    }

    #[test]
    fn a_form_is_a_table_and_json_only_when_it_says_json() {
        let raw = br#"{"a":"&amount=1000000&","amount":1}"#;
        let form = body(raw, FORM);
        assert!(form.contains("\n  amount = 1000000\n"), "{form}");
        assert!(!form.contains("JSON"));
        let json = body(raw, JSON);
        assert!(json.contains("\"a\": \"&amount=1000000&\","), "{json}");
        let dup = body(b"amount=1&to=bob%20smith&amount=1000000", FORM);
        assert!(dup.contains("  amount = 1   [duplicate name]\n"), "{dup}");
        assert!(dup.contains("  to = bob smith   (as written: to=bob%20smith)\n"));
        assert!(dup.contains("Duplicate names: \"amount\""));
        let bad = body(b"{\"amount\":1,}", JSON);
        assert!(bad.contains(", text (content-type application/json)\n  Note: not valid JSON: "));
    }

    #[test]
    fn hostile_body_text_is_revealed_and_stays_on_its_line() {
        let text = body("{\"to\":\"bob\u{202E}\"}".as_bytes(), JSON);
        assert!(text.contains("\"to\": \"bob⟨U+202E⟩\""));
        assert!(text.ends_with(" [!hidden characters revealed]\n"));
        let form = body(b"memo=a%0AApprovals%3A+2+of+2&x=%1B%5B2J", FORM);
        assert!(
            form.contains("  memo = a⟨U+000A⟩Approvals: 2 of 2"),
            "{form}"
        );
        assert!(form.contains("  x = ⟨U+001B⟩[2J"));
        assert!(!form.contains('\u{1b}'));
    }
}

#[cfg(test)]
mod what_is_new_tests {
    use super::*;

    #[test]
    fn lines_are_inert_and_nothing_new_prints_nothing() {
        assert_eq!(what_is_new(&[]), "");
        let out = what_is_new(&[
            Novelty::FirstFromApp {
                app: "batch\u{202e}job".into(),
            },
            Novelty::NewField {
                pointer: "/memo\n  ! approved".into(),
            },
        ]);
        assert_eq!(out.lines().count(), 3, "{out}");
        assert!(!out.contains('\u{202e}'), "{out}");
        assert!(out.contains("[!hidden characters revealed]"), "{out}");
    }
}
