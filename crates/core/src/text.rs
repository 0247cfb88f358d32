//! Making untrusted text safe to show: invisible and direction-changing characters become
//! visible `⟨U+XXXX⟩` markers, so a reason cannot hide or reorder what an approver reads.
//!
//! This is the one hidden-character table of Countersign: the desktop Wallet
//! (`countersign_wallet::reveal`) and the terminal approver (`countersign-cli`) both ask
//! [`hidden_kind`]. It is built from Unicode properties, not from a hand-kept list:
//!
//! - bidi controls: U+061C, U+200E, U+200F, U+202A–202E, U+2066–2069 ([`HiddenKind::Bidi`]);
//! - general categories Cc (control), Zl and Zp (line and paragraph separator)
//!   ([`HiddenKind::Control`]);
//! - general category Zs other than U+0020, e.g. U+00A0, U+2000–200A, U+202F, U+205F,
//!   U+3000 ([`HiddenKind::Space`]);
//! - general category Cf (format), every `Default_Ignorable_Code_Point` (assigned or not:
//!   variation selectors, fillers, U+180B–180F, U+1D173–1D17A, U+1BCA0–1BCA3, …), the tag
//!   characters U+E0000–E007F and the Egyptian hieroglyph format controls U+13430–1343F
//!   ([`HiddenKind::Invisible`]).
//!
//! The properties come from the `icu_properties` crate with its compiled data
//! (`icu_properties_data` 2.4.0, generated from **Unicode 18.0.0**); updating that crate
//! updates the table. The tests check it against independent data: Python's `unicodedata`
//! and Perl's `Unicode::UCD` (both Unicode 14.0.0 here).

use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};
use serde::Serialize;

/// What kind of hidden character was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum HiddenKind {
    /// Bidirectional embedding, override, isolate or mark: reorders the text around it.
    Bidi,
    /// Zero-width, format or otherwise invisible: hides inside words.
    Invisible,
    /// A space other than U+0020 (no-break, wide, narrow…): looks like a space but is not one.
    Space,
    /// A control character (C0, DEL, C1) or a line/paragraph separator.
    Control,
}

/// The one table: the kind of a character that must not be shown as it is, `None` for a
/// character that shows as itself. Tab and line feed are [`HiddenKind::Control`] here; the
/// `reveal` functions decide whether a text keeps them.
pub fn hidden_kind(c: char) -> Option<HiddenKind> {
    let cp = c as u32;
    if matches!(cp, 0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069) {
        return Some(HiddenKind::Bidi);
    }
    let gc = CodePointMapData::<GeneralCategory>::new().get(c);
    match gc {
        GeneralCategory::Control
        | GeneralCategory::LineSeparator
        | GeneralCategory::ParagraphSeparator => Some(HiddenKind::Control),
        GeneralCategory::SpaceSeparator if c != ' ' => Some(HiddenKind::Space),
        GeneralCategory::Format => Some(HiddenKind::Invisible),
        _ if CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
            || matches!(cp, 0xE0000..=0xE007F | 0x13430..=0x1343F) =>
        {
            Some(HiddenKind::Invisible)
        }
        _ => None,
    }
}

/// True for characters that change text direction or do not show as themselves (tab and
/// line feed included; see [`hidden_kind`]).
pub fn is_hidden(c: char) -> bool {
    hidden_kind(c).is_some()
}

/// The visible marker of a character: `⟨U+202E⟩`.
pub fn marker(c: char) -> String {
    format!("⟨U+{:04X}⟩", c as u32)
}

/// [`hidden_kind`] for text of several lines: tab and line feed are kept as they are.
pub fn hidden_kind_in_text(c: char) -> Option<HiddenKind> {
    match c {
        '\n' | '\t' => None,
        c => hidden_kind(c),
    }
}

/// Text prepared for display, and whether anything had to be revealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revealed {
    /// The text with every hidden character replaced by `⟨U+XXXX⟩`.
    pub text: String,
    /// True when the input held bidi controls, invisible or control characters.
    pub suspicious: bool,
}

/// Reveals hidden characters; line feeds and tabs are kept as they are.
pub fn reveal(input: &str) -> Revealed {
    reveal_with(input, hidden_kind_in_text)
}

/// Reveals hidden characters of a name that is one line (an approver, service, policy or
/// gate id): line feeds and tabs are revealed too, so a name cannot start another line.
pub fn reveal_line(input: &str) -> Revealed {
    reveal_with(input, hidden_kind)
}

fn reveal_with(input: &str, kind: impl Fn(char) -> Option<HiddenKind>) -> Revealed {
    let mut text = String::with_capacity(input.len());
    let mut suspicious = false;
    for c in input.chars() {
        if kind(c).is_some() {
            suspicious = true;
            text.push_str(&marker(c));
        } else {
            text.push(c);
        }
    }
    Revealed { text, suspicious }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_overrides_and_zero_width_characters_become_visible() {
        let r = reveal("pay \u{202e}0001\u{202c} EUR\u{200b}!");
        assert_eq!(r.text, "pay ⟨U+202E⟩0001⟨U+202C⟩ EUR⟨U+200B⟩!");
        assert!(r.suspicious);
    }

    #[test]
    fn terminal_escapes_are_revealed() {
        let r = reveal("ok\u{1b}[2J\r");
        assert_eq!(r.text, "ok⟨U+001B⟩[2J⟨U+000D⟩");
    }

    #[test]
    fn plain_text_with_lines_and_emoji_is_untouched() {
        let r = reveal("Refund €19.99\n\tfor order 😀 <b>42</b>");
        assert_eq!(r.text, "Refund €19.99\n\tfor order 😀 <b>42</b>");
        assert!(!r.suspicious);
    }

    #[test]
    fn a_line_reveals_line_feeds_and_tabs() {
        let r = reveal_line("carol\nApprovals: 2 of 2\t");
        assert_eq!(r.text, "carol⟨U+000A⟩Approvals: 2 of 2⟨U+0009⟩");
        assert!(r.suspicious);
        assert!(!reveal_line("carol-ops.1").suspicious);
    }

    fn kind(cp: u32) -> Option<HiddenKind> {
        hidden_kind(char::from_u32(cp).unwrap())
    }

    fn each(ranges: &[(u32, u32)]) -> impl Iterator<Item = u32> + '_ {
        ranges.iter().flat_map(|&(a, b)| a..=b)
    }

    /// Every code point the hidden-character issue names.
    #[test]
    fn every_code_point_the_issue_names_is_hidden() {
        let bidi = [
            (0x061C, 0x061C),
            (0x200E, 0x200F),
            (0x202A, 0x202E),
            (0x2066, 0x2069),
        ];
        for cp in each(&bidi) {
            assert_eq!(kind(cp), Some(HiddenKind::Bidi), "U+{cp:04X}");
        }
        for cp in each(&[(0x2028, 0x2029), (0x00, 0x1F), (0x7F, 0x9F)]) {
            assert_eq!(kind(cp), Some(HiddenKind::Control), "U+{cp:04X}");
        }
        let spaces = [
            (0x00A0, 0x00A0),
            (0x1680, 0x1680),
            (0x2000, 0x200A),
            (0x202F, 0x202F),
            (0x205F, 0x205F),
            (0x3000, 0x3000),
        ];
        for cp in each(&spaces) {
            assert_eq!(kind(cp), Some(HiddenKind::Space), "U+{cp:04X}");
        }
        let invisible = [
            (0x00AD, 0x00AD),   // soft hyphen
            (0x034F, 0x034F),   // combining grapheme joiner
            (0x115F, 0x1160),   // Hangul fillers
            (0x17B4, 0x17B5),   // Khmer inherent vowels
            (0x180B, 0x180F),   // Mongolian variation selectors and vowel separator
            (0x200B, 0x200D),   // zero-width space and joiners
            (0x2060, 0x2064),   // word joiner, invisible operators
            (0x2065, 0x2065),   // unassigned, default ignorable
            (0x206A, 0x206F),   // deprecated format characters
            (0x3164, 0x3164),   // Hangul filler
            (0xFE00, 0xFE0F),   // variation selectors 1-16
            (0xFEFF, 0xFEFF),   // byte order mark
            (0xFFA0, 0xFFA0),   // halfwidth Hangul filler
            (0xFFF0, 0xFFF8),   // unassigned, default ignorable
            (0xFFF9, 0xFFFB),   // interlinear annotations
            (0x13430, 0x1343F), // Egyptian hieroglyph format controls
            (0x1BCA0, 0x1BCA3), // shorthand format controls
            (0x1D173, 0x1D17A), // musical symbol format controls
            (0xE0000, 0xE007F), // tag characters
            (0xE0100, 0xE01EF), // variation selectors 17-256
        ];
        for cp in each(&invisible) {
            assert_eq!(kind(cp), Some(HiddenKind::Invisible), "U+{cp:04X}");
        }
    }

    /// `Default_Ignorable_Code_Point`, listed by Perl's `Unicode::UCD::prop_invlist`
    /// (Unicode 14.0.0), an independent copy of DerivedCoreProperties.txt.
    const DEFAULT_IGNORABLE: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),
        (0x034F, 0x034F),
        (0x061C, 0x061C),
        (0x115F, 0x1160),
        (0x17B4, 0x17B5),
        (0x180B, 0x180F),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x206F),
        (0x3164, 0x3164),
        (0xFE00, 0xFE0F),
        (0xFEFF, 0xFEFF),
        (0xFFA0, 0xFFA0),
        (0xFFF0, 0xFFF8),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0000, 0xE0FFF),
    ];

    #[test]
    fn every_default_ignorable_code_point_is_hidden() {
        let di = CodePointSetData::new::<DefaultIgnorableCodePoint>();
        for cp in each(DEFAULT_IGNORABLE) {
            assert!(kind(cp).is_some(), "U+{cp:04X}");
        }
        // The crate's data agrees with the independent list: a change of the property in a
        // newer Unicode version shows up here.
        let listed: Vec<u32> = each(DEFAULT_IGNORABLE).collect();
        let from_crate: Vec<u32> = (0..0x11_0000u32).filter(|&cp| di.contains32(cp)).collect();
        assert_eq!(from_crate, listed);
        for cp in from_crate {
            assert!(kind(cp).is_some(), "U+{cp:04X}");
        }
    }

    /// Cc, Cf, Zl, Zp and Zs (other than U+0020), generated with Python's `unicodedata`
    /// (Unicode 14.0.0): `category(chr(cp)) in (...)` over every code point, as ranges.
    const PYTHON_CATEGORIES: &[(u32, u32)] = &[
        // Cc
        (0x0000, 0x001F),
        (0x007F, 0x009F),
        // Zs other than U+0020
        (0x00A0, 0x00A0),
        (0x1680, 0x1680),
        (0x2000, 0x200A),
        (0x202F, 0x202F),
        (0x205F, 0x205F),
        (0x3000, 0x3000),
        // Cf
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x13438),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
        // Zl, Zp
        (0x2028, 0x2029),
    ];

    #[test]
    fn every_control_format_separator_and_unusual_space_is_hidden() {
        for cp in each(PYTHON_CATEGORIES) {
            assert!(kind(cp).is_some(), "U+{cp:04X}");
        }
    }

    #[test]
    fn letters_digits_punctuation_cjk_and_emoji_are_not_hidden() {
        let ordinary = "ABCxyz 0123456789 .,;:!?'\"()[]{}<>/\\|@#$%^&*-_=+~` €£¥ \
                        äöüßéèçñ ÆØÅ Ελληνικά Русский עברית العربية हिन्दी ไทย \
                        中文汉字 日本語かなカナ 한국어 😀👍🏽🚀🎉 ★☆♥ ½ ² ‰ — – … « » ¡ ¿";
        for c in ordinary.chars() {
            assert_eq!(hidden_kind(c), None, "U+{:04X}", c as u32);
        }
        assert_eq!(hidden_kind(' '), None);
        assert_eq!(hidden_kind('\n'), Some(HiddenKind::Control));
        assert_eq!(hidden_kind_in_text('\n'), None);
        assert_eq!(hidden_kind_in_text('\t'), None);
        assert_eq!(hidden_kind_in_text('\r'), Some(HiddenKind::Control));
    }
}
