"""The FastAPI application: JSON routes under /api, the dashboard at /, one set of services."""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException

from audits.contract import Contract

from .deps import Services
from .refusals import http_exception_with_allow
from .routes import (approvals, findings, health, listings, me, observations, overlay,
                     registry, runs, spot_checks)
from .settings import ApiSettings

# A token's shape (audits.ledger.tokens: "sa_" and 43 URL-safe characters). The API reads
# tokens only from the Authorization header and the session cookie, which no log line holds;
# a client that puts one in a URL anyway (?token=…) must not have it written to the access log.
_TOKEN_SHAPE = re.compile(r"sa_[A-Za-z0-9_-]{16,}")


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


def create_app(settings: ApiSettings | None = None, *, contract: Contract | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    app = FastAPI(
        title="storeaudit",
        description="Contract findings about the store, for the browser extension and people.",
        version="0.1.0",
    )
    app.state.services = Services(settings, contract)
    app.add_exception_handler(HTTPException, http_exception_with_allow)
    redact_server_logs()
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
