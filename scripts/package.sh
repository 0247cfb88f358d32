#!/usr/bin/env bash
# Builds the Wallet's Debian package with Tauri's bundler (@tauri-apps/cli, pinned in
# ui/package-lock.json): the view, then the app, then the .deb (binary, icons, and a desktop
# entry that registers x-scheme-handler/countersign with the link passed as %u; see
# src-tauri/packaging/). Prints the package's path on its last line.
#
#   bash scripts/package.sh            # release build (what people install)
#   bash scripts/package.sh --debug    # debug build: reuses the e2e's build, for CI's install check
#
# Needs what scripts/wallet-deps.sh installs (WebKitGTK build stack, node + the view's npm packages).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

profile=release
flags=()
case "${1:-}" in
  "") ;;
  --debug) profile=debug; flags+=(--debug) ;;
  *) echo "usage: scripts/package.sh [--debug]" >&2; exit 2 ;;
esac

(cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build >&2)
out=$CARGO_TARGET_DIR/$profile/bundle/deb
rm -f "$out"/*.deb
# The bundler looks for tauri.conf.json from its working directory.
(cd src-tauri && "$root/ui/node_modules/.bin/tauri" build --ci --bundles deb "${flags[@]}" >&2)
debs=("$out"/*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || { echo "expected one .deb in $out" >&2; exit 1; }
echo "${debs[0]}"
