//! What the scripts that run these tests (`scripts/wallet-e2e.sh`, `scripts/wallet-bench.sh`,
//! `scripts/package-check.sh`) hand them, and the steps they print.

use std::path::PathBuf;

/// The path in the environment variable `name`; panics, naming the scripts, when it is not set
/// (the test was run without its script).
pub fn env_path(name: &str) -> PathBuf {
    PathBuf::from(std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run scripts/wallet-e2e.sh (or scripts/package-check.sh for the \
             package test)"
        )
    }))
}

/// Prints the step a test is at, so a failure's log says where it was.
pub fn step(text: &str) {
    eprintln!("\n== {text}");
}
