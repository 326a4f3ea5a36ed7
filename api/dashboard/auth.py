"""Logging in with a token and out again. The session cookie holds the token's secret:
HttpOnly (no script can read it), SameSite=Strict (no other site's form or link sends it),
Path=/, and Secure whenever the dashboard is reached over HTTPS. Logging in and out are form
posts like any other: refused unless they come from the dashboard's own pages."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from audits.contract_errors import ContractError

from ..deps import SESSION_COOKIE, Services
from .common import DashboardRoute, form_fields, render, same_origin, secure_request

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
    if not same_origin(request):  # another site logging you in as someone else
        return _cross_site(request)
    secret = form.get("token", "").strip()
    token = request.state.ledger.token_for_secret(secret)
    if token is None:
        return render(request, "login.html", status_code=401, store_name=_store_name(services),
                      error="That token is not valid. Check that you copied all of it, or ask "
                            "for a new one (storeaudit token create).")
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="strict",
                        secure=secure_request(request), path="/")
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    if not same_origin(request):
        return _cross_site(request)
    response = RedirectResponse("/login?done=logged_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=secure_request(request))
    return response


def _cross_site(request: Request) -> Response:
    return render(request, "message.html", status_code=403, title="Not allowed",
                  message="This form was not sent from the dashboard.")


def _store_name(services: Services) -> str | None:
    try:
        return services.contract.store.name
    except ContractError:  # a broken contract must not lock people out of the login page
        return None
