"""The FastAPI application: JSON routes under /api, the dashboard at /, one set of services."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from audits.contract import Contract

from .deps import Services
from .routes import (approvals, findings, health, listings, me, overlay, registry, runs,
                     spot_checks)
from .settings import ApiSettings


def create_app(settings: ApiSettings | None = None, *, contract: Contract | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    app = FastAPI(
        title="storeaudit",
        description="Contract findings about the store, for the browser extension and people.",
        version="0.1.0",
    )
    app.state.services = Services(settings, contract)
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
                   runs):
        app.include_router(module.router)
    from .dashboard import router as dashboard_router

    app.include_router(dashboard_router)
    return app
