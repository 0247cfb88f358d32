//! The Wallet end to end, in its real window: run by `scripts/wallet-e2e.sh` (Xvfb, one
//! `dbus-run-session` with an unlocked gnome-keyring and a notification daemon, WebKitWebDriver attached to the window process).
//!
//! Pairing through a deep link, a live request with its notification, approve (the agent gets
//! the provider's answer), deny with a comment (via a deep link to the running Wallet), a
//! hostile reason rendered inert, an approval link to an unpaired server, the key found in the
//! keychain and nowhere on disk, and a fresh start with a link. "What you see is what you
//! sign": what is new at the top (first of its kind, then 100× the largest approved), a
//! ~600 kB JSON body whose Approve waits until it was scrolled to its end (a duplicate key
//! flagged), and a form body as a table. Two pairings of one service, each receiving and
//! deciding its own requests, and removing one of them. Screenshots go to
//! `$WALLET_E2E_SHOTS`.

use countersign_sdk::{Error as SdkError, ProxyOutcome, ProxyRequest};
use countersign_wallet_e2e::desktop::{self, NotifyMonitor};
use countersign_wallet_e2e::script::{env_path, step};
use countersign_wallet_e2e::stack::{Stack, ON_CALL};
use countersign_wallet_e2e::webdriver::{testid, Session};
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// Closes the notifications, lets the page paint, then photographs the screen.
async fn snap(_s: &Session, path: &Path) -> anyhow::Result<()> {
    desktop::close_notifications();
    tokio::time::sleep(Duration::from_millis(400)).await;
    desktop::screenshot(path)
}

/// Waits until Approve is enabled (the body was seen to its end and the Wallet recorded it),
/// then presses it.
async fn approve_when_seen(s: &Session) -> anyhow::Result<()> {
    s.wait_until(
        "Approve enabled after the body was seen",
        "const b = document.querySelector('[data-testid=approve]'); return !!b && !b.disabled",
        WAIT,
    )
    .await?;
    s.click_selector(&testid("approve"), WAIT).await?;
    // The decision's outcome, or the error screen saying why not.
    s.wait_until(
        "the outcome or an error after pressing Approve",
        "return !!document.querySelector('[data-testid=outcome], [data-testid=error]')",
        WAIT,
    )
    .await?;
    if let Some(e) = s.find(&testid("error-message")).await? {
        anyhow::bail!("approving failed: {}", s.text(&e).await?);
    }
    Ok(())
}

/// The "what is new" lines of the review shown.
async fn novelties(s: &Session) -> anyhow::Result<Vec<String>> {
    let v = s
        .execute(
            "return [...document.querySelectorAll('[data-testid=novelty]')].map(e => e.textContent)",
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// Opens the inbox row of `id`, scrolling the (virtual) list to it.
async fn open_row(s: &Session, id: &str) -> anyhow::Result<()> {
    s.wait_for(&testid("inbox"), WAIT).await?;
    let row = s
        .scroll_to(
            &format!("[data-testid=\"inbox-row\"][data-approval-id=\"{id}\"]"),
            WAIT,
        )
        .await?;
    s.click(&row).await?;
    s.wait_for(&testid("review"), WAIT).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, a session bus, a keyring and WebKitWebDriver: run scripts/wallet-e2e.sh"]
async fn wallet_end_to_end() -> anyhow::Result<()> {
    let app = env_path("WALLET_APP");
    let shots = env_path("WALLET_E2E_SHOTS");
    let data_dir = env_path("COUNTERSIGN_WALLET_DATA_DIR");
    std::fs::create_dir_all(&shots)?;
    let shot = |name: &str| shots.join(format!("{name}.png"));

    let stack = Stack::start().await?;
    let monitor = NotifyMonitor::start(&shots.join("notify-monitor.txt"))?;
    let _driver = desktop::start_driver(desktop::driver_port()).await?;
    let s = Session::start(&desktop::driver_url(), &app, &[]).await?;
    s.wait_for(&testid("inbox"), WAIT).await?;

    step("pair through a countersign://pair deep link");
    let link = stack.invite("alice").await?;
    desktop::gio_open(&link)?;
    let who = s.wait_for(&testid("pair-approver"), WAIT).await?;
    assert!(s.text(&who).await?.contains("Alice Example"));
    let server = s
        .text(&s.wait_for(&testid("pair-server"), WAIT).await?)
        .await?;
    assert_eq!(server, stack.url);
    snap(&s, &shot("01-pair-confirm")).await?;
    s.click_selector(&testid("pair-confirm-button"), WAIT)
        .await?;
    s.wait_for(&testid("inbox"), WAIT).await?;

    step("the key is in the keychain and nowhere on disk");
    let secret = desktop::keychain_secret(&keychain_account(&data_dir)?)?
        .expect("the device key is in the Secret Service");
    assert_eq!(secret.len(), 43, "32-byte seed in base64url");
    // Nowhere on disk: not in the pairing list, the web view's storage and caches, the
    // desktop files, in base64url, hex or raw bytes.
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&secret)?;
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    for dir in [
        data_dir.clone(),
        env_path("XDG_DATA_HOME"),
        env_path("XDG_CONFIG_HOME"),
        env_path("XDG_CACHE_HOME"),
    ] {
        for needle in [secret.as_bytes(), hex.as_bytes(), &raw[..]] {
            assert_eq!(
                desktop::dir_contains(&dir, needle)?,
                None,
                "key material under {dir:?}"
            );
        }
    }

    step("a live request appears in the inbox, with a notification");
    let reason =
        "Customer #8812 was charged twice for order A-1042; refund the duplicate EUR 19.99";
    let p1 = stack
        .pending_request(
            "/v1/refunds",
            reason,
            serde_json::json!({"order": "A-1042", "amount": 1999, "currency": "EUR"}),
        )
        .await;
    let id1 = p1.approval_id.to_string();
    s.wait_for(&format!("[data-approval-id=\"{id1}\"]"), WAIT)
        .await?;
    monitor.wait_for("Customer #8812", WAIT).await?;
    desktop::wait_for_window("Countersign Wallet (1 pending)", WAIT).await?;
    let progress = s
        .text(&s.wait_for(&testid("row-progress"), WAIT).await?)
        .await?;
    assert_eq!(progress, "0 of 1 approval");
    snap(&s, &shot("02-inbox")).await?;

    step("open it, approve, and the agent receives the provider's answer");
    open_row(&s, &id1).await?;
    let shown = s.text(&s.wait_for(&testid("reason"), WAIT).await?).await?;
    assert_eq!(shown, reason);
    // The demo policy's one gate, with who is still needed.
    let gate = s.text(&s.wait_for(&testid("gate"), WAIT).await?).await?;
    assert!(
        gate.contains("support-leads 0 of 1") && gate.contains("still needed: alice"),
        "gate line: {gate:?}"
    );
    // Nothing of this kind was approved before: said at the top.
    s.wait_for(&testid("novelty"), WAIT).await?;
    let news = novelties(&s).await?;
    assert!(
        news.iter()
            .any(|n| n.starts_with("no request of this kind") && n.ends_with("was approved before")),
        "what is new: {news:?}"
    );
    snap(&s, &shot("03-review")).await?;
    let waiter = tokio::spawn(async move { p1.wait(Duration::from_secs(30)).await });
    approve_when_seen(&s).await?;
    let result = waiter.await??;
    assert!(
        (200..300).contains(&result.status()),
        "provider status {}",
        result.status()
    );
    s.wait_until(
        "the outcome",
        "const o = document.querySelector('[data-testid=outcome-text]'); return !!o && o.textContent === 'Executed.'",
        WAIT,
    )
    .await?;
    snap(&s, &shot("04-outcome")).await?;
    assert_eq!(stack.provider.calls().len(), 1, "executed exactly once");

    step("a second refund of the same kind is approved: a history to compare with");
    let p1b = stack
        .pending_request(
            "/v1/refunds",
            "Refund order A-1043, damaged in transit",
            serde_json::json!({"order": "A-1043", "amount": 1500, "currency": "EUR"}),
        )
        .await;
    s.click_selector(&testid("nav-inbox"), WAIT).await?;
    open_row(&s, &p1b.approval_id.to_string()).await?;
    let waiter = tokio::spawn(async move { p1b.wait(Duration::from_secs(30)).await });
    approve_when_seen(&s).await?;
    waiter.await??;
    assert_eq!(stack.provider.calls().len(), 2);

    step("deny with a comment, opened by a deep link to the running Wallet");
    let p2 = stack
        .pending_request(
            "/v1/refunds",
            "Refund order A-2000 in full",
            serde_json::json!({"order": "A-2000", "amount": 199900, "currency": "EUR"}),
        )
        .await;
    desktop::gio_open(&p2.approval_url)?;
    s.wait_until(
        "the review of the linked request",
        "const r = document.querySelector('[data-testid=reason]'); return !!r && r.textContent === 'Refund order A-2000 in full'",
        WAIT,
    )
    .await?;
    // Far larger than any refund approved before: said at the top, as a warning.
    s.wait_for(&testid("novelty"), WAIT).await?;
    let news = novelties(&s).await?;
    assert!(
        news.iter()
            .any(|n| n == "/amount 199900 is 100× the largest approved (1999)"),
        "what is new: {news:?}"
    );
    snap(&s, &shot("09-what-is-new")).await?;
    let comment = s.wait_for(&testid("comment"), WAIT).await?;
    s.type_text(&comment, "Order A-2000 was already refunded")
        .await?;
    s.click_selector(&testid("deny"), WAIT).await?;
    match p2.wait(Duration::from_secs(30)).await {
        Err(SdkError::Denied { comment, .. }) => {
            assert_eq!(
                comment.as_deref(),
                Some("Order A-2000 was already refunded")
            )
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    assert_eq!(
        stack.provider.calls().len(),
        2,
        "a denied call is never sent"
    );

    step("a ~600 kB JSON body: Approve waits until its end was seen; a duplicate key is flagged");
    let items: Vec<String> = (0..2550)
        .map(|i| {
            format!(
                r#"{{"sku":"S-{i:05}","qty":1,"note":"{}"}}"#,
                "line item note ".repeat(13)
            )
        })
        .collect();
    let big = format!(
        r#"{{"order":"A-6000","amount":1999,"currency":"EUR","items":[{}],"amount":199900}}"#,
        items.join(",")
    );
    assert!(
        (550_000..700_000).contains(&big.len()),
        "{} bytes",
        big.len()
    );
    let agent = stack.agent()?;
    let request = ProxyRequest::post("payments", "/v1/refunds", "Refund order A-6000, itemised")
        .header("content-type", "application/json")
        .body(big.clone().into_bytes());
    let p6 = match agent.proxy_request(request).await? {
        ProxyOutcome::Pending(p) => p,
        ProxyOutcome::Completed(_) => panic!("the refund ran without approval"),
    };
    s.click_selector(&testid("nav-inbox"), WAIT).await?;
    open_row(&s, &p6.approval_id.to_string()).await?;
    s.wait_for(&testid("body-scroll"), WAIT).await?;
    let dup = s
        .text(&s.wait_for(&testid("body-duplicates"), WAIT).await?)
        .await?;
    assert!(dup.contains("“amount”"), "duplicates: {dup:?}");
    // A new field in each of the 2,550 items is said once.
    let news = novelties(&s).await?;
    assert_eq!(
        news.iter()
            .filter(|n| *n == "field /items/*/note was never sent before")
            .count(),
        1,
        "what is new: {news:?}"
    );
    let state = "const p = document.querySelector('.paged-body');
         const a = document.querySelector('[data-testid=approve]');
         return { seen: Number(p.dataset.pagesSeen), pages: Number(p.dataset.pages),
                  end: p.dataset.atEnd === 'true', disabled: a.disabled,
                  gate: document.querySelector('[data-testid=approve-gate]').textContent,
                  first: Number(p.dataset.pageFirst), last: Number(p.dataset.pageLast),
                  inDom: document.querySelectorAll('.body-page').length,
                  dups: [...document.querySelectorAll('.json-line.duplicate')].map(l => l.textContent) };";
    let first = s.execute(state).await?;
    eprintln!("large body at first: {first}");
    assert_eq!(
        first["disabled"], true,
        "Approve is disabled before the end is seen"
    );
    assert_eq!(first["seen"], 1);
    let pages = first["pages"].as_u64().unwrap();
    assert!(pages > 20, "{pages} pages of 500 lines");
    assert!(first["gate"].as_str().unwrap().contains(&format!(
        "read the whole body first: 1 of {pages} pages seen"
    )));
    assert_eq!(
        first["dups"].as_array().unwrap().len(),
        1,
        "the first amount, on the first page"
    );
    assert!(first["dups"][0].as_str().unwrap().contains("1999"));
    s.execute("document.querySelector('[data-testid=approve]').scrollIntoView({block: 'end'}); return true")
        .await?;
    snap(&s, &shot("10-large-body-unseen")).await?;
    // Pressing Approve now does nothing: nothing is signed.
    s.execute("document.querySelector('[data-testid=approve]').click(); return true")
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        stack
            .agent()?
            .approval(p6.approval_id)
            .await?
            .status
            .as_str(),
        "pending"
    );
    // Scroll the body to its end, page after page.
    let mut last = first;
    for _ in 0..(pages * 4 + 50) {
        last = s
            .execute(&format!(
                "const b = document.querySelector('[data-testid=body-scroll]');
                 b.scrollTop = b.scrollHeight; b.dispatchEvent(new Event('scroll'));
                 {state}"
            ))
            .await?;
        if last["disabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("large body at the end: {last}");
    assert_eq!(last["end"], true);
    assert_eq!(last["seen"].as_u64(), Some(pages));
    assert_eq!(
        last["disabled"], false,
        "Approve enabled once the end was seen"
    );
    assert_eq!(last["last"].as_u64(), Some(pages - 1));
    assert!(
        last["inDom"].as_u64().unwrap() <= 3,
        "only a window of pages is drawn: {last}"
    );
    let dups = last["dups"].as_array().unwrap();
    assert!(
        dups.len() == 1 && dups[0].as_str().unwrap().contains("199900"),
        "the last amount flagged on the last page: {last}"
    );
    // Scrolling back up brings the earlier pages back, down to the first; the end stays seen.
    for _ in 0..(pages * 4 + 50) {
        last = s
            .execute(&format!(
                "const b = document.querySelector('[data-testid=body-scroll]');
                 b.scrollTop = 0; b.dispatchEvent(new Event('scroll'));
                 {state}"
            ))
            .await?;
        if last["first"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("large body scrolled back up: {last}");
    assert_eq!(last["first"], 0, "the first page is back");
    assert!(last["inDom"].as_u64().unwrap() <= 3);
    assert!(last["dups"][0].as_str().unwrap().contains("1999"));
    assert_eq!(
        (last["end"].clone(), last["disabled"].clone()),
        (true.into(), false.into())
    );
    s.execute("document.querySelector('[data-testid=approve]').scrollIntoView({block: 'end'}); return true")
        .await?;
    snap(&s, &shot("11-large-body-seen")).await?;
    let waiter = tokio::spawn(async move { p6.wait(Duration::from_secs(30)).await });
    approve_when_seen(&s).await?;
    waiter.await??;
    s.wait_until(
        "the outcome of the large body",
        "const o = document.querySelector('[data-testid=outcome-text]'); return !!o",
        WAIT,
    )
    .await?;

    step("a form body is shown as a table, its duplicate name flagged");
    let request = ProxyRequest::post("payments", "/v1/refunds", "Refund by form")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"to=Bob%20Smith&amount=100&amount=100000".to_vec());
    let p7 = match stack.agent()?.proxy_request(request).await? {
        ProxyOutcome::Pending(p) => p,
        ProxyOutcome::Completed(_) => panic!("the refund ran without approval"),
    };
    s.click_selector(&testid("nav-inbox"), WAIT).await?;
    open_row(&s, &p7.approval_id.to_string()).await?;
    s.wait_for(&testid("form-table"), WAIT).await?;
    let rows = s
        .execute(
            "return [...document.querySelectorAll('[data-testid=form-row]')].map(r =>
               ({ text: [...r.cells].slice(0, 2).map(c => c.textContent), dup: r.classList.contains('duplicate') }))",
        )
        .await?;
    eprintln!("form rows: {rows}");
    assert_eq!(
        rows,
        serde_json::json!([
            {"text": ["to", "Bob Smith"], "dup": false},
            {"text": ["amount (duplicate)", "100"], "dup": true},
            {"text": ["amount (duplicate)", "100000"], "dup": true},
        ])
    );
    snap(&s, &shot("12-form")).await?;
    s.click_selector(&testid("deny"), WAIT).await?;
    assert!(matches!(
        p7.wait(Duration::from_secs(30)).await,
        Err(SdkError::Denied { .. })
    ));

    step("a hostile reason renders inert, with hidden characters revealed");
    let hostile = format!(
        "<script>document.title='pwned'</script><img src=x onerror=alert(1)> Refund \u{202E}0001$\u{202C} to {}",
        "A".repeat(10_000)
    );
    let p3 = stack
        .pending_request(
            "/v1/refunds",
            &hostile,
            serde_json::json!({"note": "<b>bold?</b>"}),
        )
        .await;
    let scripts_before = s.execute("return document.scripts.length").await?;
    s.click_selector(&testid("nav-inbox"), WAIT).await?;
    open_row(&s, &p3.approval_id.to_string()).await?;
    s.wait_for(&testid("hidden-warning"), WAIT).await?;
    let inert = s
        .execute(
            "const r = document.querySelector('[data-testid=reason]');
             return {
               text: r.textContent.slice(0, 120),
               imgs: document.querySelectorAll('main img').length,
               scripts: document.scripts.length,
               title: document.title,
               len: r.textContent.length
             };",
        )
        .await?;
    eprintln!("hostile render: {inert}");
    assert!(inert["text"]
        .as_str()
        .unwrap()
        .starts_with("<script>document.title='pwned'</script><img"));
    assert!(inert["text"].as_str().unwrap().contains("⟨U+202E⟩"));
    assert_eq!(inert["imgs"], 0);
    assert_eq!(inert["scripts"], scripts_before);
    assert_ne!(inert["title"], "pwned");
    assert!(inert["len"].as_u64().unwrap() > 10_000);
    snap(&s, &shot("05-hostile")).await?;

    step("an approval link to a server that is not paired gets a clear screen, no pairing");
    desktop::gio_open(&format!(
        "countersign://approval/{}?server=http%3A%2F%2F127.0.0.1%3A9",
        p3.approval_id
    ))?;
    s.wait_for("[data-testid=\"error\"][data-code=\"not_paired\"]", WAIT)
        .await?;
    assert!(s.find(&testid("pair-confirm")).await?.is_none());
    snap(&s, &shot("06-not-paired")).await?;

    step("a notification's Review action brings the Wallet to that request (never approves)");
    // At most 5 notifications per 10 s: the steps before (quick now that the large body is
    // paged in constant time) may have used up the window; let it pass.
    tokio::time::sleep(Duration::from_secs(11)).await;
    desktop::close_notifications();
    let p5 = stack
        .pending_request(
            "/v1/refunds",
            "Refund order A-5000 after a courier loss",
            serde_json::json!({"order": "A-5000"}),
        )
        .await;
    monitor.wait_for("courier loss", WAIT).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    desktop::choose_notification_action()?;
    s.wait_until(
        "the review opened from the notification",
        "const r = document.querySelector('[data-testid=reason]'); return !!r && r.textContent === 'Refund order A-5000 after a courier loss'",
        WAIT,
    )
    .await?;
    let status = stack.agent()?.approval(p5.approval_id).await?;
    assert_eq!(
        status.status.as_str(),
        "pending",
        "nothing is approved from a notification"
    );

    step("a summary notification's Review action brings the Wallet to the inbox");
    // A burst of more requests than are notified one by one: the first few are shown (and
    // closed here), the rest come as one summary once the throttle's window has passed. The
    // steps before may have used up the current window (they run quickly): let it pass first.
    tokio::time::sleep(Duration::from_secs(11)).await;
    desktop::close_notifications();
    // A summary may have been sent already (when the steps before overflowed the throttle):
    // wait for a new one.
    let summaries_before = monitor.count("more approval request")?;
    for i in 0..=countersign_wallet::wallet::NOTIFY_BURST {
        stack
            .pending_request(
                "/v1/refunds",
                &format!("Flood request {i} of a burst"),
                serde_json::json!({"flood": i}),
            )
            .await;
    }
    monitor.wait_for("Flood request 0", WAIT).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    desktop::close_notifications();
    monitor
        .wait_for_more(
            "more approval request",
            summaries_before,
            Duration::from_secs(40),
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        s.find(&testid("inbox")).await?.is_none(),
        "still on the review"
    );
    desktop::choose_notification_action()?;
    s.wait_until(
        "the inbox shown from the summary notification",
        "return !!document.querySelector('[data-testid=inbox]')",
        WAIT,
    )
    .await?;

    step("history is searchable");
    s.click_selector(&testid("nav-history"), WAIT).await?;
    s.wait_for(&testid("history-row"), WAIT).await?;
    snap(&s, &shot("07-history")).await?;

    step("closing the window keeps the Wallet running; a deep link brings it back");
    let old = s.window_handles().await?;
    desktop::close_window("Countersign Wallet").await?;
    desktop::gio_open(&p5.approval_url)?;
    wait_visible().await?;
    // The same WebDriver session drives the new window: the app lived on with its window
    // destroyed (tests/tray.rs checks its web process went), and the link opened a new one
    // on its request (the closed view was on the history page).
    s.switch_to_new_window(&old, WAIT).await?;
    s.wait_until(
        "the linked request in the re-shown window",
        "const r = document.querySelector('[data-testid=reason]'); return !!r && r.textContent === 'Refund order A-5000 after a courier loss'",
        WAIT,
    )
    .await?;
    s.quit().await?;

    step("a fresh start with an approval link opens that request");
    let p4 = stack
        .pending_request(
            "/v1/refunds",
            "Refund order A-3000",
            serde_json::json!({"order": "A-3000"}),
        )
        .await;
    let s = Session::start(
        &desktop::driver_url(),
        &app,
        std::slice::from_ref(&p4.approval_url),
    )
    .await?;
    s.wait_until(
        "the review at start-up",
        "const r = document.querySelector('[data-testid=reason]'); return !!r && r.textContent === 'Refund order A-3000'",
        WAIT,
    )
    .await?;
    snap(&s, &shot("08-fresh-start-link")).await?;

    step("a flood of requests: the inbox draws only what is in view, and the oldest is reachable");
    const FLOOD: usize = 400;
    let oldest = stack
        .pending_request(
            "/v1/refunds",
            "The oldest request, under the flood",
            serde_json::json!({"order": "A-7000"}),
        )
        .await;
    let agent = stack.agent()?;
    let mut newest_flood = None;
    for i in 0..FLOOD {
        let request = ProxyRequest::post("payments", "/v1/refunds", format!("Flood refund {i}"))
            .json(&serde_json::json!({"i": i}))?;
        if let ProxyOutcome::Pending(p) = agent.proxy_request(request).await? {
            newest_flood = Some(p.approval_id);
        }
    }
    let newest_flood = newest_flood.expect("the flood is pending");
    desktop::close_notifications();
    s.click_selector(&testid("nav-inbox"), WAIT).await?;
    s.wait_until(
        "the whole flood counted",
        &format!(
            "const c = document.querySelector('[data-testid=inbox-count]');
             return !!c && Number(c.textContent) >= {}",
            FLOOD + 1
        ),
        WAIT,
    )
    .await?;
    let drawn = s
        .execute("return document.querySelectorAll('[data-testid=inbox-row]').length")
        .await?
        .as_u64()
        .unwrap_or(0);
    assert!(
        drawn > 0 && drawn < 60,
        "only the rows near the viewport are drawn: {drawn}"
    );
    open_row(&s, &oldest.approval_id.to_string()).await?;
    s.wait_until(
        "the oldest request's review",
        "const r = document.querySelector('[data-testid=reason]'); return !!r && r.textContent === 'The oldest request, under the flood'",
        WAIT,
    )
    .await?;
    s.quit().await?;

    step("a fresh start under the flood: rows at once, marked syncing until the list is whole; a request withdrawn while the Wallet was closed is never shown");
    let withdrawn = stack
        .pending_request(
            "/v1/refunds",
            "Withdrawn while the Wallet was closed",
            serde_json::json!({"order": "A-7001"}),
        )
        .await;
    withdrawn.cancel().await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let s = Session::start(&desktop::driver_url(), &app, &[]).await?;
    s.wait_until(
        "the first rows of a fresh start",
        "return !!document.querySelector('li.vrow[data-index=\"0\"] [data-testid=inbox-row]')",
        WAIT,
    )
    .await?;
    let first = s
        .execute(
            "return document.querySelector('li.vrow[data-index=\"0\"] [data-testid=inbox-row]').dataset.approvalId",
        )
        .await?;
    assert_eq!(
        first.as_str(),
        Some(newest_flood.to_string().as_str()),
        "the newest pending request first, not the withdrawn one"
    );
    s.wait_until(
        "the whole list synced",
        &format!(
            "const c = document.querySelector('[data-testid=inbox-count]');
             const sync = document.querySelector('[data-testid=inbox-syncing]');
             return !!c && Number(c.textContent) >= {} && !!sync && sync.hidden",
            FLOOD + 1
        ),
        WAIT,
    )
    .await?;
    let shown = s
        .execute(&format!(
            "return !!document.querySelector('[data-approval-id=\"{}\"]')",
            withdrawn.approval_id
        ))
        .await?;
    assert_eq!(
        shown,
        serde_json::Value::Bool(false),
        "the withdrawn request is not shown"
    );
    open_row(&s, &oldest.approval_id.to_string()).await?;
    s.wait_until(
        "the oldest request's review after a fresh start",
        "const r = document.querySelector('[data-testid=reason]'); return !!r && r.textContent === 'The oldest request, under the flood'",
        WAIT,
    )
    .await?;
    s.quit().await?;

    two_identities(&app, &data_dir, &monitor, &shot("13-pairings")).await?;

    stack.stop().await;
    Ok(())
}

/// Two pairings of one service (alice and the on-call approver of a second service) in the
/// running Wallet: each receives its own requests, decides as itself; removing one deletes its
/// keychain entry and leaves the other working.
async fn two_identities(
    app: &Path,
    data_dir: &Path,
    monitor: &NotifyMonitor,
    shot: &Path,
) -> anyhow::Result<()> {
    step("two pairings of one service each receive their own requests; removing one leaves the other working");
    let stack = Stack::start_two_approvers().await?;
    // Starting under the flood notifies its first requests and summarises the rest once the
    // throttle's window has passed; the requests below come after that summary.
    let summaries = monitor.count("more approval request")?;
    let s = Session::start(&desktop::driver_url(), app, &[]).await?;
    s.wait_for(&testid("inbox"), WAIT).await?;
    for (who, name) in [("alice", "Alice Example"), (ON_CALL, "On Call")] {
        desktop::gio_open(&stack.invite(who).await?)?;
        s.wait_until(
            &format!("the pairing confirmation for {who}"),
            &format!(
                "const a = document.querySelector('[data-testid=pair-approver]'); return !!a && a.textContent.includes({})",
                serde_json::to_string(name)?
            ),
            WAIT,
        )
        .await?;
        if who == ON_CALL {
            // Said before confirming: another approver of this service is paired already.
            s.wait_for(&testid("pair-beside"), WAIT).await?;
        }
        s.click_selector(&testid("pair-confirm-button"), WAIT)
            .await?;
        s.wait_for(&testid("inbox"), WAIT).await?;
    }
    monitor
        .wait_for_more("more approval request", summaries, Duration::from_secs(60))
        .await?;
    let alice = pairing_of(data_dir, &stack.url, "alice")?;
    let on_call = pairing_of(data_dir, &stack.url, ON_CALL)?;
    assert_ne!(alice.account, on_call.account);
    for p in [&alice, &on_call] {
        assert!(
            desktop::keychain_secret(&p.account)?.is_some(),
            "each pairing has its own keychain entry"
        );
    }

    // Each receives its own: refunds go to alice, payouts to the on-call approver.
    let refund = stack
        .pending_at("/v1/refunds", "Refund for alice, second service")
        .await;
    let payout = stack.pending_at("/v1/payouts", "Payout for on-call").await;
    for (request, pairing) in [(&refund, &alice), (&payout, &on_call)] {
        s.wait_for(
            &format!(
                "[data-testid=inbox-row][data-approval-id=\"{}\"][data-pairing=\"{}\"]",
                request.approval_id, pairing.id
            ),
            WAIT,
        )
        .await?;
    }
    monitor.wait_for("for On Call", WAIT).await?;

    // The list shows both, with fingerprint and last contact.
    s.click_selector(&testid("nav-pairings"), WAIT).await?;
    s.wait_until(
        "both pairings listed with fingerprint and last contact",
        &format!(
            // Inbox rows carry data-pairing too, and may still be drawn: only the list's.
            "return [{:?}, {:?}].every(id => {{ const li = document.querySelector(`[data-testid=pairings] [data-pairing=\"${{id}}\"]`); return !!li && !!li.querySelector('[data-testid=pairing-fingerprint]')?.textContent.startsWith('SHA256:') && !!li.querySelector('[data-testid=pairing-contact]')?.textContent.startsWith('last contact'); }})",
            alice.id, on_call.id
        ),
        WAIT,
    )
    .await?;
    snap(&s, shot).await?;

    // The on-call request is decided as the on-call approver.
    s.click_selector(&testid("nav-inbox"), WAIT).await?;
    deny_as(&s, &payout, &on_call, "not tonight").await?;

    // Notifications off for one pairing, through the settings screen (saved to the file).
    s.click_selector(&testid("nav-settings"), WAIT).await?;
    let toggle = format!(
        "[data-testid=notify-toggle][data-pairing=\"{}\"]",
        on_call.id
    );
    s.click_selector(&toggle, WAIT).await?;
    s.wait_until(
        "the toggle shown off",
        &format!(
            "const t = document.querySelector('{}'); return !!t && !t.checked",
            toggle.replace('\'', "\\'")
        ),
        WAIT,
    )
    .await?;
    // A checkbox shows its new state on the click itself, before the Wallet has saved it:
    // the file is what says it was saved.
    let start = std::time::Instant::now();
    loop {
        let settings = std::fs::read_to_string(data_dir.join("settings.json")).unwrap_or_default();
        if settings.contains(&on_call.id) {
            break;
        }
        anyhow::ensure!(
            start.elapsed() < WAIT,
            "the setting was never saved: {settings:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.click_selector(&toggle, WAIT).await?;

    // Removing alice's pairing deletes its keychain entry; the on-call one goes on.
    s.click_selector(&testid("nav-pairings"), WAIT).await?;
    s.click(
        &s.wait_for(
            &format!(
                "[data-pairing=\"{}\"] [data-testid=pairing-remove]",
                alice.id
            ),
            WAIT,
        )
        .await?,
    )
    .await?;
    s.wait_until(
        "the pairing gone from the list",
        &format!(
            "return !document.querySelector('[data-pairing=\"{}\"]') && !!document.querySelector('[data-pairing=\"{}\"]')",
            alice.id, on_call.id
        ),
        WAIT,
    )
    .await?;
    assert_eq!(
        desktop::keychain_secret(&alice.account)?,
        None,
        "the removed pairing's key is deleted"
    );
    assert!(desktop::keychain_secret(&on_call.account)?.is_some());
    let _unseen = stack
        .pending_at("/v1/refunds", "A refund for the removed pairing")
        .await;
    let payout2 = stack
        .pending_at("/v1/payouts", "Second payout for on-call")
        .await;
    s.click_selector(&testid("nav-inbox"), WAIT).await?;
    deny_as(&s, &payout2, &on_call, "still not tonight").await?;
    // The newest rows are at the top: the removed pairing's refunds would be there.
    s.click_selector(&testid("nav-inbox"), WAIT).await?;
    s.wait_for(&testid("inbox-row"), WAIT).await?;
    let stale = s
        .execute(&format!(
            "return !!document.querySelector('[data-pairing=\"{}\"]')",
            alice.id
        ))
        .await?;
    assert_eq!(
        stale,
        serde_json::Value::Bool(false),
        "nothing of the removed pairing is shown"
    );
    s.quit().await?;
    stack.stop().await;
    Ok(())
}

/// Opens the inbox row of `request` for `pairing`, checks it is shown as that approver, and
/// denies it with `comment`; the agent's wait ends denied.
async fn deny_as(
    s: &Session,
    request: &countersign_sdk::PendingApproval,
    pairing: &PairingOf,
    comment: &str,
) -> anyhow::Result<()> {
    let row = s
        .wait_for(
            &format!(
                "[data-testid=inbox-row][data-approval-id=\"{}\"][data-pairing=\"{}\"]",
                request.approval_id, pairing.id
            ),
            WAIT,
        )
        .await?;
    s.click(&row).await?;
    let as_who = s.wait_for(&testid("deciding-as"), WAIT).await?;
    assert_eq!(s.text(&as_who).await?, "On Call");
    s.type_text(&s.wait_for(&testid("comment"), WAIT).await?, comment)
        .await?;
    s.click_selector(&testid("deny"), WAIT).await?;
    match request.wait(Duration::from_secs(30)).await {
        Err(SdkError::Denied { comment: c, .. }) => assert_eq!(c.as_deref(), Some(comment)),
        other => panic!("expected a denial, got {other:?}"),
    }
    Ok(())
}

/// One pairing as the Wallet's pairing list records it.
struct PairingOf {
    id: String,
    account: String,
}

/// The pairing of `approver` on `server`, from the Wallet's pairing list.
fn pairing_of(data_dir: &Path, server: &str, approver: &str) -> anyhow::Result<PairingOf> {
    let text = std::fs::read_to_string(data_dir.join("pairings.json"))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    let found = v["pairings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["server"].as_str().map(|s| s.trim_end_matches('/'))
                == Some(server.trim_end_matches('/'))
                && p["approver_id"] == approver
        })
        .ok_or_else(|| anyhow::anyhow!("no pairing of {approver} at {server}: {text}"))?;
    Ok(PairingOf {
        id: found["id"].as_str().unwrap_or_default().to_string(),
        account: found["key_account"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    })
}

/// Waits until the Wallet's window is shown (mapped).
async fn wait_visible() -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    while !desktop::window_visible("^Countersign Wallet")? {
        anyhow::ensure!(
            start.elapsed() < WAIT,
            "the Wallet window did not become visible"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// The keychain account of the first pairing, from the Wallet's pairing list.
fn keychain_account(data_dir: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(data_dir.join("pairings.json"))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    // The keychain account is a random local name recorded with the pairing.
    v["pairings"][0]["key_account"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no key_account in pairings.json: {text}"))
}
