//! The tray icon: a StatusNotifierItem on the session bus (the `ksni` crate, pure Rust over
//! the zbus the Wallet already uses; no GTK). Its menu opens the window or quits; activating
//! the icon opens the window. A desktop without a StatusNotifierItem host shows nothing: the
//! Wallet logs it and runs on (notifications, links and a second launch still open it), and
//! registers when a watcher appears later (a panel started or restarted).
//!
//! The tool tip carries the pending count ("Countersign Wallet (2 pending)"); hosts read it
//! again on `NewToolTip`, which is emitted each time the count changes.

use crate::app::App;
use ksni::menu::StandardItem;
use ksni::{MenuItem, ToolTip, TrayMethods};
use std::sync::Arc;

/// The icon's name in the icon theme (the package installs `countersign-wallet.png` in
/// hicolor).
pub const ICON_NAME: &str = "countersign-wallet";

include!(concat!(env!("OUT_DIR"), "/tray-icon.rs"));

/// `icons/tray.png` as ARGB32 pixels, network byte order (decoded by `build.rs`): sent beside
/// the name, so hosts that find no `countersign-wallet` in the icon theme (a build run from a
/// checkout) still draw the Wallet's icon.
pub const TRAY_ICON_ARGB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tray-icon.argb"));

struct WalletTray {
    app: Arc<App>,
}

impl ksni::Tray for WalletTray {
    fn id(&self) -> String {
        "countersign-wallet".into()
    }

    fn title(&self) -> String {
        self.app.config().product_name.clone()
    }

    fn icon_name(&self) -> String {
        ICON_NAME.into()
    }

    fn icon_pixmap(&self) -> Vec<ksni::Icon> {
        let (width, height) = TRAY_ICON_SIZE;
        vec![ksni::Icon {
            width,
            height,
            data: TRAY_ICON_ARGB.to_vec(),
        }]
    }

    fn tool_tip(&self) -> ToolTip {
        ToolTip {
            title: self.app.title(),
            ..Default::default()
        }
    }

    fn activate(&mut self, _x: i32, _y: i32) {
        self.app.open_window();
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        vec![
            StandardItem {
                label: "Open Wallet".into(),
                activate: Box::new(|t: &mut Self| t.app.open_window()),
                ..Default::default()
            }
            .into(),
            StandardItem {
                label: "Quit".into(),
                activate: Box::new(|t: &mut Self| t.app.quit()),
                ..Default::default()
            }
            .into(),
        ]
    }
}

/// Shows the tray icon; returns its handle (the icon goes when the service is shut down or
/// the process ends), or None when the bus refused it (logged). The icon's tool tip is
/// refreshed (`NewToolTip`) on each change of the pending count.
pub async fn show(app: Arc<App>) -> Option<ksni::Handle<impl ksni::Tray>> {
    let mut changes = app.pending_changes();
    let runtime = app.runtime.clone();
    let tray = WalletTray { app }.assume_sni_available(true);
    match tray.spawn().await {
        Ok(handle) => {
            let icon = handle.clone();
            runtime.spawn(async move {
                while changes.changed().await.is_ok() {
                    // ksni compares the properties and signals the tool tip's change.
                    if icon.update(|_| ()).await.is_none() {
                        break;
                    }
                }
            });
            Some(handle)
        }
        Err(e) => {
            tracing::warn!("no tray icon: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pixmap_is_the_tray_png_in_argb() {
        let (w, h) = TRAY_ICON_SIZE;
        assert_eq!((w, h), (32, 32));
        assert_eq!(TRAY_ICON_ARGB.len(), (w * h * 4) as usize);
        let pixel = |x: i32, y: i32| {
            let i = ((y * w + x) * 4) as usize;
            &TRAY_ICON_ARGB[i..i + 4]
        };
        // A rounded corner is transparent; alpha comes first (then red, green, blue): the
        // teal edge is opaque and bluer than red, the yellow check redder than blue.
        assert_eq!(pixel(0, 0)[0], 0, "{:?}", pixel(0, 0));
        let edge = pixel(3, 16);
        assert!(edge[0] == 255 && edge[1] < edge[3], "{edge:?}");
        let check = pixel(16, 16);
        assert!(check[0] == 255 && check[1] > check[3], "{check:?}");
    }
}
