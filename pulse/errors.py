"""Every error is `{"error": "..."}` with the status the API reference gives."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from pulse.limits import MAX_BODY_BYTES

MISSING_KEY = "Missing API key. Provide it via X-Pulse-Key header or ?key= query parameter."
INVALID_KEY = "Invalid API key."
EXPIRED_KEY = "API key has expired."
MISSING_ADMIN_TOKEN = "Missing admin token. Provide it via Authorization: Bearer <PULSE_ADMIN_TOKEN>."
INVALID_ADMIN_TOKEN = "Invalid admin token."


class ApiError(Exception):
    status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers


class BadRequest(ApiError):
    status, code = 400, "BAD_REQUEST"


class Unauthorized(ApiError):
    status, code = 401, "UNAUTHENTICATED"


class Forbidden(ApiError):
    status, code = 403, "FORBIDDEN"


class NotFound(ApiError):
    status, code = 404, "NOT_FOUND"


class PayloadTooLarge(ApiError):
    status, code = 413, "PAYLOAD_TOO_LARGE"


BODY_TOO_LARGE = f"Request body exceeds {MAX_BODY_BYTES} bytes."


class BodyTooLarge(PayloadTooLarge):
    """A request body over MAX_BODY_BYTES, on every route (pulse.web.bodylimit) and for a body
    handed to the collect parser directly."""

    def __init__(self) -> None:
        super().__init__(BODY_TOO_LARGE)


class RateLimited(ApiError):
    status, code = 429, "RATE_LIMITED"

    def __init__(self, retry_after: int = 1) -> None:
        unit = "second" if retry_after == 1 else "seconds"
        super().__init__(f"Rate limit exceeded. Retry after {retry_after} {unit}.",
                         headers={"Retry-After": str(retry_after)})


class Unavailable(ApiError):
    status, code = 503, "UNAVAILABLE"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


REDIS_UNREACHABLE = "Service temporarily unavailable: Redis is unreachable."


class RedisUnavailable(Unavailable):
    """503 with Retry-After: Redis, which every request and the ingest buffer rely on, did not answer."""

    def __init__(self) -> None:
        super().__init__(REDIS_UNREACHABLE)


#: Every pooled connection stayed busy for the pool's whole wait: the request is refused, not failed.
POOL_BUSY = "Service temporarily unavailable: every database connection is busy. Retry shortly."


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def describe_validation_error(exc: RequestValidationError) -> str:
    """Turn pydantic's first complaint into the reference's wording."""
    errors = exc.errors()
    if not errors:
        return "Invalid request body."
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
    field = ".".join(loc)
    kind = first.get("type", "")
    where = "request body" if first.get("loc", ("body",))[0] == "body" else "parameter"
    if kind == "missing":
        return f"Invalid {where}: missing required field '{field}'."
    if kind in ("json_invalid", "model_attributes_type", "dict_type") and not field:
        return "Invalid request body: expected a JSON object."
    message = first.get("msg", "invalid value")
    return f"Invalid {where}: field '{field}': {message}." if field else f"Invalid {where}: {message}."


_HTTP_TEXT = {
    404: "Not found.",
    405: "Method not allowed.",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(PoolTimeout)
    async def _pool_busy(_: Request, exc: PoolTimeout) -> JSONResponse:
        return error_response(503, POOL_BUSY, {"Retry-After": "1"})

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, describe_validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code not in _HTTP_TEXT else None
        message = detail or _HTTP_TEXT.get(exc.status_code, "Request failed.")
        return error_response(exc.status_code, message, getattr(exc, "headers", None))
