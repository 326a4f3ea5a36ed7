"""The spot-check: audit a page, a few listings or a random sample now, as the contract's
"spot check" means. Only the store's own origins are ever fetched.

Two audits never run at once in one process (`audits.audit_lock`): a spot-check asked for
while another audit runs is refused with a clear message rather than queued behind a
two-minute nightly crawl.
"""

from __future__ import annotations

import random
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

from crawler.discover import same_origin

# The slot lives in audits.audit_lock (the scheduler shares it); re-exported for the API.
from .audit_lock import AUDIT_LOCK, AuditBusy, claim_audit_slot  # noqa: F401
from .catalog import load_catalog
from .contract import Contract
from .email import notify_critical
from .engine import AuditOutcome
from .ledger import Ledger
from .runner import run_audit

MAX_SPOT_PAGES = 50


class SpotCheckRefused(ValueError):
    """The request cannot be honoured; the message says why and what to do."""


def check_store_url(contract: Contract, url: str) -> str:
    """The URL made absolute, or SpotCheckRefused when it is not on the store's origins."""
    absolute = urljoin(contract.store.base_url + "/", url.strip())
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https"):
        raise SpotCheckRefused(f"only http(s) pages of the store can be checked, not {parts.scheme}:")
    if parts.username or parts.password:
        raise SpotCheckRefused("URLs with credentials are refused")
    if not same_origin(absolute, contract.store.origins):
        raise SpotCheckRefused(
            f"{parts.scheme}://{parts.netloc} is not one of the store's origins "
            f"({', '.join(contract.store.origins)}); the spot-check fetches nothing else")
    return absolute.split("#", 1)[0]


def plan_spot_check(contract: Contract, ledger: Ledger, *, url: str | None = None,
                    skus: list[str] | None = None, sample: int | None = None,
                    rng: random.Random | None = None) -> list[str]:
    """The listing pages a spot-check will audit."""
    asked = sum(x is not None and x != [] for x in (url, skus, sample))
    if asked != 1:
        raise SpotCheckRefused('give exactly one of "url", "skus" or "sample"')
    if url is not None:
        return [check_store_url(contract, url)]
    listings = ledger.listings()
    if skus is not None:
        by_sku = {l.sku: l for l in listings if l.sku}
        unknown = [s for s in skus if s not in by_sku]
        if unknown:
            raise SpotCheckRefused(f"unknown SKU(s): {', '.join(unknown[:10])}")
        chosen = [by_sku[s].url for s in dict.fromkeys(skus)]
    else:
        if not 1 <= sample <= MAX_SPOT_PAGES:
            raise SpotCheckRefused(f"sample must be between 1 and {MAX_SPOT_PAGES}")
        if not listings:
            raise SpotCheckRefused("no listings known yet: run a full audit first")
        chosen = [l.url for l in (rng or random.SystemRandom()).sample(
            listings, min(sample, len(listings)))]
    if len(chosen) > MAX_SPOT_PAGES:
        raise SpotCheckRefused(f"at most {MAX_SPOT_PAGES} pages per spot-check")
    # Listing URLs come from the store's own pages: check them too.
    return [check_store_url(contract, u) for u in chosen]


def spot_check_now(contract: Contract, ledger: Ledger, urls: list[str], *,
                   run_id: int | None = None) -> AuditOutcome:
    """Audit exactly these pages (the caller holds the audit slot)."""
    config = replace(contract.crawl_config(), urls=urls, retries=0)
    outcome = run_audit(contract, ledger, kind="spot", config=config,
                        catalog=load_catalog(contract.catalog_path()), run_id=run_id)
    notify_critical(contract, ledger, outcome)  # with email.critical_immediately; never raises
    return outcome


def run_spot_check(contract: Contract, ledger: Ledger, urls: list[str]) -> AuditOutcome:
    """Audit exactly these pages now; refuses (AuditBusy) while another audit runs."""
    claim_audit_slot()
    try:
        return spot_check_now(contract, ledger, urls)
    finally:
        AUDIT_LOCK.release()
