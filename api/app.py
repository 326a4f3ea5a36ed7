"""The FastAPI application: JSON routes under /api, the dashboard at /, one set of services."""

from __future__ import annotations

import logging
import os
import re
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from audits.contract import Contract

from .deps import Services
from .overload import ShedOverload
from .refusals import http_exception_with_allow
from .routes import (approvals, findings, health, listings, me, observations, overlay,
                     registry, runs, spot_checks)
from .settings import ApiSettings

# A token's shape (audits.ledger.tokens: "sa_" and 43 URL-safe characters). The API reads
# tokens only from the Authorization header and the session cookie, which no log line holds;
# a client that puts one in a URL anyway (?token=…) must not have it written to the access log.
_TOKEN_SHAPE = re.compile(r"sa_[A-Za-z0-9_-]{16,}")


# How `storeaudit serve --workers N` hands each worker process its settings (JSON).
SETTINGS_VARIABLE = "STOREAUDIT_API_SETTINGS"


class RedactTokens(logging.Filter):
    """Replaces anything shaped like a token in a log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.name == "uvicorn.access":
            # Its formatter takes the arguments apart (client, method, path, ...): keep them.
            record.args = tuple(_TOKEN_SHAPE.sub("sa_[redacted]", a) if isinstance(a, str) else a
                                for a in record.args)
        else:
            text = record.getMessage()  # e.g. uvicorn's trace log: a scope with its query string
            if _TOKEN_SHAPE.search(text):
                record.msg, record.args = _TOKEN_SHAPE.sub("sa_[redacted]", text), ()
        return True


def redact_server_logs() -> None:
    """Put RedactTokens on uvicorn's loggers (once): the access log names each request's
    path and query string, the trace log each request's scope."""
    for name in ("uvicorn.access", "uvicorn.asgi", "uvicorn.error", "uvicorn"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


class SeeOwnWrites:
    """After a request that may have written (anything but GET, HEAD, OPTIONS), and before
    its answer goes, the views kept by the ledger's state are brought up to date
    (`Services.after_write`): the person who acknowledged a finding sees it acknowledged on
    the next page. Other requests pass straight through."""

    def __init__(self, app, services: Services):
        self.app, self.services = app, services

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)

        async def send_after_write(message):
            if message["type"] == "http.response.start":
                await run_in_threadpool(self.services.after_write)
            await send(message)

        return await self.app(scope, receive, send_after_write)


@asynccontextmanager
async def _lifespan(app: FastAPI):
    yield
    app.state.services.close()


def create_app(settings: ApiSettings | None = None, *, contract: Contract | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    app = FastAPI(
        title="storeaudit",
        description="Contract findings about the store, for the browser extension and people.",
        version="0.1.0",
        lifespan=_lifespan,
    )
    app.state.services = services = Services(settings, contract)
    app.add_exception_handler(HTTPException, http_exception_with_allow)
    redact_server_logs()
    # Middleware, innermost first; all inside CORS, so that a kept answer and a refusal carry
    # the same CORS headers as the routes' answers (the extension may read them).
    app.add_middleware(overlay.KeptOverlayAnswers, services=services)
    app.add_middleware(SeeOwnWrites, services=services)
    app.add_middleware(ShedOverload)   # before anything else is done for a request
    # The dashboard is same-origin and needs no CORS; the extension's origin is the only other
    # browser caller allowed. Tokens travel in the Authorization header, not cookies.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.extension_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
        allow_credentials=False,
    )
    for module in (health, me, overlay, findings, listings, approvals, registry, spot_checks,
                   runs, observations):
        app.include_router(module.router)
    from .dashboard import router as dashboard_router

    app.include_router(dashboard_router)
    return app


def app_from_environment() -> FastAPI:
    """The app of one of several worker processes: settings from SETTINGS_VARIABLE."""
    return create_app(ApiSettings.model_validate_json(os.environ[SETTINGS_VARIABLE]))
