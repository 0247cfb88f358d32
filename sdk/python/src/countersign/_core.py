"""What the sync and async clients share: request building, answer reading, the wait rules.

The wait rules are those of the Rust SDK's ``wait.rs``: long polls of at most 25 s, at least
1 s between two polls, 429/502/503/504 and broken connections ridden out with capped, jittered
exponential backoff (250 ms doubling up to 8 s, each delay drawn from ``[d/2, d]``) that honours
``Retry-After`` (seconds) but never retries faster than the backoff, all within the caller's
overall deadline.
"""

from __future__ import annotations

import ipaddress
import json as _json
import logging
import math
import random
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from ._errors import (
    Cancelled,
    CountersignError,
    DecodeError,
    Denied,
    ExecutionFailed,
    Expired,
    InvalidRequest,
    error_from_response,
)
from ._models import (
    ApprovalStatus,
    ApprovalView,
    Completed,
    FailureReason,
    PendingInfo,
    b64url_encode,
    parse_pending,
    parse_view,
)

logger = logging.getLogger("countersign")

VERSION = "0.1.0"
USER_AGENT = f"countersign-python/{VERSION}"

#: Timeout of requests that are not long polls (``proxy_request`` runs the provider call when no
#: approval is needed, so it gets room for that).
DEFAULT_REQUEST_TIMEOUT = 90.0
#: Timeout of establishing a connection.
CONNECT_TIMEOUT = 10.0
#: Extra time a long poll is given beyond the time the service may hold it.
POLL_GRACE = 10.0
#: Answers larger than this are refused (the service caps provider bodies far below it).
MAX_ANSWER_BYTES = 64 * 1024 * 1024

#: The longest hold the protocol allows for ``?wait=``.
MAX_WAIT_SECS = 25
#: The least time between two polls, even if a service answers an open approval at once.
MIN_POLL_INTERVAL = 1.0
#: First backoff delay after a transient failure.
BACKOFF_BASE = 0.25
#: Largest backoff delay.
BACKOFF_CAP = 8.0

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True)
class Answer:
    """A raw answer of the service."""

    status: int
    retry_after: float | None
    body: bytes


def seconds(timeout: float | timedelta) -> float:
    """A timeout given as seconds or as a ``timedelta``, never negative."""
    value = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    if math.isnan(value):
        raise InvalidRequest("timeout is not a number")
    return max(0.0, value)


def parse_base_url(text: str) -> str:
    """The base URL, checked and ending with ``/`` (as the Rust SDK's ``parse_base_url``)."""

    def invalid(why: str) -> InvalidRequest:
        return InvalidRequest(f"base URL {text!r} {why}")

    try:
        parts = urlsplit(text.strip())
        _ = parts.port  # raises ValueError for a bad port
    except ValueError as e:
        raise invalid(f"is not a URL: {e}") from e
    if parts.scheme not in ("http", "https"):
        raise invalid("must use http or https")
    if not parts.hostname:
        raise invalid("has no host")
    if parts.username is not None or parts.password is not None:
        raise invalid("must not contain credentials")
    if parts.query or parts.fragment or text.strip().endswith(("?", "#")):
        raise invalid("must not have a query or fragment")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    url = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        logger.warning(
            "Countersign base URL %s is plain http: the API key is sent unencrypted", url
        )
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def auth_header(api_key: str) -> str:
    if not api_key.strip():
        raise InvalidRequest("API key is empty")
    value = f"Bearer {api_key}"
    if any(ord(c) < 0x20 or ord(c) == 0x7F or ord(c) > 0x7E for c in value):
        raise InvalidRequest("API key contains characters not allowed in a header")
    return value


def approval_id_text(approval_id: str | uuid.UUID) -> str:
    """An approval id in its one spelling (lower-case hyphenated UUID), checked locally so that
    nothing else ever lands in a URL path."""
    if isinstance(approval_id, uuid.UUID):
        return str(approval_id)
    try:
        return str(uuid.UUID(approval_id))
    except (ValueError, TypeError, AttributeError) as e:
        raise InvalidRequest(f"approval id {approval_id!r} is not a UUID") from e


def proxy_body(
    grant: str,
    method: str,
    path: str,
    *,
    json: Any,
    body: bytes | str | None,
    query: Mapping[str, str] | None,
    headers: Mapping[str, str] | None,
    reason: str,
) -> dict[str, Any]:
    """The ``POST /v1/proxy`` body, after the checks the Rust SDK makes locally."""
    out_headers: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise InvalidRequest(f"header name {name!r} is not valid")
        if not isinstance(value, str):
            raise InvalidRequest(f"header {name!r} must be a string")
        if any(c in value for c in "\r\n\0"):
            raise InvalidRequest(f"header {name!r} has a line break in its value")
        out_headers[name.lower()] = value
    data: bytes | None
    if json is not None and body is not None:
        raise InvalidRequest("give either json or body, not both")
    if json is not None:
        try:
            data = _json.dumps(
                json, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            ).encode("utf-8")
        except (TypeError, ValueError) as e:
            raise InvalidRequest(f"body is not serialisable as JSON: {e}") from e
        out_headers.setdefault("content-type", "application/json")
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = body
    if not isinstance(grant, str) or not grant.strip():
        raise InvalidRequest("grant is empty")
    if not isinstance(method, str) or not _TOKEN.fullmatch(method):
        raise InvalidRequest(f"method {method!r} is not an HTTP method")
    if not isinstance(path, str) or not path.startswith("/"):
        raise InvalidRequest(f"path {path!r} must start with '/'")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in path):
        raise InvalidRequest("path contains control characters")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidRequest("reason is empty; the approver needs to know why")
    out_query: dict[str, str] = {}
    for name, value in (query or {}).items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidRequest(f"query parameter {name!r} must be a string with a string value")
        out_query[name] = value
    wire: dict[str, Any] = {"grant": grant, "method": method, "path": path, "reason": reason}
    if out_query:
        wire["query"] = dict(sorted(out_query.items()))
    if out_headers:
        wire["headers"] = dict(sorted(out_headers.items()))
    if data is not None:
        wire["body"] = b64url_encode(data)
    return wire


def retry_after(headers: httpx.Headers) -> float | None:
    """``Retry-After`` in seconds (the HTTP-date form is ignored)."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    return float(int(value)) if value.isascii() and value.isdigit() else None


def decode_json(body: bytes) -> Any:
    try:
        return _json.loads(body)
    except ValueError as e:
        raise DecodeError(str(e), body) from e


def read_view(body: bytes) -> ApprovalView:
    value = decode_json(body)
    try:
        return parse_view(value)
    except (KeyError, TypeError, ValueError) as e:
        raise DecodeError(f"not an approval: {e!r}", body) from e


def view_of(approval_id: str, answer: Answer) -> ApprovalView:
    """Reads an approval answer and checks it is about ``approval_id``."""
    if answer.status != 200:
        raise error_from_response(answer.status, answer.body)
    view = read_view(answer.body)
    if view.approval_id != approval_id:
        raise DecodeError(
            f"asked about approval {approval_id}, got {view.approval_id}", answer.body
        )
    return view


def proxy_answer(answer: Answer) -> Completed | PendingInfo:
    """The ``POST /v1/proxy`` answer: a result (200), a pending approval (202), or an error."""
    if answer.status == 200:
        return settle(read_view(answer.body))
    if answer.status == 202:
        value = decode_json(answer.body)
        try:
            return parse_pending(value)
        except (KeyError, TypeError, ValueError) as e:
            raise DecodeError(f"not a pending approval: {e!r}", answer.body) from e
    raise error_from_response(answer.status, answer.body)


def settle(view: ApprovalView) -> Completed:
    """A final approval's result, or raises its outcome error."""
    approval_id = view.approval_id
    status = view.status
    if status is ApprovalStatus.SUCCEEDED:
        if view.response is None:
            raise DecodeError(f"approval {approval_id} succeeded but carries no response")
        return view.response
    if status is ApprovalStatus.EXECUTION_FAILED:
        f = view.failure
        if f is None:
            raise ExecutionFailed(
                approval_id,
                FailureReason.OUTCOME_UNKNOWN,
                "the service reported execution_failed without details",
                None,
                None,
            )
        raise ExecutionFailed(approval_id, f.reason, f.message, f.status, f.body)
    if status is ApprovalStatus.DENIED:
        deny = next((d for d in reversed(view.decisions) if d.decision == "deny"), None)
        rule = next((m.rule for m in view.matched if m.action == "require"), None)
        raise Denied(
            approval_id,
            deny.approver_id if deny else "",
            deny.comment if deny else None,
            rule,
        )
    if status is ApprovalStatus.EXPIRED:
        raise Expired(approval_id)
    if status is ApprovalStatus.CANCELLED:
        raise Cancelled(approval_id)
    raise DecodeError(f"expected a final approval, got {status.value}")


# --- one poll, classified -------------------------------------------------------------------


@dataclass(frozen=True)
class Final:
    """The approval is final: its view (settle it for the result or outcome error)."""

    view: ApprovalView


@dataclass(frozen=True)
class Open:
    """Still pending, approved or executing."""

    status: ApprovalStatus


@dataclass(frozen=True)
class Retry:
    """The service could not answer now; try again."""

    cause: CountersignError | httpx.HTTPError
    retry_after: float | None


Polled = Final | Open | Retry


def classify(approval_id: str, answer: Answer) -> Polled:
    """What one poll's answer means for the wait loop (raises for errors waiting will not fix)."""
    if answer.status in RETRYABLE_STATUSES:
        return Retry(error_from_response(answer.status, answer.body), answer.retry_after)
    view = view_of(approval_id, answer)
    return Final(view) if view.status.is_final() else Open(view.status)


def is_transient(error: httpx.HTTPError) -> bool:
    """Connection refused or reset, a dropped connection, a timed-out poll, a body cut short."""
    return isinstance(
        error,
        httpx.TimeoutException
        | httpx.NetworkError
        | httpx.RemoteProtocolError
        | httpx.DecodingError,
    )


def wait_secs(left: float) -> int:
    """How long to ask the service to hold a poll, with ``left`` seconds to go."""
    return max(1, min(int(left), MAX_WAIT_SECS))


class Backoff:
    """Capped exponential backoff with jitter: the n-th delay is drawn from ``[d/2, d]`` with
    ``d = min(cap, base · 2ⁿ)``."""

    def __init__(self) -> None:
        self.attempt = 0

    def next_delay(self) -> float:
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (1 << min(self.attempt, 16)))
        self.attempt += 1
        half = ceiling / 2
        return half + half * random.random()

    def reset(self) -> None:
        self.attempt = 0


def retry_delay(backoff: Backoff, retry: Retry) -> float:
    """Honour ``Retry-After``, but never retry faster than the backoff."""
    delay = backoff.next_delay()
    return delay if retry.retry_after is None else max(retry.retry_after, delay)


def timeouts(total: float) -> httpx.Timeout:
    return httpx.Timeout(total, connect=min(CONNECT_TIMEOUT, total))
