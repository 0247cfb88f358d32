//! A request body cut into pages for the review screen, and the record of which pages were
//! handed to the view.
//!
//! The Wallet keeps the body view ([`BodyPages`]) in Rust; the review screen gets its
//! description ([`BodyHead`]) and first page, and asks for the others one at a time
//! ([`crate::Wallet::body_page`]). Every page served is recorded in a [`PageLedger`] for
//! that request digest: the view can report the body seen to its end only once every page was
//! fetched, so it cannot claim a page it never had. Each page costs the same to send and draw,
//! however long the body is.

use crate::body::{BodyKind, FormField, JsonLine, Limits};
use crate::reveal::{hidden_kind, reveal, reveal_name, Revealed};
use countersign_core::body::raw_lines_with;
use serde::Serialize;
use std::collections::HashMap;
use std::hash::Hash;
use std::ops::Range;
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

/// The body's lines as written, revealed only when their page is asked for: revealing costs
/// several times what cutting into lines does, so a first page does not wait for the rest.
enum Lines {
    Json(Vec<JsonLine<String>>),
    Form(Vec<FormField<String>>),
    /// Text or a hex dump, and where each line starts and ends in it.
    Text(String, Vec<Range<usize>>),
}

impl Lines {
    fn len(&self) -> usize {
        match self {
            Lines::Json(l) => l.len(),
            Lines::Form(l) => l.len(),
            Lines::Text(_, l) => l.len(),
        }
    }

    /// True when any line hides a character (what revealing them would warn of).
    fn hide_anything(&self) -> bool {
        match self {
            Lines::Json(l) => l
                .iter()
                .any(|l| hides(&l.token) || l.key.as_deref().is_some_and(hides)),
            Lines::Form(l) => l.iter().any(|f| {
                hides(&f.name)
                    || f.value.as_deref().is_some_and(hides)
                    || f.raw.as_deref().is_some_and(hides)
            }),
            Lines::Text(text, _) => text.chars().any(|c| hidden_kind(c).is_some()),
        }
    }

    /// Lines `range`, revealed as the review shows them.
    fn revealed(&self, range: Range<usize>) -> PageLines {
        match self {
            Lines::Json(l) => PageLines::Json(
                l[range]
                    .iter()
                    .map(|l| JsonLine {
                        depth: l.depth,
                        key: l.key.as_deref().map(reveal_name),
                        token: reveal_name(&l.token),
                        comma: l.comma,
                        duplicate: l.duplicate,
                    })
                    .collect(),
            ),
            Lines::Form(l) => PageLines::Form(
                l[range]
                    .iter()
                    .map(|f| FormField {
                        name: reveal_name(&f.name),
                        value: f.value.as_deref().map(reveal_name),
                        raw: f.raw.as_deref().map(reveal_name),
                        duplicate: f.duplicate,
                    })
                    .collect(),
            ),
            Lines::Text(text, lines) => PageLines::Text(
                lines[range]
                    .iter()
                    .map(|r| reveal(&text[r.clone()]))
                    .collect(),
            ),
        }
    }
}

/// True when a one-line piece (a token, name or value) holds a character [`reveal_name`]
/// would mark.
fn hides(piece: &str) -> bool {
    piece.chars().any(countersign_core::text::is_hidden)
}

/// Where each line of `text` starts and ends (without its line feed). A final line feed ends
/// the last line; it does not start another. No text is no line.
fn line_ranges(text: &str) -> Vec<Range<usize>> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut lines = Vec::new();
    let mut start = 0;
    for (at, _) in text.match_indices('\n') {
        lines.push(start..at);
        start = at + 1;
    }
    if start < text.len() {
        lines.push(start..text.len());
    }
    lines
}

/// A body view cut into pages of [`PAGE_LINES`] lines.
pub struct BodyPages {
    head: BodyHead,
    lines: Lines,
}

impl BodyPages {
    /// The request body `bytes` of `content_type`, whole ([`Limits::WHOLE`]), as the review
    /// screen pages it: its JSON lines, its form fields, or the lines of its text or hex dump.
    pub fn of(bytes: &[u8], content_type: Option<&str>) -> Self {
        Self::new(raw_lines_with(bytes, content_type, Limits::WHOLE))
    }

    /// Pages of the view `b`, its strings not yet revealed.
    pub fn new(b: countersign_core::body::BodyView<String>) -> Self {
        let lines = match b.kind {
            BodyKind::Json => Lines::Json(b.json),
            BodyKind::Form => Lines::Form(b.form),
            BodyKind::Empty => Lines::Text(String::new(), Vec::new()),
            BodyKind::Text | BodyKind::Binary => {
                let ranges = line_ranges(&b.display);
                Lines::Text(b.display, ranges)
            }
        };
        let content_type = b.content_type.as_deref().map(reveal_name);
        let duplicates: Vec<Revealed> = b.duplicates.iter().map(|d| reveal_name(d)).collect();
        let warning = content_type.as_ref().is_some_and(|c| c.warning)
            || duplicates.iter().any(|d| d.warning)
            || lines.hide_anything();
        let pages = lines.len().div_ceil(PAGE_LINES).max(1);
        let head = BodyHead {
            kind: b.kind,
            size: b.size,
            content_type,
            truncated: b.truncated,
            note: b.note,
            duplicates,
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
        Some(BodyPage {
            index,
            pages: self.head.pages,
            first_line: to_u32(from),
            lines: self.lines.revealed(from..to),
        })
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
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
    use crate::body::request_body_view;

    fn json_of(items: usize) -> String {
        let items: Vec<String> = (0..items).map(|i| format!(r#"{{"n":{i}}}"#)).collect();
        format!("[{}]", items.join(","))
    }

    /// Every line of every page of `p`, as text.
    fn all_lines(p: &BodyPages) -> Vec<PageLines> {
        (0..p.pages()).map(|i| p.page(i).unwrap().lines).collect()
    }

    #[test]
    fn pages_revealed_one_at_a_time_equal_the_body_revealed_whole() {
        let ct = Some("application/json");
        let json = format!(
            r#"{{"to":"Bob\u202e","memo":"a{}b","amount":1,"amount":2,"list":{}}}"#,
            "\u{200b}",
            json_of(300)
        );
        let whole = request_body_view(json.as_bytes(), ct);
        let paged = BodyPages::of(json.as_bytes(), ct);
        assert!(
            paged.head().warning,
            "a hidden character raises the warning"
        );
        assert_eq!(
            paged.head().duplicates,
            whole.duplicates,
            "duplicate names revealed alike"
        );
        let lines: Vec<JsonLine<Revealed>> = all_lines(&paged)
            .into_iter()
            .flat_map(|l| match l {
                PageLines::Json(l) => l,
                other => panic!("json lines, got {other:?}"),
            })
            .collect();
        assert_eq!(lines, whole.json);

        let form = "to=Bob%E2%80%AE&amount=1&amount=2&memo=\u{200b}";
        let ct = Some("application/x-www-form-urlencoded");
        let whole = request_body_view(form.as_bytes(), ct);
        let paged = BodyPages::of(form.as_bytes(), ct);
        assert!(paged.head().warning);
        let PageLines::Form(fields) = paged.page(0).unwrap().lines else {
            panic!("form fields")
        };
        assert_eq!(fields, whole.form);

        for (text, ct) in [
            (
                "one\ntwo \u{202E}x\n\nthree\n\n".as_bytes(),
                Some("text/plain"),
            ),
            (&[0u8, 1, 0xe2, 0x80, 0xae, 7][..], None),
            (&[b'a'; 40 * 1024][..], Some("text/plain")),
        ] {
            let whole = request_body_view(text, ct);
            let paged = BodyPages::of(text, ct);
            assert_eq!(paged.head().warning, whole.display.warning, "{ct:?}");
            let mut shown: Vec<String> = all_lines(&paged)
                .into_iter()
                .flat_map(|l| match l {
                    PageLines::Text(l) => l.into_iter().map(|r| r.text),
                    other => panic!("text lines, got {other:?}"),
                })
                .collect();
            // A final line feed ends the last line rather than starting another.
            if whole.display.text.ends_with('\n') {
                shown.push(String::new());
            }
            assert_eq!(shown.join("\n"), whole.display.text, "{ct:?}");
        }
    }

    #[test]
    fn json_is_cut_into_pages_of_whole_lines_in_order() {
        // 3 lines per item plus the brackets.
        let raw = json_of(400);
        let p = BodyPages::of(raw.as_bytes(), Some("application/json"));
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
        let p = BodyPages::of("one\ntwo \u{202E}x\nthree\n".as_bytes(), Some("text/plain"));
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
        let empty = BodyPages::of(b"", None);
        assert_eq!((empty.head().lines, empty.pages()), (0, 1));
        assert_eq!(empty.page(0).unwrap().lines, PageLines::Text(Vec::new()));
        let form = BodyPages::of(b"a=1&a=2", Some("application/x-www-form-urlencoded"));
        let PageLines::Form(fields) = form.page(0).unwrap().lines else {
            panic!("form fields")
        };
        assert!(fields.len() == 2 && fields.iter().all(|f| f.duplicate));
        assert_eq!(form.head().duplicates[0].text, "a");
    }

    #[test]
    fn kept_pages_are_by_digest_and_the_least_recently_used_go_first() {
        let pages = || Arc::new(BodyPages::of(b"x", Some("text/plain")));
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
