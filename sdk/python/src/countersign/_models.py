"""What the service answers, as typed values (mirrors ``countersign_core::api``)."""

from __future__ import annotations

import base64
import binascii
import json as _json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any


class ApprovalStatus(str, Enum):
    """The state of an approval."""

    PENDING = "pending"
    """Waiting for decisions."""
    APPROVED = "approved"
    """Enough approvals; the call has not been sent yet."""
    EXECUTING = "executing"
    """The call is being sent."""
    SUCCEEDED = "succeeded"
    """The call ran; the provider's answer is stored."""
    EXECUTION_FAILED = "execution_failed"
    """Approved, but the call failed or its outcome is unknown."""
    DENIED = "denied"
    """An approver denied it."""
    EXPIRED = "expired"
    """The window closed before it was approved."""
    CANCELLED = "cancelled"
    """The app withdrew it."""

    def is_final(self) -> bool:
        """True when nothing more will happen to the approval."""
        return self not in (
            ApprovalStatus.PENDING,
            ApprovalStatus.APPROVED,
            ApprovalStatus.EXECUTING,
        )


class FailureReason(str, Enum):
    """Why an approved call did not produce a result."""

    TRANSPORT = "transport"
    """No connection to the provider, or it broke."""
    TIMEOUT = "timeout"
    """The provider did not answer in time."""
    GRANT_REVOKED = "grant_revoked"
    """The grant was revoked before the call was sent."""
    PROVIDER_ERROR = "provider_error"
    """The provider answered 5xx."""
    OUTCOME_UNKNOWN = "outcome_unknown"
    """The service stopped while the call was in flight; it is never re-sent."""


@dataclass(frozen=True)
class Decision:
    """One accepted decision, as apps see it."""

    approver_id: str
    decision: str
    """``"approve"`` or ``"deny"``."""
    comment: str | None
    decided_at: datetime


@dataclass(frozen=True)
class PolicyMatch:
    """Which rule of a policy decided a call (``rule`` is ``None`` when no rule matched and the
    policy's default requirement applied)."""

    policy: str
    rule: str | None
    action: str
    """``"allow"``, ``"require"`` or ``"deny"``."""


@dataclass(frozen=True)
class ExecutionFailure:
    """The failure of an approved call."""

    reason: FailureReason
    message: str
    status: int | None = None
    body: bytes | None = None


@dataclass(frozen=True)
class Completed:
    """The provider's answer to an executed call.

    Any provider status is a result, including 4xx: check :attr:`status`. (A provider 5xx is
    raised as :class:`~countersign.ExecutionFailed` instead.)
    """

    approval_id: str
    """The approval (or, for calls that needed none, the record of the call)."""
    status: int
    """The provider's HTTP status."""
    headers: Mapping[str, str]
    """The provider's headers, lower-case names."""
    body: bytes
    """The provider's body, cut at the service's cap (see :attr:`truncated`)."""
    truncated: bool = False
    """True when the service cut the body at its cap."""
    duration_ms: int = 0
    """Time from sending the request to the end of the provider's body."""

    def header(self, name: str) -> str | None:
        """One provider header, by case-insensitive name."""
        return self.headers.get(name.lower())

    @property
    def text(self) -> str:
        """The body as text (UTF-8, invalid bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body decoded as JSON (raises :class:`~countersign.DecodeError` if it is not)."""
        from ._errors import DecodeError  # noqa: PLC0415 (the errors module imports this one)

        try:
            return _json.loads(self.body)
        except ValueError as e:
            message = f"provider body is not JSON: {e}"
            if self.truncated:
                message += " (the body was truncated by the service)"
            raise DecodeError(message, self.body) from e


@dataclass(frozen=True)
class ApprovalView:
    """An approval as its app sees it (``GET /v1/approvals/{id}``)."""

    approval_id: str
    status: ApprovalStatus
    expires_at: datetime
    decisions: tuple[Decision, ...] = ()
    matched: tuple[PolicyMatch, ...] = ()
    """The rule that decided in each policy of the call."""
    response: Completed | None = None
    """The provider's answer, once ``succeeded``."""
    failure: ExecutionFailure | None = None
    """Why it failed, once ``execution_failed``."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The JSON object as the service sent it."""


@dataclass(frozen=True)
class PendingInfo:
    """The ``202`` answer of ``POST /v1/proxy``."""

    approval_id: str
    approval_url: str
    expires_at: datetime


# ---------------------------------------------------------------------------------------------
# Decoding. Every function raises ValueError (or KeyError/TypeError) on a malformed answer; the
# client turns those into DecodeError.


def parse_timestamp(text: object) -> datetime:
    """``2026-11-24T12:00:00Z`` as an aware UTC datetime."""
    if not isinstance(text, str) or not text.endswith("Z"):
        raise ValueError(f"not an RFC 3339 UTC timestamp: {text!r}")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc)


def b64url_decode(text: object) -> bytes:
    """base64url without padding."""
    if not isinstance(text, str):
        raise TypeError(f"expected base64url text, got {type(text).__name__}")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except binascii.Error as e:
        raise ValueError(f"not base64url: {e}") from e


def b64url_encode(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} is not a string")
    return value


def _opt_str(value: object, what: str) -> str | None:
    return None if value is None else _str(value, what)


def _int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} is not an integer")
    return value


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{what} is not an object")
    return value


def parse_completed(approval_id: str, value: object) -> Completed:
    response = _object(value, "response")
    headers = _object(response["headers"], "response.headers")
    return Completed(
        approval_id=approval_id,
        status=_int(response["status"], "response.status"),
        headers={_str(k, "header name").lower(): _str(v, k) for k, v in headers.items()},
        body=b64url_decode(response["body"]),
        truncated=bool(response.get("body_truncated", False)),
        duration_ms=_int(response.get("duration_ms", 0), "response.duration_ms"),
    )


def parse_view(value: object) -> ApprovalView:
    view = _object(value, "approval")
    approval_id = _str(view["approval_id"], "approval_id")
    failure = None
    if view.get("failure") is not None:
        f = _object(view["failure"], "failure")
        body = f.get("body")
        status = f.get("status")
        failure = ExecutionFailure(
            reason=FailureReason(f["reason"]),
            message=_str(f["message"], "failure.message"),
            status=None if status is None else _int(status, "failure.status"),
            body=None if body is None else b64url_decode(body),
        )
    return ApprovalView(
        approval_id=approval_id,
        status=ApprovalStatus(view["status"]),
        expires_at=parse_timestamp(view["expires_at"]),
        decisions=tuple(
            Decision(
                approver_id=_str(d["approver_id"], "approver_id"),
                decision=_str(d["decision"], "decision"),
                comment=_opt_str(d.get("comment"), "comment"),
                decided_at=parse_timestamp(d["decided_at"]),
            )
            for d in view.get("decisions", [])
        ),
        matched=tuple(
            PolicyMatch(
                policy=_str(m["policy"], "policy"),
                rule=_opt_str(m.get("rule"), "rule"),
                action=_str(m["action"], "action"),
            )
            for m in view.get("matched", [])
        ),
        response=(
            None if view.get("response") is None else parse_completed(approval_id, view["response"])
        ),
        failure=failure,
        raw=view,
    )


def parse_pending(value: object) -> PendingInfo:
    pending = _object(value, "pending approval")
    return PendingInfo(
        approval_id=_str(pending["approval_id"], "approval_id"),
        approval_url=_str(pending["approval_url"], "approval_url"),
        expires_at=parse_timestamp(pending["expires_at"]),
    )
