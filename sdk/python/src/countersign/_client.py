"""``Client`` and ``AsyncClient``: the app's connection to a Countersign service."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any

import anyio
import httpx

from . import _core
from ._core import Answer, Backoff, Final, Open, Retry, logger
from ._errors import DecodeError, InvalidRequest, Timeout, TransportError
from ._models import ApprovalView, Completed, PendingInfo
from ._signing import BearerAuth, Ed25519Signer, HmacSigner, Signer, SigningAuth

#: Environment variables :meth:`Client.from_env` reads.
URL_ENV = "COUNTERSIGN_URL"
API_KEY_ENV = "COUNTERSIGN_API_KEY"
#: A signing app (instead of an API key): its id, and its HMAC secret or Ed25519 private key.
APP_ID_ENV = "COUNTERSIGN_APP_ID"
APP_SECRET_ENV = "COUNTERSIGN_APP_SECRET"
APP_PRIVATE_KEY_ENV = "COUNTERSIGN_APP_PRIVATE_KEY"

TimeoutLike = float | timedelta
ApprovalId = str | uuid.UUID


def _from_env() -> tuple[str, str | None, Signer | None]:
    url, key = os.environ.get(URL_ENV), os.environ.get(API_KEY_ENV)
    app, secret = os.environ.get(APP_ID_ENV), os.environ.get(APP_SECRET_ENV)
    private = os.environ.get(APP_PRIVATE_KEY_ENV)
    if url and key:
        return url, key, None
    if url and app and secret:
        return url, None, HmacSigner(app, secret)
    if url and app and private:
        return url, None, Ed25519Signer(app, private)
    raise InvalidRequest(
        f"set {URL_ENV} and {API_KEY_ENV}, or {APP_ID_ENV} with {APP_SECRET_ENV} or "
        f"{APP_PRIVATE_KEY_ENV} (or pass a client)"
    )


def _transport_error(e: httpx.HTTPError) -> TransportError:
    return TransportError(f"transport error: {e!r}")


class _Base:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        signer: Signer | None,
        request_timeout: float,
    ) -> None:
        self._base = _core.parse_base_url(base_url)
        self._auth: httpx.Auth
        if (api_key is None) == (signer is None):
            raise InvalidRequest("give either an API key or a signer, not both or neither")
        if signer is not None:
            if not isinstance(signer, Signer):
                raise InvalidRequest("signer must be an HmacSigner or an Ed25519Signer")
            self._auth = SigningAuth(signer, self._base)
            self._who = f"signer={signer!r}"
        else:
            assert api_key is not None
            self._auth = BearerAuth(_core.auth_header(api_key))
            self._who = "api_key=<redacted>"
        self._request_timeout = _core.seconds(request_timeout)

    @property
    def base_url(self) -> str:
        """The service's base URL (always ending with ``/``)."""
        return self._base

    def _url(self, relative: str) -> str:
        return self._base + relative

    def _headers(self) -> dict[str, str]:
        return {"user-agent": _core.USER_AGENT}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self._base!r}, {self._who}, "
            f"request_timeout={self._request_timeout})"
        )


def _expires_in(expires_at: datetime) -> float:
    return max(0.0, (expires_at - datetime.now(timezone.utc)).total_seconds())


# --- sync -----------------------------------------------------------------------------------


class PendingApproval:
    """An approval that is waiting for a person (the ``202`` answer of ``proxy_request``).

    Persist :attr:`approval_id` if the process may stop before the outcome is known;
    :meth:`Client.wait` picks it up again.
    """

    def __init__(self, info: PendingInfo, client: Client) -> None:
        self.approval_id: str = info.approval_id
        """The approval to wait on."""
        self.approval_url: str = info.approval_url
        """Deep link that opens the approval in the Wallet (give it to the approver)."""
        self.expires_at: datetime = info.expires_at
        """When the approval window closes."""
        self._client = client

    def wait(self, timeout: TimeoutLike) -> Completed:
        """Waits up to ``timeout`` for the outcome (see :meth:`Client.wait`)."""
        return self._client.wait(self.approval_id, timeout)

    def cancel(self) -> ApprovalView:
        """Withdraws the request (see :meth:`Client.cancel`)."""
        return self._client.cancel(self.approval_id)

    def status(self) -> ApprovalView:
        """The approval's current state, without waiting (see :meth:`Client.approval`)."""
        return self._client.approval(self.approval_id)

    def expires_in(self) -> float:
        """Seconds until the window closes by this machine's clock (zero once passed)."""
        return _expires_in(self.expires_at)

    def __repr__(self) -> str:
        return (
            f"PendingApproval(approval_id={self.approval_id!r}, "
            f"approval_url={self.approval_url!r}, expires_at={self.expires_at.isoformat()!r})"
        )


class Client(_Base):
    """The app's handle on a Countersign service (blocking; see :class:`AsyncClient`).

    ``base_url`` must be ``http`` or ``https``, without credentials, query or fragment; use
    ``https`` for anything but a local service, since the API key travels in every request.
    ``request_timeout`` bounds requests that are not long polls, including ``proxy_request``,
    which runs the provider call at once when no approval is needed. Pass ``http_client`` to
    use your own ``httpx.Client`` (proxies, TLS roots); it should not follow redirects, so the
    API key is never sent anywhere else. Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        signer: Signer | None = None,
        request_timeout: float = _core.DEFAULT_REQUEST_TIMEOUT,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(base_url, api_key, signer, request_timeout)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(follow_redirects=False)

    @classmethod
    def from_env(cls, **kwargs: Any) -> Client:
        """A client for ``$COUNTERSIGN_URL`` with the key in ``$COUNTERSIGN_API_KEY``, or signing
        as ``$COUNTERSIGN_APP_ID`` with ``$COUNTERSIGN_APP_SECRET`` (HMAC) or
        ``$COUNTERSIGN_APP_PRIVATE_KEY`` (Ed25519)."""
        url, key, signer = _from_env()
        return cls(url, key, signer=signer, **kwargs)

    def close(self) -> None:
        """Closes the HTTP connections (not an ``http_client`` passed in)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def proxy_request(
        self,
        grant: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes | str | None = None,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        reason: str,
    ) -> Completed | PendingApproval:
        """Asks the service to make a call with ``grant`` (``POST /v1/proxy``).

        Returns :class:`Completed` when no approval was needed and the call ran, or
        :class:`PendingApproval` when a person must approve it first. ``json`` is sent as
        ``application/json`` (unless ``headers`` names another content type); ``body`` is sent
        as is. A call that ran but failed raises :class:`ExecutionFailed`, a call a policy
        refuses :class:`PolicyDenied`, any other refusal :class:`ApiError`. Never retried by
        the SDK (a retry could ask twice).
        """
        wire = _core.proxy_body(
            grant, method, path, json=json, body=body, query=query, headers=headers, reason=reason
        )
        logger.debug("proxy_request grant=%s method=%s path=%s", grant, method, path)
        answer = self._request("POST", "v1/proxy", self._request_timeout, json=wire)
        outcome = _core.proxy_answer(answer)
        return PendingApproval(outcome, self) if isinstance(outcome, PendingInfo) else outcome

    def approval(self, approval_id: ApprovalId) -> ApprovalView:
        """The approval's current state (``GET /v1/approvals/{id}``), without waiting."""
        aid = _core.approval_id_text(approval_id)
        answer = self._request("GET", f"v1/approvals/{aid}", self._request_timeout)
        return _core.view_of(aid, answer)

    def cancel(self, approval_id: ApprovalId) -> ApprovalView:
        """Withdraws a request that is still pending (``POST /v1/approvals/{id}/cancel``).

        Returns the approval, now ``cancelled``. One already decided raises :class:`ApiError`
        (409 ``not_pending``).
        """
        aid = _core.approval_id_text(approval_id)
        answer = self._request("POST", f"v1/approvals/{aid}/cancel", self._request_timeout)
        return _core.view_of(aid, answer)

    def wait(self, approval_id: ApprovalId, timeout: TimeoutLike) -> Completed:
        """Waits up to ``timeout`` (seconds or ``timedelta``) for the approval's outcome.

        Long-polls ``GET /v1/approvals/{id}?wait=S`` (S ≤ 25 s) until the approval is final or
        the time is up, riding out 502/503/504, 429 and broken connections with capped,
        jittered exponential backoff that honours ``Retry-After``. Works on any approval of
        this app, e.g. an id a worker persisted before a restart.

        - ``succeeded`` → :class:`Completed`
        - ``denied`` → :class:`Denied`, ``expired`` → :class:`Expired`, ``cancelled`` →
          :class:`Cancelled`, ``execution_failed`` → :class:`ExecutionFailed`
        - still open when ``timeout`` ends (or the service stayed unreachable) →
          :class:`Timeout`; call ``wait`` again later.
        - any other refusal (e.g. 404, 401) → :class:`ApiError` at once.
        """
        aid = _core.approval_id_text(approval_id)
        deadline = time.monotonic() + _core.seconds(timeout)
        backoff = Backoff()
        while True:
            started = time.monotonic()
            secs = _core.wait_secs(deadline - started)
            try:
                answer = self._send("GET", f"v1/approvals/{aid}", secs + _core.POLL_GRACE, secs)
                polled = _core.classify(aid, answer)
            except httpx.HTTPError as e:
                if not _core.is_transient(e):
                    raise _transport_error(e) from e
                polled = Retry(e, None)
            if isinstance(polled, Final):
                return _core.settle(polled.view)
            if isinstance(polled, Open):
                backoff.reset()
                logger.debug("approval %s still %s", aid, polled.status.value)
                # A service should hold the answer; never spin if it does not.
                _sleep_until(min(started + _core.MIN_POLL_INTERVAL, deadline))
            else:
                delay = _core.retry_delay(backoff, polled)
                logger.warning(
                    "waiting for approval %s: service unavailable (%s), retrying in %.2fs",
                    aid,
                    polled.cause,
                    delay,
                )
                _sleep_until(min(time.monotonic() + delay, deadline))
            if time.monotonic() >= deadline:
                raise Timeout(aid)

    def _request(self, method: str, relative: str, timeout: float, json: Any = None) -> Answer:
        try:
            return self._send(method, relative, timeout, None, json)
        except httpx.HTTPError as e:
            raise _transport_error(e) from e

    def _send(
        self,
        method: str,
        relative: str,
        timeout: float,
        wait: int | None,
        json: Any = None,
    ) -> Answer:
        """Sends with the API key and reads the whole (bounded) answer within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._stream(method, relative, timeout, wait, json) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > _core.MAX_ANSWER_BYTES:
                    raise DecodeError(f"answer larger than {_core.MAX_ANSWER_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("answer not read in time", request=response.request)
            return Answer(response.status_code, _core.retry_after(response.headers), bytes(body))

    @contextmanager
    def _stream(
        self, method: str, relative: str, timeout: float, wait: int | None, json: Any
    ) -> Iterator[httpx.Response]:
        params = None if wait is None else {"wait": str(wait)}
        with self._http.stream(
            method,
            self._url(relative),
            params=params,
            json=json,
            headers=self._headers(),
            auth=self._auth,
            timeout=_core.timeouts(timeout),
            follow_redirects=False,
        ) as response:
            yield response


def _sleep_until(at: float) -> None:
    delay = at - time.monotonic()
    if delay > 0:
        time.sleep(delay)


# --- async ----------------------------------------------------------------------------------


class AsyncPendingApproval:
    """:class:`PendingApproval` for :class:`AsyncClient`."""

    def __init__(self, info: PendingInfo, client: AsyncClient) -> None:
        self.approval_id: str = info.approval_id
        """The approval to wait on."""
        self.approval_url: str = info.approval_url
        """Deep link that opens the approval in the Wallet (give it to the approver)."""
        self.expires_at: datetime = info.expires_at
        """When the approval window closes."""
        self._client = client

    async def wait(self, timeout: TimeoutLike) -> Completed:
        """Waits up to ``timeout`` for the outcome (see :meth:`AsyncClient.wait`)."""
        return await self._client.wait(self.approval_id, timeout)

    async def cancel(self) -> ApprovalView:
        """Withdraws the request (see :meth:`AsyncClient.cancel`)."""
        return await self._client.cancel(self.approval_id)

    async def status(self) -> ApprovalView:
        """The approval's current state, without waiting."""
        return await self._client.approval(self.approval_id)

    def expires_in(self) -> float:
        """Seconds until the window closes by this machine's clock (zero once passed)."""
        return _expires_in(self.expires_at)

    def __repr__(self) -> str:
        return (
            f"AsyncPendingApproval(approval_id={self.approval_id!r}, "
            f"approval_url={self.approval_url!r}, expires_at={self.expires_at.isoformat()!r})"
        )


class AsyncClient(_Base):
    """:class:`Client` for ``asyncio`` (or trio, through anyio): the same methods, awaitable.

    Use as an async context manager, or call :meth:`aclose`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        signer: Signer | None = None,
        request_timeout: float = _core.DEFAULT_REQUEST_TIMEOUT,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, api_key, signer, request_timeout)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(follow_redirects=False)

    @classmethod
    def from_env(cls, **kwargs: Any) -> AsyncClient:
        """A client for ``$COUNTERSIGN_URL`` with the key in ``$COUNTERSIGN_API_KEY``, or signing
        as ``$COUNTERSIGN_APP_ID`` with ``$COUNTERSIGN_APP_SECRET`` (HMAC) or
        ``$COUNTERSIGN_APP_PRIVATE_KEY`` (Ed25519)."""
        url, key, signer = _from_env()
        return cls(url, key, signer=signer, **kwargs)

    async def aclose(self) -> None:
        """Closes the HTTP connections (not an ``http_client`` passed in)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def proxy_request(
        self,
        grant: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes | str | None = None,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        reason: str,
    ) -> Completed | AsyncPendingApproval:
        """See :meth:`Client.proxy_request`."""
        wire = _core.proxy_body(
            grant, method, path, json=json, body=body, query=query, headers=headers, reason=reason
        )
        logger.debug("proxy_request grant=%s method=%s path=%s", grant, method, path)
        answer = await self._request("POST", "v1/proxy", self._request_timeout, json=wire)
        outcome = _core.proxy_answer(answer)
        return AsyncPendingApproval(outcome, self) if isinstance(outcome, PendingInfo) else outcome

    async def approval(self, approval_id: ApprovalId) -> ApprovalView:
        """See :meth:`Client.approval`."""
        aid = _core.approval_id_text(approval_id)
        answer = await self._request("GET", f"v1/approvals/{aid}", self._request_timeout)
        return _core.view_of(aid, answer)

    async def cancel(self, approval_id: ApprovalId) -> ApprovalView:
        """See :meth:`Client.cancel`."""
        aid = _core.approval_id_text(approval_id)
        answer = await self._request("POST", f"v1/approvals/{aid}/cancel", self._request_timeout)
        return _core.view_of(aid, answer)

    async def wait(self, approval_id: ApprovalId, timeout: TimeoutLike) -> Completed:
        """See :meth:`Client.wait`."""
        aid = _core.approval_id_text(approval_id)
        deadline = time.monotonic() + _core.seconds(timeout)
        backoff = Backoff()
        while True:
            started = time.monotonic()
            secs = _core.wait_secs(deadline - started)
            try:
                answer = await self._send(
                    "GET", f"v1/approvals/{aid}", secs + _core.POLL_GRACE, secs
                )
                polled = _core.classify(aid, answer)
            except httpx.HTTPError as e:
                if not _core.is_transient(e):
                    raise _transport_error(e) from e
                polled = Retry(e, None)
            if isinstance(polled, Final):
                return _core.settle(polled.view)
            if isinstance(polled, Open):
                backoff.reset()
                logger.debug("approval %s still %s", aid, polled.status.value)
                await _asleep_until(min(started + _core.MIN_POLL_INTERVAL, deadline))
            else:
                delay = _core.retry_delay(backoff, polled)
                logger.warning(
                    "waiting for approval %s: service unavailable (%s), retrying in %.2fs",
                    aid,
                    polled.cause,
                    delay,
                )
                await _asleep_until(min(time.monotonic() + delay, deadline))
            if time.monotonic() >= deadline:
                raise Timeout(aid)

    async def _request(
        self, method: str, relative: str, timeout: float, json: Any = None
    ) -> Answer:
        try:
            return await self._send(method, relative, timeout, None, json)
        except httpx.HTTPError as e:
            raise _transport_error(e) from e

    async def _send(
        self,
        method: str,
        relative: str,
        timeout: float,
        wait: int | None,
        json: Any = None,
    ) -> Answer:
        """Sends with the API key and reads the whole (bounded) answer within ``timeout``."""
        request = self._http.build_request(
            method,
            self._url(relative),
            params=None if wait is None else {"wait": str(wait)},
            json=json,
            headers=self._headers(),
            timeout=_core.timeouts(timeout),
        )
        with anyio.move_on_after(timeout):
            async with self._open(request) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > _core.MAX_ANSWER_BYTES:
                        raise DecodeError(f"answer larger than {_core.MAX_ANSWER_BYTES} bytes")
                return Answer(
                    response.status_code, _core.retry_after(response.headers), bytes(body)
                )
        # Only the deadline leaves the block without returning.
        raise httpx.ReadTimeout("answer not read in time", request=request)

    @asynccontextmanager
    async def _open(self, request: httpx.Request) -> AsyncIterator[httpx.Response]:
        response = await self._http.send(
            request, stream=True, auth=self._auth, follow_redirects=False
        )
        try:
            yield response
        finally:
            await response.aclose()


async def _asleep_until(at: float) -> None:
    delay = at - time.monotonic()
    if delay > 0:
        await anyio.sleep(delay)
