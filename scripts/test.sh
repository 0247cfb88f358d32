#!/usr/bin/env bash
# Runs every check and test of the project: formatting, clippy (warnings are errors) and all
# tests of the workspace. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

ensure_rust
ensure_build_deps

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings
echo "==> cargo test"
cargo test --workspace --no-fail-fast
