//! A request body cut into pages for the review screen, and the record of which pages were
//! handed to the view.
//!
//! The Wallet keeps the body view ([`BodyPages`]) in Rust; the review screen gets its
//! description ([`BodyHead`]) and first page, and asks for the others one at a time
//! ([`crate::Wallet::body_page`]). Every page served is recorded in a [`PageLedger`] for
//! that request digest: the view can report the body seen to its end only once every page was
//! fetched, so it cannot claim a page it never had. Each page costs the same to send and draw,
//! however long the body is.

use crate::body::{body_warning, BodyKind, BodyView, FormField, JsonLine};
use crate::reveal::{Revealed, Segment};
use serde::Serialize;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use ts_rs::TS;

/// Lines (JSON lines, form fields, text or hex lines) per page.
pub const PAGE_LINES: usize = 500;

/// What the review screen says about a body besides its lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct BodyHead {
    /// How it is shown.
    pub kind: BodyKind,
    /// Exact size in bytes.
    pub size: u64,
    /// The `content-type` header the kind was chosen by.
    pub content_type: Option<Revealed>,
    /// True when the lines cover only the start of the body (it cannot be approved).
    pub truncated: bool,
    /// Why the body is not shown as its content type says (`not valid JSON: …`).
    pub note: Option<String>,
    /// Names that occur more than once in one JSON object or in the form.
    pub duplicates: Vec<Revealed>,
    /// True when any text of the body hid characters.
    pub warning: bool,
    /// Lines in all (JSON lines, form fields, or text / hex lines).
    pub lines: u32,
    /// Pages in all (at least one, even for an empty body).
    pub pages: u32,
}

/// The lines of one page, as the body's kind shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "lines", rename_all = "snake_case")]
#[derive(TS)]
pub enum PageLines {
    /// JSON lines, every token as written.
    Json(Vec<JsonLine<Revealed>>),
    /// Form fields.
    Form(Vec<FormField<Revealed>>),
    /// Lines of text or of the hex dump, hidden characters revealed.
    Text(Vec<Revealed>),
}

/// One page of a body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct BodyPage {
    /// Its index, from 0.
    pub index: u32,
    /// Pages in all.
    pub pages: u32,
    /// The index of its first line in the whole body.
    pub first_line: u32,
    /// Its lines.
    pub lines: PageLines,
}

enum Lines {
    Json(Vec<JsonLine<Revealed>>),
    Form(Vec<FormField<Revealed>>),
    Text(Vec<Revealed>),
}

impl Lines {
    fn len(&self) -> usize {
        match self {
            Lines::Json(l) => l.len(),
            Lines::Form(l) => l.len(),
            Lines::Text(l) => l.len(),
        }
    }
}

/// A body view cut into pages of [`PAGE_LINES`] lines.
pub struct BodyPages {
    head: BodyHead,
    lines: Lines,
}

impl BodyPages {
    /// Pages of `b` (its JSON lines, its form fields, or the lines of its display text).
    pub fn new(b: BodyView) -> Self {
        let warning = body_warning(&b);
        let lines = match b.kind {
            BodyKind::Json => Lines::Json(b.json),
            BodyKind::Form => Lines::Form(b.form),
            BodyKind::Empty => Lines::Text(Vec::new()),
            BodyKind::Text | BodyKind::Binary => Lines::Text(revealed_lines(&b.display)),
        };
        let pages = lines.len().div_ceil(PAGE_LINES).max(1);
        let head = BodyHead {
            kind: b.kind,
            size: b.size,
            content_type: b.content_type,
            truncated: b.truncated,
            note: b.note,
            duplicates: b.duplicates,
            warning,
            lines: to_u32(lines.len()),
            pages: to_u32(pages),
        };
        BodyPages { head, lines }
    }

    /// The body's description.
    pub fn head(&self) -> &BodyHead {
        &self.head
    }

    /// Pages in all.
    pub fn pages(&self) -> u32 {
        self.head.pages
    }

    /// Page `index` (from 0), or `None` past the last.
    pub fn page(&self, index: u32) -> Option<BodyPage> {
        if index >= self.head.pages {
            return None;
        }
        let from = (index as usize * PAGE_LINES).min(self.lines.len());
        let to = (from + PAGE_LINES).min(self.lines.len());
        let lines = match &self.lines {
            Lines::Json(l) => PageLines::Json(l[from..to].to_vec()),
            Lines::Form(l) => PageLines::Form(l[from..to].to_vec()),
            Lines::Text(l) => PageLines::Text(l[from..to].to_vec()),
        };
        Some(BodyPage {
            index,
            pages: self.head.pages,
            first_line: to_u32(from),
            lines,
        })
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Splits revealed text into its lines, keeping the hidden-character markers (a line feed is
/// never hidden in text of several lines, so no marker spans two lines). A final line feed
/// ends the last line; it does not start another.
pub fn revealed_lines(r: &Revealed) -> Vec<Revealed> {
    let mut lines: Vec<Vec<Segment>> = vec![Vec::new()];
    for s in &r.segments {
        match s {
            Segment::Hidden { .. } => lines.last_mut().expect("one line").push(s.clone()),
            Segment::Text { text } => {
                for (i, part) in text.split('\n').enumerate() {
                    if i > 0 {
                        lines.push(Vec::new());
                    }
                    if !part.is_empty() {
                        lines.last_mut().expect("one line").push(Segment::Text {
                            text: part.to_string(),
                        });
                    }
                }
            }
        }
    }
    if lines.len() > 1 && lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.into_iter().map(line_of).collect()
}

fn line_of(segments: Vec<Segment>) -> Revealed {
    let mut text = String::new();
    let mut kinds = Vec::new();
    for s in &segments {
        match s {
            Segment::Text { text: t } => text.push_str(t),
            Segment::Hidden { marker, kind } => {
                text.push_str(marker);
                if !kinds.contains(kind) {
                    kinds.push(*kind);
                }
            }
        }
    }
    Revealed {
        text,
        segments,
        warning: !kinds.is_empty(),
        kinds,
    }
}

/// Which pages of one body (one request digest) were handed to the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLedger {
    served: Vec<bool>,
}

impl PageLedger {
    /// Nothing served yet of a body of `pages` pages.
    pub fn new(pages: u32) -> Self {
        PageLedger {
            served: vec![false; pages.max(1) as usize],
        }
    }

    /// Records page `index` as served (an index past the end is ignored).
    pub fn serve(&mut self, index: u32) {
        if let Some(s) = self.served.get_mut(index as usize) {
            *s = true;
        }
    }

    /// Pages served.
    pub fn served(&self) -> u32 {
        to_u32(self.served.iter().filter(|s| **s).count())
    }

    /// Pages in all.
    pub fn pages(&self) -> u32 {
        to_u32(self.served.len())
    }

    /// True when every page was served.
    pub fn complete(&self) -> bool {
        self.served.iter().all(|s| *s)
    }
}

/// The pages of the last few bodies reviewed, each under its key and request digest; the
/// least recently used are dropped beyond a maximum (they are made again when asked for).
pub struct KeptPages<K> {
    max: usize,
    tick: u64,
    entries: HashMap<K, (String, Arc<BodyPages>, u64)>,
}

impl<K: Eq + Hash + Clone> KeptPages<K> {
    /// Keeps at most `max` bodies (at least one).
    pub fn new(max: usize) -> Self {
        KeptPages {
            max: max.max(1),
            tick: 0,
            entries: HashMap::new(),
        }
    }

    /// The pages kept under `key` when they are of `digest`.
    pub fn get(&mut self, key: &K, digest: &str) -> Option<Arc<BodyPages>> {
        self.tick += 1;
        let tick = self.tick;
        let (d, pages, used) = self.entries.get_mut(key)?;
        if d != digest {
            return None;
        }
        *used = tick;
        Some(pages.clone())
    }

    /// Keeps `pages` of `digest` under `key` (replacing what was there), dropping the least
    /// recently used beyond the maximum.
    pub fn insert(&mut self, key: K, digest: String, pages: Arc<BodyPages>) {
        self.tick += 1;
        self.entries.insert(key, (digest, pages, self.tick));
        while self.entries.len() > self.max {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, _, used))| *used)
                .map(|(k, _)| k.clone())
                .expect("more than one entry");
            self.entries.remove(&oldest);
        }
    }

    /// How many bodies are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{request_body_lines, request_body_view};

    fn json_of(items: usize) -> String {
        let items: Vec<String> = (0..items).map(|i| format!(r#"{{"n":{i}}}"#)).collect();
        format!("[{}]", items.join(","))
    }

    #[test]
    fn json_pages_are_the_same_without_revealing_the_whole_text() {
        let raw = format!(
            r#"{{"to":"Bob\u202e","memo":"a{}b","amount":1,"amount":2,"list":{}}}"#,
            "\u{200b}",
            json_of(300)
        );
        let ct = Some("application/json");
        let whole = BodyPages::new(request_body_view(raw.as_bytes(), ct));
        let lines = BodyPages::new(request_body_lines(raw.as_bytes(), ct));
        assert_eq!(lines.head(), whole.head());
        assert!(
            lines.head().warning,
            "a hidden character still raises the warning"
        );
        assert!(!lines.head().duplicates.is_empty());
        for i in 0..whole.pages() {
            assert_eq!(lines.page(i), whole.page(i));
        }
        // Text bodies are paged from the display: it is kept.
        let text = request_body_lines(b"one\ntwo", Some("text/plain"));
        assert_eq!(text.display.text, "one\ntwo");
    }

    #[test]
    fn json_is_cut_into_pages_of_whole_lines_in_order() {
        // 3 lines per item plus the brackets.
        let raw = json_of(400);
        let p = BodyPages::new(request_body_view(raw.as_bytes(), Some("application/json")));
        assert_eq!(p.head().lines, 1202);
        assert_eq!(p.pages(), 3);
        let mut tokens = Vec::new();
        for i in 0..p.pages() {
            let page = p.page(i).unwrap();
            assert_eq!((page.index, page.pages), (i, 3));
            assert_eq!(page.first_line, i * PAGE_LINES as u32);
            let PageLines::Json(lines) = page.lines else {
                panic!("json lines")
            };
            tokens.extend(lines.into_iter().map(|l| l.token.text));
        }
        assert_eq!(tokens.len(), 1202);
        assert_eq!((tokens[0].as_str(), tokens[1201].as_str()), ("[", "]"));
        assert_eq!(tokens[2], "0");
        assert!(p.page(3).is_none());
    }

    #[test]
    fn text_lines_keep_markers_and_flag_only_their_own_line() {
        let p = BodyPages::new(request_body_view(
            "one\ntwo \u{202E}x\nthree\n".as_bytes(),
            Some("text/plain"),
        ));
        assert_eq!((p.head().lines, p.pages()), (3, 1));
        let PageLines::Text(lines) = p.page(0).unwrap().lines else {
            panic!("text lines")
        };
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, vec!["one", "two ⟨U+202E⟩x", "three"]);
        assert_eq!(
            lines.iter().map(|l| l.warning).collect::<Vec<_>>(),
            vec![false, true, false]
        );
    }

    #[test]
    fn an_empty_body_is_one_empty_page_and_a_form_is_fields() {
        let empty = BodyPages::new(request_body_view(b"", None));
        assert_eq!((empty.head().lines, empty.pages()), (0, 1));
        assert_eq!(empty.page(0).unwrap().lines, PageLines::Text(Vec::new()));
        let form = BodyPages::new(request_body_view(
            b"a=1&a=2",
            Some("application/x-www-form-urlencoded"),
        ));
        let PageLines::Form(fields) = form.page(0).unwrap().lines else {
            panic!("form fields")
        };
        assert!(fields.len() == 2 && fields.iter().all(|f| f.duplicate));
        assert_eq!(form.head().duplicates[0].text, "a");
    }

    #[test]
    fn kept_pages_are_by_digest_and_the_least_recently_used_go_first() {
        let pages = || Arc::new(BodyPages::new(request_body_view(b"x", Some("text/plain"))));
        let mut kept = KeptPages::new(2);
        kept.insert(1, "d1".into(), pages());
        kept.insert(2, "d2".into(), pages());
        assert!(kept.get(&1, "d1").is_some());
        assert!(kept.get(&1, "other digest").is_none());
        kept.insert(3, "d3".into(), pages());
        assert_eq!(kept.len(), 2);
        assert!(kept.get(&2, "d2").is_none(), "the least recently used went");
        assert!(kept.get(&1, "d1").is_some() && kept.get(&3, "d3").is_some());
    }

    #[test]
    fn the_ledger_is_complete_only_with_every_page() {
        let mut l = PageLedger::new(3);
        l.serve(0);
        l.serve(2);
        l.serve(7);
        assert_eq!((l.served(), l.pages(), l.complete()), (2, 3, false));
        l.serve(1);
        assert!(l.complete());
        assert_eq!(PageLedger::new(0).pages(), 1);
    }
}
