//! The view's commands, by name: each parses its arguments (as the view sends them: an object
//! with camelCase keys) and calls the Wallet, like the Tauri commands did before the split.
//! An unknown name or arguments that do not fit answer with an error
//! ([`codes::UNKNOWN_COMMAND`], [`codes::BAD_ARGUMENTS`]); nothing panics on input.
//!
//! Nothing here signs by itself: `decide` names a request the Wallet fetched and verified (by
//! the pairing's local id and the approval id), and echoes the digest the view showed; the
//! Wallet signs its own verified statement with that pairing's key.

use crate::app::App;
use crate::autostart::{Autostart, AutostartError};
use countersign_core::{ServerUrl, Verdict};
use countersign_wallet::channel::{codes, error_body};
use countersign_wallet::error::ErrorBody;
use countersign_wallet::model::QuietHoursView;
use countersign_wallet::registry::PairingId;
use countersign_wallet::{Wallet, WalletError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// The commands [`dispatch`] knows: the window's ACL (`src-tauri/commands.rs.in`) grants the
/// view exactly these.
pub const COMMANDS: &[&str] = &[
    "ui_ready",
    "inbox",
    "pairings",
    "open_link",
    "preview_pairing",
    "confirm_pairing",
    "remove_pairing",
    "settings",
    "set_notifications",
    "set_quiet_hours",
    "review",
    "body_seen",
    "body_page",
    "decide",
    "history",
    "history_page",
    "start_at_login",
    "set_start_at_login",
];

type Outcome = Result<Value, ErrorBody>;

fn parse<T: DeserializeOwned>(command: &str, args: Value) -> Result<T, ErrorBody> {
    // A command without arguments may be sent `null` or `{}`.
    let args = if args.is_null() {
        Value::Object(Default::default())
    } else {
        args
    };
    serde_json::from_value(args).map_err(|e| {
        error_body(
            codes::BAD_ARGUMENTS,
            format!("bad arguments for {command}: {e}"),
        )
    })
}

fn reply<T: Serialize>(value: T) -> Outcome {
    serde_json::to_value(value).map_err(|e| error_body(codes::CHANNEL, e.to_string()))
}

fn wallet_reply<T: Serialize>(result: Result<T, WalletError>) -> Outcome {
    match result {
        Ok(v) => reply(v),
        Err(e) => Err(ErrorBody {
            code: e.code().to_owned(),
            message: e.to_string(),
        }),
    }
}

fn server(text: &str) -> Result<ServerUrl, ErrorBody> {
    ServerUrl::parse(text).map_err(|e| {
        let e = WalletError::from(e);
        ErrorBody {
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    offset: u32,
    limit: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Link {
    link: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Invitation {
    server_url: String,
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pairing {
    pairing: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Request {
    pairing: String,
    approval_id: Uuid,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Shown {
    pairing: String,
    approval_id: Uuid,
    shown_digest: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ShownPage {
    pairing: String,
    approval_id: Uuid,
    shown_digest: String,
    index: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Decision {
    pairing: String,
    approval_id: Uuid,
    verdict: Verdict,
    #[serde(default)]
    comment: Option<String>,
    shown_digest: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Search {
    query: String,
    limit: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchPage {
    search: u64,
    offset: u32,
    limit: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Enabled {
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotificationsFor {
    pairing: String,
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Hours {
    hours: Option<QuietHoursView>,
}

/// Runs the view's command `command` with `args`.
pub async fn dispatch(app: &App, command: &str, args: Value) -> Outcome {
    if command == "ui_ready" {
        parse::<NoArgs>(command, args)?;
        return reply(app.view_ready());
    }
    if command == "start_at_login" {
        parse::<NoArgs>(command, args)?;
        return autostart_reply(app.autostart().map(|a| a.enabled()));
    }
    if command == "set_start_at_login" {
        let a: Enabled = parse(command, args)?;
        return autostart_reply(set_start_at_login(app, a.enabled));
    }
    let Some(wallet) = app.wallet() else {
        return Err(error_body(codes::CHANNEL, "the Wallet is still starting"));
    };
    run(wallet, command, args).await
}

async fn run(w: &Wallet, command: &str, args: Value) -> Outcome {
    match command {
        "inbox" => {
            let a: Page = parse(command, args)?;
            reply(w.inbox_page(a.offset, a.limit))
        }
        "pairings" => {
            parse::<NoArgs>(command, args)?;
            reply(w.pairings())
        }
        "open_link" => {
            let a: Link = parse(command, args)?;
            wallet_reply(w.open_link(&a.link).await)
        }
        "preview_pairing" => {
            let a: Invitation = parse(command, args)?;
            wallet_reply(w.preview_pairing(&server(&a.server_url)?, &a.code).await)
        }
        "confirm_pairing" => {
            let a: Invitation = parse(command, args)?;
            wallet_reply(w.confirm_pairing(&server(&a.server_url)?, &a.code).await)
        }
        "remove_pairing" => {
            let a: Pairing = parse(command, args)?;
            wallet_reply(w.remove_pairing(&PairingId::named(a.pairing)).await)
        }
        "review" => {
            let a: Request = parse(command, args)?;
            wallet_reply(w.review(&PairingId::named(a.pairing), a.approval_id).await)
        }
        "body_seen" => {
            let a: Shown = parse(command, args)?;
            let id = PairingId::named(a.pairing);
            wallet_reply(w.body_seen(&id, a.approval_id, &a.shown_digest).await)
        }
        "body_page" => {
            let a: ShownPage = parse(command, args)?;
            let id = PairingId::named(a.pairing);
            wallet_reply(
                w.body_page(&id, a.approval_id, &a.shown_digest, a.index)
                    .await,
            )
        }
        "decide" => {
            let a: Decision = parse(command, args)?;
            let id = PairingId::named(a.pairing);
            wallet_reply(
                w.decide(&id, a.approval_id, a.verdict, a.comment, &a.shown_digest)
                    .await,
            )
        }
        "history" => {
            let a: Search = parse(command, args)?;
            wallet_reply(w.history_search(&a.query, a.limit).await)
        }
        "history_page" => {
            let a: SearchPage = parse(command, args)?;
            wallet_reply(w.history_page(a.search, a.offset, a.limit))
        }
        "settings" => {
            parse::<NoArgs>(command, args)?;
            reply(w.settings())
        }
        "set_notifications" => {
            let a: NotificationsFor = parse(command, args)?;
            wallet_reply(w.set_notifications(&PairingId::named(a.pairing), a.enabled))
        }
        "set_quiet_hours" => {
            let a: Hours = parse(command, args)?;
            wallet_reply(w.set_quiet_hours(a.hours))
        }
        other => Err(error_body(
            codes::UNKNOWN_COMMAND,
            format!("the Wallet has no command {other:?}"),
        )),
    }
}

fn set_start_at_login(app: &App, enabled: bool) -> Result<bool, AutostartError> {
    let entry = app.autostart()?;
    if enabled {
        let exe = std::env::current_exe().map_err(|source| AutostartError::Io {
            path: "the Wallet's executable".into(),
            source,
        })?;
        entry.enable(&exe, &app.config().product_name)?;
    } else {
        entry.disable()?;
    }
    Ok(entry.enabled())
}

fn autostart_reply(result: Result<bool, AutostartError>) -> Outcome {
    match result {
        Ok(v) => reply(v),
        Err(e) => Err(error_body("autostart", e.to_string())),
    }
}

impl App {
    /// The start-at-login entry of this Wallet.
    pub fn autostart(&self) -> Result<Autostart, AutostartError> {
        Autostart::for_user(&self.config().identifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::AppConfig;
    use crate::window::WindowExe;
    use countersign_wallet::notify::RecordingNotifier;
    use countersign_wallet::source::HttpConnector;
    use countersign_wallet::sync::SyncConfig;
    use countersign_wallet::wallet::SystemClock;
    use countersign_wallet::{MemoryKeyStore, WalletConfig, WalletParts};
    use serde_json::json;
    use std::sync::Arc;

    async fn app(dir: &std::path::Path) -> Arc<App> {
        let app = App::new(
            AppConfig {
                data_dir: dir.to_path_buf(),
                identifier: "dev.countersign.wallet.test".into(),
                product_name: "Countersign Wallet".into(),
                window: WindowExe("/nonexistent/countersign-wallet-window".into()),
            },
            tokio::runtime::Handle::current(),
        );
        let wallet = Wallet::start(WalletParts {
            config: WalletConfig {
                data_dir: dir.to_path_buf(),
                device_name: "dispatch test".into(),
                sync: SyncConfig::default(),
            },
            connector: Arc::new(HttpConnector::with_defaults().unwrap()),
            keys: Arc::new(MemoryKeyStore::default()),
            notifier: Arc::new(RecordingNotifier::default()),
            observer: app.observer(),
            clock: Arc::new(SystemClock),
        })
        .await
        .unwrap();
        app.set_wallet(wallet);
        app
    }

    #[tokio::test]
    async fn commands_run_by_name_with_the_views_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path()).await;
        let page = dispatch(&app, "inbox", json!({"offset": 0, "limit": 50}))
            .await
            .unwrap();
        assert_eq!(page["count"], 0);
        assert_eq!(dispatch(&app, "pairings", json!({})).await, Ok(json!([])));
        assert_eq!(dispatch(&app, "ui_ready", Value::Null).await, Ok(json!([])));
        // A Wallet error keeps its code.
        let e = dispatch(
            &app,
            "review",
            json!({"pairing": "p-none", "approvalId": Uuid::nil()}),
        )
        .await
        .unwrap_err();
        assert_eq!(e.code, "unknown_pairing");
        let e = dispatch(&app, "open_link", json!({"link": "https://x"}))
            .await
            .unwrap_err();
        assert_eq!(e.code, "malformed_link");
    }

    #[tokio::test]
    async fn unknown_commands_and_bad_arguments_are_errors_not_crashes() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path()).await;
        for (command, args) in [
            ("inbox", json!({"offset": -1, "limit": 5})),
            ("inbox", json!({"offset": 0})),
            ("inbox", json!("0,5")),
            ("pairings", json!({"extra": 1})),
            (
                "decide",
                json!({"pairing": "p", "approvalId": "not-a-uuid", "verdict": "approve", "shownDigest": "d"}),
            ),
            (
                "decide",
                json!({"pairing": "p", "approvalId": Uuid::nil(), "verdict": "sign-anyway", "shownDigest": "d"}),
            ),
            // Snake-case keys are not the view's: refused, not ignored.
            (
                "review",
                json!({"pairing": "p", "approval_id": Uuid::nil()}),
            ),
            ("set_quiet_hours", json!({"hours": {"from": "22:00"}})),
        ] {
            let e = dispatch(&app, command, args.clone()).await.unwrap_err();
            assert_eq!(e.code, codes::BAD_ARGUMENTS, "{command} {args}");
        }
        for command in ["sign", "plugin:event|listen", "", "INBOX"] {
            let e = dispatch(&app, command, json!({})).await.unwrap_err();
            assert_eq!(e.code, codes::UNKNOWN_COMMAND, "{command}");
        }
    }

    #[tokio::test]
    async fn every_listed_command_is_dispatched() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path()).await;
        for command in COMMANDS {
            // Bad arguments on purpose (or none needed): never "unknown".
            if let Err(e) = dispatch(&app, command, json!({"bogus": true})).await {
                assert_ne!(e.code, codes::UNKNOWN_COMMAND, "{command}");
            }
        }
    }

    #[tokio::test]
    async fn a_view_navigation_waits_for_ui_ready() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path()).await;
        // No window process can start here (its executable does not exist): the link waits.
        app.handle_args(&["countersign://approval?x=1"]);
        assert!(!app.window_open());
        let waiting = dispatch(&app, "ui_ready", json!({})).await.unwrap();
        assert_eq!(
            waiting,
            json!([{"kind": "link", "link": "countersign://approval?x=1"}])
        );
    }
}
