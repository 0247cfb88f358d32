//! The tray side of the channel: reads the window process's calls, runs each (concurrently:
//! a slow review does not hold up the inbox) and writes its answer; writes the events the
//! tray process queues for the window. It returns when the window process closes its end
//! (EOF) or breaks the protocol (an over-long or malformed line): the connection is dropped.

use super::framing::{encode, write_line, LineReader};
use super::{codes, error_body, Answer, Call, ChannelError, ToWindow};
use crate::error::ErrorBody;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

/// Most calls of one window process running or answered but not yet written at once.
pub const MAX_CALLS_IN_FLIGHT: usize = 64;

/// Serves one window process on `stream` until it goes. `rx` is the window's outbox: what the
/// tray process sends on its sender is written in order, between the answers. `dispatch` runs
/// one command by name with its arguments; at most [`MAX_CALLS_IN_FLIGHT`] calls run or wait
/// to be written at once (the window's further calls are read as answers are written).
pub async fn serve<S, F, Fut>(
    stream: S,
    mut rx: mpsc::UnboundedReceiver<ToWindow>,
    dispatch: F,
) -> Result<(), ChannelError>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
    F: Fn(String, Value) -> Fut,
    Fut: Future<Output = Result<Value, ErrorBody>> + Send + 'static,
{
    let (read, mut write) = tokio::io::split(stream);
    // Each call holds a permit from before it is read until its answer is written: a window
    // that sends calls faster than it reads answers is not read from beyond that, so answers
    // cannot pile up here without bound.
    let permits = Arc::new(Semaphore::new(MAX_CALLS_IN_FLIGHT));
    let (answers_tx, mut answers) = mpsc::unbounded_channel::<(Answer, OwnedSemaphorePermit)>();
    let writer = tokio::spawn(async move {
        loop {
            let (message, permit) = tokio::select! {
                Some((answer, permit)) = answers.recv() => (ToWindow::Answer(answer), Some(permit)),
                Some(message) = rx.recv() => (message, None),
                else => break,
            };
            let Some(line) = encode_or_refuse(&message) else {
                continue;
            };
            if let Err(e) = write_line(&mut write, &line).await {
                tracing::debug!("writing to the window process: {e}");
                break;
            }
            drop(permit);
        }
    });
    let mut reader = LineReader::new(BufReader::new(read));
    let end = loop {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            break Ok(());
        };
        match reader.next::<Call>().await {
            Ok(Some(call)) => {
                let answer = dispatch(call.command, call.args);
                let answers_tx = answers_tx.clone();
                tokio::spawn(async move {
                    let answer = Answer::new(call.id, answer.await);
                    let _ = answers_tx.send((answer, permit));
                });
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    writer.abort();
    end
}

/// The line of `message`; an answer too long to send becomes an error answer, any other
/// message too long is dropped (logged).
fn encode_or_refuse(message: &ToWindow) -> Option<Vec<u8>> {
    match encode(message) {
        Ok(line) => Some(line),
        Err(e) => {
            tracing::warn!("a message for the window cannot be sent: {e}");
            match message {
                ToWindow::Answer(a) => encode(&ToWindow::Answer(Answer::new(
                    a.id,
                    Err(error_body(codes::CHANNEL, e.to_string())),
                )))
                .ok(),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::client::Client;
    use crate::channel::ViewEvent;
    use serde_json::json;
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;

    async fn dispatch(command: String, args: Value) -> Result<Value, ErrorBody> {
        match command.as_str() {
            "echo" => Ok(args),
            "slow" => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Ok(json!("slow"))
            }
            other => Err(error_body(
                codes::UNKNOWN_COMMAND,
                format!("no command {other:?}"),
            )),
        }
    }

    #[tokio::test]
    async fn calls_are_answered_concurrently_and_unknown_ones_with_an_error() {
        let (window, tray) = tokio::io::duplex(4096);
        let (tx, rx) = mpsc::unbounded_channel();
        let events = tx.clone();
        let server = tokio::spawn(serve(tray, rx, dispatch));
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let client = Client::start(
            window,
            move |m| {
                let _ = seen_tx.send(m);
            },
            |_| {},
        );
        let c = client.clone();
        let slow = tokio::spawn(async move { c.call("slow", Value::Null).await });
        // Answered while "slow" still runs.
        assert_eq!(
            client.call("echo", json!({"a": 1})).await,
            Ok(json!({"a": 1}))
        );
        assert!(!slow.is_finished());
        let err = client.call("sign_anything", json!({})).await.unwrap_err();
        assert_eq!(err.code, codes::UNKNOWN_COMMAND);
        assert_eq!(slow.await.unwrap(), Ok(json!("slow")));
        events
            .send(ToWindow::Event {
                event: ViewEvent::OpenLink,
                payload: json!("countersign://a"),
            })
            .unwrap();
        assert!(matches!(seen.recv().await, Some(ToWindow::Event { .. })));
        drop(client);
        assert!(!server.is_finished(), "the window still holds its end");
    }

    #[tokio::test]
    async fn eof_ends_serving_cleanly_and_an_over_long_line_with_an_error() {
        let (window, tray) = tokio::io::duplex(4096);
        let (_tx, rx) = mpsc::unbounded_channel();
        let server = tokio::spawn(serve(tray, rx, dispatch));
        drop(window);
        assert!(server.await.unwrap().is_ok());

        let (mut window, tray) = tokio::io::duplex(1 << 16);
        let (_tx, rx) = mpsc::unbounded_channel();
        let server = tokio::spawn(serve(tray, rx, dispatch));
        let chunk = vec![b'a'; 1 << 15];
        let writer = tokio::spawn(async move {
            // More than MAX_LINE without a newline: the server stops reading and drops it.
            let mut sent = 0;
            while sent <= 2 * crate::channel::MAX_LINE {
                if window.write_all(&chunk).await.is_err() {
                    return true;
                }
                sent += chunk.len();
            }
            false
        });
        assert!(matches!(
            server.await.unwrap(),
            Err(ChannelError::TooLong { .. })
        ));
        assert!(writer.await.unwrap(), "the connection was dropped");
    }

    /// A window that sends calls and does not read the answers: the tray stops reading its
    /// calls once [`MAX_CALLS_IN_FLIGHT`] are unanswered on the wire, instead of queueing
    /// answers without bound; reading the answers lets the rest through.
    #[tokio::test]
    async fn a_window_that_does_not_read_its_answers_is_not_read_from() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use tokio::io::AsyncBufReadExt;
        const CALLS: usize = 1000;
        // A tiny pipe: one answer fills it.
        let (window, tray) = tokio::io::duplex(64);
        let (_tx, rx) = mpsc::unbounded_channel();
        let started = Arc::new(AtomicUsize::new(0));
        let counted = started.clone();
        let server = tokio::spawn(serve(tray, rx, move |_command, _args| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Ok(json!("x".repeat(100))) }
        }));
        let (read, mut write) = tokio::io::split(window);
        let sender = tokio::spawn(async move {
            for id in 0..CALLS {
                let line = encode(&Call {
                    id: id as u64,
                    command: "inbox".into(),
                    args: Value::Null,
                })
                .unwrap();
                write.write_all(&line).await.unwrap();
            }
            write
        });
        // Wait for the server to have read all it may (a slow machine takes longer than a fixed
        // pause), then give it time to read more than it should.
        let reading = std::time::Instant::now();
        while started.load(Ordering::SeqCst) < MAX_CALLS_IN_FLIGHT
            && reading.elapsed() < Duration::from_secs(10)
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = started.load(Ordering::SeqCst);
        assert!(
            (MAX_CALLS_IN_FLIGHT..=MAX_CALLS_IN_FLIGHT + 2).contains(&before),
            "{before} calls run while no answer was read"
        );
        let mut lines = tokio::io::BufReader::new(read).lines();
        for _ in 0..CALLS {
            let line = lines.next_line().await.unwrap().unwrap();
            assert!(line.contains("\"answer\""), "{line}");
        }
        assert_eq!(started.load(Ordering::SeqCst), CALLS);
        drop(sender.await.unwrap());
        server.abort();
    }
}
