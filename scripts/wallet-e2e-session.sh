#!/usr/bin/env bash
# Runs inside the e2e's Xvfb + dbus-run-session (see wallet-e2e.sh): a throw-away desktop
# (XDG dirs in a temporary directory), an unlocked keyring, a notification daemon whose
# "context menu" picks Review, then the test.
set -euo pipefail
work=$(mktemp -d /tmp/wallet-e2e.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export XDG_DATA_HOME=$work/data XDG_CONFIG_HOME=$work/config XDG_CACHE_HOME=$work/cache
export XDG_RUNTIME_DIR=$work/run
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
export WEBKIT_DISABLE_DMABUF_RENDERER=1

# The keyring: a fresh login collection, unlocked with a throw-away password.
eval "$(printf 'e2e-password' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL

# The notification daemon, started explicitly (D-Bus activation would start one without
# this configuration). Wait for it by polling NameHasOwner, not by calling it.
cat > "$work/pick-review.sh" <<'PICK'
#!/bin/sh
grep -m1 -i review
PICK
chmod +x "$work/pick-review.sh"
printf '[global]\n    dmenu = %s\n' "$work/pick-review.sh" > "$work/dunstrc"
dunst -config "$work/dunstrc" >"$work/dunst.log" 2>&1 &
for _ in $(seq 100); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Notifications 2>/dev/null \
    | grep -q true && break
  sleep 0.1
done

# Each test (WALLET_E2E_TEST: names of tests/wallet/tests/*.rs, space-separated) starts with
# its own empty Wallet data directory.
# A failure ends with a digest (the step it was at and the error, without the backtrace that
# would otherwise be the last thing a CI log shows).
for t in ${WALLET_E2E_TEST:-e2e tray}; do
  export COUNTERSIGN_WALLET_DATA_DIR=$work/wallet-data-$t
  if ! cargo test -p countersign-wallet-e2e --test "$t" -- --ignored --nocapture --test-threads=1 \
      2>&1 | tee "$work/test-$t.log"; then
    echo "=== wallet e2e '$t' failed; its steps and errors (full log above):" >&2
    grep -E '^== |^Error|panicked at|^thread ' "$work/test-$t.log" | tail -n 20 >&2 || true
    grep -A 12 -E '^Error|panicked at' "$work/test-$t.log" | grep -vE '^ +[0-9]+: |^ +at ' \
      | head -n 40 >&2 || true
    exit 1
  fi
done
