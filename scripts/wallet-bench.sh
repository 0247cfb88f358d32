#!/usr/bin/env bash
# The Wallet's figures (cold start, notification latency, approve-to-result latency, memory
# with 1,000 pending) in the same headless desktop as the e2e; prints them and writes
# target/wallet-e2e/bench.txt. Measured, not asserted.
set -euo pipefail
export WALLET_E2E_TEST=bench
exec "$(dirname "$0")/wallet-e2e.sh"
