"""Pure ASGI guards that run before routing, so they cover every route (docs and 404s included).

- ``BearerAuth``: when a key is set, every request needs ``Authorization: Bearer <key>``
  (compared in constant time on digests, so neither content nor length leaks through timing).
- ``LoopbackHostGuard``: on a loopback bind, the ``Host`` header must name a loopback address, so
  a web page cannot reach the API through DNS rebinding (its own name re-resolved to 127.0.0.1
  makes the browser treat the server as same-origin).
- ``BodyGuard``: request bodies over the limit get 413 before the app sees them (early, from
  Content-Length, or as soon as a chunked body crosses the limit), and POST bodies must be JSON.
  Requiring ``application/json`` also stops a web page from posting to the local server through a
  CORS "simple request" (we send no CORS headers, so the browser never sends the preflighted one).
  A body that does not arrive within the limit's deadline gets 408 and the connection is closed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bash_ai.server.http_errors import error_response


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


class BearerAuth:
    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self._key_digest = _digest(api_key)

    def _allowed(self, scope: Scope) -> bool:
        header = Headers(scope=scope).get("authorization", "")
        scheme, _, token = header.partition(" ")
        # Always compare, even for a missing or malformed header, to keep the timing flat.
        same = hmac.compare_digest(_digest(token.strip()), self._key_digest)
        return same and scheme.lower() == "bearer"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        response = error_response(
            401,
            "missing or invalid API key: send 'Authorization: Bearer <key>' with the key in BASH_AI_API_KEY",
            "invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)


class LoopbackHostGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from bash_ai.server.run import is_loopback

        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")
        name = host[1 : host.index("]")] if host.startswith("[") and "]" in host else host.rsplit(":", 1)[0]
        # No Host at all (HTTP/1.0 tools) cannot be a browser, which always names the host.
        if not host or is_loopback(name.lower()):
            await self.app(scope, receive, send)
            return
        message = f"Host {host!r} is not a loopback name; this server answers only requests for 127.0.0.1 or localhost"
        await error_response(400, message, "invalid_host")(scope, receive, send)


class BodyGuard:
    def __init__(self, app: ASGIApp, max_body_bytes: int, body_timeout_s: float = 10.0) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s

    def _too_large(self) -> str:
        return f"request body is larger than the server's limit of {self.max_body_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await error_response(413, self._too_large(), "body_too_large")(scope, receive, send)
            return
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            reason = f"send the body as JSON with 'Content-Type: application/json' (got {media_type or 'none'!r})"
            await error_response(415, reason, "unsupported_media_type")(scope, receive, send)
            return

        # Read the whole (small) body here, so a chunked upload is cut off at the limit and a slow
        # one at the deadline (408; the connection is closed), then replay it.
        chunks: list[bytes] = []
        size = 0
        more = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout_s
        while more:
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, deadline - loop.time()))
            except TimeoutError:
                reason = f"the request body did not arrive within {self.body_timeout_s:g} s"
                await error_response(408, reason, "request_timeout", headers={"Connection": "close"})(
                    scope, receive, send
                )
                return
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await error_response(413, self._too_large(), "body_too_large")(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # later calls wait for the client to disconnect

        await self.app(scope, replay, send)
