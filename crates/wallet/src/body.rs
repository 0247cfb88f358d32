//! How a request or response body is shown: the one body view of
//! [`countersign_core::body`] (JSON token by token, form table, text, or hex dump, chosen by
//! the `content-type`), with every string revealed by [`crate::reveal`]: the whole display
//! with [`reveal`], one-line pieces (JSON tokens, form names and values, duplicate names)
//! with [`reveal_name`].

use crate::reveal::{reveal, reveal_name, Revealed};
pub use countersign_core::body::{
    BodyKind, FormField, JsonLine, Limits, DUPLICATE_NOTE, HEX_LIMIT, TEXT_LIMIT,
};

/// A body prepared for display.
pub type BodyView = countersign_core::body::BodyView<Revealed>;

/// Prepares `bytes` for display as `content_type` says (no content type: a hex dump), cut
/// at the terminal's limits: for provider answers, shown for information.
pub fn body_view(bytes: &[u8], content_type: Option<&str>) -> BodyView {
    countersign_core::body::body_view(bytes, content_type, reveal, reveal_name)
}

/// The body of a request to approve, whole up to the service's 1 MiB cap ([`Limits::WHOLE`]),
/// revealed at once. The review screen uses [`crate::pages::BodyPages::of`] instead, which
/// reveals one page at a time; its tests hold it to this.
pub fn request_body_view(bytes: &[u8], content_type: Option<&str>) -> BodyView {
    countersign_core::body::body_view_with(bytes, content_type, Limits::WHOLE, reveal, reveal_name)
}

/// Why a request body cannot be approved in the Wallet: it is not in the view whole
/// ("what cannot be shown cannot be approved"). `None` when it is shown whole.
pub fn not_shown_whole(b: &BodyView) -> Option<String> {
    cut_short(b.truncated, b.size)
}

/// [`not_shown_whole`] of a body of `size` bytes whose view is `truncated` or not.
pub fn cut_short(truncated: bool, size: u64) -> Option<String> {
    truncated.then(|| {
        format!("the body ({size} bytes) is too large to show whole here, so it cannot be approved")
    })
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
        assert_eq!(v.duplicates[0].text, "amount");
        assert!(v.json[1].duplicate && v.json[2].duplicate && !v.json[3].duplicate);
    }

    #[test]
    fn invalid_json_is_shown_as_text_with_a_note() {
        let v = body_view(b"{not json", Some("application/json"));
        assert_eq!(v.kind, BodyKind::Text);
        assert_eq!(v.display.text, "{not json");
        assert!(v.note.as_deref().unwrap().starts_with("not valid JSON: "));
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
        // The content type says JSON: the kind is no longer guessed from the first character.
        let v = body_view(
            "{\"to\":\"bob\u{202E}\"}".as_bytes(),
            Some("application/json"),
        );
        assert!(v.display.warning);
        assert!(v.display.text.contains("⟨U+202E⟩"));
        let pages = |b: &[u8], ct| crate::pages::BodyPages::of(b, Some(ct)).head().warning;
        assert!(pages(
            "{\"to\":\"bob\u{202E}\"}".as_bytes(),
            "application/json"
        ));
        let form = body_view(
            b"to=bob%E2%80%AE",
            Some("application/x-www-form-urlencoded"),
        );
        assert!(!form.display.warning);
        assert!(pages(
            b"to=bob%E2%80%AE",
            "application/x-www-form-urlencoded"
        ));
        assert_eq!(form.form[0].value.as_ref().unwrap().text, "bob⟨U+202E⟩");
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

    #[test]
    fn request_bodies_are_whole_up_to_the_cap_or_not_approvable() {
        let big = format!(r#"{{"memo":"{}"}}"#, "m".repeat(900 * 1024));
        let v = request_body_view(big.as_bytes(), Some("application/json"));
        assert!(!v.truncated);
        assert_eq!(not_shown_whole(&v), None);
        // The terminal's limits would cut it: not approvable from such a view.
        let cut = body_view(big.as_bytes(), Some("application/json"));
        assert!(cut.truncated);
        assert!(not_shown_whole(&cut)
            .unwrap()
            .contains("too large to show whole"));
        // A megabyte of one-character JSON lines is more than the view model lists.
        let many = format!("[{}1]", "1,".repeat(300_000));
        let v = request_body_view(many.as_bytes(), Some("application/json"));
        assert!(not_shown_whole(&v).is_some());
        // Binary bodies are a whole hex dump.
        let bin = request_body_view(&[7u8; 64 * 1024], None);
        assert_eq!((bin.kind, not_shown_whole(&bin)), (BodyKind::Binary, None));
    }
}
