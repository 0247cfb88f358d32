#!/usr/bin/env bash
# Installs what building and testing the Wallet needs on Debian 12 / Ubuntu: the WebKitGTK
# build stack, the headless desktop for tests (Xvfb, D-Bus, gnome-keyring, dunst, WebKit's
# WebDriver, which the tests attach to each window process) and the view's npm packages (from
# ui/package-lock.json).
# Uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

build_pkgs=(libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libdbus-1-dev pkg-config
  build-essential librsvg2-dev libxdo-dev)
test_pkgs=(xvfb xauth webkit2gtk-driver dbus dbus-x11 gnome-keyring libsecret-tools dunst
  xdg-utils desktop-file-utils x11-utils xdotool at-spi2-core imagemagick libglib2.0-bin
  python3-xlib)

missing=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
command -v node >/dev/null || { echo "node (>= 20.19) and npm are needed for the view" >&2; exit 1; }
(cd ui && npm ci --no-audit --no-fund)
