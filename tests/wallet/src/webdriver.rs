//! A minimal W3C WebDriver client for WebKitWebDriver attached to the Wallet's window.
//!
//! The Wallet is two processes: the tray process (what the test starts) starts a window
//! process whenever the window opens, and that one ends when the window closes. So no driver
//! can launch "the browser": the test starts the tray process with
//! `TAURI_WEBVIEW_AUTOMATION=true` and `WEBKIT_INSPECTOR_SERVER=127.0.0.1:<port>`, which
//! every window process inherits (Tauri then allows automation, and WebKit listens there),
//! and WebKitWebDriver runs with `--target=127.0.0.1:<port> --replace-on-new-session`
//! ([`crate::desktop::start_driver`]): each session attaches to the window process running
//! then. When a window process ends and another starts, [`Session::switch_to_new_window`]
//! attaches a new session to it.
//!
//! It keeps one pooled keep-alive HTTP connection (reqwest's default): clients that send
//! `Connection: close` failed about half of the runs through tauri-driver.

use crate::desktop::Guard;
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a new session waits for a window process to attach to.
const ATTACH: Duration = Duration::from_secs(30);

/// The environment that makes the window processes of a tray process reachable by the
/// driver at `driver_url` (whose port + 1 is the inspector's).
pub fn automation_env(driver_url: &str) -> anyhow::Result<[(&'static str, String); 2]> {
    let port: u16 = driver_url
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .with_context(|| format!("no port in {driver_url}"))?;
    Ok([
        ("TAURI_WEBVIEW_AUTOMATION", "true".into()),
        ("WEBKIT_INSPECTOR_SERVER", format!("127.0.0.1:{}", port + 1)),
    ])
}

/// CSS selector of a `data-testid`.
pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// A WebDriver session on the Wallet's window process, and the tray process it started.
pub struct Session {
    http: reqwest::Client,
    driver_url: String,
    /// `<driver>/session/<id>` of the current session.
    base: Mutex<String>,
    id: Mutex<String>,
    app: Option<Guard>,
}

/// An element reference.
#[derive(Debug, Clone)]
pub struct Element(String);

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    /// Starts the Wallet's tray process `application` with `args` (and the automation
    /// environment) and attaches to the window process it starts.
    pub async fn start(
        driver_url: &str,
        application: &Path,
        args: &[String],
    ) -> anyhow::Result<Self> {
        Self::start_with_env(driver_url, application, args, &[]).await
    }

    /// [`Session::start`] with `env` added to the tray process's environment (and so its
    /// window processes'), e.g. WebKit settings to measure.
    pub async fn start_with_env(
        driver_url: &str,
        application: &Path,
        args: &[String],
        env: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let child = Command::new(application)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .envs(automation_env(driver_url)?)
            .spawn()
            .with_context(|| format!("starting {application:?}"))?;
        let mut session = Self::attach(driver_url).await?;
        session.app = Some(Guard(child));
        Ok(session)
    }

    /// Attaches to the window process running now (or the next one to start), for a tray
    /// process the test did not start itself.
    pub async fn attach(driver_url: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(300))
            .timeout(Duration::from_secs(60))
            .build()?;
        let session = Self {
            http,
            driver_url: driver_url.to_string(),
            base: Mutex::new(String::new()),
            id: Mutex::new(String::new()),
            app: None,
        };
        session.new_session(ATTACH).await?;
        Ok(session)
    }

    /// Creates a session (replacing the previous one) once a window process answers.
    async fn new_session(&self, timeout: Duration) -> anyhow::Result<()> {
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "wry"}}});
        let start = Instant::now();
        loop {
            let answer: Value = self
                .http
                .post(format!("{}/session", self.driver_url))
                .json(&caps)
                .send()
                .await?
                .json()
                .await?;
            if let Some(id) = answer["value"]["sessionId"].as_str() {
                *self.base.lock().unwrap() = format!("{}/session/{id}", self.driver_url);
                *self.id.lock().unwrap() = id.to_string();
                return Ok(());
            }
            if start.elapsed() > timeout {
                bail!("no window process to attach to after {timeout:?}: {answer}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The session id.
    pub fn id(&self) -> String {
        self.id.lock().unwrap().clone()
    }

    /// The tray process's id, when this session started it.
    pub fn app_pid(&self) -> Option<u32> {
        self.app.as_ref().map(|g| g.0.id())
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let base = self.base.lock().unwrap().clone();
        let mut req = self.http.request(method, format!("{base}{path}"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let answer: Value = req.send().await?.json().await?;
        if let Some(err) = answer["value"].get("error") {
            bail!("webdriver {path}: {err} {}", answer["value"]["message"]);
        }
        Ok(answer["value"].clone())
    }

    /// Finds the first element matching `css`, if any.
    /// An element removed while the driver made its handle (a virtual list moving its rows)
    /// counts as not found: the caller looks again.
    pub async fn find(&self, css: &str) -> anyhow::Result<Option<Element>> {
        let v = match self
            .call(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await
        {
            Ok(v) => v,
            Err(e) if e.to_string().contains("stale element reference") => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(v.as_array()
            .and_then(|a| a.first())
            .and_then(|e| e[ELEMENT_KEY].as_str())
            .map(|s| Element(s.to_string())))
    }

    /// Waits up to `timeout` for an element matching `css`.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> anyhow::Result<Element> {
        let start = Instant::now();
        loop {
            if let Some(e) = self.find(css).await? {
                return Ok(e);
            }
            if start.elapsed() > timeout {
                bail!("no element {css} after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Scrolls the window from its top down, a screen at a time, until an element matching
    /// `css` exists (a virtual list draws only the rows near the viewport), brings it into
    /// view and returns it; fails after `timeout`.
    pub async fn scroll_to(&self, css: &str, timeout: Duration) -> anyhow::Result<Element> {
        let start = Instant::now();
        let css_js = serde_json::to_string(css)?;
        self.execute("window.scrollTo(0, 0); return true").await?;
        loop {
            let state = self
                .execute(&format!(
                    "const e = document.querySelector({css_js});
                     if (e) {{ e.scrollIntoView({{block: 'center'}}); return 'found'; }}
                     const end = document.scrollingElement.scrollHeight - window.innerHeight;
                     if (window.scrollY >= end - 1) return 'end';
                     window.scrollBy(0, Math.floor(window.innerHeight * 0.8));
                     return 'more';"
                ))
                .await?;
            if state == "found" {
                // Let the list settle around the row, then take it as drawn now.
                tokio::time::sleep(Duration::from_millis(100)).await;
                if let Some(e) = self.find(css).await? {
                    return Ok(e);
                }
            }
            if start.elapsed() > timeout {
                bail!("no element {css} after scrolling for {timeout:?} ({state})");
            }
            if state == "end" {
                // Rows still loading, or the list changed: look again from the top.
                tokio::time::sleep(Duration::from_millis(200)).await;
                self.execute("window.scrollTo(0, 0); return true").await?;
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// Waits until `script` (a function body returning a value) returns `true`.
    pub async fn wait_until(
        &self,
        what: &str,
        script: &str,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            if self.execute(script).await? == Value::Bool(true) {
                return Ok(());
            }
            if start.elapsed() > timeout {
                bail!("timed out waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks.
    pub async fn click(&self, e: &Element) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/click", e.0),
            Some(json!({})),
        )
        .await?;
        Ok(())
    }

    /// Clicks the element matching `css`, finding it again when the view re-drew it between
    /// finding and clicking (a stale element reference); fails after `timeout`.
    pub async fn click_selector(&self, css: &str, timeout: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            let e = self.wait_for(css, timeout).await?;
            match self.click(&e).await {
                Ok(()) => return Ok(()),
                Err(err)
                    if err.to_string().contains("stale element reference")
                        && start.elapsed() < timeout =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// Types text.
    pub async fn type_text(&self, e: &Element, text: &str) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", e.0),
            Some(json!({"text": text})),
        )
        .await?;
        Ok(())
    }

    /// The element's rendered text.
    pub async fn text(&self, e: &Element) -> anyhow::Result<String> {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("/element/{}/text", e.0),
                None,
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub async fn execute(&self, script: &str) -> anyhow::Result<Value> {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// The window title.
    pub async fn title(&self) -> anyhow::Result<String> {
        Ok(self
            .call(reqwest::Method::GET, "/title", None)
            .await?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// The handles of the session's windows (top-level browsing contexts).
    pub async fn window_handles(&self) -> anyhow::Result<Vec<String>> {
        let v = self
            .call(reqwest::Method::GET, "/window/handles", None)
            .await?;
        Ok(serde_json::from_value(v)?)
    }

    /// Makes the window `handle` the one later commands drive.
    pub async fn switch_to_window(&self, handle: &str) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::POST,
            "/window",
            Some(json!({ "handle": handle })),
        )
        .await?;
        Ok(())
    }

    /// Waits until a new window process runs (the one in `old` closed, another started),
    /// attaches a new session to it and returns its window's handle. (Each window process has
    /// one window; `old` is kept for the callers' sake.)
    pub async fn switch_to_new_window(
        &self,
        old: &[String],
        timeout: Duration,
    ) -> anyhow::Result<String> {
        let _ = old;
        self.new_session(timeout).await?;
        let handles = self.window_handles().await?;
        handles
            .into_iter()
            .next()
            .context("the new window process has no window")
    }

    /// Ends the session and the tray process it started (SIGINT: it quits, and its window
    /// process with it).
    pub async fn quit(mut self) -> anyhow::Result<()> {
        let base = self.base.lock().unwrap().clone();
        let _ = self.http.delete(&base).send().await;
        if let Some(mut app) = self.app.take() {
            let _ = Command::new("kill")
                .args(["-INT", &app.0.id().to_string()])
                .status();
            let start = Instant::now();
            while app.0.try_wait()?.is_none() && start.elapsed() < Duration::from_secs(10) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            drop(app);
        }
        Ok(())
    }
}
