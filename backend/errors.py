"""The contract's error envelope: API errors, 400 validation errors, 404/405 and 500 handlers."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("backend")


class APIError(Exception):
    """An error the contract names: HTTP status, code, message and optional field."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def not_found(code: str = "NOT_FOUND", message: str = "Resource not found") -> APIError:
    return APIError(404, code, message)


def user_not_found() -> APIError:
    return APIError(404, "USER_NOT_FOUND", "User not found")


def forbidden(message: str = "You do not have permission for this action") -> APIError:
    return APIError(403, "FORBIDDEN", message)


def validation(message: str, field: str) -> APIError:
    return APIError(400, "VALIDATION_ERROR", message, field)


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return {"success": False, "data": None, "error": error}


def _field_of(loc: tuple[Any, ...]) -> str:
    names = [str(part) for part in loc if isinstance(part, str) and part not in ("body", "query")]
    if names:
        return names[-1]
    return str(loc[0]) if loc else "body"


def _message_of(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "Invalid value"))
    return message.removeprefix("Value error, ")


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=exc.status)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first: dict[str, Any] = dict(errors[0]) if errors else {}
    loc = tuple(first.get("loc", ()))
    if first.get("type") == "json_invalid":
        return JSONResponse(error_body("VALIDATION_ERROR", "Malformed JSON body", "body"), 400)
    return JSONResponse(
        error_body("VALIDATION_ERROR", _message_of(first), _field_of(loc)), status_code=400
    )


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = "Not found" if exc.status_code == 404 else str(exc.detail)
    return JSONResponse(
        error_body(f"HTTP_{exc.status_code}", message),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body("INTERNAL_ERROR", "Internal server error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled)
