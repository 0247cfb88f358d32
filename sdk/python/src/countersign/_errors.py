"""Every way a Countersign call can end without a result (mirrors the Rust SDK's ``Error``)."""

from __future__ import annotations

import json
from http import HTTPStatus

from ._models import FailureReason

#: How much of an unexpected response body is kept in :class:`DecodeError` and :class:`ApiError`.
MAX_KEPT_BODY = 4096


class CountersignError(Exception):
    """The base of every error this SDK raises."""

    @property
    def approval_id(self) -> str | None:
        """The approval this error is about (approval outcomes and :class:`Timeout`)."""
        return None

    def is_timeout(self) -> bool:
        """True when only the local wait ended and the approval may still complete."""
        return False


class ApprovalOutcome(CountersignError):
    """A final outcome of an approval other than success: nothing more will happen to it."""

    def __init__(self, approval_id: str, message: str) -> None:
        super().__init__(message)
        self._approval_id = approval_id

    @property
    def approval_id(self) -> str:
        return self._approval_id


class Denied(ApprovalOutcome):
    """An approver denied the call; it was not sent.

    ``approver`` is empty if the service did not say; ``rule`` is the policy rule that required
    the approval (``None`` when no rule matched and the policy's default requirement applied).
    """

    def __init__(
        self, approval_id: str, approver: str, comment: str | None, rule: str | None
    ) -> None:
        suffix = f": {comment}" if comment else ""
        super().__init__(approval_id, f"approval {approval_id} was denied by {approver}{suffix}")
        self.approver = approver
        self.comment = comment
        self.rule = rule


class Expired(ApprovalOutcome):
    """The approval window closed before enough approvers approved; the call was not sent."""

    def __init__(self, approval_id: str) -> None:
        super().__init__(approval_id, f"approval {approval_id} expired before it was approved")


class Cancelled(ApprovalOutcome):
    """The app cancelled the approval; the call was not sent."""

    def __init__(self, approval_id: str) -> None:
        super().__init__(approval_id, f"approval {approval_id} was cancelled")


class ExecutionFailed(ApprovalOutcome):
    """The call was approved (or needed no approval) but did not produce a result.

    With ``reason == FailureReason.OUTCOME_UNKNOWN`` the call may or may not have reached the
    provider; it is never re-sent (the upstream request carried ``Idempotency-Key: <approval_id>``).
    ``status`` and ``body`` are the provider's, when it answered (``provider_error``: a 5xx).
    """

    def __init__(
        self,
        approval_id: str,
        reason: FailureReason,
        message: str,
        status: int | None,
        body: bytes | None,
    ) -> None:
        super().__init__(
            approval_id, f"approved call {approval_id} failed ({reason.value}): {message}"
        )
        self.reason = reason
        self.message = message
        self.status = status
        self.body = body


class Timeout(CountersignError):
    """The local wait ended while the approval was still open, or while the service could not be
    reached. The approval goes on: wait again later with ``client.wait(approval_id, ...)``."""

    def __init__(self, approval_id: str) -> None:
        super().__init__(
            f"approval {approval_id} is still open; the local wait ended (wait again later)"
        )
        self._approval_id = approval_id

    @property
    def approval_id(self) -> str:
        return self._approval_id

    def is_timeout(self) -> bool:
        return True


class PolicyDenied(CountersignError):
    """A policy rule refuses this call outright (403 ``policy_denied``); nothing was stored or
    sent, and asking again gets the same answer."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"policy rule {rule!r} refuses this call: {message}")
        self.rule = rule
        self.message = message


class ApiError(CountersignError):
    """The service refused the request (``{"error": {"code", "message"}}``).

    When the body was not a Countersign error body, ``code`` is ``"unknown"`` and ``message``
    holds the start of the raw body text.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"service answered {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class TransportError(CountersignError):
    """The service could not be reached, or the connection broke (the cause is chained)."""


class DecodeError(CountersignError):
    """The service answered something this SDK could not read."""

    def __init__(self, message: str, body: bytes | str = b"") -> None:
        super().__init__(f"could not decode the service's answer: {message}")
        self.message = message
        self.body = body if isinstance(body, str) else body_text(body)


class InvalidRequest(CountersignError, ValueError):
    """The request was refused locally before anything was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(f"invalid request: {message}")
        self.message = message


def error_from_response(status: int, body: bytes) -> CountersignError:
    """:class:`PolicyDenied` or :class:`ApiError` from a non-success answer."""
    parsed = _error_detail(body)
    if parsed is not None:
        code, message, rule = parsed
        if code == "policy_denied":
            return PolicyDenied(rule or "", message)
        return ApiError(status, code, message)
    text = body_text(body)
    if not text.strip():
        try:
            text = HTTPStatus(status).phrase
        except ValueError:
            text = "no body"
    return ApiError(status, "unknown", text)


def _error_detail(body: bytes) -> tuple[str, str, str | None] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    error = value.get("error")
    if not isinstance(error, dict):
        return None
    code, message, rule = error.get("code"), error.get("message"), error.get("rule")
    if not isinstance(code, str) or not isinstance(message, str):
        return None
    return code, message, rule if isinstance(rule, str) else None


def body_text(body: bytes) -> str:
    """The first :data:`MAX_KEPT_BODY` bytes of ``body`` as (lossy) text."""
    text = body[:MAX_KEPT_BODY].decode("utf-8", errors="replace")
    return text + "…" if len(body) > MAX_KEPT_BODY else text
