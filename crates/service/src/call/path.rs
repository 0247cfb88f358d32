//! Checking the path an app asks for: one spelling per path.
//!
//! Policy rules match the path string the app sends, and the provider routes on what it
//! receives. Any spelling a provider (or a proxy in front of it) folds into another route —
//! `//`, dot segments, `;` parameters, `\`, an encoded `/`, needless escapes — would let a call
//! escape a rule, so such paths are refused rather than normalised.

use crate::error::ApiError;

const MAX_PATH_BYTES: usize = 4096;

/// Checks `path`; the error is 422 `invalid_path` with what is wrong.
pub(super) fn check_path(path: &str) -> Result<(), ApiError> {
    problem(path).map_or(Ok(()), |why| {
        Err(ApiError::invalid(
            "invalid_path",
            format!("path {path:?}: {why}"),
        ))
    })
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
    let mut needless = None;
    for segment in path[1..].split('/') {
        if segment.is_empty() {
            return Some("no empty segments ('//' or a trailing '/')".into());
        }
        let decoded = match decode(segment) {
            Ok((decoded, escaped)) => {
                needless = needless.or(escaped);
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
    needless.map(|b| {
        format!(
            "needless percent-escape of {:?}: letters, digits, '-', '.', '_' and '~' are written as themselves",
            b as char
        )
    })
}

const NON_ASCII: &str =
    "no non-ASCII characters, raw or percent-encoded (they have no single spelling)";
const CONTROL: &str = "no control characters, raw or percent-encoded";
const SEMICOLON: &str =
    "no ';', raw or percent-encoded (matrix parameters such as '/a;x' or '/..;/')";
const BACKSLASH: &str = "no '\\', raw or percent-encoded";

/// Why the raw character `c` may not be in a path.
fn raw_char_problem(c: char) -> Option<String> {
    let why = match c {
        _ if !c.is_ascii() => NON_ASCII,
        ' ' => "no raw spaces (a space in a name is written '%20')",
        _ if c.is_ascii_control() => CONTROL,
        '?' | '#' => "no '?' or '#' (use `query` for parameters)",
        ';' => SEMICOLON,
        '\\' => BACKSLASH,
        // The URL library would percent-encode these, so the provider would see another spelling.
        '"' | '<' | '>' | '`' | '{' | '}' => {
            return Some(format!(
                "{c:?} must be percent-encoded as %{:02X}",
                u32::from(c)
            ))
        }
        _ => return None,
    };
    Some(why.into())
}

/// Decodes a segment's `%XX` escapes, also giving the first byte escaped needlessly (an
/// unreserved character). Fails on a malformed escape, and on an escape of a byte that has no
/// single spelling in a path.
fn decode(segment: &str) -> Result<(Vec<u8>, Option<u8>), String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut needless = None;
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
                    "malformed percent-escape {:?} ('%' is written '%25')",
                    &segment[i..(i + 3).min(segment.len())]
                ))
            }
        };
        let why = match b {
            b'/' => Some("no encoded '/': a provider may split the segment there"),
            b';' => Some(SEMICOLON),
            b'\\' => Some(BACKSLASH),
            0x00..=0x1f | 0x7f => Some(CONTROL),
            0x80..=0xff => Some(NON_ASCII),
            _ => None,
        };
        if let Some(why) = why {
            return Err(format!("{why} (found {:?})", &segment[i..i + 3]));
        }
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            needless = needless.or(Some(b));
        }
        out.push(b);
        i += 3;
    }
    Ok((out, needless))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            // Query, fragment, characters the URL library would escape.
            ("/a?x=1", "use `query`"),
            ("/a#f", "'#'"),
            ("/a\"b", "%22"),
            ("/a<b>", "%3C"),
            ("/a{b}", "%7B"),
            ("/a`b", "%60"),
            // Needless and malformed escapes.
            ("/v1/%72efunds", "needless percent-escape of 'r'"),
            ("/v1/x%2ejson", "needless percent-escape of '.'"),
            ("/a%7eb", "needless percent-escape of '~'"),
            ("/a%2Db", "needless percent-escape of '-'"),
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
            "/a%25b",
            "/a:b@c!$&'()*+,=",
        ] {
            assert!(check_path(path).is_ok(), "{path:?}: {:?}", check_path(path));
        }
    }
}
