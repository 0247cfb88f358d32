//! Printing approvals in a terminal: untrusted text goes through
//! [`countersign_core::text::reveal`], so escape sequences and bidi controls cannot rewrite
//! the screen or reorder what the approver reads.

use countersign_approver::Review;
use countersign_core::statement::fingerprint;
use countersign_core::text::reveal;
use std::fmt::Write;

/// One line of untrusted text made inert, with a warning mark when something was hidden.
pub fn inert(text: &str) -> String {
    let r = reveal(text);
    if r.suspicious {
        format!("{} [!hidden characters revealed]", r.text)
    } else {
        r.text
    }
}

/// The body for people: pretty JSON when it is JSON, text when UTF-8, hex otherwise.
pub fn body(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(empty)".into();
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        return inert(&serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => inert(text),
        Err(_) => bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
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
        "App:      {}   Grant: {}   Policy: {}",
        inert(&s.app),
        inert(&s.grant),
        inert(&s.policy_id)
    );
    let _ = writeln!(out, "Request:  {} {}", s.method, inert(&s.url));
    for (name, value) in &s.headers {
        let _ = writeln!(out, "Header:   {}: {}", inert(name), inert(value));
    }
    let _ = writeln!(out, "Body ({} bytes):\n{}", s.body_size, body(r.body()));
    let _ = writeln!(
        out,
        "Expires:  {}   Quorum: {}/{}",
        s.expires_at,
        d.decisions.len(),
        d.quorum
    );
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
    fn bodies_are_pretty_json_text_or_hex() {
        assert_eq!(body(br#"{"a":1}"#), "{\n  \"a\": 1\n}");
        assert_eq!(body(b"plain"), "plain");
        assert_eq!(body(&[0xff, 0x00]), "ff 00");
    }
}
