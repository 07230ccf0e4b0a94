"""Admission of every request: the Host and Origin checks, the bearer token and the body size limit.

A pure ASGI middleware, so the checks run before any route and before a body is parsed.
- Host: on a loopback address only loopback host names are served, so a web page cannot reach the
  server through DNS rebinding (a name of the attacker's that resolves to 127.0.0.1).
- Origin: a browser's cross-site POST (a form on some other page) is refused; the server sends
  no CORS headers, so cross-site scripts cannot read any response either.
- Token: with one configured, every ``/v1/`` request needs ``Authorization: Bearer <token>``
  (``/``, the page's files and ``/healthz`` stay open: they hold nothing of the documents).
- Body: JSON bodies are read up to ``max_body_bytes`` before the route sees them; the upload route
  streams its body itself under its own, larger limit.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from rag.serve.settings import ServeSettings, is_loopback

__all__ = ["UPLOAD_PATH", "RequestGuard"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UPLOAD_PATH = "/v1/ingest/upload"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequestGuard:
    """Wraps the app; refuses a request with an OpenAI-style error before it reaches a route."""

    def __init__(self, app: ASGIApp, settings: ServeSettings) -> None:
        self.app = app
        self.settings = settings
        self.loopback = is_loopback(settings.host)
        self.hosts = {"127.0.0.1", "localhost", "::1", "[::1]", settings.host, *settings.extra_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _reply(send, *refusal)
            return
        if scope["path"] == UPLOAD_PATH:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive, self.settings.max_body_bytes, headers.get("content-length"))
        if body is None:
            await _reply(send, 413, "request_too_large",
                         f"the request body is over {self.settings.max_body_bytes} bytes")
            return
        await self.app(scope, _replay(body, receive), send)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str, str] | None:
        host = _hostname(headers.get("host", ""))
        if self.loopback and host not in self.hosts:
            return 421, "unknown_host", f"this server answers to 127.0.0.1 and localhost, not {host!r}"
        origin = headers.get("origin")
        if scope["method"] not in _SAFE_METHODS and origin and urlsplit(origin).netloc != headers.get("host"):
            return 403, "cross_origin", f"requests from {origin} are not accepted"
        if self.settings.token and scope["path"].startswith("/v1/"):
            scheme, _, given = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not given:
                return 401, "missing_token", "this server needs 'Authorization: Bearer <token>'"
            if not hmac.compare_digest(given.strip().encode(), self.settings.token.encode()):
                return 401, "invalid_token", "the bearer token is not this server's"
        return None


def _hostname(host: str) -> str:
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _read_body(receive: Receive, limit: int, declared: str | None) -> bytes | None:
    """The whole body, or None when it is (or says it is) larger than ``limit``."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then http.disconnect, when the client goes

    return replay


async def _reply(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"message": message, "type": "invalid_request_error", "code": code,
                                 "param": None}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
