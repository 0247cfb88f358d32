//! WebKitGTK settings for the window's one local page (no navigation, no media, no remote
//! resources):
//! - the web context's cache model is `DocumentViewer` ("disable the cache completely, which
//!   substantially reduces memory usage"; the default is `WebBrowser`);
//! - no back/forward page cache, WebGL, media or HTML5 storage (the view uses none; less for
//!   untrusted text to reach);
//! - optionally (`accel`), never GPU compositing (hardware acceleration policy `Never`).
//!
//! Measured under Xvfb (software rendering), none of them changed the memory of the open
//! window beyond noise (crates/wallet/README.md, "Figures"); `accel` trades GPU memory for CPU
//! painting on a desktop with a GPU, which was not measured, so it is off by default.
//!
//! `COUNTERSIGN_WALLET_WEBKIT` chooses them for measuring (scripts/wallet-bench.sh): unset
//! means `cache,features`; otherwise a comma list of `cache`, `accel`, `features`, or
//! `default` for none (WebKit's defaults).

use tauri::{Runtime, WebviewWindow};

/// The environment variable choosing the settings (see the module's documentation).
pub const WEBKIT_ENV: &str = "COUNTERSIGN_WALLET_WEBKIT";

/// Which settings to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// Cache model `DocumentViewer`.
    pub cache: bool,
    /// Hardware acceleration policy `Never`.
    pub accel: bool,
    /// No page cache, WebGL, media or HTML5 storage.
    pub features: bool,
}

impl Tuning {
    /// What the Wallet applies unless told otherwise.
    pub const DEFAULT: Tuning = Tuning {
        cache: true,
        accel: false,
        features: true,
    };

    /// The settings `value` names (None: [`Tuning::DEFAULT`]). Unknown names are ignored and
    /// logged.
    pub fn parse(value: Option<&str>) -> Tuning {
        let Some(value) = value else {
            return Self::DEFAULT;
        };
        let mut t = Tuning {
            cache: false,
            accel: false,
            features: false,
        };
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "cache" => t.cache = true,
                "accel" => t.accel = true,
                "features" => t.features = true,
                "default" => {}
                other => tracing::warn!("{WEBKIT_ENV}: unknown setting {other:?}"),
            }
        }
        t
    }

    fn from_env() -> Tuning {
        Self::parse(std::env::var(WEBKIT_ENV).ok().as_deref())
    }
}

/// Applies the chosen settings to the window's web view (and its web context).
pub fn tune<R: Runtime>(window: &WebviewWindow<R>) {
    let tuning = Tuning::from_env();
    #[cfg(target_os = "linux")]
    if let Err(e) = window.with_webview(move |platform| apply(&platform.inner(), tuning)) {
        tracing::warn!("cannot reach the web view's settings: {e}");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (window, tuning);
}

#[cfg(target_os = "linux")]
fn apply(view: &webkit2gtk::WebView, tuning: Tuning) {
    use webkit2gtk::{
        CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
    };
    if tuning.cache {
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
    }
    let Some(settings) = WebViewExt::settings(view) else {
        return;
    };
    if tuning.accel {
        settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
    }
    if tuning.features {
        settings.set_enable_page_cache(false);
        settings.set_enable_webgl(false);
        settings.set_enable_media(false);
        settings.set_enable_html5_database(false);
        settings.set_enable_html5_local_storage(false);
    }
    tracing::debug!("web view settings: {tuning:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_the_default_unless_named() {
        let unset = Tuning::parse(None);
        assert_eq!(unset, Tuning::DEFAULT);
        assert!(unset.cache && unset.features && !unset.accel);
        let none = Tuning::parse(Some("default"));
        assert!(!none.cache && !none.accel && !none.features);
        let cache = Tuning::parse(Some("cache, unknown"));
        assert!(cache.cache && !cache.accel && !cache.features);
        let all = Tuning::parse(Some("cache,accel,features"));
        assert!(all.cache && all.accel && all.features);
    }
}
