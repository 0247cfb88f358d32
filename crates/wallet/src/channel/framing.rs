//! Bounded JSON lines: each message is one line of JSON ended by `\n`. A reader refuses a
//! line longer than its limit as soon as it has read that much (it never buffers more), and a
//! writer refuses to send one.

use super::ChannelError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

/// The longest line (without its `\n`) either side accepts: 64 MiB. The largest message is a
/// body page: up to 8 MiB of text (`countersign_core::body::Limits::WHOLE`) whose characters
/// JSON escapes at most six times over (`\u001f`).
pub const MAX_LINE: usize = 64 * 1024 * 1024;

/// Reads messages, one a line, each at most `max` bytes long.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max: usize,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    /// A reader refusing lines longer than [`MAX_LINE`].
    pub fn new(inner: R) -> Self {
        Self::with_max(inner, MAX_LINE)
    }

    /// A reader refusing lines longer than `max` bytes.
    pub fn with_max(inner: R, max: usize) -> Self {
        Self {
            inner,
            buf: Vec::new(),
            max,
        }
    }

    /// The next line without its `\n`; `None` when the stream ended between lines.
    pub async fn next_line(&mut self) -> Result<Option<&[u8]>, ChannelError> {
        self.buf.clear();
        loop {
            let available = self.inner.fill_buf().await?;
            if available.is_empty() {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(ChannelError::Truncated)
                };
            }
            let (take, done) = match available.iter().position(|&b| b == b'\n') {
                Some(at) => (at, true),
                None => (available.len(), false),
            };
            if self.buf.len() + take > self.max {
                return Err(ChannelError::TooLong { max: self.max });
            }
            self.buf.extend_from_slice(&available[..take]);
            self.inner.consume(take + usize::from(done));
            if done {
                return Ok(Some(&self.buf));
            }
        }
    }

    /// The next message; `None` when the stream ended between lines.
    pub async fn next<T: DeserializeOwned>(&mut self) -> Result<Option<T>, ChannelError> {
        match self.next_line().await? {
            Some(line) => Ok(Some(serde_json::from_slice(line)?)),
            None => Ok(None),
        }
    }
}

/// `message` as one line (with its `\n`); refused when longer than [`MAX_LINE`].
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, ChannelError> {
    let mut line = serde_json::to_vec(message)?;
    if line.len() > MAX_LINE {
        return Err(ChannelError::TooLong { max: MAX_LINE });
    }
    line.push(b'\n');
    Ok(line)
}

/// Writes one encoded line ([`encode`]) and flushes it.
pub async fn write_line<W: AsyncWrite + Unpin>(w: &mut W, line: &[u8]) -> Result<(), ChannelError> {
    w.write_all(line).await?;
    w.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Call;
    use tokio::io::BufReader;

    fn reader(bytes: &'static [u8], max: usize) -> LineReader<BufReader<&'static [u8]>> {
        // A tiny buffer, so lines arrive in many pieces.
        LineReader::with_max(BufReader::with_capacity(3, bytes), max)
    }

    #[tokio::test]
    async fn lines_are_split_on_newlines_across_reads() {
        let mut r = reader(
            b"{\"id\":1,\"command\":\"a\"}\n{\"id\":2,\"command\":\"b\",\"args\":{}}\n",
            100,
        );
        let a: Call = r.next().await.unwrap().unwrap();
        let b: Call = r.next().await.unwrap().unwrap();
        assert_eq!((a.id, a.command.as_str()), (1, "a"));
        assert_eq!((b.id, b.command.as_str()), (2, "b"));
        assert!(r.next::<Call>().await.unwrap().is_none(), "clean end");
    }

    #[tokio::test]
    async fn a_line_over_the_limit_is_refused_and_one_at_it_is_not() {
        let mut r = reader(b"12345\n123456\n", 5);
        assert_eq!(r.next_line().await.unwrap(), Some(&b"12345"[..]));
        assert!(matches!(
            r.next_line().await,
            Err(ChannelError::TooLong { max: 5 })
        ));
        // Refused without a newline in sight either: nothing more is buffered.
        let mut r = reader(b"123456789", 5);
        assert!(matches!(
            r.next_line().await,
            Err(ChannelError::TooLong { .. })
        ));
    }

    #[tokio::test]
    async fn an_end_in_the_middle_of_a_line_and_bad_json_are_errors() {
        let mut r = reader(b"{\"id\":1", 100);
        assert!(matches!(
            r.next::<Call>().await,
            Err(ChannelError::Truncated)
        ));
        let mut r = reader(b"not json\n", 100);
        assert!(matches!(
            r.next::<Call>().await,
            Err(ChannelError::Malformed(_))
        ));
    }

    #[test]
    fn encoding_ends_each_message_with_one_newline() {
        let line = encode(&Call {
            id: 1,
            command: "x\ny".into(),
            args: serde_json::Value::Null,
        })
        .unwrap();
        assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
        assert!(line.ends_with(b"\n"));
    }
}
