//! The TypeScript declarations of everything the Wallet sends its view, generated with ts-rs
//! into `ui/src/bindings/` (committed; `ui/src/types.ts` re-exports them).
//!
//! `bindings_are_current` fails when a committed file differs from what the Rust types
//! declare now; `cargo test -p countersign-wallet export_bindings -- --ignored` rewrites them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use ts_rs::{Config, TS};

/// Where the bindings live, from this crate.
pub fn bindings_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings")
}

/// How they are rendered: 64-bit integers are JSON numbers (serde writes them so), not bigint.
pub fn config() -> Config {
    Config::new()
        .with_large_int("number")
        .with_out_dir(bindings_dir())
}

/// Every exported type: file name (relative to [`bindings_dir`]) and its content, plus the
/// file names each one imports.
pub fn render() -> BTreeMap<String, (String, Vec<String>)> {
    let cfg = config();
    let mut out = BTreeMap::new();
    macro_rules! export {
        ($($t:ty),* $(,)?) => {$(
            let path = <$t as TS>::output_path()
                .expect("derived types have a path")
                .to_string_lossy()
                .into_owned();
            let text = <$t as TS>::export_to_string(&cfg).expect("renders");
            let deps = <$t as TS>::dependencies(&cfg)
                .into_iter()
                .map(|d| d.output_path.to_string_lossy().into_owned())
                .collect();
            out.insert(path, (text, deps));
        )*};
    }
    use crate::review::*;
    use countersign_core::body::{BodyKind, FormField, JsonLine};
    type R = crate::reveal::Revealed;
    export!(
        // reveal
        crate::reveal::Revealed,
        crate::reveal::Segment,
        countersign_core::text::HiddenKind,
        // inbox, history, pairings, updates
        crate::inbox::InboxRow,
        countersign_core::api::Progress,
        crate::model::InboxPage,
        crate::model::HistoryRow,
        crate::model::HistoryPage,
        crate::model::PairingView,
        crate::model::PairingPreviewView,
        crate::model::SettingsView,
        crate::model::PairingNotifications,
        crate::model::QuietHoursView,
        crate::model::WalletUpdate,
        crate::sync::SyncStatus,
        crate::links::LinkAction,
        crate::error::ErrorBody,
        countersign_core::ApprovalStatus,
        countersign_core::Verdict,
        countersign_core::Timestamp,
        countersign_core::ServerUrl,
        // review
        ReviewView,
        HeaderView,
        DecisionView,
        QuorumView,
        PolicyView,
        PolicyLineView,
        RuleView,
        GateView,
        GateStateView,
        OutcomeView,
        BodyGate,
        crate::pages::BodyHead,
        crate::pages::BodyPage,
        crate::pages::PageLines,
        crate::body::BodyView,
        BodyKind,
        JsonLine<R>,
        FormField<R>,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIX: &str = "run `cargo test -p countersign-wallet export_bindings -- --ignored` \
                       and commit ui/src/bindings/";

    #[test]
    fn every_import_is_exported_too() {
        let all = render();
        for (file, (_, deps)) in &all {
            for d in deps {
                assert!(
                    all.contains_key(d),
                    "{file} imports {d}, which is not in bindings::render(): add its type there"
                );
            }
        }
    }

    #[test]
    fn bindings_are_current() {
        let dir = bindings_dir();
        let all = render();
        for (file, (text, _)) in &all {
            let committed = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
            assert!(
                committed == *text,
                "ui/src/bindings/{file} is not what the Rust types declare: {FIX}"
            );
        }
        let mut extra = Vec::new();
        for e in std::fs::read_dir(&dir).expect("ui/src/bindings exists") {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if !all.contains_key(&name) {
                extra.push(name);
            }
        }
        assert!(
            extra.is_empty(),
            "ui/src/bindings has files no Rust type declares: {extra:?}; {FIX}"
        );
    }

    /// Rewrites `ui/src/bindings/` from the Rust types (ignored: run it on purpose).
    #[test]
    #[ignore = "writes ui/src/bindings; run with --ignored after changing a view type"]
    fn export_bindings() {
        let dir = bindings_dir();
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        for (file, (text, _)) in render() {
            std::fs::write(dir.join(file), text).unwrap();
        }
    }
}
