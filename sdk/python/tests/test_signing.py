"""Signed app requests: the SDK's signer against the independent vectors
(``tests/vectors/app-signing.json``), and signing clients against the real service (HMAC and
Ed25519, sync and async), with what the service answers a replayed or altered request."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import REPO, Stack

from countersign import (
    ApiError,
    AsyncClient,
    AsyncPendingApproval,
    Client,
    Completed,
    Ed25519Signer,
    HmacSigner,
    InvalidRequest,
    PendingApproval,
)
from countersign._signing import SigningAuth, string_to_sign

VECTORS: list[dict[str, Any]] = json.loads(
    (REPO / "tests" / "vectors" / "app-signing.json").read_text()
)
REFUND = {"order": "S-1", "amount": 1999, "currency": "EUR"}


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signer_of(vector: dict[str, Any]) -> HmacSigner | Ed25519Signer:
    if "secret" in vector:
        return HmacSigner(vector["app"], vector["secret"])
    return Ed25519Signer(vector["app"], vector["private_key"])


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_the_signer_reproduces_every_vector(vector: dict[str, Any]) -> None:
    body = b64url_decode(vector["body"])
    text = string_to_sign(
        vector["app"],
        vector["method"],
        vector["path"],
        vector["query"],
        vector["timestamp"],
        vector["nonce"],
        body,
    )
    assert text == vector["string_to_sign"]
    signer = signer_of(vector)
    if isinstance(signer, Ed25519Signer):
        assert signer.public_key() == vector["public_key"]
    headers = signer.headers(
        vector["method"],
        vector["path"],
        vector["query"],
        body,
        timestamp=vector["timestamp"],
        nonce=vector["nonce"],
    )
    assert headers == vector["headers"]


@pytest.mark.parametrize("base", ["https://cs.example.com/", "https://cs.example.com/a/prefix/"])
@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_requests_are_signed_as_sent_below_the_base_url(vector: dict[str, Any], base: str) -> None:
    """The httpx auth flow signs the request's own path (below the base URL), raw query and
    body bytes: the vector's headers come out, given its time and nonce."""
    query = f"?{vector['query']}" if vector["query"] else ""
    url = base + vector["path"][1:] + query
    request = httpx.Request(vector["method"], url, content=b64url_decode(vector["body"]))
    signer = signer_of(vector)
    fixed = vector["timestamp"], vector["nonce"]
    original = signer.headers

    def at_vector_time(*args: Any, **_: Any) -> dict[str, str]:
        return original(*args, timestamp=fixed[0], nonce=fixed[1])

    signer.headers = at_vector_time  # type: ignore[method-assign]
    flow = SigningAuth(signer, base).auth_flow(request)
    signed = next(flow)
    sent = {k: v for k, v in signed.headers.items() if k.startswith("countersign-")}
    assert sent == vector["headers"]
    assert "authorization" not in signed.headers


def test_bad_signing_credentials_are_refused_locally() -> None:
    with pytest.raises(InvalidRequest, match="at least 32 bytes"):
        HmacSigner("agent", "too short")
    with pytest.raises(InvalidRequest, match="app id"):
        HmacSigner("bad app id", "x" * 32)
    with pytest.raises(InvalidRequest, match="32-byte seed"):
        Ed25519Signer("agent", "AAAA")
    with pytest.raises(InvalidRequest, match="either an API key or a signer"):
        Client("http://127.0.0.1:1", "key", signer=HmacSigner("agent", "x" * 32))
    with pytest.raises(InvalidRequest, match="either an API key or a signer"):
        Client("http://127.0.0.1:1")
    secret = "s" * 40
    shown = repr(Client("http://127.0.0.1:1", signer=HmacSigner("agent", secret)))
    assert secret not in shown
    assert "<redacted>" in shown


def hmac_client(stack: Stack) -> Client:
    return Client(stack.url, signer=HmacSigner("hmac-agent", stack.hmac_secret))


@pytest.mark.parametrize("kind", ["hmac", "ed25519"])
def test_a_signing_client_runs_the_whole_flow(stack: Stack, kind: str) -> None:
    signer: HmacSigner | Ed25519Signer = (
        HmacSigner("hmac-agent", stack.hmac_secret)
        if kind == "hmac"
        else Ed25519Signer("ed25519-agent", stack.ed_private_key)
    )
    with Client(stack.url, signer=signer) as client:
        free = client.proxy_request(
            "payments", "GET", "/v1/balance", query={"b": "2", "a": "1"}, reason="balance"
        )
        assert isinstance(free, Completed)
        assert free.status == 200
        pending = client.proxy_request(
            "payments", "POST", "/v1/refunds", json=REFUND, reason=f"Refund S-1 ({kind})"
        )
        assert isinstance(pending, PendingApproval)
        stack.approve(pending.approval_id)
        result = pending.wait(15)
        assert result.status == 200
        assert client.approval(pending.approval_id).status.value == "succeeded"
    # Another app cannot see it.
    with Client(stack.url, stack.api_key) as other:
        with pytest.raises(ApiError) as e:
            other.approval(pending.approval_id)
        assert e.value.status == 404


@pytest.mark.asyncio
async def test_the_async_client_signs_too(stack: Stack) -> None:
    signer = Ed25519Signer("ed25519-agent", stack.ed_private_key)
    async with AsyncClient(stack.url, signer=signer) as client:
        pending = await client.proxy_request(
            "payments", "POST", "/v1/refunds", json=REFUND, reason="Refund S-2 (async)"
        )
        assert isinstance(pending, AsyncPendingApproval)
        view = await client.cancel(pending.approval_id)
        assert view.status.value == "cancelled"


class Recorder(httpx.Client):
    """An httpx client that keeps a copy of every request it sends."""

    def __init__(self) -> None:
        super().__init__(follow_redirects=False)
        self.sent: list[httpx.Request] = []

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = super().send(request, **kwargs)
        self.sent.append(response.request)
        return response


def resend(stack: Stack, request: httpx.Request, **changes: Any) -> httpx.Response:
    """Sends ``request`` again as captured, with ``changes`` (``content``, ``url``,
    ``headers``) applied."""
    headers = dict(request.headers)
    headers.update(changes.get("headers", {}))
    return httpx.request(
        changes.get("method", request.method),
        changes.get("url", request.url),
        content=changes.get("content", request.content),
        headers=headers,
        timeout=30,
    )


def error_code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_a_captured_request_is_refused_again_and_altered_copies_fail(stack: Stack) -> None:
    recorder = Recorder()
    signer = HmacSigner("hmac-agent", stack.hmac_secret)
    with Client(stack.url, signer=signer, http_client=recorder) as client:
        outcome = client.proxy_request(
            "payments", "POST", "/v1/refunds", json=REFUND, reason="Refund S-3"
        )
    assert isinstance(outcome, PendingApproval)
    (captured,) = recorder.sent
    assert "authorization" not in captured.headers
    assert error_code(resend(stack, captured)) == (401, "nonce_reused")

    # The same body under a fresh nonce, but the body changed by one byte.
    fresh = signer.headers("POST", "/v1/proxy", "", captured.content)
    body = captured.content.replace(b"S-3", b"S-4")
    answer = resend(stack, captured, headers=fresh, content=body)
    assert error_code(answer) == (401, "bad_request_signature")
    # Signed by the right app id with another app's secret.
    wrong = HmacSigner("hmac-agent", "another-secret-of-at-least-32-bytes!")
    answer = resend(stack, captured, headers=wrong.headers("POST", "/v1/proxy", "", body))
    assert error_code(answer) == (401, "bad_request_signature")
    # The signature is HMAC-agent's, the app header says another app.
    headers = signer.headers("POST", "/v1/proxy", "", captured.content)
    headers["countersign-app"] = "ed25519-agent"
    answer = resend(stack, captured, headers=headers)
    assert error_code(answer) == (401, "bad_request_signature")
    # A stale timestamp, signed honestly.
    past = "2020-01-01T00:00:00Z"
    old = signer.headers("POST", "/v1/proxy", "", captured.content, timestamp=past)
    assert error_code(resend(stack, captured, headers=old)) == (401, "stale_timestamp")


def test_the_bearer_app_config_of_the_stack_is_unchanged(stack: Stack) -> None:
    """Bearer keys stay for the demo: both kinds of app live in one service."""
    with Client(stack.url, stack.api_key) as client:
        outcome = client.proxy_request("payments", "GET", "/v1/balance", reason="balance")
        assert isinstance(outcome, Completed)
    assert Path(stack.config).read_text().count('auth = "') == 2
