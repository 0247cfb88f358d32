"""``@requires_approval``: turn a tool function that describes a provider call into one that
makes it through Countersign and returns the provider's answer."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, overload

from ._client import AsyncClient, AsyncPendingApproval, Client, PendingApproval, TimeoutLike
from ._errors import InvalidRequest
from ._models import Completed

P = ParamSpec("P")

#: How long a decorated function waits for approval unless told otherwise (10 minutes).
DEFAULT_DECORATOR_TIMEOUT = 600.0


@dataclass(frozen=True)
class ProxyCall:
    """The provider call a ``@requires_approval`` function describes (its return value).

    ``path`` is below the grant's base URL. ``reason``, when given, replaces the decorator's.
    """

    method: str
    path: str
    json: Any = None
    body: bytes | str | None = None
    query: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None
    reason: str | None = None


Reason = str | Callable[..., str]


class requires_approval:  # noqa: N801 (used as a decorator, named as one)
    """Decorates a tool function that *describes* a provider call: it returns a
    :class:`ProxyCall`, and the decorated function makes that call with ``grant`` through
    ``proxy_request`` and returns the provider's answer (:class:`Completed`).

    - A call the policy lets run returns at once. A call that needs approval waits inline up
      to ``timeout`` (default 10 minutes), after ``on_pending`` (if given) was called with
      the :class:`PendingApproval` (e.g. to send ``approval_url`` to a person or log it).
    - Every other ending raises the SDK's typed errors (:class:`Denied` with the approver's
      comment, :class:`Expired`, :class:`Timeout` with the approval id to resume later,
      :class:`ExecutionFailed`, :class:`PolicyDenied`, :class:`ApiError`), so an agent
      framework can hand them to the model; the function's own exceptions pass unchanged
      and nothing is sent.
    - ``reason`` is shown to the approver: a string formatted with the function's arguments
      (``"Refund {amount} cents for order {order}"``), or a function of the same arguments
      returning one. A ``reason`` on the returned :class:`ProxyCall` takes precedence.
    - ``client`` is a :class:`Client` for plain functions or an :class:`AsyncClient` for
      ``async def`` ones; by default one is made at the first call from ``$COUNTERSIGN_URL``
      and ``$COUNTERSIGN_API_KEY``.

    The decorated function keeps its name, docstring and signature (``functools.wraps``), so
    tool registries that read them see the original tool.
    """

    def __init__(
        self,
        *,
        grant: str,
        reason: Reason,
        client: Client | AsyncClient | None = None,
        timeout: TimeoutLike = DEFAULT_DECORATOR_TIMEOUT,
        on_pending: Callable[[PendingApproval | AsyncPendingApproval], object] | None = None,
    ) -> None:
        if not grant.strip():
            raise InvalidRequest("grant is empty")
        self.grant = grant
        self.reason = reason
        self.client = client
        self.timeout = timeout
        self.on_pending = on_pending

    @overload
    def __call__(
        self, fn: Callable[P, Awaitable[ProxyCall]]
    ) -> Callable[P, Awaitable[Completed]]: ...

    @overload
    def __call__(self, fn: Callable[P, ProxyCall]) -> Callable[P, Completed]: ...

    def __call__(self, fn: Callable[P, Any]) -> Callable[P, Any]:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: P.args, **kwargs: P.kwargs) -> Completed:
                call = _checked(await fn(*args, **kwargs))
                reason = self._reason(fn, call, args, kwargs)
                client = self._async_client()
                outcome = await client.proxy_request(
                    self.grant,
                    call.method,
                    call.path,
                    json=call.json,
                    body=call.body,
                    query=call.query,
                    headers=call.headers,
                    reason=reason,
                )
                if isinstance(outcome, Completed):
                    return outcome
                if self.on_pending is not None:
                    self.on_pending(outcome)
                return await outcome.wait(self.timeout)

            return run_async

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> Completed:
            call = _checked(fn(*args, **kwargs))
            reason = self._reason(fn, call, args, kwargs)
            outcome = self._sync_client().proxy_request(
                self.grant,
                call.method,
                call.path,
                json=call.json,
                body=call.body,
                query=call.query,
                headers=call.headers,
                reason=reason,
            )
            if isinstance(outcome, Completed):
                return outcome
            if self.on_pending is not None:
                self.on_pending(outcome)
            return outcome.wait(self.timeout)

        return run

    def _reason(
        self,
        fn: Callable[..., Any],
        call: ProxyCall,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
    ) -> str:
        if call.reason is not None:
            return call.reason
        if callable(self.reason):
            return self.reason(*args, **kwargs)
        bound = inspect.signature(fn).bind(*args, **kwargs)
        bound.apply_defaults()
        try:
            return self.reason.format(**bound.arguments)
        except (KeyError, IndexError) as e:
            raise InvalidRequest(
                f"reason {self.reason!r} names {e} that is not an argument of {fn.__name__}"
            ) from e

    def _sync_client(self) -> Client:
        if self.client is None:
            self.client = Client.from_env()
        if not isinstance(self.client, Client):
            raise InvalidRequest("a plain function needs a countersign.Client")
        return self.client

    def _async_client(self) -> AsyncClient:
        if self.client is None:
            self.client = AsyncClient.from_env()
        if not isinstance(self.client, AsyncClient):
            raise InvalidRequest("an async function needs a countersign.AsyncClient")
        return self.client


def _checked(call: object) -> ProxyCall:
    if not isinstance(call, ProxyCall):
        raise InvalidRequest(
            f"a @requires_approval function must return a ProxyCall, not {type(call).__name__}"
        )
    return call
