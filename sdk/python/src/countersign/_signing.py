"""Signed app requests: an app proves who it is by signing each request instead of sending a
bearer API key (``[[app]] auth = "hmac"`` or ``"ed25519"`` on the service).

The signed text is eight lines joined by LF, without a trailing LF::

    countersign/app-request/v1
    <app id>
    <method, as sent>
    <path, as sent, below the client's base URL>
    <query, as sent, without '?' (empty when there is none)>
    <timestamp: YYYY-MM-DDTHH:MM:SSZ>
    <nonce: 16 to 64 characters of A-Z a-z 0-9 - _>
    <lowercase hex SHA-256 of the request body>

signed with HMAC-SHA256 (the shared secret's UTF-8 bytes) or Ed25519, and sent base64url
without padding in ``countersign-signature`` beside ``countersign-app``,
``countersign-timestamp`` and ``countersign-nonce``. Every request (each poll of a wait too)
gets a fresh nonce and the current time; the service accepts it once, within 5 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Generator
from datetime import datetime, timezone
from typing import Any

import httpx

from ._errors import InvalidRequest

DOMAIN = "countersign/app-request/v1"
HEADER_APP = "countersign-app"
HEADER_TIMESTAMP = "countersign-timestamp"
HEADER_NONCE = "countersign-nonce"
HEADER_SIGNATURE = "countersign-signature"
#: The shortest HMAC secret the service accepts, in bytes.
MIN_HMAC_SECRET_BYTES = 32

_APP_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_NONCE = re.compile(r"[A-Za-z0-9_\-]{16,64}")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_\-]*", text):
        raise ValueError("not base64url without padding")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def timestamp_now() -> str:
    """The current time in the protocol's one spelling, ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fresh_nonce() -> str:
    """A random nonce: 16 bytes, 22 base64url characters."""
    return _b64url(secrets.token_bytes(16))


def string_to_sign(
    app: str, method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """The text an app signs (see the module docs)."""
    for name, value in (("method", method), ("path", path), ("query", query)):
        if "\n" in value or "\r" in value:
            raise InvalidRequest(f"the {name} has a line break")
    if not _NONCE.fullmatch(nonce):
        raise InvalidRequest("a nonce is 16 to 64 characters of A-Z, a-z, 0-9, '-' and '_'")
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([DOMAIN, app, method, path, query, timestamp, nonce, digest])


class Signer:
    """What an app signs its requests with; see :class:`HmacSigner` and :class:`Ed25519Signer`."""

    def __init__(self, app_id: str) -> None:
        if not isinstance(app_id, str) or not _APP_ID.fullmatch(app_id):
            raise InvalidRequest(
                f"app id {app_id!r} is not 1 to 64 characters from A-Z, a-z, 0-9, '_', '.', '-'"
            )
        self.app_id = app_id

    def signature(self, text: str) -> bytes:
        """The raw signature of ``text`` (its UTF-8 bytes)."""
        raise NotImplementedError

    def headers(
        self,
        method: str,
        path: str,
        query: str,
        body: bytes,
        *,
        timestamp: str | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        """The four headers of one request (the current time and a fresh nonce by default)."""
        timestamp = timestamp or timestamp_now()
        nonce = nonce or fresh_nonce()
        text = string_to_sign(self.app_id, method, path, query, timestamp, nonce, body)
        return {
            HEADER_APP: self.app_id,
            HEADER_TIMESTAMP: timestamp,
            HEADER_NONCE: nonce,
            HEADER_SIGNATURE: _b64url(self.signature(text)),
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(app_id={self.app_id!r}, key=<redacted>)"


class HmacSigner(Signer):
    """HMAC-SHA256 with the secret shared with the service (``auth = "hmac"``, the value of
    the app's ``secret_env`` there; at least 32 bytes)."""

    def __init__(self, app_id: str, secret: str | bytes) -> None:
        super().__init__(app_id)
        key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if len(key) < MIN_HMAC_SECRET_BYTES:
            raise InvalidRequest(f"an HMAC secret must be at least {MIN_HMAC_SECRET_BYTES} bytes")
        self._key = key

    def signature(self, text: str) -> bytes:
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).digest()


class Ed25519Signer(Signer):
    """Ed25519 with the app's private key (``auth = "ed25519"``; the service's config holds the
    public key): ``private_key`` is base64url of the 32-byte seed. Needs the ``cryptography``
    package (``pip install 'countersign[ed25519]'``)."""

    def __init__(self, app_id: str, private_key: str) -> None:
        super().__init__(app_id)
        try:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
                Ed25519PrivateKey,
            )
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise InvalidRequest(
                "Ed25519 signing needs the cryptography package: pip install 'countersign[ed25519]'"
            ) from e
        try:
            seed = _b64url_decode(private_key.strip())
        except (ValueError, AttributeError) as e:
            raise InvalidRequest("an Ed25519 private key is base64url of its 32-byte seed") from e
        if len(seed) != 32:
            raise InvalidRequest("an Ed25519 private key is base64url of its 32-byte seed")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)

    def public_key(self) -> str:
        """The public key to put in the service's config (base64url)."""
        from cryptography.hazmat.primitives.serialization import (  # noqa: PLC0415
            Encoding,
            PublicFormat,
        )

        return _b64url(self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    def signature(self, text: str) -> bytes:
        return self._key.sign(text.encode("utf-8"))


class SigningAuth(httpx.Auth):
    """Signs each request as sent: method, the path below ``base_url``'s path, the raw query
    and the body bytes."""

    requires_request_body = True

    def __init__(self, signer: Signer, base_url: str) -> None:
        self._signer = signer
        self._base_path = httpx.URL(base_url).raw_path.split(b"?", 1)[0].decode("ascii")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, Any, None]:
        raw = request.url.raw_path.decode("ascii")
        path, _, query = raw.partition("?")
        if not path.startswith(self._base_path):
            raise InvalidRequest(f"{request.url} is not below the base URL")
        below = "/" + path[len(self._base_path) :]
        request.headers.update(self._signer.headers(request.method, below, query, request.content))
        yield request


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <API key>``."""

    def __init__(self, header: str) -> None:
        self._header = header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, Any, None]:
        request.headers["authorization"] = self._header
        yield request
