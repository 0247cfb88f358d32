//! The desktop around the app: WebKitWebDriver, `gio open` for deep links, the keychain
//! (`secret-tool`) and the notification bus (`dbus-monitor`). Everything runs inside the one
//! `dbus-run-session` and Xvfb that scripts/wallet-e2e.sh starts.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed on drop.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The port WebKitWebDriver listens on: `$WALLET_E2E_DRIVER_PORT`, default 4444 (the window
/// processes' inspector server takes the next one). Another port lets two e2e runs share a
/// machine.
pub fn driver_port() -> u16 {
    std::env::var("WALLET_E2E_DRIVER_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(4444)
}

/// The WebDriver URL of [`driver_port`].
pub fn driver_url() -> String {
    format!("http://127.0.0.1:{}", driver_port())
}

/// Starts WebKitWebDriver on `port`, attaching its sessions to the inspector server at
/// `port + 1` (see [`crate::webdriver`]), and waits until it answers.
pub async fn start_driver(port: u16) -> anyhow::Result<Guard> {
    let child = Command::new(
        std::env::var("WEBKIT_WEBDRIVER").unwrap_or_else(|_| "WebKitWebDriver".into()),
    )
    .args([
        format!("--port={port}"),
        format!("--target=127.0.0.1:{}", port + 1),
        "--replace-on-new-session".into(),
    ])
    .stdout(Stdio::null())
    .spawn()
    .context("starting WebKitWebDriver (package webkit2gtk-driver)")?;
    let guard = Guard(child);
    let start = Instant::now();
    let http = reqwest::Client::new();
    while http
        .get(format!("http://127.0.0.1:{port}/status"))
        .send()
        .await
        .is_err()
    {
        if start.elapsed() > Duration::from_secs(20) {
            bail!("WebKitWebDriver did not start");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(guard)
}

/// Opens a link the way the desktop does (`gio open`): with the Wallet running, a second
/// process hands the link to it over D-Bus and exits.
pub fn gio_open(link: &str) -> anyhow::Result<()> {
    let status = Command::new("gio").args(["open", link]).status()?;
    if !status.success() {
        bail!("gio open failed: {status}");
    }
    Ok(())
}

/// Pairs the Wallet shown in `s` as alice of `stack`: an invitation link opened by the
/// desktop ([`gio_open`]), confirmed on the pairing screen, then the inbox.
pub async fn pair_alice(
    s: &crate::webdriver::Session,
    stack: &crate::stack::Stack,
    wait: Duration,
) -> anyhow::Result<()> {
    use crate::webdriver::testid;
    gio_open(&stack.invite("alice").await?)?;
    s.click_selector(&testid("pair-confirm-button"), wait)
        .await?;
    s.wait_for(&testid("inbox"), wait).await?;
    Ok(())
}

/// The secret the keychain holds for `account`, via `secret-tool` (None when absent).
pub fn keychain_secret(account: &str) -> anyhow::Result<Option<String>> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "countersign", "username", account])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok((out.status.success() && !text.is_empty()).then_some(text))
}

/// True when any file under `dir` contains `needle`.
pub fn dir_contains(dir: &Path, needle: &[u8]) -> anyhow::Result<Option<PathBuf>> {
    if !dir.exists() {
        return Ok(None);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if let Some(p) = dir_contains(&path, needle)? {
                return Ok(Some(p));
            }
        } else if std::fs::read(&path)?
            .windows(needle.len())
            .any(|w| w == needle)
        {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// Records `Notify` calls on the session bus into a file.
pub struct NotifyMonitor {
    _child: Guard,
    file: PathBuf,
}

impl NotifyMonitor {
    /// Starts `dbus-monitor`.
    pub fn start(file: &Path) -> anyhow::Result<Self> {
        let out = std::fs::File::create(file)?;
        let child = Command::new("dbus-monitor")
            .args([
                "--session",
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdout(out)
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Self {
            _child: Guard(child),
            file: file.to_path_buf(),
        })
    }

    /// Waits until a recorded `Notify` call contains `text`.
    pub async fn wait_for(&self, text: &str, timeout: Duration) -> anyhow::Result<()> {
        self.wait_for_more(text, 0, timeout).await
    }

    /// How many recorded `Notify` calls so far contain `text`.
    pub fn count(&self, text: &str) -> anyhow::Result<usize> {
        Ok(std::fs::read_to_string(&self.file)?.matches(text).count())
    }

    /// Waits until more than `seen` recorded `Notify` calls contain `text` (a new one, when
    /// `seen` is [`count`](Self::count) taken before).
    pub async fn wait_for_more(
        &self,
        text: &str,
        seen: usize,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            if self.count(text)? > seen {
                return Ok(());
            }
            if start.elapsed() > timeout {
                bail!("no notification containing {text:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits until a top-level window with exactly this title exists (`xdotool`).
pub async fn wait_for_window(title: &str, timeout: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    let pattern = format!("^{}$", title.replace('(', "\\(").replace(')', "\\)"));
    loop {
        let out = Command::new("xdotool")
            .args(["search", "--name", &pattern])
            .output()?;
        if out.status.success() && !out.stdout.is_empty() {
            return Ok(());
        }
        if start.elapsed() > timeout {
            bail!("no window titled {title:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves a screenshot of the whole X screen (`import -window root`). WebDriver's own screenshot
/// command hangs with WebKitWebDriver here, so the e2e uses this.
pub fn screenshot(path: &Path) -> anyhow::Result<()> {
    let status = Command::new("import")
        .args(["-window", "root"])
        .arg(path)
        .status()
        .context("running ImageMagick's import")?;
    if !status.success() {
        bail!("import failed: {status}");
    }
    Ok(())
}

/// Closes every notification on screen (`dunstctl close-all`); best effort.
pub fn close_notifications() {
    let _ = Command::new("dunstctl").arg("close-all").status();
}

/// Opens dunst's action menu for the newest notification; the e2e's dmenu stand-in picks
/// "Review" (scripts/wallet-e2e-session.sh).
pub fn choose_notification_action() -> anyhow::Result<()> {
    let status = Command::new("dunstctl").arg("context").status()?;
    if !status.success() {
        bail!("dunstctl context failed: {status}");
    }
    Ok(())
}

/// Asks the windows whose title starts with `title` to close, as a window manager's close button does: sends it
/// the ICCCM `WM_DELETE_WINDOW` client message (python3-xlib; the e2e desktop has no window
/// manager to send it).
pub fn request_close(title: &str) -> anyhow::Result<()> {
    const SCRIPT: &str = r#"
import sys
from Xlib import X, display, protocol
d = display.Display()
wm_protocols = d.intern_atom("WM_PROTOCOLS")
wm_delete = d.intern_atom("WM_DELETE_WINDOW")
found = []
def walk(w):
    name = w.get_wm_name()
    if isinstance(name, bytes):
        name = name.decode(errors="replace")
    if name is not None and name.startswith(sys.argv[1]):
        protos = w.get_wm_protocols() or []
        if wm_delete in protos:
            found.append(w)
    for child in w.query_tree().children:
        walk(child)
walk(d.screen().root)
print("WM_DELETE_WINDOW to", ", ".join("0x%x %r" % (w.id, w.get_wm_name()) for w in found), file=sys.stderr)
for w in found:
    ev = protocol.event.ClientMessage(window=w, client_type=wm_protocols, data=(32, [wm_delete, X.CurrentTime, 0, 0, 0]))
    w.send_event(ev, event_mask=X.NoEventMask)
d.flush()
sys.exit(0 if found else 3)
"#;
    let status = Command::new("/usr/bin/python3")
        .args(["-c", SCRIPT, title])
        .status()
        .context("running python3-xlib")?;
    if !status.success() {
        bail!("no window titled {title:?}… takes WM_DELETE_WINDOW ({status})");
    }
    Ok(())
}

/// Closes the windows whose title starts with `title` ([`request_close`]) and waits until none
/// is visible. A request that changed nothing after 5 s is sent again, and said so: a
/// `WM_DELETE_WINDOW` sent while no window manager runs, within about a second of a window
/// process starting, sometimes never reaches the window's close handler (its process logs
/// "window close requested" when one does; the second request always did).
pub async fn close_window(title: &str) -> anyhow::Result<()> {
    const AGAIN_AFTER: Duration = Duration::from_secs(5);
    const GIVE_UP_AFTER: Duration = Duration::from_secs(30);
    // Titles here are plain words: no character a regular expression treats specially.
    let pattern = format!("^{title}");
    let start = Instant::now();
    let mut sent = Instant::now();
    request_close(title)?;
    while window_visible(&pattern)? {
        if start.elapsed() > GIVE_UP_AFTER {
            bail!("the window titled {title:?}… stayed open through requests to close it");
        }
        if sent.elapsed() > AGAIN_AFTER {
            eprintln!("the request to close {title:?}… changed nothing in 5 s: sent again");
            // Gone in between: nothing to send to.
            if request_close(title).is_err() {
                break;
            }
            sent = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// True when a window titled `title` (a regular expression) is mapped (visible).
pub fn window_visible(title: &str) -> anyhow::Result<bool> {
    let out = Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", title])
        .output()?;
    Ok(out.status.success() && !out.stdout.is_empty())
}

/// One process of the Wallet (the app or one of its WebKit helpers).
#[derive(Debug, Clone)]
pub struct Proc {
    /// Its id.
    pub pid: u32,
    /// Its parent's id.
    pub ppid: u32,
    /// The file name of its executable (`countersign-wallet`, `WebKitWebProcess`,
    /// `WebKitNetworkProcess`, …).
    pub name: String,
    /// Resident set size, kB (`VmRSS`: shared libraries counted in each process).
    pub rss_kb: u64,
    /// Proportional set size, kB (`smaps_rollup`: shared pages divided among their users).
    pub pss_kb: u64,
    /// Anonymous memory (heap, stacks) resident, kB (`smaps_rollup`'s `Anonymous`): what is not
    /// pages of files such as the shared libraries.
    pub anon_kb: u64,
}

/// A `kB` field of a /proc file (`VmRSS:` of status, `Pss:` of smaps_rollup).
fn proc_kb(text: &str, field: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// The processes running `exe` and all their descendants, read from /proc now (zombies
/// left out).
pub fn wallet_processes(exe: &Path) -> Vec<Proc> {
    let exe = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.to_path_buf());
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let all: Vec<(Proc, PathBuf)> = dir
        .filter_map(|e| {
            let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let mut fields = stat.rsplit(')').next()?.split_whitespace();
            // A zombie (ended, its parent not yet told) runs nothing: not listed.
            if fields.next()? == "Z" {
                return None;
            }
            let ppid: u32 = fields.next()?.parse().ok()?;
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let rollup =
                std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
            let path = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            let proc = Proc {
                pid,
                ppid,
                name: path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                rss_kb: proc_kb(&status, "VmRSS:"),
                pss_kb: proc_kb(&rollup, "Pss:"),
                anon_kb: proc_kb(&rollup, "Anonymous:"),
            };
            Some((proc, path))
        })
        .collect();
    let mut family: Vec<u32> = all
        .iter()
        .filter(|(_, path)| *path == exe)
        .map(|(p, _)| p.pid)
        .collect();
    let mut i = 0;
    while i < family.len() {
        let parent = family[i];
        family.extend(
            all.iter()
                .filter(|(p, _)| p.ppid == parent)
                .map(|(p, _)| p.pid),
        );
        i += 1;
    }
    all.into_iter()
        .map(|(p, _)| p)
        .filter(|p| family.contains(&p.pid))
        .collect()
}

/// Where the resident memory (kB) of process `pid` lies: its `n` largest mappings by RSS from
/// `/proc/<pid>/smaps`, file mappings summed per file and the rest per kind (`[anon]` for
/// unnamed memory, `[heap]`, `[stack]`, …), largest first.
pub fn largest_mappings(pid: u32, n: usize) -> Vec<(String, u64)> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut by_name: std::collections::BTreeMap<String, u64> = Default::default();
    let mut current = String::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if first == "Rss:" {
            let kb: u64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            *by_name.entry(current.clone()).or_default() += kb;
        } else if first.contains('-') && !first.ends_with(':') {
            // A mapping's header: range, perms, offset, device, inode, then its name, if any.
            let name = fields.nth(4).map(str::to_owned).unwrap_or_default();
            current = if name.is_empty() {
                "[anon]".into()
            } else {
                name
            };
        }
    }
    let mut all: Vec<(String, u64)> = by_name.into_iter().collect();
    all.sort_by_key(|m| std::cmp::Reverse(m.1));
    all.truncate(n);
    all
}

/// Waits until the Wallet running `exe` has (`true`) or has not (`false`) a WebKit web
/// process (`WebKitWebProcess` under it); returns its processes then.
pub async fn wait_web_process(
    exe: &Path,
    present: bool,
    timeout: Duration,
) -> anyhow::Result<Vec<Proc>> {
    let what = if present { "missing" } else { "running" };
    wait_processes(
        exe,
        timeout,
        &format!("the web process still {what}"),
        |procs| procs.iter().any(|p| p.name == "WebKitWebProcess") == present,
    )
    .await
}

/// Polls the processes of the Wallet running `exe` until `done` holds for them, for up to
/// `timeout` (then an error saying `what`, with the processes seen last).
async fn wait_processes(
    exe: &Path,
    timeout: Duration,
    what: &str,
    done: impl Fn(&[Proc]) -> bool,
) -> anyhow::Result<Vec<Proc>> {
    let start = Instant::now();
    loop {
        let procs = wallet_processes(exe);
        if done(&procs) {
            return Ok(procs);
        }
        if start.elapsed() > timeout {
            bail!("{what}: {procs:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The window process's executable name.
pub const WINDOW_PROCESS: &str = "countersign-wallet-window";

/// Waits until the Wallet running `exe` (its tray process) has (`true`) or has not
/// (`false`) a window process with no WebKit process left under it; returns its processes
/// then.
pub async fn wait_window_process(
    exe: &Path,
    present: bool,
    timeout: Duration,
) -> anyhow::Result<Vec<Proc>> {
    let what = if present { "missing" } else { "running" };
    wait_processes(
        exe,
        timeout,
        &format!("the window process still {what}"),
        |procs| {
            let window = procs.iter().any(|p| p.name == WINDOW_PROCESS);
            let webkit = procs.iter().any(|p| p.name.starts_with("WebKit"));
            present == window && (present || !webkit)
        },
    )
    .await
}
