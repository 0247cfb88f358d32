#!/usr/bin/env bash
# The Wallet's Debian package, installed and used: builds it (scripts/package.sh, debug by
# default so it reuses the e2e's build; WALLET_PACKAGE_PROFILE=release for the release one),
# installs it with dpkg -i (apt for missing dependencies), checks what it installed, then runs
# tests/wallet/tests/package.rs against the INSTALLED binary in the e2e's desktop (Xvfb,
# dbus-run-session, unlocked gnome-keyring, dunst: scripts/wallet-e2e-session.sh), where
# `gio open countersign://…` goes through the package's desktop entry. Finally removes the
# package (dpkg -r) and checks its files are gone.
#
# Installs system-wide: meant for CI (root) or a throw-away machine; uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. scripts/common.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
t0=$SECONDS
phase() { echo "==> [$((SECONDS - t0)) s] $*"; }

case "${WALLET_PACKAGE_PROFILE:-debug}" in
  debug) deb=$(bash scripts/package.sh --debug | tail -1) ;;
  release) deb=$(bash scripts/package.sh | tail -1) ;;
  *) echo "WALLET_PACKAGE_PROFILE is debug or release" >&2; exit 2 ;;
esac
phase "built $deb"
command -v WebKitWebDriver >/dev/null || { echo "WebKitWebDriver is missing: scripts/wallet-deps.sh (webkit2gtk-driver)" >&2; exit 1; }
cargo test -p countersign-wallet-e2e --test package --no-run
phase "built the test"

pkg=$(dpkg-deb -f "$deb" Package)
bin=/usr/bin/countersign-wallet
window=/usr/bin/countersign-wallet-window
entry="/usr/share/applications/Countersign Wallet.desktop"
if dpkg -s "$pkg" >/dev/null 2>&1; then
  echo "$pkg is already installed on this machine; remove it first (dpkg -r $pkg)" >&2
  exit 1
fi
if ! as_root dpkg -i "$deb"; then
  phase "dpkg -i left dependencies missing: apt-get -f install"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq
fi
removed=0
remove() { [ $removed = 1 ] || as_root dpkg -r "$pkg" >/dev/null || true; }
trap remove EXIT
mapfile -t files < <(dpkg -L "$pkg" | while read -r f; do [ -d "$f" ] || echo "$f"; done)
phase "installed $pkg: ${#files[@]} files"
printf '    %s\n' "${files[@]}"

echo "== what the package installed"
[ -x "$bin" ] || { echo "no $bin"; exit 1; }
[ -x "$window" ] || { echo "no $window"; exit 1; }
# The tray process links no GTK, WebKit nor appindicator; only the window process does.
! ldd "$bin" | grep -Eq 'libgtk|libwebkit|appindicator' || { echo "$bin links GTK/WebKit:"; ldd "$bin"; exit 1; }
! dpkg-deb -f "$deb" Depends | grep -q appindicator || { echo "the package still depends on appindicator"; exit 1; }
printf '%s\n' "${files[@]}" | grep -q '^/usr/share/icons/hicolor/.*/apps/countersign-wallet.png$' \
  || { echo "no icon installed"; exit 1; }
desktop-file-validate "$entry"
grep -qx 'Exec=countersign-wallet %u' "$entry" || { echo "Exec does not pass the link:"; cat "$entry"; exit 1; }
grep -q '^MimeType=.*x-scheme-handler/countersign;' "$entry" || { echo "no scheme handler:"; cat "$entry"; exit 1; }
# dpkg's trigger (desktop-file-utils) updated the desktop database with the new entry.
grep -q "^x-scheme-handler/countersign=.*Countersign Wallet.desktop" /usr/share/applications/mimeinfo.cache \
  || { echo "the desktop database does not list the package's handler"; exit 1; }
echo "ok: tray and window binaries (the tray without GTK/WebKit), icons, a valid desktop entry passing %u for x-scheme-handler/countersign, in the desktop database"

phase "the installed Wallet answers countersign:// links (Xvfb, dbus-run-session)"
export WALLET_APP=$bin WALLET_E2E_TEST=package
private_loopback xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$root/scripts/wallet-e2e-session.sh"

phase "dpkg -r $pkg"
as_root dpkg -r "$pkg"
removed=1
left=()
for f in "${files[@]}"; do [ -e "$f" ] && left+=("$f"); done
[ ${#left[@]} -eq 0 ] || { echo "left after dpkg -r:"; printf '    %s\n' "${left[@]}"; exit 1; }
! grep -q "Countersign Wallet.desktop" /usr/share/applications/mimeinfo.cache \
  || { echo "the desktop database still lists the removed handler"; exit 1; }
phase "ok: removed, none of its ${#files[@]} files left, the handler is gone from the desktop database"
