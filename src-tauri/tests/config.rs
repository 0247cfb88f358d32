//! The app's security configuration, checked: the view gets only its own commands and event
//! listening (no file system, shell, HTTP, window or other plugin APIs), and the
//! Content-Security-Policy allows nothing inline and nothing remote.

use serde_json::Value;
use std::collections::BTreeSet;

fn json(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

include!("../commands.rs.in");

#[test]
fn the_window_gets_only_its_commands_and_event_listening() {
    let cap = json("capabilities/main.json");
    assert_eq!(cap["windows"], serde_json::json!(["main"]));
    let granted: BTreeSet<String> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().expect("plain permission ids only").to_string())
        .collect();
    let mut expected: BTreeSet<String> = COMMANDS
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .collect();
    expected.insert("core:event:allow-listen".into());
    expected.insert("core:event:allow-unlisten".into());
    assert_eq!(granted, expected);
    assert!(cap.get("remote").is_none(), "no remote origin gets IPC");
    let dir = format!("{}/capabilities", env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        std::fs::read_dir(dir).unwrap().count(),
        1,
        "one capability file"
    );
}

#[test]
fn the_csp_is_strict() {
    let conf = json("tauri.conf.json");
    let csp = &conf["app"]["security"]["csp"];
    assert_eq!(csp["default-src"], "'none'");
    assert_eq!(csp["script-src"], "'self'");
    assert_eq!(csp["object-src"], "'none'");
    assert_eq!(csp["frame-ancestors"], "'none'");
    for (directive, sources) in csp.as_object().unwrap() {
        for source in sources.as_str().unwrap().split_whitespace() {
            let allowed = matches!(
                source,
                "'self'" | "'none'" | "ipc:" | "http://ipc.localhost"
            );
            assert!(allowed, "{directive} allows {source}");
        }
    }
    assert_eq!(conf["app"]["withGlobalTauri"], false);
    assert_eq!(conf["app"]["security"]["freezePrototype"], true);
    assert!(
        conf.get("plugins").is_none(),
        "no plugin: links and the single instance are the tray process's"
    );
}

#[test]
fn build_rs_the_forwarder_and_the_tray_list_the_same_commands() {
    let root = env!("CARGO_MANIFEST_DIR");
    let build = std::fs::read_to_string(format!("{root}/build.rs")).unwrap();
    let lib = std::fs::read_to_string(format!("{root}/src/lib.rs")).unwrap();
    assert!(
        build.contains("include!(\"commands.rs.in\")"),
        "build.rs must take its permissions from commands.rs.in"
    );
    assert!(
        lib.contains("include!(\"../commands.rs.in\")"),
        "the forwarder must take its command list from commands.rs.in"
    );
    // The tray process dispatches exactly these.
    let tray = countersign_wallet_tray_commands();
    let listed: BTreeSet<&str> = COMMANDS.iter().copied().collect();
    assert_eq!(
        tray.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        listed,
        "crates/wallet-tray/src/dispatch.rs COMMANDS and commands.rs.in differ"
    );
}

/// The `COMMANDS` list of the tray process's dispatcher, read from its source (this crate
/// does not link the tray crate).
fn countersign_wallet_tray_commands() -> Vec<String> {
    let text = std::fs::read_to_string(format!(
        "{}/../crates/wallet-tray/src/dispatch.rs",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let list = text
        .split("pub const COMMANDS: &[&str] = &[")
        .nth(1)
        .and_then(|rest| rest.split("];").next())
        .expect("COMMANDS in dispatch.rs");
    list.split(',')
        .map(|c| c.trim().trim_matches('"').to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

#[test]
fn the_window_is_made_from_code_from_its_configured_entry() {
    // The window process creates its window itself once it took over its channel: the one
    // entry is not created by Tauri, and its label is the one the code uses and the
    // capability grants.
    let conf = json("tauri.conf.json");
    let windows = conf["app"]["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0]["label"], countersign_wallet_window::window::MAIN);
    assert_eq!(windows[0]["create"], false);
    let cap = json("capabilities/main.json");
    assert_eq!(
        cap["windows"],
        serde_json::json!([countersign_wallet_window::window::MAIN])
    );
}
