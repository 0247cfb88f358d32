#!/usr/bin/env bash
# The Wallet's figures (cold start, notification latency, approve-to-result latency, memory
# with 15 and 1,000 pending with the window open and closed, re-open time, notifications
# with the window closed, the tray side of a split design alone, a 1 MiB review, 10,000
# pending) in the same headless desktop as the e2e; prints them and writes
# target/wallet-e2e/bench.txt. Measured, not asserted.
#
# --tray: stop after the light tray's figures (a few minutes instead of half an hour).
# --scroll: only the 10,000-row inbox's fresh start and scrolling, with the floor of the same
# window (tests/wallet/tests/scrollbench.rs: WALLET_SCROLL_VARIANTS, WALLET_SCROLL_RUNS).
# COUNTERSIGN_WALLET_WEBKIT picks the WebKit settings measured (src-tauri/src/webkit.rs).
set -euo pipefail
export WALLET_E2E_TEST=bench
if [ "${1:-}" = --tray ]; then export WALLET_BENCH_SCOPE=tray; fi
if [ "${1:-}" = --scroll ]; then export WALLET_E2E_TEST=scrollbench; fi
exec "$(dirname "$0")/wallet-e2e.sh"
