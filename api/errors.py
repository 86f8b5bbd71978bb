"""API errors: every error response is JSON ``{"error": {"code": ..., "message": ..., "details": ...}}``.

FastAPI-free, so services can raise ``ApiError``; ``api.handlers`` turns it (and every other error)
into the JSON envelope.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_envelope(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The JSON body of every error answer: ``{"error": {"code", "message", "details"}}``."""
    return ErrorResponse(error=ErrorBody(code=code, message=message, details=details)).model_dump(mode="json")


class ApiError(Exception):
    """Raise from a route or a service to answer with ``status`` and a machine-readable ``code``."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting the JSON error envelope for ``statuses``."""
    return {s: {"model": ErrorResponse} for s in statuses}


class IdempotentReplay(Exception):
    """The stored answer to an earlier request with the same ``Idempotency-Key``: sent again as it was."""

    def __init__(self, status: int, content: Any) -> None:
        super().__init__(f"replay of a {status} answer")
        self.status = status
        self.content = content
