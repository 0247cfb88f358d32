#!/usr/bin/env bash
# The demo. With a desktop (DISPLAY or WAYLAND_DISPLAY set): the service on a temporary SQLite
# file, a sample payments provider, the desktop Wallet paired to it through a deep link, and a
# sample agent request that shows up as a notification and in the Wallet's inbox.
# Without a desktop: the same flow with the headless approver, printed step by step.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

ensure_rust
ensure_build_deps
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "${COUNTERSIGN_DEMO:-}" != headless ]; then
  exec bash scripts/wallet-demo.sh
fi
echo "(no desktop found: running the headless demo; set DISPLAY for the Wallet)"
cargo run --quiet -p countersign-cli -- demo
