//! How a request or response body is shown to the person approving it: one view model for
//! the desktop Wallet and the terminal approver.
//!
//! The kind is chosen by the `content-type` header, never guessed from the bytes:
//!
//! - JSON (`application/json`, `application/*+json`): a token-preserving view. A small strict
//!   tokenizer (RFC 8259) re-indents the body line by line, keeping member order, duplicate
//!   names and every number and string exactly as written (`1e2` stays `1e2`). Nothing goes
//!   through a map, which would merge `{"amount":1,"amount":1000}` or round numbers. A member
//!   name that occurs twice in one object (compared after unescaping) is flagged: the
//!   provider may read the last one.
//! - Form (`application/x-www-form-urlencoded`): a name/value table, percent-decoded, with
//!   what was written beside it when decoding changed it, and duplicate names flagged.
//! - Text (`text/*`), and JSON or form bodies that fail to parse: the text, with a note
//!   saying why it is not shown as JSON ("not valid JSON: …").
//! - Binary (any other or no content type, or bytes that are not UTF-8): a hex dump and the
//!   size.
//!
//! The view is built from untrusted bytes, so every piece of text in it is passed through
//! the caller's reveal functions ([`body_view`]): the Wallet's `reveal`, the terminal's
//! [`crate::text::reveal`], both on the one hidden-character table. This module does no I/O.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// At most this many bytes of text are shown (the size is always exact).
pub const TEXT_LIMIT: usize = 256 * 1024;
/// At most this many bytes of a binary body are shown as hex.
pub const HEX_LIMIT: usize = 16 * 1024;
/// At most this many JSON lines or form fields are listed.
pub const LINE_LIMIT: usize = 20_000;
/// JSON nested deeper than this is not shown as JSON.
pub const MAX_DEPTH: usize = 128;

/// How much of a body a view lists. The terminal approver uses [`Limits::TERMINAL`] (the
/// constants above); the Wallet, which pages the body and requires it to be seen whole before
/// an approval, uses [`Limits::WHOLE`], wide enough for any body up to the service's 1 MiB cap
/// that is not pathological (e.g. a megabyte of one-character JSON lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of text (or pretty JSON) shown.
    pub text: usize,
    /// Bytes of a binary body shown as hex.
    pub hex: usize,
    /// JSON lines or form fields listed.
    pub lines: usize,
}

impl Limits {
    /// [`TEXT_LIMIT`], [`HEX_LIMIT`], [`LINE_LIMIT`].
    pub const TERMINAL: Limits = Limits {
        text: TEXT_LIMIT,
        hex: HEX_LIMIT,
        lines: LINE_LIMIT,
    };
    /// Whole bodies up to 1 MiB: 8 MiB of pretty text, 1 MiB of hex, 200,000 lines.
    pub const WHOLE: Limits = Limits {
        text: 8 * 1024 * 1024,
        hex: 1024 * 1024,
        lines: 200_000,
    };
}

/// The note beside every duplicated name.
pub const DUPLICATE_NOTE: &str = "the provider may read the last one";

/// How the body is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum BodyKind {
    /// No body.
    Empty,
    /// Valid JSON, token by token ([`BodyView::json`]).
    Json,
    /// A form, as a table ([`BodyView::form`]).
    Form,
    /// UTF-8 text.
    Text,
    /// A hex dump.
    Binary,
}

/// One line of a JSON body as written, re-indented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JsonLine<R> {
    /// Nesting depth (indent).
    pub depth: u32,
    /// The member name as written, quotes and escapes included, when the line is a member.
    pub key: Option<R>,
    /// The token as written: a number, string, `true`, `false`, `null`, `{`, `}`, `[`, `]`,
    /// `{}` or `[]`.
    pub token: R,
    /// A comma follows.
    pub comma: bool,
    /// The member's name occurs more than once in its object.
    pub duplicate: bool,
}

/// One field of a form body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FormField<R> {
    /// The name, percent-decoded (`+` is a space).
    pub name: R,
    /// The value, percent-decoded; `None` when the field has no `=`.
    pub value: Option<R>,
    /// The field as written, when decoding changed it.
    pub raw: Option<R>,
    /// The name occurs more than once.
    pub duplicate: bool,
}

/// A body prepared for display. `R` is revealed text: every string from the body is made
/// by the reveal functions passed to [`body_view`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BodyView<R> {
    /// How it is shown.
    pub kind: BodyKind,
    /// Exact size in bytes.
    pub size: u64,
    /// The `content-type` header the kind was chosen by.
    pub content_type: Option<R>,
    /// The whole text shown: pretty JSON, the form as written, the text, or a hex dump.
    pub display: R,
    /// True when `display` (and the lines or fields) cover only the start of the body.
    pub truncated: bool,
    /// Why the body is not shown as its content type says (`not valid JSON: …`).
    pub note: Option<String>,
    /// JSON bodies: the lines of `display`, with duplicate member names flagged.
    pub json: Vec<JsonLine<R>>,
    /// Form bodies: the fields.
    pub form: Vec<FormField<R>>,
    /// Names (unescaped or decoded) that occur more than once in one JSON object or in the
    /// form: [`DUPLICATE_NOTE`].
    pub duplicates: Vec<R>,
}

/// The `content-type` of `headers` (name compared without case).
pub fn content_type(headers: &BTreeMap<String, String>) -> Option<&str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str())
}

/// What a content type says a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// `application/json`, `application/*+json`.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `text/*`.
    Text,
    /// Anything else, or none.
    Other,
}

/// The kind of body `content_type` announces (parameters such as `charset` are ignored).
pub fn media_kind(content_type: Option<&str>) -> MediaKind {
    let Some(ct) = content_type else {
        return MediaKind::Other;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some((ty, sub)) = essence.split_once('/') else {
        return MediaKind::Other;
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    if !token(ty) || !token(sub) {
        return MediaKind::Other;
    }
    match ty {
        "application" if sub == "json" || (sub.ends_with("+json") && sub.len() > 5) => {
            MediaKind::Json
        }
        "application" if sub == "x-www-form-urlencoded" => MediaKind::Form,
        "text" => MediaKind::Text,
        _ => MediaKind::Other,
    }
}

/// Prepares `bytes` for display as `content_type` says. `text` reveals text that may hold
/// several lines (the body shown whole); `line` reveals one-line pieces (JSON tokens, form
/// names and values, duplicate names, the content type), so none can start a line of its own.
pub fn body_view<R>(
    bytes: &[u8],
    content_type: Option<&str>,
    text: impl Fn(&str) -> R,
    line: impl Fn(&str) -> R,
) -> BodyView<R> {
    raw_view(bytes, content_type).map(text, line)
}

/// [`body_view`] with other [`Limits`] than the terminal's.
pub fn body_view_with<R>(
    bytes: &[u8],
    content_type: Option<&str>,
    limits: Limits,
    text: impl Fn(&str) -> R,
    line: impl Fn(&str) -> R,
) -> BodyView<R> {
    raw_view_with(bytes, content_type, limits).map(text, line)
}

/// The view with its strings not yet revealed: only for tests and [`body_view`].
pub fn raw_view(bytes: &[u8], content_type: Option<&str>) -> BodyView<String> {
    raw_view_with(bytes, content_type, Limits::TERMINAL)
}

/// [`raw_view`] with `limits`.
pub fn raw_view_with(bytes: &[u8], content_type: Option<&str>, limits: Limits) -> BodyView<String> {
    raw_view_inner(bytes, content_type, limits, true)
}

/// [`raw_view_with`] for a view that shows a JSON body by its lines only: the `display` of a
/// JSON body (the whole text re-indented) is left empty, since making it costs as much as the
/// lines again. Other kinds are as [`raw_view_with`] makes them.
pub fn raw_lines_with(
    bytes: &[u8],
    content_type: Option<&str>,
    limits: Limits,
) -> BodyView<String> {
    raw_view_inner(bytes, content_type, limits, false)
}

fn raw_view_inner(
    bytes: &[u8],
    content_type: Option<&str>,
    limits: Limits,
    json_display: bool,
) -> BodyView<String> {
    let mut view = BodyView {
        kind: BodyKind::Empty,
        size: bytes.len() as u64,
        content_type: content_type.map(str::to_string),
        display: String::new(),
        truncated: false,
        note: None,
        json: Vec::new(),
        form: Vec::new(),
        duplicates: Vec::new(),
    };
    if bytes.is_empty() {
        return view;
    }
    let media = media_kind(content_type);
    let Ok(utf8) = std::str::from_utf8(bytes) else {
        if media != MediaKind::Other {
            view.note = Some("not valid UTF-8: shown as hex".into());
        }
        return binary(view, bytes, limits);
    };
    match media {
        MediaKind::Json => match json_lines_with(utf8, limits) {
            Ok(parsed) => {
                view.kind = BodyKind::Json;
                view.truncated = parsed.truncated;
                if json_display {
                    view.display = parsed
                        .lines
                        .iter()
                        .map(line_text)
                        .collect::<Vec<_>>()
                        .join("\n");
                }
                view.json = parsed.lines;
                view.duplicates = parsed.duplicates;
                view
            }
            Err(e) => {
                view.note = Some(format!("not valid JSON: {e}; shown as text"));
                text_view(view, utf8, limits)
            }
        },
        MediaKind::Form => {
            let (fields, duplicates, truncated) = form_fields(utf8, limits.lines);
            view.kind = BodyKind::Form;
            let (shown, cut_short) = cut(utf8, limits.text);
            view.display = shown.to_string();
            view.truncated = truncated || cut_short;
            view.form = fields;
            view.duplicates = duplicates;
            view
        }
        MediaKind::Text => text_view(view, utf8, limits),
        MediaKind::Other => binary(view, bytes, limits),
    }
}

impl BodyView<String> {
    /// Reveals every string: `text` for the whole display, `line` for the rest.
    pub fn map<R>(self, text: impl Fn(&str) -> R, line: impl Fn(&str) -> R) -> BodyView<R> {
        BodyView {
            kind: self.kind,
            size: self.size,
            content_type: self.content_type.as_deref().map(&line),
            display: text(&self.display),
            truncated: self.truncated,
            note: self.note,
            json: self
                .json
                .into_iter()
                .map(|l| JsonLine {
                    depth: l.depth,
                    key: l.key.as_deref().map(&line),
                    token: line(&l.token),
                    comma: l.comma,
                    duplicate: l.duplicate,
                })
                .collect(),
            form: self
                .form
                .into_iter()
                .map(|f| FormField {
                    name: line(&f.name),
                    value: f.value.as_deref().map(&line),
                    raw: f.raw.as_deref().map(&line),
                    duplicate: f.duplicate,
                })
                .collect(),
            duplicates: self.duplicates.iter().map(|d| line(d)).collect(),
        }
    }
}

fn text_view(mut view: BodyView<String>, text: &str, limits: Limits) -> BodyView<String> {
    let (shown, truncated) = cut(text, limits.text);
    view.kind = BodyKind::Text;
    view.display = shown.to_string();
    view.truncated = truncated;
    view
}

fn binary(mut view: BodyView<String>, bytes: &[u8], limits: Limits) -> BodyView<String> {
    let shown = &bytes[..bytes.len().min(limits.hex)];
    view.kind = BodyKind::Binary;
    view.display = hex_dump(shown);
    view.truncated = shown.len() < bytes.len();
    view
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

/// One JSON line as text: indent, `key: `, token, comma.
pub fn line_text<R: AsRef<str>>(l: &JsonLine<R>) -> String {
    let mut s = "  ".repeat(l.depth as usize);
    if let Some(k) = &l.key {
        s.push_str(k.as_ref());
        s.push_str(": ");
    }
    s.push_str(l.token.as_ref());
    if l.comma {
        s.push(',');
    }
    s
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

// ---------------------------------------------------------------------------------------
// JSON

/// A JSON body as lines, every token as written.
#[derive(Debug)]
pub struct JsonLines {
    /// The lines (at most [`LINE_LIMIT`], and about [`TEXT_LIMIT`] bytes).
    pub lines: Vec<JsonLine<String>>,
    /// Unescaped member names that occur more than once in one object.
    pub duplicates: Vec<String>,
    /// True when not every line is listed (the whole body was still checked).
    pub truncated: bool,
}

/// Why a body is not JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What was wrong.
    pub what: &'static str,
    /// At which byte.
    pub at: usize,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

impl std::error::Error for JsonError {}

/// Tokenizes `text` strictly (RFC 8259: one value, no trailing commas, no comments, no
/// control characters in strings, no lone surrogates, at most [`MAX_DEPTH`] deep).
pub fn json_lines(text: &str) -> Result<JsonLines, JsonError> {
    json_lines_with(text, Limits::TERMINAL)
}

/// [`json_lines`] listing up to `limits.lines` lines and about `limits.text` bytes.
pub fn json_lines_with(text: &str, limits: Limits) -> Result<JsonLines, JsonError> {
    let mut p = Parser {
        limits,
        s: text.as_bytes(),
        text,
        i: 0,
        out: JsonLines {
            lines: Vec::new(),
            duplicates: Vec::new(),
            truncated: false,
        },
        bytes_out: 0,
    };
    p.ws();
    p.value(0, None)?;
    p.ws();
    if p.i < p.s.len() {
        return Err(p.err("unexpected text after the value"));
    }
    Ok(p.out)
}

struct Parser<'a> {
    limits: Limits,
    s: &'a [u8],
    text: &'a str,
    i: usize,
    out: JsonLines,
    bytes_out: usize,
}

impl Parser<'_> {
    fn err(&self, what: &'static str) -> JsonError {
        JsonError { what, at: self.i }
    }

    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Adds a line; returns its index, or `None` when past the limits.
    fn push(&mut self, depth: usize, key: Option<&str>, token: &str) -> Option<usize> {
        let len = depth * 2 + key.map_or(0, |k| k.len() + 2) + token.len() + 2;
        if self.out.truncated
            || self.out.lines.len() >= self.limits.lines
            || self.bytes_out + len > self.limits.text
        {
            self.out.truncated = true;
            return None;
        }
        self.bytes_out += len;
        self.out.lines.push(JsonLine {
            depth: depth as u32,
            key: key.map(str::to_string),
            token: token.to_string(),
            comma: false,
            duplicate: false,
        });
        Some(self.out.lines.len() - 1)
    }

    fn set_comma(&mut self) {
        if !self.out.truncated {
            if let Some(l) = self.out.lines.last_mut() {
                l.comma = true;
            }
        }
    }

    /// One value at `depth`, as the member `key` (as written) when in an object. Returns the
    /// index of its first line, if listed.
    fn value(&mut self, depth: usize, key: Option<&str>) -> Result<Option<usize>, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        match self.peek() {
            Some(b'{') => self.object(depth, key),
            Some(b'[') => self.array(depth, key),
            Some(b'"') => {
                let start = self.i;
                self.string()?;
                let token = &self.text[start..self.i];
                Ok(self.push(depth, key, token))
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                self.number()?;
                let token = &self.text[start..self.i];
                Ok(self.push(depth, key, token))
            }
            Some(b't') => self.literal("true", depth, key),
            Some(b'f') => self.literal("false", depth, key),
            Some(b'n') => self.literal("null", depth, key),
            Some(_) => Err(self.err("expected a value")),
            None => Err(self.err("unexpected end, expected a value")),
        }
    }

    fn literal(
        &mut self,
        word: &'static str,
        depth: usize,
        key: Option<&str>,
    ) -> Result<Option<usize>, JsonError> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(self.push(depth, key, word))
        } else {
            Err(self.err("expected a value"))
        }
    }

    fn object(&mut self, depth: usize, key: Option<&str>) -> Result<Option<usize>, JsonError> {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(self.push(depth, key, "{}"));
        }
        let first = self.push(depth, key, "{");
        // Unescaped name -> indexes of the member lines listed (and whether seen twice).
        let mut names: HashMap<String, (Vec<usize>, u32)> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a member name"));
            }
            let start = self.i;
            let name = self.string()?;
            let raw = &self.text[start..self.i];
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':' after a member name"));
            }
            self.i += 1;
            self.ws();
            let line = self.value(depth + 1, Some(raw))?;
            let entry = names.entry(name.clone()).or_insert_with(|| {
                order.push(name.clone());
                (Vec::new(), 0)
            });
            entry.1 += 1;
            entry.0.extend(line);
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.set_comma();
                }
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(self.err("expected ',' or '}' in an object")),
            }
        }
        for name in order {
            let (lines, count) = &names[&name];
            if *count > 1 {
                for &l in lines {
                    self.out.lines[l].duplicate = true;
                }
                if !self.out.duplicates.contains(&name) {
                    self.out.duplicates.push(name);
                }
            }
        }
        self.push(depth, None, "}");
        Ok(first)
    }

    fn array(&mut self, depth: usize, key: Option<&str>) -> Result<Option<usize>, JsonError> {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(self.push(depth, key, "[]"));
        }
        let first = self.push(depth, key, "[");
        loop {
            self.ws();
            self.value(depth + 1, None)?;
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.set_comma();
                }
                Some(b']') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(self.err("expected ',' or ']' in an array")),
            }
        }
        self.push(depth, None, "]");
        Ok(first)
    }

    /// A string; returns it unescaped.
    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.i += 1;
            }
            out.push_str(&self.text[start..self.i]);
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.i += 1;
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if !self.s[self.i..].starts_with(b"\\u") {
                                    return Err(self.err("lone surrogate in a string"));
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("lone surrogate in a string"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return Err(self.err("lone surrogate in a string"));
                            } else {
                                hi
                            };
                            out.push(char::from_u32(cp).expect("valid scalar"));
                            continue;
                        }
                        _ => return Err(self.err("bad escape in a string")),
                    };
                    self.i += 1;
                    out.push(c);
                }
                Some(_) => return Err(self.err("control character in a string")),
                None => return Err(self.err("unterminated string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .s
            .get(self.i..self.i + 4)
            .filter(|d| d.iter().all(u8::is_ascii_hexdigit))
            .ok_or_else(|| self.err("bad \\u escape in a string"))?;
        let v = u32::from_str_radix(std::str::from_utf8(digits).expect("ascii"), 16)
            .expect("hex digits");
        self.i += 4;
        Ok(v)
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<(), JsonError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err("bad number")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.err("bad number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("bad number"));
            }
        }
        if matches!(
            self.peek(),
            Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
        ) {
            return Err(self.err("bad number"));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Forms

/// `+` as a space and `%XX` as a byte; a `%` not followed by two hex digits stays as it is.
/// Bytes that do not make UTF-8 are shown as `\xNN`.
pub fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut bytes = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => bytes.push(b' '),
            b'%' if i + 2 < b.len()
                && b[i + 1].is_ascii_hexdigit()
                && b[i + 2].is_ascii_hexdigit() =>
            {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("ascii");
                bytes.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 2;
            }
            c => bytes.push(c),
        }
        i += 1;
    }
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for x in chunk.invalid() {
            out.push_str(&format!("\\x{x:02X}"));
        }
    }
    out
}

/// The fields of a form body (split at `&`; empty pieces are skipped, as form parsers do),
/// the names that occur more than once, and whether the list was cut.
fn form_fields(text: &str, max_fields: usize) -> (Vec<FormField<String>>, Vec<String>, bool) {
    let mut fields: Vec<FormField<String>> = Vec::new();
    let mut truncated = false;
    let mut counts: HashMap<String, u32> = HashMap::new();
    let mut order = Vec::new();
    for piece in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = match piece.split_once('=') {
            Some((n, v)) => (form_decode(n), Some(form_decode(v))),
            None => (form_decode(piece), None),
        };
        let c = counts.entry(name.clone()).or_insert(0);
        *c += 1;
        if *c == 2 {
            order.push(name.clone());
        }
        if fields.len() >= max_fields {
            truncated = true;
            continue;
        }
        let decoded_again = match &value {
            Some(v) => format!("{name}={v}"),
            None => name.clone(),
        };
        fields.push(FormField {
            raw: (decoded_again != piece).then(|| piece.to_string()),
            name,
            value,
            duplicate: false,
        });
    }
    for f in &mut fields {
        f.duplicate = counts[&f.name] > 1;
    }
    (fields, order, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: Option<&str> = Some("application/json");
    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    fn tokens(v: &BodyView<String>) -> Vec<(Option<&str>, &str, bool)> {
        v.json
            .iter()
            .map(|l| (l.key.as_deref(), l.token.as_str(), l.duplicate))
            .collect()
    }

    #[test]
    fn the_kind_follows_the_content_type() {
        assert_eq!(media_kind(JSON), MediaKind::Json);
        assert_eq!(
            media_kind(Some("Application/JSON; charset=utf-8")),
            MediaKind::Json
        );
        assert_eq!(
            media_kind(Some("application/vnd.api+json")),
            MediaKind::Json
        );
        assert_eq!(media_kind(Some("application/+json")), MediaKind::Other);
        assert_eq!(media_kind(Some("text/json")), MediaKind::Text);
        assert_eq!(media_kind(FORM), MediaKind::Form);
        assert_eq!(media_kind(Some("text/plain")), MediaKind::Text);
        assert_eq!(
            media_kind(Some("application/octet-stream")),
            MediaKind::Other
        );
        assert_eq!(media_kind(Some("json")), MediaKind::Other);
        assert_eq!(media_kind(None), MediaKind::Other);
        let headers = [("Content-Type".to_string(), "text/plain".to_string())].into();
        assert_eq!(content_type(&headers), Some("text/plain"));
    }

    #[test]
    fn duplicate_members_are_all_shown_and_flagged() {
        let raw = r#"{"amount":1999, "memo":"Refund","amount":199900000}"#;
        let v = raw_view(raw.as_bytes(), JSON);
        assert_eq!(v.kind, BodyKind::Json);
        assert_eq!(
            tokens(&v),
            vec![
                (None, "{", false),
                (Some("\"amount\""), "1999", true),
                (Some("\"memo\""), "\"Refund\"", false),
                (Some("\"amount\""), "199900000", true),
                (None, "}", false),
            ]
        );
        assert_eq!(v.duplicates, vec!["amount".to_string()]);
        assert_eq!(
            v.display,
            "{\n  \"amount\": 1999,\n  \"memo\": \"Refund\",\n  \"amount\": 199900000\n}"
        );
        assert_eq!(v.size, raw.len() as u64);
        assert_eq!(v.note, None);
    }

    #[test]
    fn duplicates_are_found_after_unescaping_and_per_object() {
        let v = raw_view(
            br#"{"a":{"x":1},"b":{"x":2},"\u0061mount":1,"amount":2}"#,
            JSON,
        );
        assert_eq!(v.duplicates, vec!["amount".to_string()]);
        let flagged: Vec<_> = v
            .json
            .iter()
            .filter(|l| l.duplicate)
            .map(|l| l.key.clone().unwrap())
            .collect();
        assert_eq!(flagged, vec!["\"\\u0061mount\"", "\"amount\""]);
    }

    #[test]
    fn numbers_and_strings_are_shown_as_written() {
        let v = raw_view(
            br#"[1e2,100,1.10000000000000000001,-0.0,1E+2,"a\"b,c","\u00e9"]"#,
            JSON,
        );
        let t: Vec<&str> = v.json.iter().map(|l| l.token.as_str()).collect();
        assert_eq!(
            t,
            vec![
                "[",
                "1e2",
                "100",
                "1.10000000000000000001",
                "-0.0",
                "1E+2",
                r#""a\"b,c""#,
                r#""\u00e9""#,
                "]"
            ]
        );
    }

    #[test]
    fn empty_containers_stay_on_one_line() {
        let v = raw_view(br#"{"e":[],"o":{} , "n":null}"#, JSON);
        assert_eq!(v.display, "{\n  \"e\": [],\n  \"o\": {},\n  \"n\": null\n}");
    }

    #[test]
    fn invalid_json_is_text_with_a_note() {
        for bad in [
            &b"{not json"[..],
            b"{\"a\":1,}",
            b"[1 2]",
            b"01",
            b"1.",
            b"{\"a\":1} x",
            b"\"\\ud800\"",
            b"\"tab\there\"",
            b"NaN",
            b"",
        ] {
            let v = raw_view(bad, JSON);
            if bad.is_empty() {
                assert_eq!(v.kind, BodyKind::Empty);
                continue;
            }
            assert_eq!(v.kind, BodyKind::Text, "{:?}", String::from_utf8_lossy(bad));
            assert!(v.note.as_deref().unwrap().starts_with("not valid JSON: "));
            assert!(v.json.is_empty());
            assert_eq!(v.display.as_bytes(), bad);
        }
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert_eq!(raw_view(deep.as_bytes(), JSON).kind, BodyKind::Text);
    }

    #[test]
    fn a_smuggled_form_is_a_form_table_only_when_sent_as_a_form() {
        let body = br#"{"a":"&amount=1000000&","amount":1}"#;
        let form = raw_view(body, FORM);
        assert_eq!(form.kind, BodyKind::Form);
        let fields: Vec<(&str, Option<&str>)> = form
            .form
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_deref()))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("{\"a\":\"", None),
                ("amount", Some("1000000")),
                ("\",\"amount\":1}", None)
            ]
        );
        let json = raw_view(body, JSON);
        assert_eq!(json.kind, BodyKind::Json);
        assert_eq!(
            tokens(&json)[1..3],
            [
                (Some("\"a\""), "\"&amount=1000000&\"", false),
                (Some("\"amount\""), "1", false)
            ]
        );
        // Neither a guess from the first character nor a missing content type makes JSON.
        assert_eq!(raw_view(body, None).kind, BodyKind::Binary);
        assert_eq!(raw_view(body, Some("text/plain")).kind, BodyKind::Text);
    }

    #[test]
    fn form_fields_are_decoded_and_duplicates_flagged() {
        let v = raw_view(
            b"to=bob&amount=1&memo=a+b%20c%E2%80%AE&amount=1000000&flag",
            FORM,
        );
        assert_eq!(v.duplicates, vec!["amount".to_string()]);
        let f = &v.form;
        assert_eq!(f.len(), 5);
        assert!(f[1].duplicate && f[3].duplicate && !f[0].duplicate);
        assert_eq!(f[2].value.as_deref(), Some("a b c\u{202E}"));
        assert_eq!(f[2].raw.as_deref(), Some("memo=a+b%20c%E2%80%AE"));
        assert_eq!(f[0].raw, None);
        assert_eq!((f[4].name.as_str(), f[4].value.as_deref()), ("flag", None));
        assert_eq!(form_decode("%zz%4"), "%zz%4");
        assert_eq!(form_decode("%ff%41"), "\\xFFA");
    }

    #[test]
    fn other_content_types_are_hex_and_text_is_text() {
        let v = raw_view(&[0, 1, 2, 0xff, b'A'], Some("application/octet-stream"));
        assert_eq!(v.kind, BodyKind::Binary);
        assert_eq!(
            v.display,
            format!("00000000  {:<47}  |....A|\n", "00 01 02 ff 41")
        );
        let v = raw_view(b"hello\n", Some("text/plain; charset=utf-8"));
        assert_eq!((v.kind, v.display.as_str()), (BodyKind::Text, "hello\n"));
        let v = raw_view(&[0xff, b'{'], JSON);
        assert_eq!(v.kind, BodyKind::Binary);
        assert_eq!(v.note.as_deref(), Some("not valid UTF-8: shown as hex"));
    }

    #[test]
    fn hostile_strings_are_revealed_by_the_callers_functions() {
        use crate::text::{reveal, reveal_line};
        let body = "{\"to\":\"bob\u{202E}\",\"x\u{200B}\":1,\"x\u{200B}\":2}";
        let v = body_view(body.as_bytes(), JSON, reveal, reveal_line);
        assert!(v.display.suspicious);
        assert!(v.display.text.contains("bob⟨U+202E⟩"));
        assert_eq!(v.json[1].token.text, "\"bob⟨U+202E⟩\"");
        assert_eq!(v.duplicates[0].text, "x⟨U+200B⟩");
        let v = body_view(b"a=%0Ab%E2%80%AE", FORM, reveal, reveal_line);
        assert_eq!(v.form[0].value.as_ref().unwrap().text, "⟨U+000A⟩b⟨U+202E⟩");
        let v = body_view(
            "x\u{1b}[2J\ny".as_bytes(),
            Some("text/plain"),
            reveal,
            reveal_line,
        );
        assert_eq!(v.display.text, "x⟨U+001B⟩[2J\ny");
    }

    #[test]
    fn large_bodies_are_cut_but_sized_and_checked_whole() {
        let big = "é".repeat(TEXT_LIMIT);
        let v = raw_view(big.as_bytes(), Some("text/plain"));
        assert_eq!(v.size, (TEXT_LIMIT * 2) as u64);
        assert!(v.truncated);
        assert!(v.display.len() <= TEXT_LIMIT);
        let many = format!("[{}1]", "1,".repeat(LINE_LIMIT + 10));
        let v = raw_view(many.as_bytes(), JSON);
        assert_eq!(v.kind, BodyKind::Json);
        assert!(v.truncated);
        assert_eq!(v.json.len(), LINE_LIMIT);
        let bad = format!("[{}1,]", "1,".repeat(LINE_LIMIT + 10));
        assert_eq!(raw_view(bad.as_bytes(), JSON).kind, BodyKind::Text);
        // A duplicate past the listed lines is still reported.
        let late = format!("[{}{{\"a\":1,\"a\":2}}]", "1,".repeat(LINE_LIMIT + 10));
        assert_eq!(raw_view(late.as_bytes(), JSON).duplicates, vec!["a"]);
    }

    #[test]
    fn whole_limits_show_a_megabyte_body_whole() {
        let items: Vec<String> = (0..4000)
            .map(|i| format!(r#"{{"sku":"S-{i}","note":"{}"}}"#, "n".repeat(220)))
            .collect();
        let body = format!(r#"{{"amount":1,"items":[{}],"amount":2}}"#, items.join(","));
        assert!(body.len() > 900 * 1024 && body.len() <= 1024 * 1024);
        let cut_short = raw_view(body.as_bytes(), JSON);
        assert!(cut_short.truncated);
        let whole = raw_view_with(body.as_bytes(), JSON, Limits::WHOLE);
        assert!(!whole.truncated);
        assert_eq!(whole.json.len(), 4000 * 4 + 6);
        assert_eq!(whole.duplicates, vec!["amount"]);
        let hex = raw_view_with(&vec![0u8; 1024 * 1024], None, Limits::WHOLE);
        assert!(!hex.truncated);
        let text = "x\n".repeat(512 * 1024);
        assert!(!raw_view_with(text.as_bytes(), Some("text/plain"), Limits::WHOLE).truncated);
    }
}
