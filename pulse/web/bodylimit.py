"""One request-body limit for every route, as a pure ASGI middleware.

A declared `Content-Length` over the limit is answered 413 before the app runs. Otherwise the
bytes are counted as the app reads them: the read that passes the limit raises `BodyTooLarge`
instead of handing the chunk over, so nothing ever holds more than the limit. However the app
handles that exception (FastAPI's handler, Strawberry's own error page, a bare endpoint), the
answer is the same 413: once the limit is passed, the app's response is replaced by it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pulse.errors import BODY_TOO_LARGE, BodyTooLarge, error_response
from pulse.limits import MAX_BODY_BYTES

OVERSIZED = 10**18  # what a Content-Length of more than 18 digits counts as


def declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # A digit string too long to convert (Python refuses over 4,300 digits) is over any limit.
            return None if not value.isdigit() else int(value) if len(value) <= 18 else OVERSIZED
    return None


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared is not None and declared > self.limit:
            await error_response(413, BODY_TOO_LARGE)(scope, receive, send)
            return

        received = 0
        passed = started = False

        async def counted_receive() -> Message:
            nonlocal received, passed
            if passed:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    passed = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if passed:
                return  # the app's own answer to BodyTooLarge: the 413 below replaces it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not passed:
                raise
        if passed and not started:
            await error_response(413, BODY_TOO_LARGE)(scope, receive, send)
