"""The spot-check: audit a page, a few listings or a random sample now, as the contract's
"spot check" means. Only the store's own origins are ever fetched.

Two audits never run at once in one process (`audits.audit_lock`): a spot-check asked for
while another audit runs is refused with a clear message rather than queued behind a
two-minute nightly crawl.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import replace
from urllib.parse import urljoin, urlsplit, urlunsplit

# The slot lives in audits.audit_lock (the scheduler shares it); re-exported for the API.
from .audit_lock import AUDIT_LOCK, AuditBusy, claim_audit_slot  # noqa: F401
from .catalog import load_catalog
from .contract import Contract
from .email import notify_critical
from .engine import AuditOutcome
from .ledger import Ledger
from .runner import run_audit

MAX_SPOT_PAGES = 50
MAX_URL_LENGTH = 2000
_DEFAULT_PORTS = {"http": "80", "https": "443"}


class SpotCheckRefused(ValueError):
    """The request cannot be honoured; the message says why and what to do."""


def _shown(text: str, limit: int = 80) -> str:
    """A caller's URL quoted in a message: shortened, so a huge one does not fill the answer."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _origin(scheme: str, netloc: str) -> str:
    """scheme://host[:port], lower case, without a default port (https://a:443 is https://a)."""
    netloc = netloc.lower()
    host, colon, port = netloc.rpartition(":")
    if colon and "]" not in port and port == _DEFAULT_PORTS.get(scheme):
        netloc = host
    return f"{scheme}://{netloc}"


def check_store_url(contract: Contract, url: str) -> str:
    """The URL made absolute, or SpotCheckRefused when it is not on the store's origins.

    The rule is by name and exact: the URL's scheme://host:port must be one of
    `store.origins` as written in the contract. Another spelling of the same machine
    (localhost for 127.0.0.1, [::1], 2130706433, 0x7f000001, an IDN look-alike) is another
    origin and is refused; nothing is resolved or fetched to decide. What is returned is
    rebuilt from the parsed parts, so what the crawler fetches is what was checked."""
    text = url.strip()
    if not text:
        raise SpotCheckRefused("give the address of a page of the store")
    if len(text) > MAX_URL_LENGTH:
        raise SpotCheckRefused(f"the URL is {len(text)} characters long; at most "
                               f"{MAX_URL_LENGTH} are accepted")
    if "\\" in text or any(c.isspace() or unicodedata.category(c) == "Cc" for c in text):
        raise SpotCheckRefused(
            f"{_shown(text)} holds a backslash, a space or a control character, which browsers "
            "and servers read differently; give the URL as the browser's address bar shows it")
    try:
        parts = urlsplit(urljoin(contract.store.base_url + "/", text))
        parts.port  # noqa: B018 - raises ValueError for "host:8765:80" or a port over 65535
    except ValueError as e:  # e.g. "http://[::1" or a netloc that NFKC-normalises to '/'
        raise SpotCheckRefused(f"{_shown(text)} is not a URL that can be read ({e})") from None
    if parts.scheme not in ("http", "https"):
        raise SpotCheckRefused(f"only http(s) pages of the store can be checked, not "
                               f"{parts.scheme or _shown(text)}:")
    if "@" in parts.netloc:
        raise SpotCheckRefused("URLs with credentials (user@host) are refused")
    origins = {_origin(*o.split("://", 1)) for o in contract.store.origins}
    if not parts.netloc or _origin(parts.scheme, parts.netloc) not in origins:
        raise SpotCheckRefused(
            f"{_shown(f'{parts.scheme}://{parts.netloc}')} is not one of the store's origins "
            f"({', '.join(contract.store.origins)}); the spot-check fetches nothing else")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def plan_spot_check(contract: Contract, ledger: Ledger, *, url: str | None = None,
                    skus: list[str] | None = None, sample: int | None = None,
                    rng: random.Random | None = None) -> list[str]:
    """The listing pages a spot-check will audit. Listing URLs come from the ledger, which
    took them from the store's pages: each is checked against the store's origins too."""
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
        wanted = list(dict.fromkeys(skus))
        if len(wanted) > MAX_SPOT_PAGES:
            raise SpotCheckRefused(f"at most {MAX_SPOT_PAGES} pages per spot-check")
        chosen = []
        for sku in wanted:
            try:
                chosen.append(check_store_url(contract, by_sku[sku].url))
            except SpotCheckRefused as e:
                raise SpotCheckRefused(f"SKU {sku}: its recorded page cannot be checked: {e}") from None
        return chosen
    if not 1 <= sample <= MAX_SPOT_PAGES:
        raise SpotCheckRefused(f"sample must be between 1 and {MAX_SPOT_PAGES}")
    on_store = []
    for listing in listings:
        try:
            on_store.append(check_store_url(contract, listing.url))
        except SpotCheckRefused:
            continue  # recorded under an origin the contract no longer names: not fetched
    if not on_store:
        raise SpotCheckRefused("no listings on the store's origins known yet: run a full audit first")
    return (rng or random.SystemRandom()).sample(on_store, min(sample, len(on_store)))


def spot_check_now(contract: Contract, ledger: Ledger, urls: list[str], *,
                   run_id: int | None = None) -> AuditOutcome:
    """Audit exactly these pages (the caller holds the audit slot)."""
    # "Now" means now: every image is asked for, even one the store called fresh.
    config = replace(contract.crawl_config(), urls=urls, retries=0, reuse_fresh_images_s=0)
    outcome = run_audit(contract, ledger, kind="spot", config=config,
                        catalog=load_catalog(contract.catalog_path()), run_id=run_id)
    notify_critical(contract, ledger, outcome)  # with email.critical_immediately; never raises
    return outcome


def run_spot_check(contract: Contract, ledger: Ledger, urls: list[str]) -> AuditOutcome:
    """Audit exactly these pages now; refuses (AuditBusy) while another audit runs."""
    claim_audit_slot(db=ledger.path)
    try:
        return spot_check_now(contract, ledger, urls)
    finally:
        AUDIT_LOCK.release()
