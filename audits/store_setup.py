"""Setting storeaudit up from a store's address (`storeaudit init --from URL`): look at the
store (`crawler.survey`), write a contract for what was found, read its listings with that
contract exactly as an audit will, and start a catalog from what they show.

The contract is the commented template (`audits.contract_template`) with the `[store]`
values filled in and a preface saying what was found and how; the catalog has one row per
SKU read, its reference price the price shown today (or the crossed-out list price) and its
cost left empty for the merchant to fill in (until then the audit refuses the sheet, naming
the row).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from crawler.crawl import CrawlProgress, crawl_sync
from crawler.presets import PLATFORMS, WITH_ENDPOINTS
from crawler.run_sync import run_sync
from crawler.snapshot import Snapshot
from crawler.survey import Survey, SurveyFailed, survey_store

from .contract import parse_contract
from .contract_template import contract_template

MAX_LISTINGS = 500  # read at set-up; the audits read every listing


@dataclass
class Setup:
    survey: Survey
    snapshots: list[Snapshot]      # the listings read with the new contract
    shared_images: dict            # pictures on many listings: the store's, not theirs
    contract_text: str
    catalog_text: str
    listings_found: int
    currency: str | None


def _preface(survey: Survey, snapshots: list[Snapshot], found: int) -> str:
    sources = Counter(s.source for s in snapshots if s.ok and s.source)
    read = sum(1 for s in snapshots if s.ok)
    how = ", ".join(f"{name} {count} of {read}" for name, count in sources.most_common())
    lines = [
        f"Written by `storeaudit init --from {survey.base_url}` on "
        f"{datetime.now(timezone.utc):%Y-%m-%d}:",
        f"  platform: {survey.platform}"
        + (f" ({survey.platform_why})" if survey.platform_why else " (no platform's signs found)")
        + (": read through its public endpoints" if survey.platform in WITH_ENDPOINTS
           else ": its pages are read, with its selectors" if survey.platform in PLATFORMS
           and survey.platform != "generic" else ""),
        f"  listings: {found} found "
        + (f"in the sitemap {survey.sitemap}" if survey.sitemap else "through the home page's links")
        + f", listing pages like {survey.listing_urls[0] if survey.listing_urls else '?'}",
        f"  read from: {how or 'nothing'} (jsonld / microdata / opengraph: the page's markup; "
        "css: the selectors below)",
        "Check [store] and [store.selectors], then every rule section: its values are the defaults.",
    ]
    return "".join(f"# {line}\n" for line in lines) + "\n"


def _catalog(snapshots: list[Snapshot]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["sku", "cost", "reference_price", "promoted"])
    seen: set[str] = set()
    for snap in snapshots:
        if not snap.ok or not snap.sku or snap.sku in seen:
            continue
        seen.add(snap.sku)
        reference = snap.list_price if snap.list_price is not None else snap.price
        writer.writerow([snap.sku, "", "" if reference is None else str(reference),
                         "yes" if snap.promoted else "no"])
    return out.getvalue()


def set_up_from(url: str, *, max_listings: int = MAX_LISTINGS,
                progress: CrawlProgress | None = None) -> Setup:
    """Look at the store at `url` and write what an audit of it needs. SurveyFailed (what
    was tried, what to set by hand) when its listings cannot be found."""
    survey = run_sync(survey_store(url))
    store = {"name": survey.title or survey.base_url, "base_url": survey.base_url,
             "sitemap": survey.sitemap, "listing_pattern": survey.listing_pattern,
             # a platform with a preset reads its own endpoints; the others their pages
             "platform": survey.platform if survey.platform in PLATFORMS else None}
    text = contract_template(store)
    config = parse_contract(text).crawl_config()
    urls = survey.listing_urls[:max_listings]
    # All the listings found, read as a whole-store crawl reads them: the store's own
    # pictures (its placeholder) are told apart.
    result = crawl_sync(replace(config, urls=urls), progress=progress, whole_store=True)
    snapshots = result.snapshots
    currencies = Counter(s.currency for s in snapshots if s.ok and s.currency)
    currency = currencies.most_common(1)[0][0] if currencies else None
    if currency:
        store["currency"] = currency
        text = contract_template(store)
    found = len(survey.listing_urls)
    return Setup(survey, snapshots, result.shared_images,
                 _preface(survey, snapshots, found) + text, _catalog(snapshots), found, currency)


__all__ = ["MAX_LISTINGS", "Setup", "SurveyFailed", "set_up_from"]
