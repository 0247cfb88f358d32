//! [`EventStream`]: the wallet's live events (`GET /v1/wallet/events`), decoded.
//!
//! Each Server-Sent Event ([`crate::sse`]) must carry an `id:` that is the audit sequence
//! number (a `u64`), an `event:` name that is a [`WalletEventKind`](countersign_core::api::WalletEventKind) name, and `data:` that
//! is a JSON [`WalletEvent`] of that kind.

use crate::error::ApproverError;
use crate::sse::{SseEvent, SseParser};
use countersign_core::api::WalletEvent;
use futures::stream::{self, Stream, StreamExt};
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

/// One item of the stream: the event's id and the event, or why it could not be read.
pub type EventItem = Result<(u64, WalletEvent), ApproverError>;

/// The stream returned by [`ApproverClient::events`](crate::ApproverClient::events).
///
/// Per-event problems (bad id, unknown kind, undecodable data) are `Err` items after which the
/// stream continues; a transport error or an oversized event is a last `Err` item.
pub struct EventStream {
    inner: Pin<Box<dyn Stream<Item = EventItem> + Send>>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventStream")
    }
}

impl Stream for EventStream {
    type Item = EventItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventItem>> {
        self.inner.as_mut().poll_next(cx)
    }
}

struct State<S> {
    body: Pin<Box<S>>,
    parser: SseParser,
    ready: VecDeque<EventItem>,
    done: bool,
}

impl EventStream {
    /// Decodes a `text/event-stream` body given as a stream of byte chunks.
    pub fn from_body<S, B, E>(body: S) -> Self
    where
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: AsRef<[u8]> + Send + 'static,
        E: Into<ApproverError> + Send + 'static,
    {
        let state = State {
            body: Box::pin(body),
            parser: SseParser::new(),
            ready: VecDeque::new(),
            done: false,
        };
        let events = stream::unfold(state, |mut st| async move {
            loop {
                if let Some(item) = st.ready.pop_front() {
                    return Some((item, st));
                }
                if st.done {
                    return None;
                }
                match st.body.next().await {
                    Some(Ok(chunk)) => match st.parser.push(chunk.as_ref()) {
                        Ok(events) => st.ready.extend(events.iter().map(decode_event)),
                        Err(too_large) => {
                            st.ready
                                .push_back(Err(ApproverError::Decode(too_large.to_string())));
                            st.done = true;
                        }
                    },
                    Some(Err(e)) => {
                        st.ready.push_back(Err(e.into()));
                        st.done = true;
                    }
                    None => st.done = true,
                }
            }
        });
        Self {
            inner: Box::pin(events),
        }
    }
}

/// Decodes one Server-Sent Event into a wallet event.
pub fn decode_event(event: &SseEvent) -> EventItem {
    let id = event.id.as_deref().unwrap_or_default();
    let id: u64 = id.parse().map_err(|_| {
        ApproverError::Decode(format!(
            "event {:?} has id {id:?}, not a sequence number",
            event.event
        ))
    })?;
    let data: WalletEvent = serde_json::from_str(&event.data).map_err(|e| {
        ApproverError::Decode(format!(
            "event {id} ({:?}) has undecodable data: {e}",
            event.event
        ))
    })?;
    if event.event != data.kind.as_str() {
        return Err(ApproverError::Decode(format!(
            "event {id} is named {:?} but its data is of kind {:?}",
            event.event,
            data.kind.as_str()
        )));
    }
    Ok((id, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use countersign_core::api::WalletEventKind;
    use countersign_core::ApprovalStatus;
    use futures::executor::block_on;

    const ID: &str = "019a0000-0000-7000-8000-0000000000aa";

    fn data(kind: &str, status: &str) -> String {
        format!(r#"{{"kind":"{kind}","approval_id":"{ID}","status":"{status}"}}"#)
    }

    fn chunks(parts: Vec<String>) -> impl Stream<Item = Result<Vec<u8>, ApproverError>> {
        stream::iter(parts.into_iter().map(|p| Ok(p.into_bytes())))
    }

    #[test]
    fn events_are_decoded_across_chunks() {
        let text = format!(
            ": hello\n\nevent: approval.created\nid: 41\ndata: {}\n\nevent: approval.decided\nid: 42\ndata: {}\n\n",
            data("approval.created", "pending"),
            data("approval.decided", "approved"),
        );
        let (a, b) = text.split_at(37);
        let items: Vec<_> =
            block_on(EventStream::from_body(chunks(vec![a.into(), b.into()])).collect::<Vec<_>>());
        assert_eq!(items.len(), 2);
        let (id, ev) = items[0].as_ref().unwrap();
        assert_eq!(
            (*id, ev.kind, ev.status),
            (41, WalletEventKind::Created, ApprovalStatus::Pending)
        );
        let (id, ev) = items[1].as_ref().unwrap();
        assert_eq!(
            (*id, ev.kind, ev.status),
            (42, WalletEventKind::Decided, ApprovalStatus::Approved)
        );
    }

    #[test]
    fn a_bad_event_is_an_error_item_and_the_stream_goes_on() {
        let text = format!(
            "event: approval.created\nid: x\ndata: {d}\n\n\
             event: approval.expired\nid: 2\ndata: {d}\n\n\
             event: approval.unknown\nid: 3\ndata: {{\"kind\":\"approval.unknown\"}}\n\n\
             event: approval.expired\nid: 4\ndata: {e}\n\n",
            d = data("approval.created", "pending"),
            e = data("approval.expired", "expired"),
        );
        let items: Vec<_> =
            block_on(EventStream::from_body(chunks(vec![text])).collect::<Vec<_>>());
        assert_eq!(items.len(), 4);
        assert!(
            matches!(&items[0], Err(ApproverError::Decode(m)) if m.contains("not a sequence number"))
        );
        assert!(matches!(&items[1], Err(ApproverError::Decode(m)) if m.contains("named")));
        assert!(matches!(&items[2], Err(ApproverError::Decode(m)) if m.contains("undecodable")));
        assert!(matches!(&items[3], Ok((4, ev)) if ev.kind == WalletEventKind::Expired));
    }

    #[test]
    fn a_transport_error_ends_the_stream() {
        let body = stream::iter(vec![
            Ok(format!(
                "event: approval.created\nid: 1\ndata: {}\n\n",
                data("approval.created", "pending")
            )
            .into_bytes()),
            Err(ApproverError::Decode("connection reset".into())),
            Ok(b"never read".to_vec()),
        ]);
        let items: Vec<_> = block_on(EventStream::from_body(body).collect::<Vec<_>>());
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok());
        assert!(matches!(&items[1], Err(ApproverError::Decode(m)) if m == "connection reset"));
    }
}
