//! Checking the path an app asks for: one spelling per path.
//!
//! Policy rules match the path string the app sends, and the provider routes on what it
//! receives. Any spelling a provider (or a proxy in front of it) folds into another route —
//! `//`, dot segments, `;` parameters, `\`, an encoded `/`, an escape of a character that may be
//! written as itself, lower-case hex, an encoded `%` that decodes twice — would let a call escape
//! a rule, so such paths are refused rather than normalised.
//!
//! The one spelling: a byte for which `is_raw` holds is written as itself, any other allowed
//! byte as `%XX` with upper-case hex. `/`, `;`, `\`, `%`, controls and non-ASCII have no
//! spelling in a segment.

use crate::error::{ApiError, ErrorCode};

const MAX_PATH_BYTES: usize = 4096;

/// Checks `path`; the error is 422 `invalid_path` with what is wrong.
pub(super) fn check_path(path: &str) -> Result<(), ApiError> {
    problem(path).map_or(Ok(()), |why| {
        Err(ApiError::new(
            ErrorCode::InvalidPath,
            format!("path {path:?}: {why}"),
        ))
    })
}

/// Whether the byte `b` is written as itself in a segment: RFC 3986 `pchar` (letters, digits,
/// `-._~`, sub-delims, `:` and `@`) without `;`. Its escape is refused.
fn is_raw(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,=:@".contains(&b)
}

/// What is wrong with `path`, if anything.
fn problem(path: &str) -> Option<String> {
    if !path.starts_with('/') || path.starts_with("//") {
        return Some("must start with a single '/'".into());
    }
    if path.len() > MAX_PATH_BYTES {
        return Some(format!("over {MAX_PATH_BYTES} bytes"));
    }
    if let Some(why) = path.chars().find_map(raw_char_problem) {
        return Some(why);
    }
    if path == "/" {
        return None;
    }
    // A second spelling is reported after the segment checks, so that `%2e` is a dot segment.
    let mut other_spelling = None;
    for segment in path[1..].split('/') {
        if segment.is_empty() {
            return Some("no empty segments ('//' or a trailing '/')".into());
        }
        let decoded = match decode(segment) {
            Ok((decoded, other)) => {
                other_spelling = other_spelling.or(other);
                decoded
            }
            Err(why) => return Some(why),
        };
        if decoded.iter().all(|&b| b == b'.') {
            return Some(
                "no '.' or '..' segments, in any spelling (such as '%2e' or '.%2E')".into(),
            );
        }
    }
    other_spelling
}

const NON_ASCII: &str =
    "no non-ASCII characters, raw or percent-encoded (they have no single spelling)";
const CONTROL: &str = "no control characters, raw or percent-encoded";
const SEMICOLON: &str =
    "no ';', raw or percent-encoded (matrix parameters such as '/a;x' or '/..;/')";
const BACKSLASH: &str = "no '\\', raw or percent-encoded";
const ONE_SPELLING: &str = "one spelling per path, so policy rules see what the provider sees";

/// Why the raw character `c` may not be in a path.
fn raw_char_problem(c: char) -> Option<String> {
    let why = match c {
        _ if !c.is_ascii() => NON_ASCII,
        ' ' => "no raw spaces (a space in a name is written '%20')",
        _ if c.is_ascii_control() => CONTROL,
        '?' | '#' => "no raw '?' or '#' (use `query` for parameters; in a name they are written '%3F' and '%23')",
        ';' => SEMICOLON,
        '\\' => BACKSLASH,
        // Segment separators and escapes, checked per segment.
        '/' | '%' => return None,
        _ if is_raw(c as u8) => return None,
        // '"', '<', '>', '`', '{', '}', '[', ']', '^', '|': not `pchar`, written escaped.
        _ => {
            return Some(format!(
                "{c:?} must be percent-encoded as %{:02X}",
                u32::from(c)
            ))
        }
    };
    Some(why.into())
}

/// Decodes a segment's `%XX` escapes, also giving why the first escape that is not the
/// canonical spelling (of a byte written raw, or in lower-case hex) is refused. Fails on a
/// malformed escape, and on an escape of a byte that has no spelling in a segment.
fn decode(segment: &str) -> Result<(Vec<u8>, Option<String>), String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut other_spelling = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let hex = |k: usize| bytes.get(k).and_then(|&h| char::from(h).to_digit(16));
        let b = match (hex(i + 1), hex(i + 2)) {
            (Some(high), Some(low)) => (high * 16 + low) as u8,
            _ => {
                return Err(format!(
                    "malformed percent-escape {:?} (a '%' starts an escape of two upper-case hex digits, and '%' itself cannot be in a path)",
                    &segment[i..(i + 3).min(segment.len())]
                ))
            }
        };
        let escape = &segment[i..i + 3];
        let why = match b {
            b'/' => Some("no encoded '/': a provider may split the segment there"),
            b'%' => Some(
                "no encoded '%': a provider or proxy that decodes twice would see another path ('%252e' → '%2e' → '.')",
            ),
            b';' => Some(SEMICOLON),
            b'\\' => Some(BACKSLASH),
            0x00..=0x1f | 0x7f => Some(CONTROL),
            0x80..=0xff => Some(NON_ASCII),
            _ => None,
        };
        if let Some(why) = why {
            return Err(format!("{why} (found {escape:?})"));
        }
        let canonical = format!("%{b:02X}");
        if other_spelling.is_none() {
            if is_raw(b) {
                other_spelling = Some(format!(
                    "write '{}' instead of {escape} — {ONE_SPELLING}",
                    char::from(b)
                ));
            } else if escape != canonical {
                other_spelling = Some(format!(
                    "write {canonical} instead of {escape} (upper-case hex) — {ONE_SPELLING}"
                ));
            }
        }
        out.push(b);
        i += 3;
    }
    Ok((out, other_spelling))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn message(path: &str) -> String {
        check_path(path)
            .expect_err(path)
            .message
            .split_once(": ")
            .unwrap()
            .1
            .to_string()
    }

    #[test]
    fn ambiguous_paths_are_refused_with_what_is_wrong() {
        let long = format!("/{}", "a".repeat(MAX_PATH_BYTES));
        let cases: &[(&str, &str)] = &[
            // Start and length.
            ("", "single '/'"),
            ("v1/refunds", "single '/'"),
            ("//evil.example/x", "single '/'"),
            (long.as_str(), "over 4096 bytes"),
            // Empty segments.
            ("/v1//refunds", "empty segments"),
            ("/v1/refunds/", "empty segments"),
            ("/v1/refunds//", "empty segments"),
            // Matrix parameters.
            ("/v1;x/refunds", "';'"),
            ("/v1/..;/refunds", "';'"),
            ("/v1/refunds;", "';'"),
            ("/v1/%3Bx/refunds", "';'"),
            ("/v1/%3bx/refunds", "';'"),
            // Backslashes.
            ("/a\\b", "'\\'"),
            ("/a%5Cb", "'\\'"),
            ("/a%5cb", "'\\'"),
            // Encoded '/'.
            ("/v1/refunds%2Fx", "encoded '/'"),
            ("/v1/refunds%2fx", "encoded '/'"),
            // Dot segments in any spelling.
            ("/.", "'..' segments"),
            ("/..", "'..' segments"),
            ("/a/./b", "'..' segments"),
            ("/a/../b", "'..' segments"),
            ("/a/.../b", "'..' segments"),
            ("/a/%2e/b", "'..' segments"),
            ("/a/%2E/b", "'..' segments"),
            ("/a/%2e%2e/b", "'..' segments"),
            ("/a/%2E%2E/b", "'..' segments"),
            ("/a/.%2e/b", "'..' segments"),
            ("/a/%2e./b", "'..' segments"),
            ("/a/..", "'..' segments"),
            // Raw controls, white space and non-ASCII.
            ("/a b", "raw spaces"),
            ("/a\tb", "control characters"),
            ("/a\u{0}b", "control characters"),
            ("/a\u{7f}b", "control characters"),
            ("/a\u{a0}b", "non-ASCII"),
            ("/v1/r\u{e9}funds", "non-ASCII"),
            ("/v1/\u{ff0f}refunds", "non-ASCII"),
            // Encoded controls and non-ASCII bytes.
            ("/v1/refunds%00", "control characters"),
            ("/a%0Ab", "control characters"),
            ("/a%1fb", "control characters"),
            ("/a%7Fb", "control characters"),
            ("/v1/r%C3%A9funds", "non-ASCII"),
            ("/a%80b", "non-ASCII"),
            ("/a%ffb", "non-ASCII"),
            // Query, fragment, and other characters that are not `pchar`, so written escaped.
            ("/a?x=1", "use `query`"),
            ("/a?", "use `query`"),
            ("/a#f", "'#'"),
            ("/a\"b", "%22"),
            ("/a<b>", "%3C"),
            ("/a{b}", "%7B"),
            ("/a`b", "%60"),
            ("/a[b]", "%5B"),
            ("/a^b", "%5E"),
            ("/a|b", "%7C"),
            // Escapes of characters written as themselves: one spelling per path.
            ("/v1/%72efunds", "write 'r' instead of %72 — one spelling per path"),
            ("/v1/x%2ejson", "write '.' instead of %2e"),
            ("/a%7eb", "write '~' instead of %7e"),
            ("/a%2Db", "write '-' instead of %2D"),
            (
                "/v1/refunds%3Acancel",
                "write ':' instead of %3A — one spelling per path, so policy rules see what the provider sees",
            ),
            ("/v1/refunds%3acancel", "write ':' instead of %3a"),
            ("/a%2Bb", "write '+' instead of %2B"),
            ("/a%40b", "write '@' instead of %40"),
            ("/a%27b", "write ''' instead of %27"),
            ("/a%3Db%21", "write '=' instead of %3D"),
            // Escapes in lower-case hex.
            ("/files/a%3fb", "write %3F instead of %3f (upper-case hex)"),
            ("/a%5bb%5D", "write %5B instead of %5b"),
            ("/a%7cb", "write %7C instead of %7c"),
            ("/a%2ab", "write '*' instead of %2a"),
            // An encoded '%' (a double decode would see another path) and malformed escapes.
            ("/x%252e", "no encoded '%': a provider or proxy that decodes twice"),
            ("/x%25", "no encoded '%'"),
            ("/a%25b", "no encoded '%'"),
            ("/a%2541", "no encoded '%'"),
            ("/a%", "malformed percent-escape"),
            ("/a%2", "malformed percent-escape"),
            ("/a%zz", "malformed percent-escape"),
            ("/a%+1b", "malformed percent-escape"),
        ];
        for (path, want) in cases {
            let got = message(path);
            assert!(got.contains(want), "{path:?}: {got:?} lacks {want:?}");
            assert_eq!(check_path(path).unwrap_err().code, "invalid_path");
        }
    }

    #[test]
    fn canonical_paths_are_accepted() {
        for path in [
            "/",
            "/v1/refunds",
            "/v1/refunds/re_1",
            "/V1/refunds",
            "/files/a%20b%3Fc",
            "/a-b_c.d~e",
            "/v1/x.json",
            "/.well-known/x",
            "/a..b",
            "/a:b@c!$&'()*+,=",
            "/v1/refunds:cancel",
            "/a+b",
            "/a@b",
            "/a%22b%3C%3E%60%7B%7D%5B%5D%5E%7C%23",
        ] {
            assert!(check_path(path).is_ok(), "{path:?}: {:?}", check_path(path));
        }
    }

    /// Written apart from the check: the bytes written as themselves ('/' between segments).
    fn raw_in_canonical(b: u8) -> bool {
        b == b'/' || b.is_ascii_alphanumeric() || b"-._~!$&'()*+,=:@".contains(&b)
    }

    /// Decodes every `%XX` escape of a path (escapes in an accepted path are well formed).
    fn percent_decode(path: &str) -> Vec<u8> {
        let bytes = path.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&path[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        out
    }

    /// The canonical spelling of decoded bytes: raw where allowed, else upper-case `%XX`.
    fn canonical(decoded: &[u8]) -> String {
        decoded
            .iter()
            .map(|&b| {
                if raw_in_canonical(b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }

    fn assert_one_spelling(path: &str) -> Result<(), TestCaseError> {
        if check_path(path).is_ok() {
            let decoded = percent_decode(path);
            prop_assert_eq!(canonical(&decoded), path);
            // Decoding twice sees the same path.
            prop_assert!(!decoded.contains(&b'%'), "{:?}", path);
        }
        Ok(())
    }

    /// Paths near the accepted ones: segments of mostly raw-allowed characters and canonical
    /// escapes, with some lower-case hex, escapes of raw-allowed bytes, encoded '%' and '.',
    /// malformed escapes, raw characters refused raw (space, '[', ';', '\' …), any character,
    /// and now and then an empty segment or a missing leading '/'.
    fn near_paths() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            12 => "[A-Za-z0-9._~!$&'()*+,=:@-]",
            4 => "%(20|22|23|3C|3E|3F|5B|5D|5E|60|7B|7C|7D)",
            1 => "%(3c|3e|3f|5b|5d|5e|7b|7c|7d)",
            1 => "%[2-7][0-9a-fA-F]",
            1 => "%2[5eE]|%25[0-9a-fA-F]{2}|%[0-9a-fA-F]{0,2}",
            1 => r##"[ "#%;<>?\[\\\]^`{|}]"##,
            1 => "[ -~]",
            1 => any::<char>().prop_map(String::from),
        ];
        let segment = prop_oneof![
            15 => prop::collection::vec(piece, 1..6).prop_map(|pieces| pieces.concat()),
            1 => Just(String::new()),
        ];
        let lead = prop_oneof![15 => Just("/"), 1 => Just("")];
        (lead, prop::collection::vec(segment, 1..5))
            .prop_map(|(lead, segments)| format!("{lead}{}", segments.join("/")))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// One spelling: an accepted path is unchanged by decoding every escape and
        /// re-encoding exactly the bytes that may not be raw, with upper-case hex.
        #[test]
        fn accepted_paths_are_their_canonical_spelling(path in any::<String>()) {
            assert_one_spelling(&path)?;
        }

        #[test]
        fn accepted_near_paths_are_their_canonical_spelling(path in near_paths()) {
            assert_one_spelling(&path)?;
        }

        /// And every path of allowed bytes has that spelling: its canonical form is accepted.
        #[test]
        fn canonical_spellings_are_accepted(
            segments in prop::collection::vec(
                prop::collection::vec(
                    (0x20u8..=0x7e).prop_filter("no spelling in a segment", |b| {
                        !b"/;\\%".contains(b)
                    }),
                    1..8,
                )
                .prop_filter("not a dot segment", |s| !s.iter().all(|&b| b == b'.')),
                1..6,
            )
        ) {
            let path: String = segments.iter().map(|s| format!("/{}", canonical(s))).collect();
            prop_assert!(check_path(&path).is_ok(), "{:?}: {:?}", path, check_path(&path));
        }
    }
}
