#!/usr/bin/env bash
# The flow with the desktop Wallet on this desktop: installs what is missing, builds the view
# and the app, then runs tests/wallet/examples/wallet-demo.rs (service + sample provider on
# loopback, the Wallet paired through a deep link you confirm, a sample agent request that
# shows up as a notification and in the inbox).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/wallet-deps.sh
(cd ui && npm run build)
cargo build -p countersign-wallet-app -p countersign-wallet-tray
export WALLET_APP=${CARGO_TARGET_DIR:-$PWD/target}/debug/countersign-wallet
exec cargo run -q -p countersign-wallet-e2e --example wallet-demo
