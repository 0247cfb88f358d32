//! A strict JSON reader for body conditions: it keeps numbers exact and refuses what
//! providers may read differently from us — duplicate member names, lone surrogates,
//! invalid UTF-8, trailing data, nesting deeper than [`MAX_DEPTH`].

use super::Decimal;
use thiserror::Error;

/// The deepest nesting read.
pub const MAX_DEPTH: usize = 128;

/// A JSON value; object members keep their order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, exact.
    Number(Decimal),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, members in order (names are unique).
    Object(Vec<(String, Json)>),
}

/// Why a body is not JSON a condition can rely on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JsonError {
    /// Not JSON at all, or not strictly.
    #[error("not valid JSON at byte {0}")]
    Syntax(usize),
    /// An object names a member twice.
    #[error("the member name {0:?} appears twice in one object (providers may read either)")]
    DuplicateName(String),
    /// Nested too deep.
    #[error("nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// Reads `bytes` as one JSON value.
pub fn parse(bytes: &[u8]) -> Result<Json, JsonError> {
    let mut reader = Reader { bytes, at: 0 };
    let value = reader.value(0)?;
    reader.skip_space();
    if reader.at != bytes.len() {
        return Err(JsonError::Syntax(reader.at));
    }
    Ok(value)
}

impl Json {
    /// The value an RFC 6901 pointer names; `None` when it names nothing or is malformed.
    pub fn pointer(&self, pointer: &str) -> Option<&Json> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut current = self;
        for raw in pointer.strip_prefix('/')?.split('/') {
            // Unescape only when needed: this runs for every condition of every call.
            let token: std::borrow::Cow<'_, str> = if raw.contains('~') {
                raw.replace("~1", "/").replace("~0", "~").into()
            } else {
                raw.into()
            };
            current = match current {
                Json::Object(members) => &members.iter().find(|(name, _)| *name == token)?.1,
                Json::Array(items) => {
                    let canonical = token == "0" || !token.starts_with('0');
                    if !canonical || !token.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    items.get(token.parse::<usize>().ok()?)?
                }
                _ => return None,
            };
        }
        Some(current)
    }

    /// The value's JSON type name, for explanations.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn fail<T>(&self) -> Result<T, JsonError> {
        Err(JsonError::Syntax(self.at))
    }

    fn skip_space(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.bytes.get(self.at) == Some(&byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &[u8], value: Json) -> Result<Json, JsonError> {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(value)
        } else {
            self.fail()
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        self.skip_space();
        match self.bytes.get(self.at) {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') => self.literal(b"true", Json::Bool(true)),
            Some(b'f') => self.literal(b"false", Json::Bool(false)),
            Some(b'n') => self.literal(b"null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.fail(),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.at += 1;
        let mut members: Vec<(String, Json)> = Vec::new();
        self.skip_space();
        if self.eat(b'}') {
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_space();
            if self.bytes.get(self.at) != Some(&b'"') {
                return self.fail();
            }
            let name = self.string()?;
            self.skip_space();
            if !self.eat(b':') {
                return self.fail();
            }
            let value = self.value(depth + 1)?;
            if members.iter().any(|(n, _)| *n == name) {
                return Err(JsonError::DuplicateName(name));
            }
            members.push((name, value));
            self.skip_space();
            if self.eat(b'}') {
                return Ok(Json::Object(members));
            }
            if !self.eat(b',') {
                return self.fail();
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.at += 1;
        let mut items = Vec::new();
        self.skip_space();
        if self.eat(b']') {
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_space();
            if self.eat(b']') {
                return Ok(Json::Array(items));
            }
            if !self.eat(b',') {
                return self.fail();
            }
        }
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.at;
        while matches!(
            self.bytes.get(self.at),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).expect("ASCII");
        match Decimal::parse(text) {
            Some(n) => Ok(Json::Number(n)),
            None => Err(JsonError::Syntax(start)),
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let hex = self
            .bytes
            .get(self.at..self.at + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok());
        match hex {
            Some(v) => {
                self.at += 4;
                Ok(v)
            }
            None => self.fail(),
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let run_start = self.at;
            while let Some(&b) = self.bytes.get(self.at) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.at += 1;
            }
            let run = std::str::from_utf8(&self.bytes[run_start..self.at])
                .map_err(|e| JsonError::Syntax(run_start + e.valid_up_to()))?;
            out.push_str(run);
            match self.bytes.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let escaped = match self.bytes.get(self.at) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.at += 1;
                            let c = self.unicode_escape()?;
                            out.push(c);
                            continue;
                        }
                        _ => return self.fail(),
                    };
                    self.at += 1;
                    out.push(escaped);
                }
                _ => return self.fail(),
            }
        }
    }

    /// After `\u`: one code point, or a surrogate pair; lone surrogates are refused.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !(self.eat(b'\\') && self.eat(b'u')) {
                    return self.fail();
                }
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return self.fail();
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return self.fail(),
            other => other,
        };
        char::from_u32(code).map_or_else(|| self.fail(), Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Json {
        parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn reads_values_and_keeps_numbers_exact() {
        let v = ok(
            r#" {"amount": 5000.00, "currency": "EUR", "items": [1, {"x": null}], "ok": true} "#,
        );
        assert_eq!(
            v.pointer("/amount"),
            Some(&Json::Number(Decimal::parse("5000").unwrap()))
        );
        assert_eq!(v.pointer("/currency"), Some(&Json::String("EUR".into())));
        assert_eq!(v.pointer("/items/1/x"), Some(&Json::Null));
        assert_eq!(v.pointer("/items/01"), None);
        assert_eq!(v.pointer("/items/-"), None);
        assert_eq!(v.pointer("/nope"), None);
        assert_eq!(v.pointer("amount"), None);
        assert_eq!(v.pointer(""), Some(&v));
        let escaped = ok(r#"{"a/b": 1, "m~n": 2, "\u00e9\ud83d\ude00": "\n\"x\""}"#);
        assert!(escaped.pointer("/a~1b").is_some());
        assert!(escaped.pointer("/m~0n").is_some());
        assert_eq!(
            escaped.pointer("/é😀"),
            Some(&Json::String("\n\"x\"".into()))
        );
    }

    #[test]
    fn duplicate_names_are_refused_even_when_spelled_differently() {
        for text in [
            r#"{"amount": 1, "amount": 100000}"#,
            r#"{"amount": 1, "\u0061mount": 100000}"#,
            r#"{"x": {"a": 1, "a": 2}}"#,
            r#"[{"a": 1, "b": 2, "a": 3}]"#,
        ] {
            assert!(
                matches!(parse(text.as_bytes()), Err(JsonError::DuplicateName(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn what_is_not_strict_json_is_refused() {
        for text in [
            "",
            "{",
            "{}x",
            "{'a': 1}",
            "{\"a\": 1,}",
            "[1,]",
            "01",
            "1.",
            "NaN",
            "+1",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "\"\\x41\"",
            "\"a\u{1}b\"",
            "{\"a\" 1}",
            "\u{feff}{}",
            "[1] [2]",
            "tru",
            "nul",
        ] {
            assert!(parse(text.as_bytes()).is_err(), "{text:?}");
        }
        assert!(parse(b"\"\xff\"").is_err());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
        assert_eq!(parse(deep.as_bytes()), Err(JsonError::TooDeep));
    }
}
