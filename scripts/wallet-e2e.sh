#!/usr/bin/env bash
# The Wallet end to end in its real window: builds the view and both processes once (the tray
# process countersign-wallet and the window process countersign-wallet-window), then runs
# tests/wallet/tests/e2e.rs and tray.rs (or $WALLET_E2E_TEST) under Xvfb inside ONE
# dbus-run-session (gnome-keyring unlocked, dunst as the notification daemon), driving each
# window process the tray starts with WebKitWebDriver attached to it (--target).
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

command -v WebKitWebDriver >/dev/null || { echo "WebKitWebDriver is missing: scripts/wallet-deps.sh (webkit2gtk-driver)" >&2; exit 1; }
(cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
# WALLET_PROFILE=release measures / tests the optimised app (the test itself stays debug).
profile=${WALLET_PROFILE:-debug}
if [ "$profile" = release ]; then
  cargo build --release -p countersign-wallet-app -p countersign-wallet-tray
else
  cargo build -p countersign-wallet-app -p countersign-wallet-tray
fi
cargo test -p countersign-wallet-e2e --no-run
export WALLET_APP=$target/$profile/countersign-wallet
if [ "${WALLET_E2E_TEST:-}" = bench ]; then
  # The tray side of a split Wallet alone (no GTK/WebKit), measured beside the app.
  if [ "$profile" = release ]; then cargo build --release -p countersign-wallet --example tray-side; else cargo build -p countersign-wallet --example tray-side; fi
  export WALLET_TRAY_SIDE=$target/$profile/examples/tray-side
fi

private_loopback xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$root/scripts/wallet-e2e-session.sh"
