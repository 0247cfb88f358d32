//! Making untrusted text safe to show: invisible and direction-changing characters become
//! visible `⟨U+XXXX⟩` markers, so a reason cannot hide or reorder what an approver reads.

/// Text prepared for display, and whether anything had to be revealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revealed {
    /// The text with every hidden character replaced by `⟨U+XXXX⟩`.
    pub text: String,
    /// True when the input held bidi controls, invisible or control characters.
    pub suspicious: bool,
}

/// True for characters that change text direction or do not show.
pub fn is_hidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{ad}'                      // soft hyphen
        | '\u{61c}'                     // Arabic letter mark
        | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' // Hangul fillers
        | '\u{180e}'                    // Mongolian vowel separator
        | '\u{200b}'..='\u{200f}'       // zero-width, LRM, RLM
        | '\u{202a}'..='\u{202e}'       // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}'       // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}'       // bidi isolates
        | '\u{206a}'..='\u{206f}'       // deprecated format characters
        | '\u{feff}'                    // byte order mark
        | '\u{fff9}'..='\u{fffb}'       // interlinear annotations
        | '\u{e0000}'..='\u{e007f}'     // tag characters
    )
}

/// Reveals hidden characters; line feeds and tabs are kept as they are.
pub fn reveal(input: &str) -> Revealed {
    let mut text = String::with_capacity(input.len());
    let mut suspicious = false;
    for c in input.chars() {
        if c != '\n' && c != '\t' && is_hidden(c) {
            suspicious = true;
            text.push_str(&format!("⟨U+{:04X}⟩", c as u32));
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
}
