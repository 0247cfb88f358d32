//! A small Server-Sent Events parser (the `text/event-stream` format of the WHATWG HTML
//! standard), fed with chunks exactly as they come off the network.
//!
//! Rules implemented:
//! - lines end with CRLF, LF or CR, and a chunk may end anywhere, even between the CR and LF
//!   of one line ending or inside a multi-byte UTF-8 character;
//! - a leading byte order mark is skipped; invalid UTF-8 is replaced, as the standard says;
//! - a line starting with `:` is a comment (keep-alive) and is ignored;
//! - `field: value` loses one space after the colon; a line without a colon is a field with an
//!   empty value; unknown fields are ignored;
//! - `data` lines are joined with `\n`; `event` names the event (default `message`); `id`
//!   sets the last event id, which persists across events (an id containing NUL is ignored);
//!   `retry` with only digits sets the reconnection delay;
//! - an empty line dispatches the event, unless no `data` line was seen; an event cut off by
//!   the end of the stream is dropped.
//!
//! One event's buffered text is capped ([`SseParser::with_limit`]) so a misbehaving server
//! cannot make the client grow without bound.

use std::time::Duration;

/// Default cap on the bytes buffered for one line or one event's data (1 MiB).
pub const DEFAULT_LIMIT: usize = 1 << 20;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` name, `message` when none was given.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event id seen so far on this stream (not reset between events).
    pub id: Option<String>,
    /// The reconnection delay the server asked for, if it ever did.
    pub retry: Option<Duration>,
}

/// A line or event larger than the parser's limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an event of the stream exceeds {limit} bytes")]
pub struct SseTooLarge {
    /// The limit in bytes.
    pub limit: usize,
}

/// Incremental parser: [`push`](Self::push) chunks, get complete events back.
#[derive(Debug)]
pub struct SseParser {
    limit: usize,
    /// Bytes of the current, unterminated line.
    line: Vec<u8>,
    /// The previous chunk ended with CR: a LF starting the next chunk belongs to it.
    after_cr: bool,
    /// Still at the very start of the stream (a BOM may follow).
    at_start: bool,
    event: String,
    data: String,
    saw_data: bool,
    last_id: Option<String>,
    retry: Option<Duration>,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// A parser with the [`DEFAULT_LIMIT`].
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_LIMIT)
    }

    /// A parser that refuses lines and events larger than `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        Self {
            limit,
            line: Vec::new(),
            after_cr: false,
            at_start: true,
            event: String::new(),
            data: String::new(),
            saw_data: false,
            last_id: None,
            retry: None,
        }
    }

    /// The last event id seen (what a reconnect sends as `Last-Event-ID`).
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// Feeds one chunk; returns the events it completed, in order.
    pub fn push(&mut self, mut chunk: &[u8]) -> Result<Vec<SseEvent>, SseTooLarge> {
        let mut out = Vec::new();
        if self.after_cr && !chunk.is_empty() {
            self.after_cr = false;
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
        }
        while let Some(pos) = chunk.iter().position(|b| *b == b'\n' || *b == b'\r') {
            self.extend_line(&chunk[..pos])?;
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, &mut out)?;
            let crlf = chunk[pos] == b'\r';
            chunk = &chunk[pos + 1..];
            if crlf {
                match chunk.first() {
                    Some(b'\n') => chunk = &chunk[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.extend_line(chunk)?;
        Ok(out)
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), SseTooLarge> {
        if self.line.len() + bytes.len() > self.limit {
            return Err(SseTooLarge { limit: self.limit });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn process_line(&mut self, raw: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseTooLarge> {
        let mut raw = raw;
        if self.at_start {
            self.at_start = false;
            raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
        }
        if raw.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        let line = String::from_utf8_lossy(raw);
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                if self.data.len() + value.len() + 1 > self.limit {
                    return Err(SseTooLarge { limit: self.limit });
                }
                self.data.push_str(value);
                self.data.push('\n');
                self.saw_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_string()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse::<u64>() {
                    self.retry = Some(Duration::from_millis(ms));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = std::mem::take(&mut self.event);
        let mut data = std::mem::take(&mut self.data);
        if !std::mem::take(&mut self.saw_data) {
            return;
        }
        data.pop(); // the '\n' after the last data line
        out.push(SseEvent {
            event: if event.is_empty() {
                "message".to_string()
            } else {
                event
            },
            data,
            id: self.last_id.clone(),
            retry: self.retry,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: &str, data: &str, id: Option<&str>) -> SseEvent {
        SseEvent {
            event: event.to_string(),
            data: data.to_string(),
            id: id.map(str::to_string),
            retry: None,
        }
    }

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        chunks.iter().flat_map(|c| p.push(c).unwrap()).collect()
    }

    const STREAM: &str = ": keep-alive\n\
        event: approval.created\n\
        id: 7\n\
        data: {\"a\":1}\n\
        \n\
        :another comment\n\
        \n\
        event: approval.decided\n\
        id: 8\n\
        data: line one\n\
        data:line two\n\
        data\n\
        \n";

    fn expected() -> Vec<SseEvent> {
        vec![
            ev("approval.created", "{\"a\":1}", Some("7")),
            ev("approval.decided", "line one\nline two\n", Some("8")),
        ]
    }

    #[test]
    fn events_comments_and_multi_line_data() {
        assert_eq!(parse_all(&[STREAM.as_bytes()]), expected());
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        for ending in ["\n", "\r\n", "\r"] {
            let text = STREAM.replace('\n', ending);
            let bytes = text.as_bytes();
            for cut in 0..=bytes.len() {
                let got = parse_all(&[&bytes[..cut], &bytes[cut..]]);
                assert_eq!(got, expected(), "ending {ending:?}, cut at {cut}");
            }
            // And one byte at a time.
            let singles: Vec<&[u8]> = bytes.chunks(1).collect();
            assert_eq!(
                parse_all(&singles),
                expected(),
                "ending {ending:?}, bytewise"
            );
        }
    }

    #[test]
    fn crlf_split_between_chunks_is_one_line_ending() {
        let got = parse_all(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        assert_eq!(got, vec![ev("message", "a\nb", None)]);
    }

    #[test]
    fn multi_byte_characters_may_be_split() {
        let text = "data: stop \u{202e} \u{1f600} €\n\n".as_bytes();
        for cut in 0..=text.len() {
            let got = parse_all(&[&text[..cut], &text[cut..]]);
            assert_eq!(got, vec![ev("message", "stop \u{202e} \u{1f600} €", None)]);
        }
    }

    #[test]
    fn ids_persist_and_events_without_data_are_not_dispatched() {
        let got = parse_all(&[b"id: 3\n\nevent: x\n\ndata: d\n\nid\ndata: e\n\n"]);
        assert_eq!(
            got,
            vec![ev("message", "d", Some("3")), ev("message", "e", Some(""))]
        );
    }

    #[test]
    fn bom_retry_unknown_fields_and_unfinished_events() {
        let mut p = SseParser::new();
        let got = p
            .push(b"\xEF\xBB\xBFretry: 1500\nfoo: bar\nid: 1\0\ndata: x\n\ndata: cut off")
            .unwrap();
        assert_eq!(
            got,
            vec![SseEvent {
                retry: Some(Duration::from_millis(1500)),
                ..ev("message", "x", None)
            }]
        );
        assert_eq!(p.last_event_id(), None);
    }

    #[test]
    fn empty_data_line_dispatches_empty_data() {
        assert_eq!(parse_all(&[b"data:\n\n"]), vec![ev("message", "", None)]);
        assert_eq!(
            parse_all(&[b"data\ndata\n\n"]),
            vec![ev("message", "\n", None)]
        );
    }

    #[test]
    fn oversized_lines_and_events_are_refused() {
        let mut p = SseParser::with_limit(16);
        assert!(p.push(b"data: 0123456789").is_ok());
        assert_eq!(p.push(b"abcdef"), Err(SseTooLarge { limit: 16 }));

        let mut p = SseParser::with_limit(16);
        assert!(p.push(b"data: 0123456\ndata: 0123456\n").is_ok());
        assert!(p.push(b"data: 0123456\n").is_err());
    }
}
