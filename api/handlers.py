"""Exception handlers: every error leaves the gateway as the JSON envelope of ``api.errors``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.db import database_fault
from api.errors import ApiError, IdempotentReplay, error_envelope
from api.state import NODE_UNREACHABLE


def chain_unavailable() -> JSONResponse:
    response = _json(503, "CHAIN_UNAVAILABLE", "The ledger node does not answer; retry shortly.")
    response.headers["Retry-After"] = "2"
    return response


def _json(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_envelope(code, message, details))


#: FastAPI's ``HTTPException`` detail when reading the JSON body failed otherwise than as malformed JSON.
_UNPARSABLE_BODY = "There was an error parsing the body"
_NOT_JSON = [{"loc": ["body"], "msg": "The body is not JSON text in UTF-8.", "type": "json_invalid"}]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        response = _json(exc.status, exc.code, exc.message, exc.details)
        if exc.status == 503:  # every 503 says when to come back
            response.headers.setdefault("Retry-After", "2")
        return response

    @app.exception_handler(IdempotentReplay)
    async def _replay(_: Request, exc: IdempotentReplay) -> JSONResponse:
        return JSONResponse(exc.content, status_code=exc.status, headers={"Idempotent-Replayed": "true"})

    async def _chain_down(_: Request, exc: Exception) -> JSONResponse:
        # any read or write of the ledger while the node does not answer (the gateway makes no other
        # HTTP requests); the node's URL is not repeated: it may carry credentials
        return chain_unavailable()

    for unreachable in NODE_UNREACHABLE:
        app.add_exception_handler(unreachable, _chain_down)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _json(422, "REQUEST_INVALID", "The request is not valid.", jsonable_errors(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
            # FastAPI's answer to a body it cannot decode (not UTF-8): invalid JSON, like a malformed one
            return _json(422, "REQUEST_INVALID", "The body is not JSON text (UTF-8).", _NOT_JSON)
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 401: "UNAUTHENTICATED", 403: "FORBIDDEN"}.get(
            exc.status_code, f"HTTP_{exc.status_code}"
        )
        return _json(exc.status_code, code, str(exc.detail))

    install_database_fault_handler(app)


def install_database_fault_handler(app: FastAPI) -> None:
    """A locked, read-only or unreachable database is 503 with ``Retry-After``, not a 500. The request's
    session has rolled back by then (nothing half-written); any other database error is raised on."""

    async def _database(_: Request, exc: Exception) -> JSONResponse:
        fault = database_fault(exc)
        if fault is None:
            raise exc
        logging.getLogger("api.db").warning(
            "database %s: %s", fault.reason, type(getattr(exc, "orig", None) or exc).__name__
        )
        response = _json(503, fault.code, fault.message, {"reason": fault.reason})
        response.headers["Retry-After"] = str(fault.retry_after)
        return response

    app.add_exception_handler(sa_exc.DBAPIError, _database)
    app.add_exception_handler(sa_exc.TimeoutError, _database)


def jsonable_errors(errors: Any) -> list[dict[str, Any]]:
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors
    ]
