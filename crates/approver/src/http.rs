//! [`HttpClients`]: the HTTP clients an approver talks to its service with.
//!
//! Both follow **no redirects** (a service that answers 3xx is an error, never a way to send
//! a signed request or a session token to another host) and give up connecting after
//! [`CONNECT_TIMEOUT`]. Ordinary requests (pairing, sign-in, lists, reviews, decisions) have
//! an overall deadline of [`REQUEST_TIMEOUT`]; the event stream stays open as long as the
//! service keeps it, so its client has no overall deadline, only a [`STREAM_READ_TIMEOUT`]
//! between reads (the service sends a keep-alive every 15 s).

use std::time::Duration;

/// How long connecting (TCP and TLS) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The overall deadline of a request other than the event stream, from connecting to the end
/// of the answer's body.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest silence on the event stream before it counts as broken (four keep-alives).
pub const STREAM_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The two clients of an approver: one for requests, one for the event stream. Cloning is
/// cheap (connection pools are shared).
#[derive(Debug, Clone)]
pub struct HttpClients {
    /// Requests: no redirects, connect timeout and overall deadline.
    pub requests: reqwest::Client,
    /// The event stream: no redirects, connect timeout and read timeout, no overall deadline.
    pub stream: reqwest::Client,
}

impl HttpClients {
    /// The clients with the timeouts above, identifying as `user_agent`.
    pub fn new(user_agent: &str) -> Result<Self, reqwest::Error> {
        Self::with_timeouts(
            user_agent,
            CONNECT_TIMEOUT,
            REQUEST_TIMEOUT,
            STREAM_READ_TIMEOUT,
        )
    }

    /// The clients with other timeouts (tests).
    pub fn with_timeouts(
        user_agent: &str,
        connect: Duration,
        request: Duration,
        stream_read: Duration,
    ) -> Result<Self, reqwest::Error> {
        let base = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(connect)
                .user_agent(user_agent)
        };
        Ok(Self {
            requests: base().timeout(request).build()?,
            stream: base().read_timeout(stream_read).build()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::Redirect;
    use axum::routing::get;
    use axum::Router;
    use futures::StreamExt;

    async fn serve(router: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let base = serve(
            Router::new()
                .route("/moved", get(|| async { Redirect::temporary("/target") }))
                .route("/target", get(|| async { "followed" })),
        )
        .await;
        let clients = HttpClients::new("test").unwrap();
        for http in [&clients.requests, &clients.stream] {
            let answer = http.get(format!("{base}/moved")).send().await.unwrap();
            assert_eq!(answer.status(), 307);
        }
    }

    #[tokio::test]
    async fn requests_have_a_deadline_and_the_stream_only_a_read_timeout() {
        // Answers after 300 ms; a stream that sends a chunk every 100 ms for 600 ms.
        let slow = || async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            "late"
        };
        let ticking = || async {
            let chunks = futures::stream::unfold(0, |n| async move {
                (n < 6)
                    .then_some(n)
                    .map(|n| (Ok::<_, std::convert::Infallible>(format!("{n}")), n + 1))
            })
            .then(|c| async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                c
            });
            axum::body::Body::from_stream(chunks)
        };
        let base = serve(
            Router::new()
                .route("/slow", get(slow))
                .route("/ticking", get(ticking)),
        )
        .await;
        let ms = Duration::from_millis;
        let clients = HttpClients::with_timeouts("test", ms(1000), ms(200), ms(250)).unwrap();
        let err = clients
            .requests
            .get(format!("{base}/slow"))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err}");
        // Longer than the request deadline in all, but never silent for a read timeout.
        let answer = clients
            .stream
            .get(format!("{base}/ticking"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.text().await.unwrap(), "012345");
    }
}
