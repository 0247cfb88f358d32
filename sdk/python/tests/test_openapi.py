"""The service's OpenAPI document (``GET /v1/openapi.json``) against the live service: it is a
valid OpenAPI 3.1 document, and every request the SDK sends and every answer it receives
(completed, pending, denied, failed, cancelled, error envelopes) validates against the schema
the document gives for that operation and status.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from conftest import Stack
from jsonschema import Draft202012Validator, ValidationError
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from countersign import (
    ApiError,
    ApprovalStatus,
    Client,
    Completed,
    Denied,
    ExecutionFailed,
    PendingApproval,
    PolicyDenied,
)

#: The document's URI in the schema registry (references inside it resolve against it).
DOC_URI = "urn:countersign:openapi"
#: Where a request or response object keeps its JSON schema.
JSON_BODY = ("content", "application/json", "schema")
REASON = "check the OpenAPI document against what the service answers"


@dataclass(frozen=True)
class Exchange:
    """One request the SDK sent and the answer it received."""

    method: str
    path: str
    request: Any
    status: int
    answer: Any


class Recorder:
    """httpx event hooks that keep every exchange of a client (bodies parsed as JSON)."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def on_response(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        self.exchanges.append(
            Exchange(
                method=request.method.lower(),
                path=request.url.path,
                request=json.loads(request.content) if request.content else None,
                status=response.status_code,
                answer=response.json(),
            )
        )


def pointer(*parts: str) -> str:
    """A JSON pointer fragment of the document (RFC 6901 escaping)."""
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class Document:
    """The served document: operations by concrete path, and validators of their schemas."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.registry: Registry[Any] = Registry().with_resource(
            DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
        )
        self.templates = [
            (re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"), template)
            for template in doc["paths"]
        ]

    def template(self, path: str) -> str:
        matches: list[str] = [t for pattern, t in self.templates if pattern.match(path)]
        assert len(matches) == 1, f"{path} matches {matches} of the document's paths"
        return matches[0]

    def validator(self, *parts: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": DOC_URI + pointer(*parts)},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def check(self, exchange: Exchange) -> str:
        """Validates the exchange; returns ``"<operationId> <status>"``."""
        template = self.template(exchange.path)
        operation = self.doc["paths"][template].get(exchange.method)
        assert operation is not None, f"{exchange.method} {template} is not documented"
        if exchange.request is not None:
            self.validator("paths", template, exchange.method, "requestBody", *JSON_BODY).validate(
                exchange.request
            )
        status = str(exchange.status)
        assert status in operation["responses"], (
            f"{exchange.method} {template} answered {status}, which it does not document"
        )
        self.validator(
            "paths", template, exchange.method, "responses", status, *JSON_BODY
        ).validate(exchange.answer)
        return f"{operation['operationId']} {status}"


@pytest.fixture(scope="module")
def document(stack: Stack) -> Document:
    response = httpx.get(f"{stack.url}/v1/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return Document(response.json())


@pytest.fixture
def recorded(stack: Stack) -> Iterator[tuple[Client, Recorder]]:
    recorder = Recorder()
    http = httpx.Client(follow_redirects=False, event_hooks={"response": [recorder.on_response]})
    with Client(stack.url, stack.api_key, http_client=http) as client:
        yield client, recorder


def test_the_document_is_valid_openapi_3_1(document: Document) -> None:
    assert document.doc["openapi"].startswith("3.1.")
    validate(document.doc, cls=OpenAPIV31SpecValidator)
    schemes = document.doc["components"]["securitySchemes"]
    assert {name: (s["type"], s.get("scheme") or s.get("in")) for name, s in schemes.items()} == {
        "app_key": ("http", "bearer"),
        "app_signature": ("apiKey", "header"),
        "wallet_session": ("http", "bearer"),
    }
    assert schemes["app_signature"]["name"] == "countersign-signature"
    assert document.doc["paths"]["/v1/proxy"]["post"]["security"] == [
        {"app_key": []},
        {"app_signature": []},
    ]
    assert document.doc["paths"]["/v1/wallet/approvals"]["get"]["security"] == [
        {"wallet_session": []}
    ]


def test_what_the_sdk_sends_and_receives_is_what_the_document_says(
    recorded: tuple[Client, Recorder], document: Document, stack: Stack
) -> None:
    client, recorder = recorded
    # Completed at once.
    done = client.proxy_request("payments", "GET", "/v1/balance", reason=REASON)
    assert isinstance(done, Completed)
    # Pending, then approved and run (the wait's long polls too).
    pending = client.proxy_request(
        "payments", "POST", "/v1/refunds", json={"amount": 5}, reason=REASON
    )
    assert isinstance(pending, PendingApproval)
    stack.approve(pending.approval_id, comment="fine")
    assert pending.wait(30).status == 200
    # Pending, then denied.
    denied = client.proxy_request("payments", "POST", "/v1/refunds", json={}, reason=REASON)
    assert isinstance(denied, PendingApproval)
    stack.deny(denied.approval_id, comment="no")
    with pytest.raises(Denied):
        denied.wait(30)
    # Approved, and the provider fails it.
    failing = client.proxy_request("flaky", "POST", "/v1/refunds", json={}, reason=REASON)
    assert isinstance(failing, PendingApproval)
    stack.approve(failing.approval_id)
    with pytest.raises(ExecutionFailed):
        failing.wait(30)
    # Cancelled, and cancelled again (no longer pending).
    cancelled = client.proxy_request("payments", "POST", "/v1/refunds", json={}, reason=REASON)
    assert isinstance(cancelled, PendingApproval)
    assert cancelled.cancel().status is ApprovalStatus.CANCELLED
    with pytest.raises(ApiError):
        cancelled.cancel()
    # Error envelopes.
    with pytest.raises(PolicyDenied):
        client.proxy_request("payments", "DELETE", "/v1/refunds/re_1", reason=REASON)
    for grant, method, path in [
        ("nope", "GET", "/v1/balance"),
        ("payments", "GET", "/v1//balance"),
        ("payments", "TRACE", "/v1/balance"),
    ]:
        with pytest.raises(ApiError):
            client.proxy_request(grant, method, path, reason=REASON)
    with pytest.raises(ApiError):
        client.approval(str(uuid.uuid4()))
    with (
        Client(
            stack.url,
            "cs_wrong_key",
            http_client=httpx.Client(event_hooks={"response": [recorder.on_response]}),
        ) as wrong,
        pytest.raises(ApiError),
    ):
        wrong.proxy_request("payments", "GET", "/v1/balance", reason=REASON)

    seen = {document.check(exchange) for exchange in recorder.exchanges}
    assert seen >= {
        "proxy 200",
        "proxy 202",
        "proxy 401",
        "proxy 403",
        "proxy 404",
        "proxy 422",
        "approval_status 200",
        "approval_status 404",
        "cancel_approval 200",
        "cancel_approval 409",
    }, seen
    statuses = {e.answer["status"] for e in recorder.exchanges if e.status in (200, 202)}
    assert statuses >= {"succeeded", "pending", "denied", "execution_failed", "cancelled"}


def test_the_check_refuses_answers_the_document_does_not_allow(
    recorded: tuple[Client, Recorder], document: Document
) -> None:
    client, recorder = recorded
    with pytest.raises(PolicyDenied):
        client.proxy_request("payments", "DELETE", "/v1/refunds/re_1", reason=REASON)
    done = client.proxy_request("payments", "GET", "/v1/balance", reason=REASON)
    assert isinstance(done, Completed)
    refusal, completed = recorder.exchanges
    assert document.check(refusal) == "proxy 403"
    assert document.check(completed) == "proxy 200"

    def altered(exchange: Exchange, answer: Any, status: int | None = None) -> Exchange:
        return Exchange(
            exchange.method,
            exchange.path,
            exchange.request,
            status or exchange.status,
            answer,
        )

    # A code the operation does not answer under that status.
    wrong_code = {"error": {**refusal.answer["error"], "code": "unknown_grant"}}
    # An answer missing a required field, or with a status outside the lifecycle.
    no_status = {k: v for k, v in completed.answer.items() if k != "status"}
    bad_status = {**completed.answer, "status": "done"}
    bad_time = {**completed.answer, "expires_at": "2026-11-24T12:00:00.5Z"}
    for bad in [
        altered(refusal, wrong_code),
        altered(completed, no_status),
        altered(completed, bad_status),
        altered(completed, bad_time),
    ]:
        with pytest.raises(ValidationError):
            document.check(bad)
    # A status the operation does not document at all.
    with pytest.raises(AssertionError, match="does not document"):
        document.check(altered(refusal, refusal.answer, 418))
