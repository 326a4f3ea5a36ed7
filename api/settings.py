"""The API's settings, in one model: where the ledger and contract are, who may call it."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

# The shipped extension's origin: its manifest carries a fixed public key, so its ID is stable
# (extension/extension-id.txt).
SHIPPED_EXTENSION_ORIGIN = "chrome-extension://enkfnafhpihpoofagbmjkddoppmcpdkk"

# What a browser extension's origin looks like: Chrome/Edge ids are 32 letters a-p, Firefox
# gives each install a UUID, Safari a UUID too. Nothing else may be let through by CORS: not
# "*", not "null" (sandboxed frames, file: pages), not a web site.
_EXTENSION_ORIGIN = re.compile(
    r"^(chrome-extension://[a-p]{32}"
    r"|(moz-extension|safari-web-extension)://[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})$")


class ApiSettings(BaseModel):
    db_path: Path = Path("storeaudit.db")
    contract_path: Path = Path("contract.toml")
    # Origins allowed to call the API from a browser besides the dashboard itself: the
    # extension's (chrome-extension://<id>, moz-extension://<uuid>).
    extension_origins: list[str] = Field(default_factory=lambda: [SHIPPED_EXTENSION_ORIGIN])
    # Spot-checks each token may start per minute (they crawl the store: be polite).
    spot_checks_per_minute: int = Field(default=6, ge=1)
    # Reports of what the merchant's browser saw (the extension, one per product page view).
    observations_per_minute: int = Field(default=30, ge=1)
    # Always send the session cookie with Secure (HTTPS only). It is Secure anyway for a
    # request that came over HTTPS, directly or through a proxy on this machine that says so
    # in X-Forwarded-Proto (uvicorn trusts that header from 127.0.0.1 only).
    secure_cookies: bool = False

    @field_validator("extension_origins")
    @classmethod
    def _only_extensions(cls, v: list[str]) -> list[str]:
        out = []
        for origin in v:
            origin = origin.strip().rstrip("/")
            if not _EXTENSION_ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not a browser extension's origin: give "
                    "chrome-extension://<32-letter id> or moz-extension://<uuid> (the dashboard "
                    "needs no CORS, and no web site may call the API from a browser)")
            out.append(origin)
        return list(dict.fromkeys(out))
