"""The spot-check: audit a page, a few listings or a random sample now, as the contract's
"spot check" means. Only the store's own origins are ever fetched.

A spot-check is an audit like any other (`audits.audit_then_tell`): two audits never run at
once, so a spot-check asked for while another audit runs is refused with a clear message
rather than queued behind a two-minute nightly crawl; the notifiers hear of it after.
"""

from __future__ import annotations

import logging
import random
import threading
import unicodedata
from dataclasses import replace
from urllib.parse import urljoin, urlsplit, urlunsplit

from crawler.config import CrawlConfig
from crawler.origins import normal_origins, origin_of

from .audit_lock import AuditBusy, take_audit_slot
from .audit_then_tell import audit_then_tell
from .contract import Contract
from .engine import AuditOutcome
from .ledger import Ledger, Run

log = logging.getLogger(__name__)

MAX_SPOT_PAGES = 50
MAX_URL_LENGTH = 2000


class SpotCheckRefused(ValueError):
    """The request cannot be honoured; the message says why and what to do."""


def _shown(text: str, limit: int = 80) -> str:
    """A caller's URL quoted in a message: shortened, so a huge one does not fill the answer."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def check_store_url(contract: Contract, url: str) -> str:
    """The URL made absolute, or SpotCheckRefused when it is not on the store's origins.

    The rule is by name and exact: the URL's scheme://host:port must be one of
    `store.origins`, compared as `crawler.origins.origin_of` writes origins (the case of the
    scheme and host, and a default port, change nothing). Another spelling of the same machine
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
    # The crawler's one definition of an origin (crawler.origins): what is accepted here is
    # what the crawl's guard lets through.
    origins = normal_origins(contract.store.origins)
    origin = origin_of(urlunsplit(parts))
    if not parts.netloc or origin not in origins:
        raise SpotCheckRefused(
            f"{_shown(f'{parts.scheme}://{parts.netloc}')} is not one of the store's origins "
            f"({', '.join(contract.store.origins)}); the spot-check fetches nothing else")
    # Written as the crawl writes it (https://a:443/p/1 is https://a/p/1): the same listing.
    return origin + urlunsplit(("", "", parts.path, parts.query, ""))


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


HOLDER = "a spot-check"  # how a refusal names it
# The longest a spot-check's crawl may take (the contract's crawl deadline when shorter): it
# holds the audit slot, and a store's slow page must not keep the nightly waiting.
SPOT_DEADLINE_S = 120.0


def spot_config(contract: Contract, urls: list[str]) -> CrawlConfig:
    """The crawl of a spot-check: exactly these pages, no retries, every image asked for
    ("now" means now, even for an image the store called fresh), within SPOT_DEADLINE_S."""
    config = contract.crawl_config()
    return replace(config, urls=urls, retries=0, reuse_fresh_images_s=0,
                   deadline_s=min(config.deadline_s, SPOT_DEADLINE_S))


def run_spot_check(contract: Contract, ledger: Ledger, urls: list[str]) -> AuditOutcome:
    """Audit exactly these pages now, then tell the notifiers; refused (AuditBusy) while
    another audit runs."""
    told = audit_then_tell(contract, ledger, kind="spot", holder=HOLDER, wait=0,
                           config=spot_config(contract, urls))
    told.raise_error()
    return told.outcome


def start_spot_check(contract: Contract, ledger: Ledger, urls: list[str]) -> Run:
    """Start auditing these pages in the background and return the run at once (its id is
    the spot-check's). Refused (AuditBusy) before anything is written while another audit
    runs; the slot is taken here and held by the background audit until it is done."""
    slot = take_audit_slot(HOLDER, wait=0, db=ledger.path)
    try:
        run_id = ledger.start_run("spot")
    except BaseException:
        slot.release()
        raise

    def work() -> None:
        try:
            with Ledger(ledger.path) as own:  # a connection of this thread's own
                told = audit_then_tell(contract, own, kind="spot", holder=HOLDER, slot=slot,
                                       config=spot_config(contract, urls), run_id=run_id)
            if told.error is not None:  # recorded on the run as failed
                log.error("spot-check %s failed: %s", run_id, told.problem)
        finally:
            slot.release()  # already given back unless opening the ledger failed

    threading.Thread(target=work, name=f"spot-check-{run_id}", daemon=True).start()
    return ledger.run(run_id)


__all__ = ["AuditBusy", "SpotCheckRefused", "check_store_url", "plan_spot_check",
           "run_spot_check", "spot_config", "start_spot_check"]
