"""The MCP gateway (`countersign mcp`) driven by an independent MCP client, the Python `mcp`
package, over stdio and over streamable HTTP, against the real service and sample provider
of conftest.

Decisions are made with the headless approver only: nothing the MCP client sends approves
(not even an elicitation's "accept").
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, Literal

import httpx
import httpx2
import pytest
from conftest import BIN, STARTUP, Stack
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.session import ClientRequestContext
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

#: What the gateway logs at info level in these tests: the elicitation answers it receives.
GATEWAY_LOG = "warn,countersign_cli::mcp::elicit=info"

GATEWAY_CONFIG = """\
[mcp]
service = "{service}"
app_key_env = "MCP_AGENT_KEY"
block = "{block}"
{listen}

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
#: A bearer token for the gateway's HTTP listener (at least 32 characters).
TOKEN = "test-token-0123456789abcdef0123456789"

Transport = Literal["stdio", "http"]
Elicitation = Any  # an ElicitationFnT; the mcp package's Protocol is not exported


#: The `[mcp]` lines of a gateway that signs as one of conftest's signing apps.
SIGNING_AUTH = {
    "hmac": 'app = "hmac-agent"\napp_secret_env = "MCP_AGENT_SECRET"',
    "ed25519": 'app = "ed25519-agent"\napp_private_key_env = "MCP_AGENT_ED"',
}


def write_config(stack: Stack, tmp_path: Path, block: str = "0s", listen: str = "") -> Path:
    config = tmp_path / "mcp.toml"
    config.write_text(GATEWAY_CONFIG.format(service=stack.url, block=block, listen=listen))
    return config


def gateway_env(stack: Stack) -> dict[str, str]:
    return {
        "MCP_AGENT_KEY": stack.api_key,
        "MCP_GATEWAY_TOKEN": TOKEN,
        "COUNTERSIGN_LOG": GATEWAY_LOG,
        "PATH": os.environ.get("PATH", ""),
    }


class HttpGateway:
    """A running `countersign mcp` listening on streamable HTTP: its URL and its log."""

    def __init__(self, config: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as stderr:
            self.process = subprocess.Popen(
                [str(BIN), "mcp", "--config", str(config)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        self.url = ""
        ready = threading.Event()

        def read() -> None:
            assert self.process.stdout is not None
            line = self.process.stdout.readline().decode().strip()
            self.url = line.removeprefix("listening on ")
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(STARTUP) or not self.url.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the HTTP gateway did not start: {log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def sign_as(config: Path, env: dict[str, str], stack: Stack, signing: str | None) -> None:
    """Makes the gateway of ``config`` / ``env`` act as conftest's signing app ``signing``
    (``"hmac"`` / ``"ed25519"``) instead of the bearer-key agent; ``None`` leaves it."""
    if signing is None:
        return
    key_line = 'app_key_env = "MCP_AGENT_KEY"'
    config.write_text(config.read_text().replace(key_line, SIGNING_AUTH[signing]))
    del env["MCP_AGENT_KEY"]
    env |= {"MCP_AGENT_SECRET": stack.hmac_secret, "MCP_AGENT_ED": stack.ed_private_key}


@contextmanager
def http_gateway(
    stack: Stack, tmp_path: Path, listen: str, block: str = "0s", signing: str | None = None
) -> Iterator[HttpGateway]:
    """`countersign mcp` with `listen` lines in its [mcp] table, until the block ends."""
    config = write_config(stack, tmp_path, block, listen)
    env = gateway_env(stack)
    sign_as(config, env, stack, signing)
    running = HttpGateway(config, env, tmp_path / "mcp.log")
    try:
        yield running
    finally:
        running.stop()


@asynccontextmanager
async def gateway(
    stack: Stack,
    tmp_path: Path,
    block: str = "0s",
    transport: Transport = "stdio",
    elicitation: Elicitation | None = None,
    signing: str | None = None,
) -> AsyncIterator[ClientSession]:
    """`countersign mcp` as the support agent, initialized: started by the MCP client over
    stdio, or as a process listening on loopback HTTP (with a bearer token). With ``signing``
    (``"hmac"`` / ``"ed25519"``) it acts as that signing app of conftest instead."""
    if transport == "http":
        listen = 'listen = "127.0.0.1:0"\ntoken_env = "MCP_GATEWAY_TOKEN"'
        with http_gateway(stack, tmp_path, listen, block, signing) as running:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            timeout = httpx2.Timeout(30, read=300)
            async with (
                httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
                streamable_http_client(running.url, http_client=http) as (read, write),
                ClientSession(read, write, elicitation_callback=elicitation) as session,
            ):
                await session.initialize()
                yield session
        return
    config = write_config(stack, tmp_path, block)
    env = gateway_env(stack)
    sign_as(config, env, stack, signing)
    params = StdioServerParameters(command=str(BIN), args=["mcp", "--config", str(config)], env=env)
    with (tmp_path / "mcp.log").open("a") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write, elicitation_callback=elicitation) as session,
        ):
            await session.initialize()
            yield session


@pytest.fixture(params=["stdio", "http"])
def transport(request: pytest.FixtureRequest) -> Transport:
    """Each test using it runs over both transports."""
    value: Transport = request.param
    return value


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
    stack: Stack, tmp_path: Path, transport: Transport
) -> None:
    async with gateway(stack, tmp_path, transport=transport) as session:
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
    stack: Stack, tmp_path: Path, transport: Transport
) -> None:
    async with gateway(stack, tmp_path, transport=transport) as session:
        is_error, result = await call(session, "balance", reason="Monthly balance check")
    assert not is_error, result
    assert result["status"] == "completed"
    assert result["http_status"] == 200
    assert result["body"]["object"] == "balance"


@pytest.mark.asyncio
async def test_an_approved_call_returns_the_providers_answer_through_countersign_wait(
    stack: Stack, tmp_path: Path, transport: Transport
) -> None:
    async with gateway(stack, tmp_path, transport=transport) as session:
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
    stack: Stack, tmp_path: Path, transport: Transport
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

    async with gateway(stack, tmp_path, block="100s", transport=transport) as session:
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
    stack: Stack, tmp_path: Path, transport: Transport, arguments: dict[str, Any], message: str
) -> None:
    before = len(stack.provider.calls())
    async with gateway(stack, tmp_path, transport=transport) as session:
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


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def read_log(log: Path) -> str:
    """The gateway's log without terminal colours."""
    return ANSI.sub("", log.read_text())


@pytest.mark.asyncio
async def test_a_blocked_call_reports_progress_until_the_outcome(
    stack: Stack, tmp_path: Path, transport: Transport
) -> None:
    reports: list[tuple[float, float | None, str | None]] = []
    reported = asyncio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total, message))
        reported.set()

    async def approve_once_reported() -> str:
        # The approver acts only after the client has seen the call waiting.
        await reported.wait()
        found = UUID.search(reports[0][2] or "")
        assert found, reports[0]
        await asyncio.to_thread(stack.approve, found.group(0), "alice")
        return found.group(0)

    async with gateway(stack, tmp_path, block="100s", transport=transport) as session:
        approver = asyncio.create_task(approve_once_reported())
        result = await session.call_tool(
            "refund",
            {"order": "A-500", "amount": 10, "reason": "Customer ticket for A-500"},
            progress_callback=on_progress,
        )
        approval_id = await approver
    content = result.structured_content
    assert isinstance(content, dict), result
    assert not result.is_error, content
    assert content["status"] == "completed", content
    assert content["approval_id"] == approval_id
    assert reports, "no progress notification"
    progress = [p for p, _, _ in reports]
    assert progress == sorted(set(progress)), reports  # strictly increasing
    assert {total for _, total, _ in reports} == {100.0}
    assert all(approval_id in (message or "") for _, _, message in reports)


@pytest.mark.asyncio
async def test_countersign_wait_reports_progress_while_it_waits(
    stack: Stack, tmp_path: Path, transport: Transport
) -> None:
    reports: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append(progress)

    async with gateway(stack, tmp_path, transport=transport) as session:
        approval_id = (await ask_refund(session, "A-510", 10))["approval_id"]
        result = await session.call_tool(
            "countersign_wait",
            {"approval_id": approval_id, "timeout_seconds": 2.5},
            progress_callback=on_progress,
        )
    assert result.structured_content is not None
    assert result.structured_content["status"] == "pending"
    assert reports, "no progress notification during a 2.5 s wait"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("transport", "action"),
    [("stdio", "accept"), ("http", "accept"), ("http", "decline"), ("http", "cancel")],
)
async def test_the_link_is_offered_by_url_elicitation_and_no_answer_approves(
    stack: Stack,
    tmp_path: Path,
    transport: Transport,
    action: Literal["accept", "decline", "cancel"],
) -> None:
    asked: list[types.ElicitRequestParams] = []

    async def answer(
        context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        asked.append(params)
        return types.ElicitResult(action=action)

    log = tmp_path / "mcp.log"
    async with gateway(stack, tmp_path, transport=transport, elicitation=answer) as session:
        pending = await ask_refund(session, "A-600", 4200)
        approval_id = pending["approval_id"]
        # The gateway has read the client's answer (it logs it) before we look.
        answered = f"approval_id={approval_id} action={action.capitalize()}"
        for _ in range(200):
            if answered in read_log(log):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"the gateway did not log {answered!r}: {read_log(log)}")

        assert len(asked) == 1, asked
        params = asked[0]
        assert isinstance(params, types.ElicitRequestURLParams), params
        assert params.url == pending["approval_url"]
        assert params.elicitation_id == approval_id
        assert "Wallet" in params.message

        # The answer changed nothing: no call made, the approval still waits for a signature.
        assert stack.provider.calls_with_key(approval_id) == []
        is_error, still = await call(
            session, "countersign_wait", approval_id=approval_id, timeout_seconds=1
        )
        assert (is_error, still["status"]) == (False, "pending"), still
        shown = await asyncio.to_thread(
            stack.command, "approver", "show", approval_id, "--key", str(stack.pair("alice"))
        )
        assert "pending" in shown.lower(), shown
        assert stack.provider.calls_with_key(approval_id) == []

        # Only the Wallet's (here the headless approver's) signature approves.
        await asyncio.to_thread(stack.approve, approval_id, "alice")
        is_error, result = await call(
            session, "countersign_wait", approval_id=approval_id, timeout_seconds=60
        )
    assert (is_error, result["status"]) == (False, "completed"), result
    assert len(stack.provider.calls_with_key(approval_id)) == 1


@pytest.mark.asyncio
async def test_a_client_without_elicitation_gets_none(stack: Stack, tmp_path: Path) -> None:
    async with gateway(stack, tmp_path, transport="http") as session:
        pending = await ask_refund(session, "A-610", 10)
    assert pending["approval_url"]
    assert "answered" not in read_log(tmp_path / "mcp.log")


INITIALIZE_PARAMS: dict[str, Any] = {
    "protocolVersion": "2025-11-25",
    "capabilities": {},
    "clientInfo": {"name": "raw", "version": "1"},
}
INITIALIZE: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": INITIALIZE_PARAMS,
}
ACCEPT = {"Accept": "application/json, text/event-stream"}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def raw_initialize(url: str, headers: dict[str, str]) -> httpx.Response:
    """One initialize POST; reads only the status and headers (the body is a stream)."""
    with httpx.stream(
        "POST", url, json=INITIALIZE, headers={**ACCEPT, **headers}, timeout=10
    ) as response:
        return response


WITH_TOKEN = 'listen = "127.0.0.1:0"\ntoken_env = "MCP_GATEWAY_TOKEN"'


def test_http_needs_the_bearer_token(stack: Stack, tmp_path: Path) -> None:
    with http_gateway(stack, tmp_path, WITH_TOKEN) as running:
        assert raw_initialize(running.url, {}).status_code == 401
        wrong = {"Authorization": f"Bearer {TOKEN[:-1]}x"}
        assert raw_initialize(running.url, wrong).status_code == 401
        assert raw_initialize(running.url, AUTH).status_code == 200


def test_http_refuses_foreign_hosts_and_browser_origins(stack: Stack, tmp_path: Path) -> None:
    with http_gateway(stack, tmp_path, WITH_TOKEN) as running:
        port = running.url.split(":")[2].split("/")[0]
        # DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1.
        for host in ["evil.example", f"evil.example:{port}", "localhost:1"]:
            response = raw_initialize(running.url, {**AUTH, "Host": host})
            assert response.status_code == 403, host
        for origin in ["http://evil.example", f"http://127.0.0.1:{port}", "null"]:
            response = raw_initialize(running.url, {**AUTH, "Origin": origin})
            assert response.status_code == 403, origin
        assert raw_initialize(running.url, {**AUTH, "Host": f"localhost:{port}"}).status_code == 200


def test_http_allows_listed_origins_only(stack: Stack, tmp_path: Path) -> None:
    listen = f'{WITH_TOKEN}\nallowed_origins = ["http://localhost:6274"]'
    with http_gateway(stack, tmp_path, listen) as running:
        ok = {**AUTH, "Origin": "http://localhost:6274"}
        assert raw_initialize(running.url, ok).status_code == 200
        other = {**AUTH, "Origin": "http://localhost:6275"}
        assert raw_initialize(running.url, other).status_code == 403


def test_http_bounds_bodies_and_sessions(stack: Stack, tmp_path: Path) -> None:
    with http_gateway(stack, tmp_path, f"{WITH_TOKEN}\nmax_sessions = 2") as running:
        huge = {**INITIALIZE, "params": {**INITIALIZE_PARAMS, "pad": "x" * (2 << 20)}}
        response = httpx.post(running.url, json=huge, headers={**ACCEPT, **AUTH}, timeout=30)
        assert response.status_code == 413
        assert raw_initialize(running.url, AUTH).status_code == 200
        assert raw_initialize(running.url, AUTH).status_code == 200
        full = httpx.post(running.url, json=INITIALIZE, headers={**ACCEPT, **AUTH}, timeout=10)
        assert full.status_code == 503
        assert "too many MCP sessions" in full.text


@pytest.mark.parametrize(
    ("listen", "message"),
    [
        ('listen = "0.0.0.0:0"', "not a loopback address"),
        ('listen = "10.11.12.13:0"', "set token_env"),
        ('listen = "localhost:8471"', "names are not accepted"),
        ('token_env = "MCP_GATEWAY_TOKEN"', "set `listen` too"),
    ],
)
def test_http_refuses_to_start_unsafely(
    stack: Stack, tmp_path: Path, listen: str, message: str
) -> None:
    config = write_config(stack, tmp_path, listen=listen)
    done = subprocess.run(
        [str(BIN), "mcp", "--config", str(config)],
        env=gateway_env(stack),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert message in done.stderr.decode(), done.stderr


def test_http_refuses_a_short_token(stack: Stack, tmp_path: Path) -> None:
    config = write_config(stack, tmp_path, listen=WITH_TOKEN)
    done = subprocess.run(
        [str(BIN), "mcp", "--config", str(config)],
        env={**gateway_env(stack), "MCP_GATEWAY_TOKEN": "short"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert "at least 32 characters" in done.stderr.decode(), done.stderr


@pytest.mark.asyncio
@pytest.mark.parametrize("signing", ["hmac", "ed25519"])
async def test_a_gateway_that_signs_as_its_app(
    stack: Stack, tmp_path: Path, signing: str, transport: Transport
) -> None:
    """The gateway configured with a signing app: calls run free or wait for a person, as for
    a bearer key, over both transports."""
    async with gateway(stack, tmp_path, transport=transport, signing=signing) as session:
        is_error, result = await call(session, "balance", reason="Monthly balance check")
        assert not is_error, result
        assert result["status"] == "completed"
        assert result["http_status"] == 200
        pending = await ask_refund(session, "M-S1", 1200)
        stack.approve(pending["approval_id"])
        is_error, result = await call(
            session, "countersign_wait", approval_id=pending["approval_id"], timeout_seconds=15
        )
    assert not is_error, result
    assert result["status"] == "completed", result
    assert result["http_status"] == 200
