#!/usr/bin/env bash
# Compiles the Wallet's crates for Windows (`cargo check --target x86_64-pc-windows-gnu`, with
# Debian's mingw-w64 for the C parts), so the Credential Manager keychain store, the Tauri app
# (WebView2, its resource file from icons/icon.ico), the tray process (its Unix-only window
# channel and D-Bus parts behind cfg) and everything else the Wallet builds there
# at least compile. Nothing of it runs here; macOS cannot even be
# compiled here (`ring` needs Apple's SDK headers), and Windows' MSVC target needs Microsoft's
# tools: both are listed as untested in the README ("Other desktops").
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

TARGET=x86_64-pc-windows-gnu
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || ensure_apt gcc-mingw-w64-x86-64
if ! rustup target list --installed | grep -qx "$TARGET"; then
  if ! rustup target add "$TARGET"; then
    # The standard library for another target comes from rustup's server, which is not a
    # package registry: a machine that cannot reach it skips this check, loudly.
    echo "SKIPPED: the $TARGET standard library cannot be added here (rustup target add failed)" >&2
    exit 0
  fi
fi
CARGO_TARGET_DIR=target/cross cargo check --locked -p countersign-wallet -p countersign-wallet-app -p countersign-wallet-tray --target "$TARGET"
echo "the Wallet's crates compile for $TARGET"
