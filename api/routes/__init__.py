"""One APIRouter per resource.

Each router's routes are `AuthFirstRoute`s: who is calling is settled before what they sent.
FastAPI parses a JSON body (and checks parameters) before it runs a route's dependencies, so a
malformed request without a token would get a 422 that describes the route's input (or a 400
for a body it cannot parse) instead of a 401. Here it gets the 401, or with a token of the
wrong role the 403, that a well-formed request would have got.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from ..deps import check_role, token_of


class AuthFirstRoute(APIRoute):
    """An API route whose role check comes before the request's validation errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        role_checks = [d.call.roles for d in self.dependant.dependencies
                       if hasattr(d.call, "roles")]

        async def auth_first(request: Request) -> Response:
            try:
                return await handler(request)
            except (RequestValidationError, HTTPException) as e:
                # A body that cannot be read as text at all is a 400 (Starlette's).
                if role_checks and (isinstance(e, RequestValidationError) or e.status_code == 400):
                    # Raises the route's own 401 or 403 when the caller may not call it.
                    _check_caller(request, role_checks)
                raise

        return auth_first


def _check_caller(request: Request, role_checks: list[tuple[str, ...]]) -> None:
    svc = request.app.state.services
    ledger = svc.borrow()
    try:
        token = token_of(request, ledger)
        for roles in role_checks:
            check_role(token, roles)
    finally:
        svc.give_back(ledger)
