"""What every dashboard page shares: the template environment (autoescape on), the session,
the security headers, form bodies, and showing times in the store's time zone.

A page's ledger connection is borrowed from the API's pool for the request (`get_ledger`) and
may be used from any thread, one at a time; every page declares `session: Session =
Depends(logged_in)`, which is where the login is checked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment

from audits import clipped_text
from audits.catalog import CatalogEntry, CatalogError
from audits.ledger import Ledger, Token
from crawler.prices import format_price
from crawler.snapshot import DISCONTINUED, IN_STOCK, LOW_STOCK, OUT_OF_STOCK, PRE_ORDER

from ..deps import Services, get_ledger, token_of

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# No script at all: the pages are plain HTML forms and inline SVG. Pictures come from this
# origin only: the store's images are shown as the thumbnails the crawl kept (files.py), so no
# page can make the browser fetch an address the store chose (a loopback service, a cloud
# metadata address), even if a template forgot.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; style-src 'self'; "
        "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    # Nothing of the dashboard's URLs reaches the store's image hosts or any other site; our
    # own form posts still carry their Origin (see same_origin).
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

MAX_FORM_BYTES = 16 * 1024

SEVERITY_LABEL = {"critical": "Critical", "major": "Major", "minor": "Minor"}
STATUS_LABEL = {"open": "Open", "acknowledged": "Acknowledged", "resolved": "Resolved",
                "waived": "Waived", "gone": "Gone with its listing (not fixed)"}


class LoginRequired(Exception):
    """Raised by a page when nobody is logged in: the route answers with the login page."""


class DashboardRoute(APIRoute):
    """Every dashboard answer carries the security headers; a missing session becomes a
    redirect to /login and a malformed id a plain 404 page (never JSON for a browser page)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def secured(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired:
                response = RedirectResponse("/login", status_code=303)
            except RequestValidationError:
                response = render(request, "message.html", status_code=404,
                                  title="Not found", message="There is no such page.")
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return secured


def _safe_url(value: Any) -> str | None:
    """A store URL fit for href/src: http(s) only (never javascript:, data: or relative)."""
    if not isinstance(value, str):
        return None
    parts = urlsplit(value.strip())
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return value.strip()
    return None


def _as_text(value: Any) -> str:
    """An evidence value as text a person reads (lists and dicts as JSON, never markup)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, indent=1, default=str)
    return str(value)


AVAILABILITY = {IN_STOCK: "in stock", OUT_OF_STOCK: "out of stock", LOW_STOCK: "low stock",
                PRE_ORDER: "pre-order", DISCONTINUED: "discontinued"}


def _availability(value: str | None) -> str:
    return AVAILABILITY.get(value or "", value or "—")


def _environment() -> Environment:
    env = clipped_text.text_environment(TEMPLATES)
    env.filters["safe_url"] = _safe_url
    env.filters["as_text"] = _as_text
    env.filters["availability"] = _availability
    env.filters["price"] = lambda amount, currency="CNY": format_price(amount, currency) or "—"
    env.globals.update(severity_label=SEVERITY_LABEL, status_label=STATUS_LABEL)
    return env


ENV = _environment()


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("session", getattr(request.state, "session", None))
    context.setdefault("flash", None)
    context.setdefault("error", None)
    if context["session"] is not None:  # the contract's ladder: "answer within 1 h, …"
        context.setdefault("ladder", context["session"].contract.escalation.ladder_text())
    html = ENV.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code)


@dataclass
class Session:
    """One page's view of the app: services, this thread's ledger, who is logged in."""

    services: Services
    ledger: Ledger
    token: Token

    @property
    def contract(self):
        return self.services.contract

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.contract.store.timezone)

    @property
    def is_merchant(self) -> bool:
        return self.token.role == "merchant"

    def now(self) -> datetime:
        return self.ledger.clock.now()

    def local(self, iso: str | None) -> str:
        return local_time(iso, self.zone)

    def catalog(self) -> tuple[dict[str, CatalogEntry], str | None]:
        """The merchant's product sheet, or ({}, why not) when it cannot be read."""
        try:
            return self.services.catalog, None
        except CatalogError as e:
            return {}, str(e)


def local_time(iso: str | None, zone: ZoneInfo) -> str:
    """"2026-11-09 04:00" in the store's zone; "" for no time."""
    if not iso:
        return ""
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if when.tzinfo is None:
        return when.strftime("%Y-%m-%d %H:%M")
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def open_session(request: Request, *, roles: tuple[str, ...] = ("merchant", "agency")) -> Session:
    """The logged-in session, or LoginRequired (pages get it through `logged_in`)."""
    services: Services = request.app.state.services
    ledger = request.state.ledger
    try:
        token = token_of(request, ledger)
    except HTTPException:
        raise LoginRequired from None
    if token.role not in roles:
        raise LoginRequired
    session = Session(services, ledger, token)
    request.state.session = session
    return session


async def logged_in(request: Request, ledger: Ledger = Depends(get_ledger)) -> Session:
    """Every page's dependency: who is logged in. Without a session the route answers with the
    login page (DashboardRoute), so no page can forget to ask."""
    request.state.ledger = ledger
    return open_session(request)


def same_origin(request: Request) -> bool:
    """A form POST must come from a page of this dashboard.

    SameSite=Strict keeps other *sites'* forms from sending the cookie, but a page on another
    port of the same host is the same site (the sample store on 127.0.0.1:8765 and the
    dashboard on 127.0.0.1:8600 are): only this check keeps its forms out. Browsers say
    where a request comes from in Sec-Fetch-Site; one too old to send it still sends Origin
    (the pages' Referrer-Policy is same-origin, so our own forms name their origin and never
    send "null"). A request with neither is not a browser's form: a script holding the token.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    return (parts.scheme in ("http", "https")
            and parts.netloc.lower() == request.headers.get("host", "").lower())


def secure_request(request: Request) -> bool:
    """Did the request come over HTTPS (uvicorn sets the scheme from X-Forwarded-Proto when a
    proxy on this machine sends it)? Then the session cookie is sent over HTTPS only."""
    services: Services = request.app.state.services
    return services.settings.secure_cookies or request.url.scheme == "https"


async def form_fields(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as a dict (the last value of a repeated
    field wins); size-capped. Read in the event loop, before the page's thread runs."""
    if request.method != "POST":
        return {}
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, "form too large")
    if not body:
        return {}
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPException(415, "send the form as application/x-www-form-urlencoded")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20,
                          strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(400, "unreadable form") from None
    return dict(pairs)
