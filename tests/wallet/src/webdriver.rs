//! A minimal W3C WebDriver client for tauri-driver.
//!
//! It keeps one pooled keep-alive HTTP connection (reqwest's default): clients that send
//! `Connection: close` fail about half of the runs through tauri-driver.

use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// CSS selector of a `data-testid`.
pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// One WebDriver session on one application.
pub struct Session {
    http: reqwest::Client,
    base: String,
    id: String,
}

/// An element reference.
#[derive(Debug, Clone)]
pub struct Element(String);

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    /// Starts `application` (with `args`) through the driver at `driver_url`.
    pub async fn start(
        driver_url: &str,
        application: &Path,
        args: &[String],
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(300))
            .timeout(Duration::from_secs(60))
            .build()?;
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "wry",
                    "tauri:options": { "application": application, "args": args }
                }
            }
        });
        let answer: Value = http
            .post(format!("{driver_url}/session"))
            .json(&caps)
            .send()
            .await?
            .json()
            .await?;
        let id = answer["value"]["sessionId"]
            .as_str()
            .with_context(|| format!("no session: {answer}"))?
            .to_string();
        Ok(Self {
            http,
            base: format!("{driver_url}/session/{id}"),
            id,
        })
    }

    /// The session id.
    pub fn id(&self) -> &str {
        &self.id
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
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

    /// Waits until the application has a window other than those in `old` (one it created
    /// after they were closed), drives it from now on and returns its handle.
    pub async fn switch_to_new_window(
        &self,
        old: &[String],
        timeout: Duration,
    ) -> anyhow::Result<String> {
        let start = Instant::now();
        loop {
            let handles = self.window_handles().await?;
            if let Some(h) = handles.iter().find(|h| !old.contains(h)) {
                self.switch_to_window(h).await?;
                return Ok(h.clone());
            }
            if start.elapsed() > timeout {
                bail!("no new window after {timeout:?} (windows: {handles:?})");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Ends the session (and the application).
    pub async fn quit(self) -> anyhow::Result<()> {
        self.http.delete(&self.base).send().await?;
        Ok(())
    }
}
