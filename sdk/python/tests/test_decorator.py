"""``@requires_approval`` on tool functions, against the real ``countersign serve``."""

from __future__ import annotations

import asyncio

import pytest
from conftest import Stack

from countersign import (
    AsyncClient,
    AsyncPendingApproval,
    Client,
    Completed,
    Denied,
    InvalidRequest,
    PendingApproval,
    PolicyDenied,
    ProxyCall,
    Timeout,
    requires_approval,
)


def test_a_tool_the_policy_allows_returns_the_providers_answer(
    client: Client, stack: Stack
) -> None:
    @requires_approval(grant="payments", reason="Show the balance to {user}", client=client)
    def balance(user: str) -> ProxyCall:
        """The account's balance."""
        return ProxyCall("GET", "/v1/balance")

    assert balance.__name__ == "balance"
    assert balance.__doc__ == "The account's balance."
    result = balance("dana")
    assert isinstance(result, Completed)
    assert result.json()["object"] == "balance"
    assert len(stack.provider.calls_with_key(result.approval_id)) == 1


def test_a_gated_tool_waits_for_approval_with_a_reason_made_from_its_arguments(
    client: Client, stack: Stack
) -> None:
    seen: list[PendingApproval | AsyncPendingApproval] = []
    shown: list[str] = []

    def on_pending(pending: PendingApproval | AsyncPendingApproval) -> None:
        seen.append(pending)
        # What the approver reviews carries the reason made from the arguments.
        shown.append(stack.command("approver", "show", pending.approval_id, "--key", key))
        stack.approve(pending.approval_id)

    key = str(stack.pair("alice"))

    @requires_approval(
        grant="payments",
        reason="Refund {amount} cents of order {order}: {why}",
        client=client,
        timeout=30,
        on_pending=on_pending,
    )
    def refund(order: str, amount: int, why: str = "charged twice") -> ProxyCall:
        return ProxyCall("POST", "/v1/refunds", json={"order": order, "amount": amount})

    result = refund("A-7", 1250)
    assert result.status == 200
    assert result.json()["order"] == "A-7"
    assert len(seen) == 1
    assert isinstance(seen[0], PendingApproval)
    assert seen[0].approval_id == result.approval_id
    assert "Refund 1250 cents of order A-7: charged twice" in shown[0]
    assert len(stack.provider.calls_with_key(result.approval_id)) == 1


def test_a_denied_tool_raises_denied_and_a_reason_function_and_call_reason_are_used(
    client: Client, stack: Stack
) -> None:
    ids: list[str] = []

    def deny(pending: PendingApproval | AsyncPendingApproval) -> None:
        ids.append(pending.approval_id)
        stack.deny(pending.approval_id, comment="ask the customer first")

    @requires_approval(
        grant="payments",
        reason=lambda order: f"Cancel order {order}",
        client=client,
        timeout=30,
        on_pending=deny,
    )
    def cancel_order(order: str) -> ProxyCall:
        return ProxyCall("POST", f"/v1/orders/{order}/cancel", json={})

    with pytest.raises(Denied) as denied:
        cancel_order("A-9")
    assert denied.value.comment == "ask the customer first"
    assert stack.provider.calls_with_key(ids[0]) == []
    view = client.approval(ids[0])
    assert view.raw["status"] == "denied"
    shown = stack.command("approver", "show", ids[0], "--key", str(stack.pair("alice")))
    assert "Cancel order A-9" in shown

    @requires_approval(grant="payments", reason="ignored", client=client, timeout=1)
    def with_own_reason() -> ProxyCall:
        return ProxyCall("POST", "/v1/refunds", json={"amount": 1}, reason="the call's reason")

    with pytest.raises(Timeout) as timed_out:
        with_own_reason()
    shown = stack.command(
        "approver", "show", timed_out.value.approval_id, "--key", str(stack.pair("alice"))
    )
    assert "the call's reason" in shown
    assert "ignored" not in shown
    client.cancel(timed_out.value.approval_id)


def test_errors_of_the_tool_itself_send_nothing(client: Client, stack: Stack) -> None:
    before = len(stack.provider.calls())

    @requires_approval(grant="payments", reason="r", client=client)
    def broken() -> ProxyCall:
        raise KeyError("no such order")

    with pytest.raises(KeyError):
        broken()

    @requires_approval(grant="payments", reason="r", client=client)
    def not_a_call() -> ProxyCall:
        return "GET /v1/balance"  # type: ignore[return-value]

    with pytest.raises(InvalidRequest):
        not_a_call()

    @requires_approval(grant="payments", reason="refund {missing}", client=client)
    def bad_reason(order: str) -> ProxyCall:
        return ProxyCall("POST", "/v1/refunds", json={"order": order})

    with pytest.raises(InvalidRequest, match="missing"):
        bad_reason("A-1")

    @requires_approval(grant="payments", reason="delete {refund}", client=client)
    def delete(refund: str) -> ProxyCall:
        return ProxyCall("DELETE", f"/v1/refunds/{refund}")

    with pytest.raises(PolicyDenied):
        delete("re_1")
    assert len(stack.provider.calls()) == before


def test_the_default_client_comes_from_the_environment(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COUNTERSIGN_URL", raising=False)

    @requires_approval(grant="payments", reason="balance")
    def balance() -> ProxyCall:
        return ProxyCall("GET", "/v1/balance")

    with pytest.raises(InvalidRequest, match="COUNTERSIGN_URL"):
        balance()
    monkeypatch.setenv("COUNTERSIGN_URL", stack.url)
    monkeypatch.setenv("COUNTERSIGN_API_KEY", stack.api_key)
    assert balance().status == 200


@pytest.mark.asyncio
async def test_an_async_tool_awaits_approval(stack: Stack) -> None:
    async with AsyncClient(stack.url, stack.api_key) as aclient:
        pending_ids: list[str] = []
        asked = asyncio.Event()

        def on_pending(pending: PendingApproval | AsyncPendingApproval) -> None:
            assert isinstance(pending, AsyncPendingApproval)
            pending_ids.append(pending.approval_id)
            asked.set()

        @requires_approval(
            grant="payments",
            reason="Refund order {order}",
            client=aclient,
            timeout=30,
            on_pending=on_pending,
        )
        async def refund(order: str) -> ProxyCall:
            await asyncio.sleep(0)
            return ProxyCall("POST", "/v1/refunds", json={"order": order, "amount": 300})

        async def approve_when_asked() -> None:
            await asked.wait()
            await asyncio.to_thread(stack.approve, pending_ids[0])

        result, _ = await asyncio.wait_for(asyncio.gather(refund("B-1"), approve_when_asked()), 60)
        assert result.status == 200
        assert result.json()["idempotency_key"] == pending_ids[0]

        @requires_approval(grant="payments", reason="balance", client=Client(stack.url, "k"))
        async def wrong_client() -> ProxyCall:
            return ProxyCall("GET", "/v1/balance")

        with pytest.raises(InvalidRequest, match="AsyncClient"):
            await wrong_client()


def test_a_sync_tool_refuses_an_async_client(stack: Stack) -> None:
    aclient = AsyncClient(stack.url, stack.api_key)

    @requires_approval(grant="payments", reason="balance", client=aclient)
    def balance() -> ProxyCall:
        return ProxyCall("GET", "/v1/balance")

    with pytest.raises(InvalidRequest, match="Client"):
        balance()
    asyncio.run(aclient.aclose())


def test_a_grant_is_required() -> None:
    with pytest.raises(InvalidRequest):
        requires_approval(grant=" ", reason="r")
