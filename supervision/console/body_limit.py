"""How big a request body the console reads: a bound on every request, before any route.

JSON and form bodies (sign-in, decisions, task descriptions…) are small: at most
``MAX_BODY_BYTES``. Multipart uploads (directory imports, candidate rule packs) have their
own, larger limits, checked by their routes (``admin_uploads``); this layer bounds them at
the largest of those, ``MAX_UPLOAD_BODY_BYTES``. A body declared larger (Content-Length) is
refused before a byte of it is read; a body that streams past the limit (chunked, or a
lying header) is refused as soon as it does, so no request makes the server hold more than
the limit. The answer is 413 with the error in Chinese and English (JSON under /api).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from supervision.console.routes.admin_uploads import MAX_IMPORT_BYTES

__all__ = ["MAX_BODY_BYTES", "MAX_UPLOAD_BODY_BYTES", "BodyLimit"]

#: JSON and form bodies.
MAX_BODY_BYTES = 1024 * 1024
#: Multipart bodies: the largest upload a route takes, plus its form fields and boundaries.
MAX_UPLOAD_BODY_BYTES = MAX_IMPORT_BYTES + 1024 * 1024


class _TooLarge(Exception):
    pass


def _mib(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MiB"


class BodyLimit:
    """ASGI middleware: refuse request bodies over the limit with 413."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int = MAX_BODY_BYTES,
        upload_limit: int = MAX_UPLOAD_BODY_BYTES,
    ) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        limit = self.upload_limit if multipart else self.limit
        declared = headers.get(b"content-length", b"").strip()
        if declared and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        overflowed = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, overflowed
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    overflowed = True
                    raise _TooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if overflowed:
                # The app may have turned the overflow into an answer of its own
                # (FastAPI: 400 "error parsing the body"): 413 says what happened.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(scope, receive, send, limit)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _TooLarge:
            if started:  # too late for an answer: drop the connection
                raise
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        zh = f"请求内容过大（上限 {_mib(limit)}），未作任何更改"
        en = f"the request body is too large (limit {_mib(limit)}); nothing was changed"
        response: Response
        if scope["path"].startswith("/api"):
            body: dict[str, Any] = {"error": {"zh": zh, "en": en, "details": []}}
            response = JSONResponse(body, status_code=413, headers={"Connection": "close"})
        else:
            from supervision.console.pages import render

            response = render(Request(scope), "console/error.html", status=413, zh=zh, en=en,
                              details=[])  # fmt: skip
            response.headers["Connection"] = "close"
        await response(scope, receive, send)
