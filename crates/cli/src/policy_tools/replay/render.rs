//! The replay report as a table for people.

use super::tally::{ChangeRow, ChangedApproval, ReplayReport};
use std::fmt::Write;

const HEADER: [&str; 7] = [
    "policy", "rule", "action", "matched", "run free", "approval", "denied",
];

impl ReplayReport {
    /// The report as text: the table per rule, the changes of outcome, and the approvals
    /// whose outcome changes (as many as were kept).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let span = match (self.first, self.last) {
            (Some(first), Some(last)) => format!(" made {first} … {last}"),
            _ => String::new(),
        };
        let since = self
            .since
            .map(|s| format!(" (since {s})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "replayed {} calls{span}{since} from {}",
            thousands(self.calls),
            self.database
        );
        let _ = writeln!(
            out,
            "rate limits simulated in time order, per app and rule, as the service counts them"
        );
        if self.unreadable > 0 {
            let _ = writeln!(
                out,
                "{} entries skipped: not readable as a call, or their approval row is missing",
                thousands(self.unreadable)
            );
        }
        out.push('\n');
        self.table(&mut out);
        self.changes_text(&mut out);
        out
    }

    fn table(&self, out: &mut String) {
        let mut lines: Vec<[String; 7]> = vec![HEADER.map(str::to_string)];
        let mut notes: Vec<(usize, String)> = Vec::new();
        for r in &self.rules {
            let action = match &r.limit {
                Some(limit) => format!("{} (at most {limit})", r.action),
                None => r.action.clone(),
            };
            lines.push([
                r.policy.clone(),
                r.rule.clone().unwrap_or_else(|| "(no rule)".to_string()),
                action,
                thousands(r.matched),
                thousands(r.allow),
                thousands(r.require),
                thousands(r.deny),
            ]);
            if !r.gates.is_empty() {
                let gates: Vec<String> = r
                    .gates
                    .iter()
                    .map(|(gates, n)| format!("{gates} ×{}", thousands(*n)))
                    .collect();
                notes.push((lines.len() - 1, format!("approval of {}", gates.join(", "))));
            }
        }
        for r in &self.refused {
            lines.push([
                "-".to_string(),
                "(before any rule)".to_string(),
                r.text.to_string(),
                thousands(r.calls),
                "0".to_string(),
                "0".to_string(),
                thousands(r.calls),
            ]);
        }
        let mut widths = [0; 7];
        for line in &lines {
            for (w, cell) in widths.iter_mut().zip(line) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let indent = widths[0] + 2;
        for (i, line) in lines.iter().enumerate() {
            let mut text = String::new();
            for (c, (cell, w)) in line.iter().zip(widths).enumerate() {
                if c < 3 {
                    let _ = write!(text, "{cell:<w$}  ");
                } else {
                    let _ = write!(text, "{cell:>w$}  ");
                }
            }
            let _ = writeln!(out, "{}", text.trim_end());
            for (_, note) in notes.iter().filter(|(at, _)| *at == i) {
                let _ = writeln!(out, "{:indent$}{note}", "");
            }
        }
    }

    fn changes_text(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\noutcomes, was → now: {} changed, {} unchanged",
            thousands(self.changed_total),
            thousands(self.unchanged)
        );
        let labels: Vec<String> = self.changes.iter().map(change_label).collect();
        let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        for (label, change) in labels.iter().zip(&self.changes) {
            let _ = writeln!(out, "  {label:<width$}  {:>8}", thousands(change.calls));
        }
        if self.changed.is_empty() {
            return;
        }
        let shown = if self.changed.len() as u64 == self.changed_total {
            "".to_string()
        } else {
            format!(
                " (first {} of {})",
                self.changed.len(),
                thousands(self.changed_total)
            )
        };
        let _ = writeln!(out, "\napprovals whose outcome changes{shown}:");
        for c in &self.changed {
            let _ = writeln!(
                out,
                "  {}  {}  {}  {}",
                c.approval_id,
                c.at,
                c.app,
                approval_label(c)
            );
        }
    }
}

fn change_label(c: &ChangeRow) -> String {
    label(c.was.name(), c.now.name(), c.other_gates)
}

fn approval_label(c: &ChangedApproval) -> String {
    label(c.was.name(), c.now.name(), c.other_gates)
}

fn label(was: &str, now: &str, other_gates: bool) -> String {
    if other_gates {
        format!("{was} → {now} (other gates)")
    } else {
        format!("{was} → {now}")
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
