"""How the API says no, declared in its OpenAPI schema so that a client (the extension, a
merchant's script) can rely on the shape of every answer, refusals included.

* Every refusal but a 422 is `{"detail": "why"}` (`Problem`); `refusals(...)` declares the
  ones a route gives, each router adding 401 for its token check.
* A 422 is always FastAPI's shape, `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`,
  also when the route itself finds the input wrong (`bad_input`): a client reads one shape.
* A 405 names in `Allow` every method the path answers to, not only those of the first route
  Starlette happened to match (`method_not_allowed`).
* Times in requests are ISO 8601 with a zone (`IsoTime`): a number is not taken for a Unix
  timestamp (pydantic would), so `since=0.5` is refused rather than read as 1970.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field
from starlette.exceptions import HTTPException
from starlette.routing import Match


class Problem(BaseModel):
    """Why the request was refused."""

    detail: str = Field(description="What was wrong, for a person to read")


WHY = {
    400: "The body could not be read (not JSON, or not text)",
    401: "No valid token: send Authorization: Bearer <token>",
    403: "The token's role may not do this",
    404: "No such record",
    409: "The record's state does not allow it now (already done, or an audit is running)",
    413: "The body is too large",
    429: "Too many requests: try again after Retry-After seconds",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait", "required": True,
                          "schema": {"type": "integer", "minimum": 1}}},
}


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` declaration of these refusals (a Problem each)."""
    return {code: {"model": Problem, "description": WHY[code],
                   **({"headers": _HEADERS[code]} if code in _HEADERS else {})}
            for code in codes}


def bad_input(where: tuple[str | int, ...], message: str, value: Any = None) -> RequestValidationError:
    """A 422 in FastAPI's own shape for input the route itself finds wrong (`where`: e.g.
    ("body", "url") or ("query", "since")). Raise it."""
    return RequestValidationError([{"type": "value_error", "loc": where, "msg": message,
                                    "input": value}])


_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
TIME_EXAMPLE = "2026-11-20T00:00:00+08:00"


def _iso_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_TIME.match(value):
        raise ValueError(f"give a time in ISO 8601 with its zone, e.g. {TIME_EXAMPLE}")
    return value


# A moment in a request: ISO 8601 text with a zone (a naive time or a number is refused, 422).
IsoTime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


async def http_exception_with_allow(request: Request, exc: Exception) -> Response:
    """Every HTTPException's answer, as FastAPI gives it, but a 405's `Allow` lists the
    methods of every route on this path."""
    assert isinstance(exc, HTTPException)
    if exc.status_code != 405:
        return await http_exception_handler(request, exc)
    # Asked method by method through each route's own matching (the routers may be nested).
    allowed = [method for method in METHODS if any(
        route.matches({**request.scope, "method": method})[0] is Match.FULL
        for route in request.app.router.routes)]
    headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
    return JSONResponse({"detail": exc.detail}, status_code=405, headers=headers)
