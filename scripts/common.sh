# Shared helpers for the project's scripts: find the toolchain and install what is missing.
# Sourced, not run.

# Runs a command as root (directly, or through sudo when not root).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Runs "$@" in a network namespace of its own, with only its own loopback, when this machine
# allows it (root, iproute2), so the fixed ports of a window test (WebKitWebDriver's 4444, the inspector's 4445)
# never meet another run's on the same machine; otherwise runs it as it is.
private_loopback() {
  if command -v ip >/dev/null 2>&1 && unshare --net true 2>/dev/null; then
    unshare --net sh -c 'ip link set lo up && exec "$@"' sh "$@"
  else
    "$@"
  fi
}

# Installs the Debian packages that are not installed yet.
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# Makes cargo (with rustfmt and clippy) available or stops with a clear message.
ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is not installed: install Rust 1.88 or newer (https://rustup.rs) and run this again" >&2
    exit 1
  fi
  if command -v rustup >/dev/null 2>&1; then
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
  fi
}

# Build dependencies of the workspace (C compiler for SQLite and ring).
ensure_build_deps() {
  command -v cc >/dev/null 2>&1 || ensure_apt build-essential
  command -v pkg-config >/dev/null 2>&1 || ensure_apt pkg-config
}
