#!/usr/bin/env bash
# The Wallet end to end in its real window: builds the view and the app once, then runs
# tests/wallet/tests/e2e.rs and tray.rs (or $WALLET_E2E_TEST) under Xvfb inside ONE dbus-run-session (gnome-keyring unlocked,
# dunst as the notification daemon), driving the app with tauri-driver + WebKitWebDriver.
#
# Needs (Debian 12): see scripts/wallet-deps.sh. Screenshots: $WALLET_E2E_SHOTS
# (default target/wallet-e2e/).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
export CARGO_TARGET_DIR=$target
export WALLET_E2E_SHOTS=${WALLET_E2E_SHOTS:-$target/wallet-e2e}

command -v tauri-driver >/dev/null || cargo install tauri-driver --locked
(cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
# WALLET_PROFILE=release measures / tests the optimised app (the test itself stays debug).
profile=${WALLET_PROFILE:-debug}
if [ "$profile" = release ]; then cargo build --release -p countersign-wallet-app; else cargo build -p countersign-wallet-app; fi
cargo test -p countersign-wallet-e2e --no-run
export WALLET_APP=$target/$profile/countersign-wallet
if [ "${WALLET_E2E_TEST:-}" = bench ]; then
  # The tray side of a split Wallet alone (no GTK/WebKit), measured beside the app.
  if [ "$profile" = release ]; then cargo build --release -p countersign-wallet --example tray-side; else cargo build -p countersign-wallet --example tray-side; fi
  export WALLET_TRAY_SIDE=$target/$profile/examples/tray-side
fi

private_loopback xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$root/scripts/wallet-e2e-session.sh"
