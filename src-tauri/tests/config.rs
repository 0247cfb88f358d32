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
    assert_eq!(
        conf["plugins"]["deep-link"]["desktop"]["schemes"],
        serde_json::json!(["countersign"])
    );
}

#[test]
fn build_rs_and_the_handler_list_the_same_commands() {
    let root = env!("CARGO_MANIFEST_DIR");
    let build = std::fs::read_to_string(format!("{root}/build.rs")).unwrap();
    let lib = std::fs::read_to_string(format!("{root}/src/lib.rs")).unwrap();
    assert!(
        build.contains("include!(\"commands.rs.in\")"),
        "build.rs must take its permissions from commands.rs.in"
    );
    let handler = lib
        .split("generate_handler![")
        .nth(1)
        .and_then(|rest| rest.split("])").next())
        .expect("the invoke handler in lib.rs");
    let registered: BTreeSet<&str> = handler
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.trim_start_matches("commands::"))
        .collect();
    let listed: BTreeSet<&str> = COMMANDS.iter().copied().collect();
    assert_eq!(registered, listed, "the handler and commands.rs.in differ");
}

#[test]
fn the_window_is_made_from_code_from_its_configured_entry() {
    // The Wallet creates its window itself (not at start when started for the tray, and again
    // after each close): the one entry is not created by Tauri, and its label is the one the
    // code uses and the capability grants.
    let conf = json("tauri.conf.json");
    let windows = conf["app"]["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0]["label"], countersign_wallet_app::window::MAIN);
    assert_eq!(windows[0]["create"], false);
    let cap = json("capabilities/main.json");
    assert_eq!(
        cap["windows"],
        serde_json::json!([countersign_wallet_app::window::MAIN])
    );
}
