#!/usr/bin/env bash
# Runs every check and test of the project: formatting, clippy (warnings are errors), all
# tests of the workspace (the store's and the integration suite's on SQLite and again on a
# throwaway PostgreSQL cluster, with three replicas on one database), the Python SDK's checks
# and tests against the real service, the Wallet's view checks, its real keychain/notification
# checks, its end-to-end tests in the real window under Xvfb, and its Debian package installed
# and answering a link. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

ensure_rust
ensure_build_deps
bash scripts/wallet-deps.sh

echo "==> Wallet view: type check, no HTML sinks, build"
npm --prefix ui run check
npm --prefix ui run build
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test"
cargo test --workspace --locked --no-fail-fast
echo "==> PostgreSQL: the store's and the integration suite's tests again, on a throwaway PostgreSQL 15"
eval "$(bash scripts/postgres.sh start)"
trap 'bash scripts/postgres.sh stop' EXIT
cargo test --locked --no-fail-fast -p countersign-service -p countersign-tests
cargo test --locked --no-fail-fast -p countersign-cli --test replicas
echo "==> Python SDK"
bash scripts/python-sdk-test.sh
echo "==> Wallet crates compiled for Windows (cargo check, x86_64-pc-windows-gnu)"
bash scripts/cross-check.sh
echo "==> Wallet: real Secret Service keychain and notification daemon"
bash scripts/wallet-desktop-check.sh
echo "==> Wallet: end to end in the real window (Xvfb, WebKitWebDriver attached to each window process)"
bash scripts/wallet-e2e.sh
echo "==> Wallet: the Debian package, installed (dpkg -i), answers a countersign:// link, removed"
bash scripts/package-check.sh
