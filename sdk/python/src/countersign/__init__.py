"""Countersign for Python: make an agent's sensitive API call wait for a person's signed approval.

An app never holds the provider's secret. It asks the Countersign service to make a call with
a named *grant*; when the grant's policy requires it, the call pauses until enough approvers
approve it in their Wallet, and then the service makes it exactly once.

- :class:`Client` / :class:`AsyncClient`: the connection (base URL and API key, or a
  :class:`HmacSigner` / :class:`Ed25519Signer` that signs every request instead).
- :meth:`Client.proxy_request` returns :class:`Completed` (no approval was needed, the call
  ran) or :class:`PendingApproval` (wait on it, or persist its ``approval_id``).
- :meth:`PendingApproval.wait` / :meth:`Client.wait` long-poll until the outcome is known or the
  local timeout ends, riding out restarts and gateway errors of the service.
- Every other ending is a typed :class:`CountersignError`: :class:`Denied`, :class:`Expired`,
  :class:`Cancelled`, :class:`ExecutionFailed`, :class:`Timeout` (only the local wait ended),
  :class:`PolicyDenied`, :class:`ApiError`, :class:`TransportError`, :class:`DecodeError`,
  :class:`InvalidRequest`.
- :class:`requires_approval`: a decorator for tool functions that describe a provider call.
"""

from ._client import (
    API_KEY_ENV,
    APP_ID_ENV,
    APP_PRIVATE_KEY_ENV,
    APP_SECRET_ENV,
    URL_ENV,
    AsyncClient,
    AsyncPendingApproval,
    Client,
    PendingApproval,
)
from ._core import VERSION
from ._decorator import ProxyCall, requires_approval
from ._errors import (
    ApiError,
    ApprovalOutcome,
    Cancelled,
    CountersignError,
    DecodeError,
    Denied,
    ExecutionFailed,
    Expired,
    InvalidRequest,
    PolicyDenied,
    Timeout,
    TransportError,
)
from ._models import (
    ApprovalStatus,
    ApprovalView,
    Completed,
    Decision,
    ExecutionFailure,
    FailureReason,
    PolicyMatch,
)
from ._signing import Ed25519Signer, HmacSigner, Signer

__version__ = VERSION

__all__ = [
    "API_KEY_ENV",
    "APP_ID_ENV",
    "APP_PRIVATE_KEY_ENV",
    "APP_SECRET_ENV",
    "URL_ENV",
    "ApiError",
    "ApprovalOutcome",
    "ApprovalStatus",
    "ApprovalView",
    "AsyncClient",
    "AsyncPendingApproval",
    "Cancelled",
    "Client",
    "Completed",
    "CountersignError",
    "Decision",
    "DecodeError",
    "Denied",
    "Ed25519Signer",
    "ExecutionFailed",
    "ExecutionFailure",
    "Expired",
    "FailureReason",
    "HmacSigner",
    "InvalidRequest",
    "PendingApproval",
    "PolicyDenied",
    "PolicyMatch",
    "ProxyCall",
    "Signer",
    "Timeout",
    "TransportError",
    "__version__",
    "requires_approval",
]
