"""The MCP gateway (`countersign mcp`) driven by an independent MCP client, the Python `mcp`
package, over stdio, against the real service and sample provider of conftest.

Decisions are made with the headless approver only: nothing the MCP client sends approves.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import BIN, Stack
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

GATEWAY_CONFIG = """\
[mcp]
service = "{service}"
app_key_env = "MCP_AGENT_KEY"
block = "{block}"

[[tool]]
name = "refund"
description = "Refund an order"
grant = "payments"
method = "POST"
path = "/v1/refunds"
input_schema = {{ type = "object", properties = {{ order = {{ type = "string" }}, \
amount = {{ type = "integer" }} }}, required = ["order", "amount"] }}

[[tool]]
name = "balance"
description = "Read the account balance"
grant = "payments"
method = "GET"
path = "/v1/balance"
input_schema = {{ type = "object" }}

[[tool]]
name = "order_status"
description = "Read one order"
grant = "payments"
method = "GET"
path = "/v1/orders/{{order}}"
input_schema = {{ type = "object", properties = {{ order = {{ type = "string" }} }}, \
required = ["order"] }}

[[tool]]
name = "delete_order"
description = "Delete an order (the policy refuses deletes)"
grant = "payments"
method = "DELETE"
path = "/v1/orders/{{order}}"
input_schema = {{ type = "object", properties = {{ order = {{ type = "string" }} }}, \
required = ["order"] }}
"""

TOOLS = {"refund", "balance", "order_status", "delete_order", "countersign_wait"}


@asynccontextmanager
async def gateway(stack: Stack, tmp_path: Path, block: str = "0s") -> AsyncIterator[ClientSession]:
    """`countersign mcp` started by the MCP client, as the support agent, initialized."""
    config = tmp_path / "mcp.toml"
    config.write_text(GATEWAY_CONFIG.format(service=stack.url, block=block))
    params = StdioServerParameters(
        command=str(BIN),
        args=["mcp", "--config", str(config)],
        env={
            "MCP_AGENT_KEY": stack.api_key,
            "COUNTERSIGN_LOG": "warn",
            "PATH": os.environ.get("PATH", ""),
        },
    )
    with (tmp_path / "mcp.log").open("a") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> tuple[bool, dict[str, Any]]:
    """Calls `tool`; returns (is_error, the structured result)."""
    result = await session.call_tool(tool, arguments)
    assert isinstance(result.structured_content, dict), result
    return bool(result.is_error), result.structured_content


async def ask_refund(session: ClientSession, order: str, amount: int) -> dict[str, Any]:
    """Asks for a refund (which needs approval); returns the approval_required result."""
    is_error, result = await call(
        session, "refund", order=order, amount=amount, reason=f"Customer ticket for {order}"
    )
    assert not is_error, result
    assert result["status"] == "approval_required", result
    return result


@pytest.mark.asyncio
async def test_lists_the_declared_tools_with_a_required_reason(
    stack: Stack, tmp_path: Path
) -> None:
    async with gateway(stack, tmp_path) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(tools) == TOOLS
    for name in TOOLS - {"countersign_wait"}:
        schema = tools[name].input_schema
        assert schema["properties"]["reason"]["type"] == "string", name
        assert "reason" in schema["required"], name
    assert tools["refund"].input_schema["required"] == ["order", "amount", "reason"]
    assert tools["countersign_wait"].input_schema["required"] == ["approval_id"]


@pytest.mark.asyncio
async def test_a_call_that_runs_free_returns_the_providers_answer(
    stack: Stack, tmp_path: Path
) -> None:
    async with gateway(stack, tmp_path) as session:
        is_error, result = await call(session, "balance", reason="Monthly balance check")
    assert not is_error, result
    assert result["status"] == "completed"
    assert result["http_status"] == 200
    assert result["body"]["object"] == "balance"


@pytest.mark.asyncio
async def test_an_approved_call_returns_the_providers_answer_through_countersign_wait(
    stack: Stack, tmp_path: Path
) -> None:
    async with gateway(stack, tmp_path) as session:
        pending = await ask_refund(session, "A-100", 1500)
        approval_id = pending["approval_id"]
        assert pending["approval_url"].startswith("countersign://"), pending
        assert pending["expires_at"]
        # The approver reads the model's reason; the provider has not been called.
        shown = await asyncio.to_thread(
            stack.command, "approver", "show", approval_id, "--key", str(stack.pair("alice"))
        )
        assert "Customer ticket for A-100" in shown
        assert stack.provider.calls_with_key(approval_id) == []
        # Waiting (and asking the wait tool again) approves nothing.
        is_error, still = await call(
            session, "countersign_wait", approval_id=approval_id, timeout_seconds=1
        )
        assert (is_error, still["status"]) == (False, "pending"), still
        assert stack.provider.calls_with_key(approval_id) == []

        await asyncio.to_thread(stack.approve, approval_id, "alice", "ok")
        is_error, result = await call(
            session, "countersign_wait", approval_id=approval_id, timeout_seconds=60
        )
    assert not is_error, result
    assert result["status"] == "completed"
    assert result["approval_id"] == approval_id
    assert result["http_status"] == 200
    assert result["body"]["order"] == "A-100"
    assert result["body"]["amount"] == 1500
    calls = stack.provider.calls_with_key(approval_id)
    assert len(calls) == 1
    assert calls[0]["method"] == "POST"
    assert calls[0]["uri"] == "/v1/refunds"


@pytest.mark.asyncio
async def test_a_denied_call_says_who_denied_it_and_why(stack: Stack, tmp_path: Path) -> None:
    async with gateway(stack, tmp_path) as session:
        approval_id = (await ask_refund(session, "A-200", 99_000))["approval_id"]
        await asyncio.to_thread(stack.deny, approval_id, "bob", "amount too large")
        is_error, result = await call(
            session, "countersign_wait", approval_id=approval_id, timeout_seconds=60
        )
    assert is_error
    assert result["status"] == "denied"
    assert result["approver"] == "bob"
    assert result["comment"] == "amount too large"
    assert stack.provider.calls_with_key(approval_id) == []


@pytest.mark.asyncio
async def test_with_block_an_approval_given_in_time_returns_the_answer_directly(
    stack: Stack, tmp_path: Path
) -> None:
    async def approve_when_asked() -> str:
        while True:
            pending = await asyncio.to_thread(stack.pending, "alice")
            for line in pending.splitlines():
                if line.endswith("Customer ticket for A-300"):
                    approval_id = line.split()[0]
                    await asyncio.to_thread(stack.approve, approval_id, "alice")
                    return approval_id
            await asyncio.sleep(0.2)

    async with gateway(stack, tmp_path, block="100s") as session:
        approver = asyncio.create_task(approve_when_asked())
        is_error, result = await call(
            session, "refund", order="A-300", amount=10, reason="Customer ticket for A-300"
        )
        approval_id = await approver
    assert not is_error, result
    assert result["status"] == "completed"
    assert result["approval_id"] == approval_id
    assert result["body"]["order"] == "A-300"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"order": "A-1", "reason": "r"}, "missing required argument(s): amount"),
        ({"order": "A-1", "amount": 5}, "missing required argument(s): reason"),
        ({"order": "A-1", "amount": "5", "reason": "r"}, "`amount` must be of type integer"),
        ({"order": 7, "amount": 5, "reason": "r"}, "`order` must be of type string"),
        ({"order": "A-1", "amount": 5, "reason": "   "}, "`reason` must say concretely"),
        ({"order": "A-1", "amount": 5, "reason": "r", "to": "me"}, "unknown argument `to`"),
    ],
)
async def test_bad_arguments_get_a_tool_error(
    stack: Stack, tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    before = len(stack.provider.calls())
    async with gateway(stack, tmp_path) as session:
        is_error, result = await call(session, "refund", **arguments)
        _, waited = await call(session, "countersign_wait", approval_id="not-an-id")
    assert is_error
    assert result["status"] == "invalid_arguments"
    assert message in result["message"], result
    assert waited["status"] == "invalid_arguments"
    assert len(stack.provider.calls()) == before


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("order", "message"),
    [
        ("../x", "would change the path"),
        ("a/b", "would change the path"),
        ("..", "would change the path"),
        ("...", "would change the path"),
        ("", "would change the path"),
        ("a\\b", "would change the path"),
        ("a;b", "cannot be put in a path"),
        ("%2e%2e", "cannot be put in a path"),
        ("é", "cannot be put in a path"),
    ],
)
async def test_a_path_parameter_that_would_change_the_path_is_refused(
    stack: Stack, tmp_path: Path, order: str, message: str
) -> None:
    before = len(stack.provider.calls())
    async with gateway(stack, tmp_path) as session:
        is_error, result = await call(session, "order_status", order=order, reason="Look it up")
    assert is_error
    assert result["status"] == "invalid_arguments"
    assert message in result["message"], result
    assert len(stack.provider.calls()) == before


@pytest.mark.asyncio
async def test_path_parameters_are_percent_encoded(stack: Stack, tmp_path: Path) -> None:
    async with gateway(stack, tmp_path) as session:
        is_error, result = await call(
            session, "order_status", order="A 1?x=y:z", reason="Customer asked about A 1"
        )
    # The sample provider has no such route: its 404 comes back as the tool's (error) result.
    assert is_error
    assert result["status"] == "completed", result
    assert result["http_status"] == 404
    uris = [c["uri"] for c in stack.provider.calls()]
    assert "/v1/orders/A%201%3Fx=y:z" in uris


@pytest.mark.asyncio
async def test_a_call_a_policy_rule_refuses_says_which_rule(stack: Stack, tmp_path: Path) -> None:
    before = len(stack.provider.calls())
    async with gateway(stack, tmp_path) as session:
        is_error, result = await call(session, "delete_order", order="A-9", reason="Duplicate")
    assert is_error
    assert result["status"] == "refused"
    assert result["rule"] == "no-deletes"
    assert len(stack.provider.calls()) == before
