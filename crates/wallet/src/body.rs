//! How a request or response body is shown: pretty JSON, text, or a hex dump, with its size.
//!
//! JSON is re-indented token by token, never parsed into a map and printed again: a map would
//! silently merge duplicate keys (`{"amount":1,"amount":1000}`) and round numbers, and the
//! approver must see the bytes that will be sent. Everything shown passes through
//! [`crate::reveal`].

use crate::reveal::{reveal, Revealed};
use serde::Serialize;

/// At most this many bytes of a body are shown as text (the size is always exact).
pub const TEXT_LIMIT: usize = 256 * 1024;
/// At most this many bytes of a binary body are shown as hex.
pub const HEX_LIMIT: usize = 16 * 1024;

/// How the body is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// No body.
    Empty,
    /// Valid JSON, re-indented.
    Json,
    /// UTF-8 text.
    Text,
    /// Anything else, as a hex dump.
    Binary,
}

/// A body prepared for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BodyView {
    /// How it is shown.
    pub kind: BodyKind,
    /// Exact size in bytes.
    pub size: u64,
    /// The text to show (pretty JSON, text, or hex dump), hidden characters revealed.
    pub display: Revealed,
    /// True when `display` covers only the start of the body.
    pub truncated: bool,
}

/// Prepares `bytes` for display; `content_type` (if any) is only a hint.
pub fn body_view(bytes: &[u8], content_type: Option<&str>) -> BodyView {
    let size = bytes.len() as u64;
    if bytes.is_empty() {
        return BodyView {
            kind: BodyKind::Empty,
            size,
            display: reveal(""),
            truncated: false,
        };
    }
    let text = std::str::from_utf8(bytes).ok().filter(|t| is_texty(t));
    match text {
        Some(t) => {
            let looks_json = content_type.is_some_and(|c| c.to_ascii_lowercase().contains("json"))
                || matches!(t.trim_start().as_bytes().first(), Some(b'{' | b'['));
            if looks_json && serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok() {
                let pretty = pretty_json(t);
                let (shown, truncated) = cut(&pretty, TEXT_LIMIT);
                return BodyView {
                    kind: BodyKind::Json,
                    size,
                    display: reveal(shown),
                    truncated,
                };
            }
            let (shown, truncated) = cut(t, TEXT_LIMIT);
            BodyView {
                kind: BodyKind::Text,
                size,
                display: reveal(shown),
                truncated,
            }
        }
        None => {
            let shown = &bytes[..bytes.len().min(HEX_LIMIT)];
            BodyView {
                kind: BodyKind::Binary,
                size,
                display: reveal(&hex_dump(shown)),
                truncated: shown.len() < bytes.len(),
            }
        }
    }
}

/// Text when almost no control characters other than whitespace occur.
fn is_texty(t: &str) -> bool {
    !t.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

fn cut(text: &str, limit: usize) -> (&str, bool) {
    if text.len() <= limit {
        return (text, false);
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

/// Re-indents valid JSON by two spaces, keeping every token exactly as written.
pub fn pretty_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = json.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // Keep empty containers on one line.
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.push(chars.next().expect("peeked"));
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// `offset  hex bytes  |ascii|`, 16 bytes a line.
pub fn hex_dump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        out.push_str(&format!(
            "{:08x}  {:<47}  |{}|\n",
            i * 16,
            hex.join(" "),
            ascii
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_pretty_and_keeps_duplicates_and_numbers() {
        let raw = br#"{"amount":1,"amount":1000000,"n":1.10000000000000000001,"s":"a, b: {c}","e":[],"o":{}}"#;
        let v = body_view(raw, Some("application/json"));
        assert_eq!(v.kind, BodyKind::Json);
        assert_eq!(
            v.display.text,
            "{\n  \"amount\": 1,\n  \"amount\": 1000000,\n  \"n\": 1.10000000000000000001,\n  \"s\": \"a, b: {c}\",\n  \"e\": [],\n  \"o\": {}\n}"
        );
        assert_eq!(v.size, raw.len() as u64);
    }

    #[test]
    fn escaped_quotes_do_not_end_strings() {
        assert_eq!(pretty_json(r#"["a\"b,c",1]"#), "[\n  \"a\\\"b,c\",\n  1\n]");
    }

    #[test]
    fn invalid_json_is_shown_as_text() {
        let v = body_view(b"{not json", Some("application/json"));
        assert_eq!(v.kind, BodyKind::Text);
        assert_eq!(v.display.text, "{not json");
    }

    #[test]
    fn binary_is_a_hex_dump() {
        let v = body_view(&[0, 1, 2, 0xff, b'A'], None);
        assert_eq!(v.kind, BodyKind::Binary);
        assert_eq!(
            v.display.text,
            format!("00000000  {:<47}  |....A|\n", "00 01 02 ff 41")
        );
    }

    #[test]
    fn hidden_characters_in_bodies_are_revealed() {
        let v = body_view("{\"to\":\"bob\u{202E}\"}".as_bytes(), None);
        assert!(v.display.warning);
        assert!(v.display.text.contains("⟨U+202E⟩"));
    }

    #[test]
    fn large_bodies_are_cut_but_sized_exactly() {
        let big = "é".repeat(TEXT_LIMIT);
        let v = body_view(big.as_bytes(), Some("text/plain"));
        assert_eq!(v.size, (TEXT_LIMIT * 2) as u64);
        assert!(v.truncated);
        assert!(v.display.text.len() <= TEXT_LIMIT);
        assert_eq!(body_view(b"", None).kind, BodyKind::Empty);
    }
}
