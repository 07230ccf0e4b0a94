"""Errors as OpenAI-style JSON (``{"error": {"message", "type", "code", "param"}}``) with stable codes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from indexes.errors import RagError

__all__ = ["APIError", "error_response", "install_error_handlers"]

log = logging.getLogger(__name__)

# RagError codes that are the caller's doing, with the HTTP status they become; the rest are 500 or 503.
_CLIENT_CODES = {"empty_question": 400, "config": 400, "model": 400, "embedder_mismatch": 409,
                 "index_locked": 409}
_UNAVAILABLE_CODES = {"index_missing", "index_format"}
_HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               413: "request_too_large", 415: "unsupported_media_type"}


class APIError(Exception):
    """A request the server refuses, with its HTTP status and a stable ``code``."""

    def __init__(self, status: int, code: str, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param


def error_response(status: int, code: str, message: str, *, param: str | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": message, "type": kind, "code": code, "param": param}}
    return JSONResponse(body, status_code=status, headers=headers)


def _rag_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RagError)
    if exc.code in _CLIENT_CODES:
        return error_response(_CLIENT_CODES[exc.code], exc.code, exc.message)
    if exc.code in _UNAVAILABLE_CODES:
        return error_response(503, exc.code, exc.message)
    log.error("request failed: %s (%s)", exc.message, exc.code)
    return error_response(500, exc.code, exc.message)


def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return error_response(exc.status, exc.code, exc.message, param=exc.param, headers=headers)


def _invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
    if first.get("type") == "json_invalid":
        return error_response(400, "invalid_json", "the request body is not valid JSON")
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    message = f"{where}: {first.get('msg', 'invalid value')}" if where else str(first.get("msg", "invalid request"))
    return error_response(400, "invalid_request", message, param=where or None)


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail),
                          headers=exc.headers)


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error while serving a request")
    return error_response(500, "internal_error", f"internal error ({type(exc).__name__}); see the server log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(RagError, _rag_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
