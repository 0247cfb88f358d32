#!/usr/bin/env bash
# The Python SDK's checks (sdk/python): a virtual environment under target/python-venv with the
# SDK and its pinned dev tools installed from PyPI (`pip install ./sdk/python[dev]`), then
# ruff check, ruff format --check, mypy --strict, and pytest against the real
# `countersign serve` and sample provider (target/debug/countersign, built first with cargo;
# test_mcp.py also drives `countersign mcp` with the Python `mcp` package;
# set COUNTERSIGN_BIN to test another binary without building). Installs python3-venv when
# the Python at hand cannot make a virtual environment (Debian ships it separately).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

target="${CARGO_TARGET_DIR:-$PWD/target}"
venv="$target/python-venv"

python=python3
if ! command -v "$python" >/dev/null 2>&1 || ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  ensure_apt python3 python3-venv python3-pip
  python=/usr/bin/python3
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "the Python SDK needs Python 3.10 or newer; $python is $("$python" --version 2>&1)" >&2
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "==> creating $venv ($("$python" --version 2>&1))"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
fi
echo "==> installing sdk/python[dev]"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps ./sdk/python
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "./sdk/python[dev]"

if [ -z "${COUNTERSIGN_BIN:-}" ]; then
  ensure_rust
  ensure_build_deps
  echo "==> cargo build -p countersign-cli (the binary the tests start)"
  cargo build -p countersign-cli --locked
  export COUNTERSIGN_BIN="$target/debug/countersign"
fi

cd sdk/python
echo "==> ruff check"
"$venv/bin/ruff" check .
echo "==> ruff format --check"
"$venv/bin/ruff" format --check .
echo "==> mypy --strict"
"$venv/bin/mypy" --strict
echo "==> pytest (against $COUNTERSIGN_BIN)"
"$venv/bin/python" -m pytest -p no:cacheprovider
