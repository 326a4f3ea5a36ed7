"""Logging in with a token and out again. The session cookie holds the token's secret:
HttpOnly (no script can read it), SameSite=Strict (no other site's form or link sends it)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from audits.contract import ContractError

from ..deps import SESSION_COOKIE, Services
from .common import DashboardRoute, form_fields, render, same_origin

router = APIRouter(route_class=DashboardRoute)

LOGGED_OUT = "You are logged out."


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    services: Services = request.app.state.services
    if request.state.ledger.token_for_secret(request.cookies.get(SESSION_COOKIE)):
        return RedirectResponse("/", status_code=303)
    flash = LOGGED_OUT if request.query_params.get("done") == "logged_out" else None
    return render(request, "login.html", flash=flash, store_name=_store_name(services))


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, form: dict[str, str] = Depends(form_fields)) -> Response:
    services: Services = request.app.state.services
    secret = form.get("token", "").strip()
    token = request.state.ledger.token_for_secret(secret) if same_origin(request) else None
    if token is None:
        return render(request, "login.html", status_code=401, store_name=_store_name(services),
                      error="That token is not valid. Check that you copied all of it, or ask "
                            "for a new one (storeaudit token create).")
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="strict",
                        secure=services.settings.secure_cookies, path="/")
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    services: Services = request.app.state.services
    response = RedirectResponse("/login?done=logged_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=services.settings.secure_cookies)
    return response


def _store_name(services: Services) -> str | None:
    try:
        return services.contract.store.name
    except ContractError:  # a broken contract must not lock people out of the login page
        return None
