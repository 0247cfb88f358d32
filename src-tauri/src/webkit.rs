//! WebKitGTK settings that lower the window's memory, and giving memory back once it closed.
//!
//! The view is one local page with no navigation, no media and no remote resources, so:
//! - the web context's cache model is `DocumentViewer` ("disable the cache completely, which
//!   substantially reduces memory usage"; the default is `WebBrowser`);
//! - the page never uses GPU compositing (hardware acceleration policy `Never`);
//! - no back/forward page cache, WebGL, media or HTML5 storage.
//!
//! `COUNTERSIGN_WALLET_WEBKIT` chooses them for measuring (scripts/wallet-bench.sh): unset
//! means all of them; otherwise a comma list of `cache`, `accel`, `features`, or `default`
//! for none. Each setting's measured effect is in crates/wallet/README.md ("Figures").

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
    /// All settings.
    pub const ALL: Tuning = Tuning {
        cache: true,
        accel: true,
        features: true,
    };

    /// The settings `value` names (None: all of them). Unknown names are ignored and logged.
    pub fn parse(value: Option<&str>) -> Tuning {
        let Some(value) = value else {
            return Self::ALL;
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

/// Gives freed heap pages back to the system (glibc keeps them otherwise): called once the
/// window and its web view were destroyed.
pub fn release_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap memory to the kernel; it takes no pointer.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_all_on_unless_named() {
        assert_eq!(Tuning::parse(None), Tuning::ALL);
        let none = Tuning::parse(Some("default"));
        assert!(!none.cache && !none.accel && !none.features);
        let cache = Tuning::parse(Some("cache, unknown"));
        assert!(cache.cache && !cache.accel && !cache.features);
        assert_eq!(Tuning::parse(Some("cache,accel,features")), Tuning::ALL);
    }
}
