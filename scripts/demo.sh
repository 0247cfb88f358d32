#!/usr/bin/env bash
# Runs the demo: a sample payments provider, the service on a temporary SQLite file, a paired
# headless approver and one refund that needs approval, end to end on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

ensure_rust
ensure_build_deps
cargo run --quiet -p countersign-cli -- demo
