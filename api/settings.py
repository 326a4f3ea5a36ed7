"""The API's settings, in one model: where the ledger and contract are, who may call it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


# The shipped extension's origin: its manifest carries a fixed public key, so its ID is stable
# (extension/extension-id.txt).
SHIPPED_EXTENSION_ORIGIN = "chrome-extension://enkfnafhpihpoofagbmjkddoppmcpdkk"


class ApiSettings(BaseModel):
    db_path: Path = Path("storeaudit.db")
    contract_path: Path = Path("contract.toml")
    # Origins allowed to call the API from a browser besides the dashboard itself: the
    # extension's (chrome-extension://<id>, moz-extension://<uuid>).
    extension_origins: list[str] = Field(default_factory=lambda: [SHIPPED_EXTENSION_ORIGIN])
    # Spot-checks each token may start per minute (they crawl the store: be polite).
    spot_checks_per_minute: int = Field(default=6, ge=1)
    # Send the session cookie only over HTTPS (set when served behind TLS).
    secure_cookies: bool = False
