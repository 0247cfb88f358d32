//! Path patterns of policy rules: `/v1/refunds*`, `/v1/customers/*/delete`.

use std::fmt;

/// A glob over request paths. `*` matches any run of characters, `/` included; every other
/// character matches itself (case-sensitive). A pattern starts with `/` and has no query.
///
/// The pattern is compared with the path exactly as given, byte for byte: the caller must
/// match against the same path string it sends upstream, after refusing or normalising
/// percent-encoded and dot-segment spellings, or a caller could spell a path so that it
/// escapes a rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathPattern {
    text: String,
    /// The literal pieces between the `*`s; a pattern with `n` stars has `n + 1` pieces.
    pieces: Vec<String>,
}

impl PathPattern {
    /// Parses a pattern; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        if !text.starts_with('/') {
            return Err(format!("path pattern {text:?} must start with '/'"));
        }
        if text.contains(['?', '#']) {
            return Err(format!(
                "path pattern {text:?} contains '?' or '#': patterns match the path only, not the query"
            ));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "path pattern {text:?} contains whitespace or control characters"
            ));
        }
        Ok(Self {
            text: text.to_string(),
            pieces: text.split('*').map(str::to_string).collect(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when `path` matches the whole pattern.
    pub fn matches(&self, path: &str) -> bool {
        let (first, rest) = self
            .pieces
            .split_first()
            .expect("split always yields a piece");
        let Some(mut remaining) = path.strip_prefix(first.as_str()) else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            // No star: the path must be exactly the pattern.
            return remaining.is_empty();
        };
        // Each middle piece is taken at its leftmost occurrence: that leaves the most room
        // for the pieces after it, so a match is found whenever one exists.
        for piece in middle {
            match remaining.find(piece.as_str()) {
                Some(at) => remaining = &remaining[at + piece.len()..],
                None => return false,
            }
        }
        remaining.ends_with(last.as_str())
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> PathPattern {
        PathPattern::parse(text).unwrap()
    }

    #[test]
    fn prefix_star() {
        let pattern = p("/v1/refunds*");
        assert!(pattern.matches("/v1/refunds"));
        assert!(pattern.matches("/v1/refunds/"));
        assert!(pattern.matches("/v1/refunds/re_123/cancel"));
        assert!(pattern.matches("/v1/refundsX"));
        assert!(!pattern.matches("/v1/refund"));
        assert!(!pattern.matches("/v2/refunds"));
        assert!(!pattern.matches("/V1/refunds"));
        assert!(!pattern.matches("x/v1/refunds"));
    }

    #[test]
    fn middle_star() {
        let pattern = p("/v1/customers/*/delete");
        assert!(pattern.matches("/v1/customers/cus_1/delete"));
        assert!(pattern.matches("/v1/customers/a/b/delete"));
        assert!(pattern.matches("/v1/customers//delete"));
        assert!(!pattern.matches("/v1/customers/cus_1/delete/now"));
        assert!(!pattern.matches("/v1/customers/delete"));
        assert!(!pattern.matches("/v1/customers/cus_1"));
    }

    #[test]
    fn no_star_is_exact() {
        let pattern = p("/v1/charges");
        assert!(pattern.matches("/v1/charges"));
        assert!(!pattern.matches("/v1/charges/"));
        assert!(!pattern.matches("/v1/charge"));
        assert!(!pattern.matches("/v1/chargesX"));
        let root = p("/");
        assert!(root.matches("/"));
        assert!(!root.matches("/a"));
    }

    #[test]
    fn multiple_stars() {
        let pattern = p("/*/items/*");
        assert!(pattern.matches("/shop/items/1"));
        assert!(pattern.matches("/a/b/items/"));
        assert!(pattern.matches("/items/items/x"));
        assert!(!pattern.matches("/shop/item/1"));

        let repeated = p("/a*b*b");
        assert!(repeated.matches("/abb"));
        assert!(repeated.matches("/axbyb"));
        assert!(repeated.matches("/abbbb"));
        assert!(!repeated.matches("/ab"));

        let adjacent = p("/x**y");
        assert!(adjacent.matches("/xy"));
        assert!(adjacent.matches("/x/any/y"));

        // The suffix may not overlap the prefix.
        let overlap = p("/ab*ba");
        assert!(!overlap.matches("/aba"));
        assert!(overlap.matches("/abba"));
    }

    #[test]
    fn everything_and_empty_path() {
        let all = p("/*");
        assert!(all.matches("/"));
        assert!(all.matches("/anything/at/all"));
        assert!(!all.matches(""));
        assert!(!p("/").matches(""));
        assert!(!p("/v1*").matches(""));
    }

    #[test]
    fn bad_patterns_are_refused() {
        for text in ["", "v1/refunds", "*", "/v1?x=1", "/v1#frag", "/a b", "/a\n"] {
            assert!(PathPattern::parse(text).is_err(), "{text:?}");
        }
        assert!(PathPattern::parse("v1")
            .unwrap_err()
            .contains("must start with '/'"));
    }

    #[test]
    fn displays_as_written() {
        assert_eq!(p("/v1/refunds*").to_string(), "/v1/refunds*");
        assert_eq!(p("/v1/refunds*").as_str(), "/v1/refunds*");
    }
}
