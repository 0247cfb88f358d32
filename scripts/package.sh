#!/usr/bin/env bash
# Builds the Wallet's Debian package with Tauri's bundler (@tauri-apps/cli, pinned in
# ui/package-lock.json): the view, the tray process (countersign-wallet, crates/wallet-tray),
# then the window process and the .deb: both binaries in /usr/bin, icons, and a desktop entry
# that runs the tray process for x-scheme-handler/countersign with the link passed as %u (see
# src-tauri/packaging/). Prints the package's path on its last line.
#
#   bash scripts/package.sh            # release build (what people install)
#   bash scripts/package.sh --debug    # debug build: reuses the e2e's build, for CI's install check
#
# Installs the WebKitGTK build stack when missing (sudo when not root); Rust and Node.js must be
# there (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. scripts/common.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

profile=release
flags=()
case "${1:-}" in
  "") ;;
  --debug) profile=debug; flags+=(--debug) ;;
  *) echo "usage: scripts/package.sh [--debug]" >&2; exit 2 ;;
esac

ensure_rust >&2
ensure_apt libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libdbus-1-dev pkg-config \
  build-essential librsvg2-dev libxdo-dev >&2
(cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build) >&2
out=$CARGO_TARGET_DIR/$profile/bundle/deb
rm -f "$out"/*.deb
# The tray process is not the Tauri binary: built here, added to the package as a file.
if [ "$profile" = release ]; then
  cargo build --release -p countersign-wallet-tray >&2
else
  cargo build -p countersign-wallet-tray >&2
fi
tray=$CARGO_TARGET_DIR/$profile/countersign-wallet
files=$(printf '{"bundle":{"linux":{"deb":{"files":{"/usr/bin/countersign-wallet":"%s"}}}}}' "$tray")
# The bundler looks for tauri.conf.json from its working directory; --config merges into it.
(cd src-tauri && "$root/ui/node_modules/.bin/tauri" build --ci --bundles deb --config "$files" "${flags[@]}" >&2)
debs=("$out"/*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || { echo "expected one .deb in $out" >&2; exit 1; }
echo "${debs[0]}"
