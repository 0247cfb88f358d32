"""The real stack for the tests: ``countersign sample-provider`` processes as upstreams, and
``countersign serve`` with a config that covers every outcome, started from the built binary
(``$COUNTERSIGN_BIN``, else ``target/debug/countersign`` of this repository). Decisions are
made with the real headless approver (``countersign approver invite/pair/approve/deny``).

Everything listens on 127.0.0.1 only; every process is bounded and stopped at the end.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from countersign import Client

REPO = Path(__file__).resolve().parents[3]
BIN = Path(os.environ.get("COUNTERSIGN_BIN", REPO / "target" / "debug" / "countersign"))
#: How long a process may take to come up, and a headless approver command to finish.
STARTUP = 30.0
COMMAND = 60.0
#: The path of the provider calls :meth:`Provider.sync` makes.
BARRIER = "/barrier/"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Provider:
    """A running ``countersign sample-provider``: its URL and the calls it received."""

    def __init__(self, name: str, secret: str, log_dir: Path, *flags: str) -> None:
        if not BIN.is_file():
            raise RuntimeError(f"{BIN} is missing: build it with cargo build -p countersign-cli")
        self.name = name
        self.stderr = (log_dir / f"provider-{name}.log").open("wb")
        self.process = subprocess.Popen(
            [str(BIN), "sample-provider", "--secret-env", "PROVIDER_SECRET", *flags],
            env={**os.environ, "PROVIDER_SECRET": secret},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        self._calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.url = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(STARTUP) or not self.url:
            self.stop()
            raise RuntimeError(f"sample provider {name} did not start")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode().strip()
            if not self._ready.is_set():
                if line.startswith("listening on "):
                    self.url = line.removeprefix("listening on ")
                self._ready.set()
                continue
            with self._lock:
                self._calls.append(json.loads(line))
        self._ready.set()

    def calls(self) -> list[dict[str, Any]]:
        """Every call received so far (``method``, ``uri``, ``idempotency_key``, ``body``),
        complete up to now (see :meth:`sync`), without the markers of :meth:`sync`."""
        self.sync()
        with self._lock:
            return [c for c in self._calls if not c["uri"].startswith(BARRIER)]

    def sync(self) -> None:
        """Returns once every call the provider received before now has been read: sends a
        marker call of its own and waits for its line."""
        marker = f"{BARRIER}{secrets.token_hex(8)}"
        # The answer does not matter (and the hanging provider never sends one): the call is
        # recorded, and its line printed, before the provider answers.
        with contextlib.suppress(httpx.TimeoutException):
            httpx.get(self.url + marker, timeout=httpx.Timeout(10, read=0.5))
        deadline = time.monotonic() + 10
        while True:
            with self._lock:
                if any(c["uri"] == marker for c in self._calls):
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"the provider's call log did not show {marker}")
            time.sleep(0.01)

    def calls_with_key(self, idempotency_key: str) -> list[dict[str, Any]]:
        """The calls that carried ``Idempotency-Key: idempotency_key``, complete up to now."""
        return [c for c in self.calls() if c["idempotency_key"] == idempotency_key]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.stderr.close()


CONFIG = """\
[server]
listen = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}"
database = "sqlite://{db}"

[[approver]]
id = "alice"
name = "Alice Example"

[[approver]]
id = "bob"
name = "Bob Example"

[[app]]
id = "support-agent"
api_key_sha256 = "{agent_hash}"
grants = ["payments", "quick", "flaky", "offline", "hanging", "stuck"]

[[app]]
id = "other-agent"
api_key_sha256 = "{other_hash}"
grants = ["payments"]

[[app]]
id = "hmac-agent"                        # signs its requests (HMAC-SHA256)
auth = "hmac"
secret_env = "HMAC_AGENT_SECRET"
grants = ["payments"]

[[app]]
id = "ed25519-agent"                     # signs its requests (Ed25519)
auth = "ed25519"
public_key = "{ed_public_key}"
grants = ["payments"]

[[grant]]
id = "payments"
base_url = "{provider}"
secret_env = "PAYMENTS_SECRET"
inject = {{ header = "Authorization", value = "Bearer {{secret}}" }}
policy = "refunds"

[[grant]]
id = "quick"                            # a window of 2 s, for expiry
base_url = "{provider}"
secret_env = "PAYMENTS_SECRET"
inject = {{ header = "Authorization", value = "Bearer {{secret}}" }}
policy = "quick"

[[grant]]
id = "flaky"                            # the provider answers 502 to everything
base_url = "{failing}"
secret_env = "PAYMENTS_SECRET"
inject = {{ header = "Authorization", value = "Bearer {{secret}}" }}
policy = "refunds"

[[grant]]
id = "offline"                          # nothing listens there
base_url = "http://127.0.0.1:{closed_port}"
secret_env = "PAYMENTS_SECRET"
inject = {{ header = "Authorization", value = "Bearer {{secret}}" }}
policy = "refunds"

[[grant]]
id = "hanging"                          # the provider never answers
base_url = "{hanging}"
secret_env = "PAYMENTS_SECRET"
inject = {{ header = "Authorization", value = "Bearer {{secret}}" }}
policy = "refunds"
timeout = "1s"

[[grant]]
id = "stuck"                            # the provider never answers, and the service waits
base_url = "{hanging}"
secret_env = "PAYMENTS_SECRET"
inject = {{ header = "Authorization", value = "Bearer {{secret}}" }}
policy = "refunds"
timeout = "5m"

[[policy]]
id = "refunds"
window = "1h"
require = ["support-leads"]

[[policy.gate]]
id = "support-leads"
approvers = ["alice", "bob"]
quorum = 1

[[policy.rule]]
id = "reads"
methods = ["GET"]
path = "/v1/*"
action = "allow"

[[policy.rule]]
id = "no-deletes"
methods = ["DELETE"]
path = "/v1/*"
action = "deny"

[[policy.rule]]
id = "refunds-need-a-lead"
methods = ["POST"]
path = "/v1/refunds"
action = "require"

[[policy]]
id = "quick"
window = "2s"

[[policy.gate]]
id = "alice"
approvers = ["alice"]
"""


@dataclass
class Stack:
    """A running service with its providers, keys and paired headless approvers."""

    dir: Path
    config: Path
    port: int
    api_key: str
    other_api_key: str
    secret: str
    #: The HMAC secret of ``hmac-agent``.
    hmac_secret: str
    #: The Ed25519 private key (base64url seed) of ``ed25519-agent``.
    ed_private_key: str
    provider: Provider
    failing: Provider
    hanging: Provider
    serve: subprocess.Popen[bytes] | None = None
    keys: dict[str, Path] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, *args: str, timeout: float = COMMAND) -> str:
        """Runs ``countersign ARGS`` to completion and returns its stdout (fails on exit != 0)."""
        done = subprocess.run(
            [str(BIN), *args],
            env={**os.environ, "COUNTERSIGN_LOG": "warn"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(
                f"countersign {' '.join(args)} exited {done.returncode}: "
                f"{done.stderr.decode(errors='replace')}"
            )
        return done.stdout.decode()

    def start_service(self) -> None:
        log = (self.dir / "serve.log").open("ab")
        self.serve = subprocess.Popen(
            [str(BIN), "serve", "--config", str(self.config)],
            env={
                **os.environ,
                "PAYMENTS_SECRET": self.secret,
                "HMAC_AGENT_SECRET": self.hmac_secret,
                "COUNTERSIGN_LOG": "warn",
            },
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        log.close()
        deadline = time.monotonic() + STARTUP
        while True:
            if self.serve.poll() is not None:
                raise RuntimeError(f"serve exited: {(self.dir / 'serve.log').read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("serve did not become healthy")
            time.sleep(0.05)

    def stop_service(self) -> None:
        if self.serve is not None:
            self.serve.terminate()
            try:
                self.serve.wait(20)
            except subprocess.TimeoutExpired:
                self.serve.kill()
                self.serve.wait(10)
            self.serve = None

    def kill_service(self) -> None:
        """SIGKILL: no graceful shutdown (a crash)."""
        if self.serve is not None:
            self.serve.kill()
            self.serve.wait(10)
            self.serve = None

    def pair(self, approver: str) -> Path:
        """Pairs a headless approver for ``approver`` through a one-time link (once)."""
        if approver not in self.keys:
            link = self.command("approver", "invite", "--config", str(self.config), approver)
            key = self.dir / f"{approver}.key.json"
            self.command("approver", "pair", link.strip(), "--key", str(key))
            self.keys[approver] = key
        return self.keys[approver]

    def approve(self, approval_id: str, approver: str = "alice", comment: str | None = None) -> str:
        extra = ["--comment", comment] if comment is not None else []
        key = str(self.pair(approver))
        return self.command("approver", "approve", approval_id, "--key", key, *extra)

    def deny(self, approval_id: str, approver: str = "alice", comment: str | None = None) -> str:
        extra = ["--comment", comment] if comment is not None else []
        key = str(self.pair(approver))
        return self.command("approver", "deny", approval_id, "--key", key, *extra)

    def pending(self, approver: str = "alice") -> str:
        return self.command("approver", "pending", "--key", str(self.pair(approver)))


def make_stack(root: Path) -> Iterator[Stack]:
    secret = f"sk_test_{secrets.token_urlsafe(16)}"
    providers: list[Provider] = []
    stack: Stack | None = None
    try:
        providers.append(Provider("normal", secret, root))
        providers.append(Provider("failing", secret, root, "--fail", "502"))
        providers.append(Provider("hanging", secret, root, "--hang"))
        port = free_port()
        api_key = f"cs_test_{secrets.token_urlsafe(16)}"
        other_api_key = f"cs_other_{secrets.token_urlsafe(16)}"
        hmac_secret = f"cs_hmac_{secrets.token_urlsafe(32)}"
        ed_key = Ed25519PrivateKey.generate()
        ed_private_key = b64url(ed_key.private_bytes_raw())
        ed_public_key = b64url(ed_key.public_key().public_bytes_raw())
        config = root / "countersign.toml"
        config.write_text(
            CONFIG.format(
                port=port,
                db=root / "countersign.db",
                agent_hash=hashlib.sha256(api_key.encode()).hexdigest(),
                other_hash=hashlib.sha256(other_api_key.encode()).hexdigest(),
                ed_public_key=ed_public_key,
                provider=providers[0].url,
                failing=providers[1].url,
                hanging=providers[2].url,
                closed_port=free_port(),
            )
        )
        stack = Stack(
            dir=root,
            config=config,
            port=port,
            api_key=api_key,
            other_api_key=other_api_key,
            secret=secret,
            hmac_secret=hmac_secret,
            ed_private_key=ed_private_key,
            provider=providers[0],
            failing=providers[1],
            hanging=providers[2],
        )
        stack.start_service()
        yield stack
    finally:
        if stack is not None:
            stack.stop_service()
        for provider in providers:
            provider.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One service for the whole session (each test makes its own approvals)."""
    yield from make_stack(tmp_path_factory.mktemp("stack"))


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[Stack]:
    """A service of the test's own, for tests that stop and restart it."""
    yield from make_stack(tmp_path)


@pytest.fixture
def client(stack: Stack) -> Iterator[Client]:
    with Client(stack.url, stack.api_key) as c:
        yield c


class Later:
    """Runs ``fn`` on a thread after ``delay`` seconds; :meth:`join` re-raises its error."""

    def __init__(self, delay: float, fn: Callable[[], object]) -> None:
        self.error: BaseException | None = None

        def run() -> None:
            time.sleep(delay)
            try:
                fn()
            except BaseException as e:
                self.error = e

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self) -> None:
        self.thread.join(COMMAND)
        assert not self.thread.is_alive(), "the background step did not finish"
        if self.error is not None:
            raise self.error
