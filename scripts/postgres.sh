#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests: installs Debian's postgresql-15 when
# missing, runs initdb into a new temporary directory (as the `postgres` user when run as
# root), and starts it on a free loopback port. Nothing of it outlives `stop`.
#
#   eval "$(bash scripts/postgres.sh start)"   # exports COUNTERSIGN_TEST_POSTGRES, COUNTERSIGN_PG_DIR
#   bash scripts/postgres.sh stop              # stops the cluster and deletes its directory
#
# COUNTERSIGN_TEST_POSTGRES is a URL of the server's `postgres` database; tests create a
# fresh database of their own on it. The cluster trusts loopback connections and runs with
# fsync off: it is for tests only.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

PG_BIN=/usr/lib/postgresql/15/bin

run_as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  [ -x "$PG_BIN/initdb" ] || ensure_apt postgresql-15 >&2
  command -v python3 >/dev/null 2>&1 || ensure_apt python3 >&2
  local dir port
  dir=$(mktemp -d /tmp/countersign-pg.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  run_as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  run_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
    start >&2 || { cat "$dir/server.log" >&2; exit 1; }
  echo "export COUNTERSIGN_PG_DIR=$dir"
  echo "export COUNTERSIGN_TEST_POSTGRES=postgres://postgres@127.0.0.1:$port/postgres"
}

stop() {
  local dir=${COUNTERSIGN_PG_DIR:?COUNTERSIGN_PG_DIR is not set: nothing to stop}
  case "$dir" in /tmp/countersign-pg.*) ;; *) echo "refusing to remove $dir" >&2; exit 1 ;; esac
  [ -d "$dir/data" ] && run_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
