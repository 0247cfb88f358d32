//! `countersign serve` run as a child process by the CLI's tests: waiting until it answers.

use std::time::Duration;
use tokio::process::Child;

/// How long a started `countersign serve` gets to answer `/healthz`.
pub const START_WITHIN: Duration = Duration::from_secs(30);

/// Waits until `GET {url}/healthz` answers 200. Panics (with `log()`, e.g. the child's
/// stderr) when the child exits first or nothing answers within [`START_WITHIN`].
pub async fn wait_healthy(child: &mut Child, url: &str, log: impl Fn() -> String) {
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + START_WITHIN;
    loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            panic!("countersign serve at {url} exited with {status}: {}", log());
        }
        let health = http
            .get(format!("{url}/healthz"))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if matches!(&health, Ok(r) if r.status() == 200) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "countersign serve at {url} did not answer /healthz within {START_WITHIN:?}: {}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
