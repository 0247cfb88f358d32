//! The window side of the channel: each call gets an id and waits for the answer carrying
//! it (answers may come in any order); everything else the tray process sends is handed to
//! the window's handler. When the connection ends, every waiting call fails with
//! [`codes::CHANNEL`](super::codes::CHANNEL) and so does every later one.

use super::framing::{encode, write_line, LineReader};
use super::{codes, error_body, Answer, Call, ChannelError, ToWindow};
use crate::error::ErrorBody;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::sync::{mpsc, oneshot};

type Waiting = oneshot::Sender<Result<Value, ErrorBody>>;

/// Calls into the tray process.
#[derive(Debug)]
pub struct Client {
    next_id: AtomicU64,
    /// The calls waiting for an answer; `None` once the connection ended.
    pending: Mutex<Option<HashMap<u64, Waiting>>>,
    out: mpsc::UnboundedSender<Vec<u8>>,
}

impl Client {
    /// Starts reading and writing `stream` (on the current Tokio runtime). `on_message` gets
    /// each message that is not an answer; `on_close` is called once when the connection
    /// ends (with the error that ended it, if any).
    pub fn start<S>(
        stream: S,
        on_message: impl Fn(ToWindow) + Send + Sync + 'static,
        on_close: impl FnOnce(Option<ChannelError>) + Send + 'static,
    ) -> Arc<Client>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read, mut write) = tokio::io::split(stream);
        let (out, mut lines) = mpsc::unbounded_channel::<Vec<u8>>();
        let client = Arc::new(Client {
            next_id: AtomicU64::new(1),
            pending: Mutex::new(Some(HashMap::new())),
            out,
        });
        tokio::spawn(async move {
            while let Some(line) = lines.recv().await {
                if let Err(e) = write_line(&mut write, &line).await {
                    tracing::debug!("writing to the tray process: {e}");
                    break;
                }
            }
        });
        let reading = client.clone();
        tokio::spawn(async move {
            let mut reader = LineReader::new(BufReader::new(read));
            let end = loop {
                match reader.next::<ToWindow>().await {
                    Ok(Some(ToWindow::Answer(answer))) => reading.resolve(answer),
                    Ok(Some(message)) => on_message(message),
                    Ok(None) => break None,
                    Err(e) => break Some(e),
                }
            };
            reading.close();
            on_close(end);
        });
        client
    }

    /// Calls `command` with `args` and waits for its answer.
    pub async fn call(&self, command: &str, args: Value) -> Result<Value, ErrorBody> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let line = encode(&Call {
            id,
            command: command.to_string(),
            args,
        })
        .map_err(|e| error_body(codes::CHANNEL, e.to_string()))?;
        let (tx, rx) = oneshot::channel();
        match self.pending.lock().expect("pending calls lock").as_mut() {
            Some(pending) => pending.insert(id, tx),
            None => return Err(closed()),
        };
        if self.out.send(line).is_err() {
            self.take(id);
            return Err(closed());
        }
        rx.await.unwrap_or_else(|_| Err(closed()))
    }

    /// True once the connection ended.
    pub fn is_closed(&self) -> bool {
        self.pending.lock().expect("pending calls lock").is_none()
    }

    fn take(&self, id: u64) -> Option<Waiting> {
        self.pending
            .lock()
            .expect("pending calls lock")
            .as_mut()
            .and_then(|p| p.remove(&id))
    }

    fn resolve(&self, answer: Answer) {
        match self.take(answer.id) {
            Some(waiting) => {
                let _ = waiting.send(answer.into_outcome());
            }
            None => tracing::warn!("an answer to no waiting call (id {})", answer.id),
        }
    }

    fn close(&self) {
        let waiting = self.pending.lock().expect("pending calls lock").take();
        for (_, w) in waiting.into_iter().flatten() {
            let _ = w.send(Err(closed()));
        }
    }
}

fn closed() -> ErrorBody {
    error_body(
        codes::CHANNEL,
        "the Wallet's tray process is gone; open the Wallet again",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::ViewEvent;
    use serde_json::json;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn answers_in_any_order_reach_their_calls_and_events_the_handler() {
        let (ours, theirs) = tokio::io::duplex(1024);
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let client = Client::start(
            ours,
            move |m| {
                let _ = events_tx.send(m);
            },
            |_| {},
        );
        let (read, mut write) = tokio::io::split(theirs);
        let mut lines = BufReader::new(read).lines();
        let c1 = client.clone();
        let first = tokio::spawn(async move { c1.call("inbox", json!({"offset": 0})).await });
        let c2 = client.clone();
        let second = tokio::spawn(async move { c2.call("pairings", Value::Null).await });
        let mut calls: Vec<Call> = Vec::new();
        for _ in 0..2 {
            calls.push(serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap());
        }
        calls.sort_by_key(|c| c.command.clone());
        let (inbox, pairings) = (&calls[0], &calls[1]);
        assert_eq!(inbox.command, "inbox");
        assert_eq!(inbox.args, json!({"offset": 0}));
        // The second call is answered first, an event comes between.
        for message in [
            ToWindow::Answer(Answer::new(pairings.id, Ok(json!(["p"])))),
            ToWindow::Event {
                event: ViewEvent::WalletUpdate,
                payload: json!({"type": "show_inbox"}),
            },
            ToWindow::Answer(Answer::new(
                inbox.id,
                Err(error_body("unknown_pairing", "gone")),
            )),
        ] {
            write.write_all(&encode(&message).unwrap()).await.unwrap();
        }
        assert_eq!(second.await.unwrap(), Ok(json!(["p"])));
        assert_eq!(first.await.unwrap().unwrap_err().code, "unknown_pairing");
        assert!(matches!(
            events.recv().await,
            Some(ToWindow::Event {
                event: ViewEvent::WalletUpdate,
                ..
            })
        ));
    }

    #[tokio::test]
    async fn the_end_of_the_connection_fails_waiting_and_later_calls() {
        let (ours, theirs) = tokio::io::duplex(1024);
        let (closed_tx, closed_rx) = oneshot::channel();
        let client = Client::start(
            ours,
            |_| {},
            move |e| {
                let _ = closed_tx.send(e.is_none());
            },
        );
        let c = client.clone();
        let waiting = tokio::spawn(async move { c.call("review", json!({})).await });
        let (read, write) = tokio::io::split(theirs);
        let mut lines = BufReader::new(read).lines();
        lines.next_line().await.unwrap().unwrap();
        drop(lines);
        drop(write);
        assert!(closed_rx.await.unwrap(), "a clean end");
        assert_eq!(waiting.await.unwrap().unwrap_err().code, codes::CHANNEL);
        assert!(client.is_closed());
        assert_eq!(
            client.call("inbox", Value::Null).await.unwrap_err().code,
            codes::CHANNEL
        );
    }

    #[tokio::test]
    async fn a_malformed_message_ends_the_connection_with_its_error() {
        let (ours, mut theirs) = tokio::io::duplex(1024);
        let (closed_tx, closed_rx) = oneshot::channel();
        let _client = Client::start(
            ours,
            |_| panic!("nothing is handed on"),
            move |e| {
                let _ = closed_tx.send(e.map(|e| e.to_string()));
            },
        );
        theirs
            .write_all(b"{\"type\":\"sign\",\"digest\":\"x\"}\n")
            .await
            .unwrap();
        let error = closed_rx.await.unwrap().expect("an error");
        assert!(error.contains("malformed"), "{error}");
    }
}
