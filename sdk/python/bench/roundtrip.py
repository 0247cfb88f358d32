"""``proxy_request`` round trip without approval through the SDK vs a raw ``httpx`` call to the
same service (issue 9's closing note). Starts the same real stack as the tests.

    COUNTERSIGN_BIN=target/debug/countersign \
        target/python-venv/bin/python sdk/python/bench/roundtrip.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import make_stack

from countersign import Client, Completed

ROUNDS = 5
CALLS = 200


def timed(call: Callable[[], object]) -> list[float]:
    samples = []
    for _ in range(CALLS):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    with tempfile.TemporaryDirectory() as root:
        stacks = make_stack(Path(root))
        stack = next(stacks)
        try:
            wire = {"grant": "payments", "method": "GET", "path": "/v1/balance", "reason": "b"}
            with Client(stack.url, stack.api_key) as client, httpx.Client() as raw:

                def sdk() -> None:
                    assert isinstance(
                        client.proxy_request("payments", "GET", "/v1/balance", reason="b"),
                        Completed,
                    )

                def direct() -> None:
                    answer = raw.post(
                        f"{stack.url}/v1/proxy",
                        json=wire,
                        headers={"authorization": f"Bearer {stack.api_key}"},
                    )
                    assert answer.status_code == 200

                sdk_all: list[float] = []
                raw_all: list[float] = []
                for _ in range(ROUNDS):  # alternate, so load changes hit both alike
                    sdk_all += timed(sdk)
                    raw_all += timed(direct)
            for name, samples in (("SDK proxy_request", sdk_all), ("raw httpx POST", raw_all)):
                q = statistics.quantiles(samples, n=100)
                print(f"{name:18} p50 {q[49] * 1e3:.2f} ms  p99 {q[98] * 1e3:.2f} ms")
            ratio = statistics.median(sdk_all) / statistics.median(raw_all)
            print(f"ratio of medians SDK / raw: {ratio:.2f} ({ROUNDS * CALLS} calls each)")
        finally:
            for _ in stacks:
                pass


if __name__ == "__main__":
    main()
