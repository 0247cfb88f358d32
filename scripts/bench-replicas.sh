#!/usr/bin/env bash
# The pipeline benchmark on SQLite (one service) and on PostgreSQL with 1, 2 and 3 replicas
# of the service on one database (a throwaway PostgreSQL 15 cluster, started and removed
# here), one run each, on this machine: proxy overhead without approval, decision on replica
# A -> wait returns on replica B, pending approvals created per second by 8 agents. Prints
# the figures; nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
ensure_rust
ensure_build_deps
cargo build --release --locked -p countersign-cli --bench pipeline
eval "$(bash scripts/postgres.sh start)"
trap 'bash scripts/postgres.sh stop' EXIT
run() {
  echo
  echo "################ $1"
  shift
  env "$@" cargo bench --locked -q -p countersign-cli --bench pipeline
}
run "SQLite, 1 service" COUNTERSIGN_BENCH_DATABASE=sqlite
for n in 1 2 3; do
  run "PostgreSQL, $n replica(s)" COUNTERSIGN_BENCH_DATABASE=postgres COUNTERSIGN_BENCH_REPLICAS=$n
done
