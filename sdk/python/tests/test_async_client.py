"""``AsyncClient`` against the real ``countersign serve``: the same outcomes, awaited."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from conftest import Stack, free_port

from countersign import (
    ApiError,
    ApprovalStatus,
    AsyncClient,
    AsyncPendingApproval,
    Cancelled,
    Completed,
    Denied,
    ExecutionFailed,
    Expired,
    FailureReason,
    PolicyDenied,
    Timeout,
    TransportError,
)

REFUND = {"order": "A-2001", "amount": 4200, "currency": "EUR"}
REASON = "Order A-2001 arrived broken (photo in ticket #77); refund EUR 42.00"


@pytest_asyncio.fixture
async def aclient(stack: Stack) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(stack.url, stack.api_key) as c:
        yield c


async def ask_refund(client: AsyncClient, grant: str = "payments") -> AsyncPendingApproval:
    outcome = await client.proxy_request(grant, "POST", "/v1/refunds", json=REFUND, reason=REASON)
    assert isinstance(outcome, AsyncPendingApproval), outcome
    return outcome


async def later(delay: float, step: object) -> None:
    await asyncio.sleep(delay)
    assert callable(step)
    await asyncio.to_thread(step)


@pytest.mark.asyncio
async def test_a_free_call_completes_at_once(aclient: AsyncClient, stack: Stack) -> None:
    outcome = await aclient.proxy_request("payments", "GET", "/v1/balance", reason="balance")
    assert isinstance(outcome, Completed)
    assert outcome.status == 200
    assert outcome.json()["object"] == "balance"
    assert len(stack.provider.calls_with_key(outcome.approval_id)) == 1


@pytest.mark.asyncio
async def test_approved_while_waiting_completes_once(aclient: AsyncClient, stack: Stack) -> None:
    pending = await ask_refund(aclient)
    assert (await pending.status()).status is ApprovalStatus.PENDING
    result, _ = await asyncio.gather(
        pending.wait(30), later(0.5, lambda: stack.approve(pending.approval_id))
    )
    assert result.status == 200
    assert result.json()["idempotency_key"] == pending.approval_id
    calls = stack.provider.calls_with_key(pending.approval_id)
    assert len(calls) == 1
    assert json.loads(calls[0]["body"]) == REFUND
    # Resume by id on another client: the same result.
    async with AsyncClient(stack.url, stack.api_key) as other:
        assert await other.wait(pending.approval_id, 5) == result


@pytest.mark.asyncio
async def test_denied(aclient: AsyncClient, stack: Stack) -> None:
    pending = await ask_refund(aclient)
    await asyncio.to_thread(stack.deny, pending.approval_id, "alice", "wrong order")
    with pytest.raises(Denied) as denied:
        await aclient.wait(pending.approval_id, 30)
    assert (denied.value.approver, denied.value.comment) == ("alice", "wrong order")
    assert denied.value.rule == "refunds-need-a-lead"
    assert stack.provider.calls_with_key(pending.approval_id) == []


@pytest.mark.asyncio
async def test_expired(aclient: AsyncClient) -> None:
    pending = await ask_refund(aclient, grant="quick")
    with pytest.raises(Expired):
        await pending.wait(30)


@pytest.mark.asyncio
async def test_local_timeout_then_resume(aclient: AsyncClient, stack: Stack) -> None:
    pending = await ask_refund(aclient)
    started = time.monotonic()
    with pytest.raises(Timeout) as timed_out:
        await pending.wait(1)
    assert 1 <= time.monotonic() - started < 5
    assert timed_out.value.approval_id == pending.approval_id
    assert (await aclient.approval(pending.approval_id)).status is ApprovalStatus.PENDING
    await asyncio.to_thread(stack.approve, pending.approval_id)
    assert (await aclient.wait(pending.approval_id, 30)).status == 200


@pytest.mark.asyncio
async def test_cancelled_while_waiting(aclient: AsyncClient) -> None:
    pending = await ask_refund(aclient)

    async def cancel_soon() -> None:
        await asyncio.sleep(0.5)
        assert (await pending.cancel()).status is ApprovalStatus.CANCELLED

    started = time.monotonic()
    with pytest.raises(Cancelled):
        await asyncio.gather(pending.wait(30), cancel_soon())
    assert time.monotonic() - started < 10
    with pytest.raises(ApiError) as again:
        await aclient.cancel(pending.approval_id)
    assert again.value.code == "not_pending"


@pytest.mark.asyncio
async def test_execution_failures(aclient: AsyncClient, stack: Stack) -> None:
    with pytest.raises(ExecutionFailed) as failed:
        await aclient.proxy_request("flaky", "GET", "/v1/balance", reason="balance")
    assert (failed.value.reason, failed.value.status) == (FailureReason.PROVIDER_ERROR, 502)
    with pytest.raises(ExecutionFailed) as offline:
        await aclient.proxy_request("offline", "GET", "/v1/balance", reason="balance")
    assert offline.value.reason is FailureReason.TRANSPORT
    pending = await ask_refund(aclient, grant="flaky")
    await asyncio.to_thread(stack.approve, pending.approval_id)
    with pytest.raises(ExecutionFailed) as approved_then_failed:
        await pending.wait(30)
    assert approved_then_failed.value.status == 502


@pytest.mark.asyncio
async def test_policy_denied_and_api_errors(aclient: AsyncClient, stack: Stack) -> None:
    with pytest.raises(PolicyDenied) as refused:
        await aclient.proxy_request("payments", "DELETE", "/v1/refunds/re_9", reason="clean up")
    assert refused.value.rule == "no-deletes"
    with pytest.raises(ApiError) as unknown:
        await aclient.proxy_request("nope", "GET", "/v1/balance", reason="balance")
    assert (unknown.value.status, unknown.value.code) == (404, "unknown_grant")
    async with AsyncClient(stack.url, "cs_wrong") as wrong:
        with pytest.raises(ApiError) as unauthorized:
            await wrong.wait("01900000-0000-7000-8000-000000000000", 30)
        assert (unauthorized.value.status, unauthorized.value.code) == (401, "unauthorized")
    async with AsyncClient(f"http://127.0.0.1:{free_port()}", "cs_key") as nowhere:
        with pytest.raises(TransportError):
            await nowhere.approval("01900000-0000-7000-8000-000000000000")
        with pytest.raises(Timeout):
            await nowhere.wait("01900000-0000-7000-8000-000000000000", 1.5)


@pytest.mark.asyncio
async def test_a_wait_rides_out_429_when_the_apps_long_polls_are_full(
    aclient: AsyncClient, stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """The service holds at most 64 long polls per app: a 65th gets 429 too_many_requests,
    which the wait rides out until the polls free up."""
    caplog.set_level(logging.WARNING, logger="countersign")
    pending = await ask_refund(aclient)
    url = f"{stack.url}/v1/approvals/{pending.approval_id}"
    limits = httpx.Limits(max_connections=80, max_keepalive_connections=80)
    async with httpx.AsyncClient(
        headers={"authorization": f"Bearer {stack.api_key}"}, limits=limits, timeout=40
    ) as raw:
        holders = [asyncio.create_task(raw.get(url, params={"wait": "25"})) for _ in range(64)]
        # Once the 64 polls are held, a 65th is refused. (A probe that races the holders
        # may take a slot first; a holder refused meanwhile is sent again.)
        for _ in range(50):
            await asyncio.sleep(0.2)
            for i, holder in enumerate(holders):
                if holder.done():
                    assert holder.result().status_code == 429
                    holders[i] = asyncio.create_task(raw.get(url, params={"wait": "25"}))
            probe = await raw.get(url, params={"wait": "1"})
            if probe.status_code == 429 and not any(h.done() for h in holders):
                break
        assert probe.status_code == 429, "the long polls did not fill up"
        assert probe.json()["error"]["code"] == "too_many_requests"

        result, _ = await asyncio.gather(
            aclient.wait(pending.approval_id, 40),
            later(1.0, lambda: stack.approve(pending.approval_id)),
        )
        held = await asyncio.gather(*holders)
    assert result.status == 200
    assert all(r.status_code == 200 for r in held)
    assert any(
        "service unavailable" in r.getMessage() and "too_many_requests" in r.getMessage()
        for r in caplog.records
    ), caplog.text
