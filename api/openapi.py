"""The OpenAPI document tells every status an operation can answer, from what the operation is made of.

Routes declare their own outcomes (``responses=``: 404, 409 ...). What every operation shares is added
here, after the routers are included, from the route's dependencies and method, so no route can forget
one:

- 500 ``INTERNAL_ERROR`` and 503 (``CHAIN_UNAVAILABLE``, ``DATABASE_BUSY``, ``DATABASE_UNAVAILABLE``,
  with ``Retry-After``) on every operation;
- 413 ``REQUEST_TOO_LARGE`` on every operation (the size guard reads any body);
- 422 ``REQUEST_INVALID`` where there is a parameter or a body, ``JSON_TOO_DEEP`` on every method that
  takes a body;
- 401 and 403 where the caller authenticates (``UNAUTHENTICATED``; ``FORBIDDEN_ROLE``,
  ``PARTICIPANT_SUSPENDED``, ``NOT_A_PARTICIPANT``);
- 400, 409 and 422 of the ``Idempotency-Key`` where it is a dependency, and the ``Idempotent-Replayed``
  header on the answers a retry may replay;
- ``text/csv`` beside JSON where a ``format`` query parameter offers it.

Every error status answers the one JSON envelope (``ErrorResponse``), FastAPI's default 422 schema
included (the gateway never answers it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema

from api.auth import current_principal, optional_principal, settling_principal
from api.errors import ErrorResponse
from api.idempotency import get_idempotency

_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}

#: What each shared status means, by the codes it carries.
_MEANING = {
    400: "Bad request: `IDEMPOTENCY_KEY_REQUIRED` (send an `Idempotency-Key`), `IDEMPOTENCY_KEY_INVALID`.",
    401: "`UNAUTHENTICATED`: no API key, or not a valid one.",
    403: "Forbidden: `FORBIDDEN_ROLE`, `PARTICIPANT_SUSPENDED`, `NOT_A_PARTICIPANT`, or the route's own"
    " code.",
    409: "Conflict: `IDEMPOTENCY_IN_PROGRESS` (a request with this key still runs), or the route's own code.",
    413: "`REQUEST_TOO_LARGE`: the body exceeds the gateway's limit (`SCF_MAX_REQUEST_BYTES`).",
    422: "`REQUEST_INVALID` (details: each field and why), `JSON_TOO_DEEP`, `IDEMPOTENCY_KEY_REUSED`, or the"
    " route's own code.",
    500: "`INTERNAL_ERROR`: an unexpected error, logged by the gateway (its text is never answered).",
    503: "Unavailable, retry later (with the same `Idempotency-Key`): `CHAIN_UNAVAILABLE` (the ledger's"
    " node), `CHAIN_REJECTED` (the node did not take the transaction), `CHAIN_TIMEOUT` (sent, not mined in"
    " time), `DATABASE_BUSY`, `DATABASE_UNAVAILABLE`; `Retry-After` says when (seconds).",
}

_RETRY_AFTER = {
    "description": "Seconds to wait before retrying (sent with every 503).",
    "schema": {"type": "integer", "minimum": 0},
    "required": False,
}
_REPLAYED = {
    "description": "`true` when this is the stored answer to an earlier request with the same"
    " `Idempotency-Key`.",
    "schema": {"type": "string", "enum": ["true"]},
    "required": False,
}

_AUTH = {current_principal, settling_principal}
#: Answered before the idempotency store is asked (the body's size, the caller's key): never replays.
_NOT_REPLAYED = {401, 413}
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route as the OpenAPI document sees it (FastAPI >= 0.16x includes routers lazily: a route
    is then seen through a context carrying its prefix and the router's dependencies)."""
    contexts = getattr(routing, "iter_route_contexts", None)
    if contexts is None:  # older FastAPI: routes are copied into the app
        yield from (r for r in app.routes if isinstance(r, APIRoute))
        return
    for context in contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def _shared_statuses(route: Any, method: str) -> set[int]:
    calls = set(_calls(route.dependant))
    params = route.dependant
    has_input = bool(
        params.path_params
        or params.query_params
        or params.header_params
        or route.body_field is not None
        or any(d.path_params or d.query_params or d.header_params for d in params.dependencies)
    )
    statuses = {413, 500, 503}
    if has_input or method in _BODY_METHODS:
        statuses.add(422)
    if calls & _AUTH:
        statuses |= {401, 403}
    if optional_principal in calls:
        statuses |= {401, 403}  # a key that is sent must be valid, its participant not revoked
    if get_idempotency in calls:
        statuses |= {400, 409, 422}
    return statuses


def _offers_csv(route: Any) -> bool:
    return any(p.name == "format" for p in route.dependant.query_params)


def complete_responses(spec: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """``spec`` (FastAPI's document of ``app``) with every shared status, header and media type added."""
    for route in _api_routes(app):
        if not route.include_in_schema:
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            operation = spec["paths"][route.path_format][method.lower()]
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for status in _shared_statuses(route, method):
                responses.setdefault(str(status), {})
            idempotent = get_idempotency in set(_calls(route.dependant))
            for key, response in responses.items():
                status = int(key) if key.isdigit() else 0
                if status >= 400:
                    response["content"] = {"application/json": {"schema": _ERROR_REF}}
                    if status in _MEANING:
                        response["description"] = _MEANING[status]
                    else:
                        response.setdefault("description", "Error (the JSON envelope).")
                if status == 503:
                    response.setdefault("headers", {})["Retry-After"] = _RETRY_AFTER
                if idempotent and status < 500 and status not in _NOT_REPLAYED:
                    response.setdefault("headers", {})["Idempotent-Replayed"] = _REPLAYED
                if 200 <= status < 300 and _offers_csv(route):
                    response.setdefault("content", {})["text/csv"] = {"schema": {"type": "string"}}
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorResponse" not in schemas:
        _, defs = models_json_schema(
            [(ErrorResponse, "validation")], ref_template="#/components/schemas/{model}"
        )
        schemas.update(defs.get("$defs", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return spec


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at ``/openapi.json``: FastAPI's own (built on first use, and again
    when routes change), completed once per build."""
    build = app.openapi
    completed: list[int] = []

    def openapi() -> dict[str, Any]:
        spec = build()
        if id(spec) not in completed:
            complete_responses(spec, app)
            completed[:] = [id(spec)]
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
