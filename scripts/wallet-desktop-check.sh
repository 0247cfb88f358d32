#!/usr/bin/env bash
# Checks the Wallet's real OS integrations without a service: the Secret Service keychain
# (gnome-keyring under dbus-run-session; the key is found with secret-tool, then deleted;
# removing one of two pairings of a service deletes only its entry) and
# desktop notifications (dunst on Xvfb receives the Notify call with the escaped reason and
# the hidden character revealed; its "Review" action reaches the Wallet; with no bus at all
# the error is reported, not swallowed).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build -p countersign-wallet --example probe
export PROBE=$CARGO_TARGET_DIR/debug/examples/probe
# The Wallet's own tests that need the real Secret Service (two pairings, one removed).
cargo test -p countersign-wallet --lib --no-run
exec xvfb-run -a dbus-run-session -- bash -euo pipefail -c '
work=$(mktemp -d /tmp/wallet-check.XXXXXX)
trap "kill \$(jobs -p) 2>/dev/null || true; rm -rf $work" EXIT
export XDG_DATA_HOME=$work/data XDG_RUNTIME_DIR=$work/run
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
eval "$(printf check-password | gnome-keyring-daemon --unlock --components=secrets)"

echo "== keychain"
pub=$($PROBE keychain-save pairing-check)
[ "$($PROBE keychain-load pairing-check)" = "$pub" ]
seed=$(secret-tool lookup service countersign username pairing-check)
[ ${#seed} -eq 43 ] || { echo "secret-tool did not find the key"; exit 1; }
$PROBE keychain-delete pairing-check
! secret-tool lookup service countersign username pairing-check >/dev/null
! $PROBE keychain-load pairing-check 2>/dev/null
echo "ok: stored, found by secret-tool, loaded, deleted"
cargo test -q -p countersign-wallet --lib keychain -- --ignored --nocapture 2>&1 | tee $work/keychain-tests
removed=$(grep -o "removed pairing-[0-9a-f]*" $work/keychain-tests | cut -d" " -f2)
[ -n "$removed" ] || { echo "the keychain test did not run"; exit 1; }
if secret-tool lookup service countersign username "$removed" >/dev/null; then
  echo "the key of the removed pairing is still in the Secret Service"; exit 1
fi
echo "ok: removing one of two pairings deleted only its entry (secret-tool no longer finds $removed)"

echo "== notifications"
if DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent $PROBE notify "nobody" 2>$work/err; then
  echo "a missing bus was not reported"; exit 1
fi
grep -q "no notification daemon" $work/err && echo "ok: no daemon is an error: $(cat $work/err)"
printf "#!/bin/sh\ngrep -m1 -i review\n" > $work/pick.sh; chmod +x $work/pick.sh
printf "[global]\n    dmenu = %s\n" $work/pick.sh > $work/dunstrc
dunst -config $work/dunstrc >/dev/null 2>&1 &
for _ in $(seq 100); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Notifications 2>/dev/null | grep -q true && break
  sleep 0.1
done
dbus-monitor --session "type=method_call,interface=org.freedesktop.Notifications,member=Notify" > $work/monitor 2>/dev/null &
sleep 0.5
(sleep 1.5; dunstctl context) &
out=$($PROBE notify "$(printf "<b>Refund</b> order 42 \u202e to bob")")
sleep 0.3
grep -q "&lt;b&gt;Refund&lt;/b&gt; order 42 ⟨U+202E⟩ to bob" $work/monitor || { cat $work/monitor; exit 1; }
echo "ok: Notify carried the escaped reason with the bidi override revealed"
grep -q "^review " <<<"$out" && echo "ok: the Review action reached the Wallet"
! grep -qi "approve" $work/monitor && echo "ok: no approve action offered"
'
