//! Makes hidden characters in untrusted text visible.
//!
//! A reason such as `"Refund {U+202E}000,01$ {U+202C}order"` can display very differently from
//! the characters it holds: bidirectional overrides reorder what follows them, zero-width characters hide inside
//! words, control characters may be dropped by the renderer. Before any untrusted text is
//! shown, [`reveal`] replaces each such character with a visible marker `⟨U+202E⟩` and says
//! which kinds it found, so the view can warn. It is a pure function: same input, same output.

use serde::Serialize;
use ts_rs::TS;

/// The visible marker of a character: `⟨U+202E⟩`.
pub use countersign_core::text::marker;
/// What kind of hidden character was found: the kinds of the one table in
/// [`countersign_core::text`].
pub use countersign_core::text::HiddenKind;

/// One piece of revealed text: either text shown as it is, or a hidden character made visible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[derive(TS)]
pub enum Segment {
    /// Ordinary text.
    Text {
        /// The text.
        text: String,
    },
    /// A character that would not have been seen as it is.
    Hidden {
        /// The marker to display, e.g. `⟨U+202E⟩`.
        marker: String,
        /// What kind of character it was.
        kind: HiddenKind,
    },
}

/// Untrusted text prepared for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Revealed {
    /// The whole text with every hidden character replaced by its marker.
    pub text: String,
    /// The same, in pieces, so a view can style the markers.
    pub segments: Vec<Segment>,
    /// True when at least one hidden character was found: the view shows a warning.
    pub warning: bool,
    /// Which kinds were found (each at most once, in order of first appearance).
    pub kinds: Vec<HiddenKind>,
}

/// Classifies a character that must not be shown as it is, in text of several lines (tab and
/// line feed are shown as they are). The table is [`countersign_core::text::hidden_kind`],
/// the same one the terminal approver uses.
pub fn hidden_kind(c: char) -> Option<HiddenKind> {
    countersign_core::text::hidden_kind_in_text(c)
}

/// Replaces every hidden character in `text` with its marker and reports what it found.
pub fn reveal(text: &str) -> Revealed {
    reveal_with(text, hidden_kind)
}

/// Like [`reveal`], for a name that is one line (a policy, gate or approver id): tabs and
/// line feeds are revealed too, so a name cannot break a line into what looks like another.
pub fn reveal_name(text: &str) -> Revealed {
    reveal_with(text, countersign_core::text::hidden_kind)
}

fn reveal_with(text: &str, hidden_kind: impl Fn(char) -> Option<HiddenKind>) -> Revealed {
    let mut segments = Vec::new();
    let mut plain = String::new();
    let mut whole = String::with_capacity(text.len());
    let mut kinds = Vec::new();
    for c in text.chars() {
        match hidden_kind(c) {
            None => {
                plain.push(c);
                whole.push(c);
            }
            Some(kind) => {
                if !plain.is_empty() {
                    segments.push(Segment::Text {
                        text: std::mem::take(&mut plain),
                    });
                }
                let m = marker(c);
                whole.push_str(&m);
                segments.push(Segment::Hidden { marker: m, kind });
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
        }
    }
    if !plain.is_empty() {
        segments.push(Segment::Text { text: plain });
    }
    Revealed {
        text: whole,
        segments,
        warning: !kinds.is_empty(),
        kinds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_unchanged_and_unflagged() {
        let r = reveal("Refund order 42 — 12,00 € (ok)\n\tsecond line 👍🏽");
        assert_eq!(r.text, "Refund order 42 — 12,00 € (ok)\n\tsecond line 👍🏽");
        assert!(!r.warning);
        assert!(r.kinds.is_empty());
        assert_eq!(r.segments.len(), 1);
    }

    #[test]
    fn right_to_left_override_is_shown_and_flagged() {
        let r = reveal("pay \u{202E}001$\u{202C} now");
        assert_eq!(r.text, "pay ⟨U+202E⟩001$⟨U+202C⟩ now");
        assert!(r.warning);
        assert_eq!(r.kinds, vec![HiddenKind::Bidi]);
        assert_eq!(
            r.segments[1],
            Segment::Hidden {
                marker: "⟨U+202E⟩".into(),
                kind: HiddenKind::Bidi
            }
        );
        assert!(!r.text.contains('\u{202E}'));
    }

    #[test]
    fn every_bidi_control_is_caught() {
        for cp in [
            0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068,
            0x2069,
        ] {
            let c = char::from_u32(cp).unwrap();
            assert_eq!(hidden_kind(c), Some(HiddenKind::Bidi), "U+{cp:04X}");
        }
    }

    #[test]
    fn invisible_and_control_characters_are_caught() {
        let r = reveal("ad\u{200B}min\u{FEFF} x\u{0}\u{7}\u{1B}[31m \u{E0041}");
        assert_eq!(
            r.text,
            "ad⟨U+200B⟩min⟨U+FEFF⟩ x⟨U+0000⟩⟨U+0007⟩⟨U+001B⟩[31m ⟨U+E0041⟩"
        );
        assert_eq!(r.kinds, vec![HiddenKind::Invisible, HiddenKind::Control]);
    }

    #[test]
    fn the_wallet_and_the_terminal_share_one_table() {
        // Missing from both old tables: Mongolian free variation selectors, musical and
        // shorthand format controls, Egyptian hieroglyph format controls; unusual spaces.
        for (cp, kind) in [
            (0x180B, HiddenKind::Invisible),
            (0x180F, HiddenKind::Invisible),
            (0x1D173, HiddenKind::Invisible),
            (0x1D17A, HiddenKind::Invisible),
            (0x1BCA0, HiddenKind::Invisible),
            (0x13430, HiddenKind::Invisible),
            (0x1343F, HiddenKind::Invisible),
            (0xFE0F, HiddenKind::Invisible),
            (0x00A0, HiddenKind::Space),
            (0x3000, HiddenKind::Space),
            (0x2028, HiddenKind::Control),
        ] {
            let c = char::from_u32(cp).unwrap();
            assert_eq!(hidden_kind(c), Some(kind), "U+{cp:04X}");
            assert_eq!(countersign_core::text::hidden_kind(c), Some(kind));
            let s = c.to_string();
            assert_eq!(reveal(&s).text, countersign_core::text::reveal(&s).text);
        }
        let r = reveal("12\u{A0}000\u{A0}€ to bob\u{1D173}");
        assert_eq!(r.text, "12⟨U+00A0⟩000⟨U+00A0⟩€ to bob⟨U+1D173⟩");
        assert_eq!(r.kinds, vec![HiddenKind::Space, HiddenKind::Invisible]);
    }

    #[test]
    fn names_are_one_line() {
        let r = reveal_name("carol\nfinance: 2 of 2\t\u{202E}");
        assert_eq!(r.text, "carol⟨U+000A⟩finance: 2 of 2⟨U+0009⟩⟨U+202E⟩");
        assert_eq!(r.kinds, vec![HiddenKind::Control, HiddenKind::Bidi]);
        assert_eq!(reveal_name("carol-ops.1").text, "carol-ops.1");
        assert!(!reveal_name("carol-ops.1").warning);
    }

    #[test]
    fn markup_is_left_as_text() {
        // Escaping is the view's job (it renders text, never HTML); reveal must not mangle it.
        let r = reveal("<script>alert(1)</script>");
        assert_eq!(r.text, "<script>alert(1)</script>");
        assert!(!r.warning);
    }

    #[test]
    fn revealed_text_never_contains_a_hidden_character() {
        let all: String = (0u32..0x11_0000).filter_map(char::from_u32).collect();
        let r = reveal(&all);
        assert!(r.text.chars().all(|c| hidden_kind(c).is_none()));
        let joined: String = r
            .segments
            .iter()
            .map(|s| match s {
                Segment::Text { text } => text.as_str(),
                Segment::Hidden { marker, .. } => marker.as_str(),
            })
            .collect();
        assert_eq!(joined, r.text);
    }
}
