//! Generates the app's command permissions: with an app manifest, every command listed here
//! gets `allow-<command>` / `deny-<command>` permissions and is refused to any window whose
//! capability does not grant it (instead of Tauri's default of allowing all app commands).

include!("commands.rs.in");

/// `tauri::generate_context!` needs the built view (`ui/dist`). A fresh clone has none until
/// `npm --prefix ui ci && npm --prefix ui run build`; so that workspace-wide `cargo build`,
/// `clippy` and `test` still work there, a placeholder page saying so is written instead.
fn ensure_view() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    if dist.join("index.html").exists() {
        return;
    }
    println!("cargo:warning=ui/dist is missing: the app will show a placeholder; run `npm --prefix ui ci && npm --prefix ui run build`");
    std::fs::create_dir_all(&dist).expect("create ui/dist");
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><meta charset=utf-8><title>Countersign Wallet</title>\n<p>The Wallet's view was not built. Run <code>npm --prefix ui ci &amp;&amp; npm --prefix ui run build</code>, then build the app again.</p>\n",
    )
    .expect("write the placeholder view");
}

fn main() {
    ensure_view();
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
