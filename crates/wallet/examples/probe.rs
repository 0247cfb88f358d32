//! Exercises the Wallet's real OS integrations, for scripts/wallet-desktop-check.sh:
//!
//! - `probe keychain-save <account>`: makes a key, stores it in the Secret Service under that
//!   account name, prints its public key (base64url);
//! - `probe keychain-load <account>`: prints the stored key's public key;
//! - `probe keychain-delete <account>`;
//! - `probe notify <reason>`: shows the notification of a request with that reason, and waits up
//!   to 10 s for its "Review" action (prints `review <id>` when chosen).

use countersign_core::api::WalletApprovalSummary;
use countersign_core::keys::{encode_public_key, generate_signing_key};
use countersign_core::{ApprovalStatus, ServerUrl, Timestamp};
use countersign_wallet::inbox::InboxItem;
use countersign_wallet::keystore::{KeyAccount, KeyStore, KeychainStore};
use countersign_wallet::notify::{content_for, DesktopNotifier, Notifier};
use countersign_wallet::WalletUpdate;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_else(|| usage());
    let store = KeychainStore::new();
    let result = match arg(0).as_str() {
        "keychain-save" => {
            let key = generate_signing_key();
            store
                .save(&KeyAccount::named(arg(1)), &key)
                .map(|()| println!("{}", encode_public_key(&key.verifying_key())))
                .map_err(|e| e.to_string())
        }
        "keychain-load" => store
            .load(&KeyAccount::named(arg(1)))
            .map(|key| println!("{}", encode_public_key(&key.verifying_key())))
            .map_err(|e| e.to_string()),
        "keychain-delete" => store
            .delete(&KeyAccount::named(arg(1)))
            .map_err(|e| e.to_string()),
        "notify" => notify(&arg(1)),
        _ => usage(),
    };
    if let Err(e) = result {
        eprintln!("probe: {e}");
        std::process::exit(1);
    }
}

fn notify(reason: &str) -> Result<(), String> {
    let now = Timestamp::now();
    let item = InboxItem {
        owner: std::sync::Arc::new(countersign_wallet::inbox::Owner {
            pairing: countersign_wallet::registry::PairingId::named("probe"),
            server: ServerUrl::parse("http://127.0.0.1:8470").expect("valid"),
            approver_name: "Probe".into(),
        }),
        summary: WalletApprovalSummary {
            approval_id: uuid::Uuid::now_v7(),
            status: ApprovalStatus::Pending,
            reason: reason.to_string(),
            app: "support-agent".into(),
            grant: "payments".into(),
            method: "POST".into(),
            url: "http://127.0.0.1:9000/v1/refunds".into(),
            created_at: now,
            expires_at: now.plus(Duration::from_secs(3600)),
            progress: None,
        },
    };
    let (tx, rx) = mpsc::channel();
    let notifier = DesktopNotifier::new(Arc::new(move |update| {
        if let WalletUpdate::Focus { approval_id, .. } = update {
            let _ = tx.send(approval_id);
        }
    }));
    notifier
        .notify(&content_for(&item))
        .map_err(|e| e.to_string())?;
    println!("shown {}", item.summary.approval_id);
    if let Ok(id) = rx.recv_timeout(Duration::from_secs(10)) {
        println!("review {id}");
    }
    Ok(())
}

fn usage() -> ! {
    eprintln!(
        "usage: probe keychain-save|keychain-load|keychain-delete <account> | notify <reason>"
    );
    std::process::exit(2);
}
