"""The crawl's settings (`CrawlConfig`), and the knobs of them a contract may set.

Each knob is declared once, on its `CrawlConfig` field, with `knob(...)`: its default, its
bounds, its help text and, where they differ, the key and unit the contract uses for it
(`reuse_fresh_images_hours` in the contract is `reuse_fresh_images_s` here). The contract's
`[crawl]` section is generated from these declarations (`CONTRACT_KNOBS`) by the audits, and
a contract becomes a CrawlConfig through them (`Knob.to_config`), so a knob is added, or its
default or bounds changed, here and nowhere else. The crawler knows nothing of contracts: a
knob is plain data; what validates it (pydantic, in `audits.contract`) is the audits' affair.

The other fields are either the store's (`base_url`, `origins`, the patterns, the selectors:
the contract's `[store]` section) or the crawler's own, which no contract sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, get_type_hints

from .extract import Selectors
from .origins import origin_of

HOURS = 3600  # seconds in an hour: the unit of a knob the contract gives in hours
MINUTES = 60


@dataclass(frozen=True)
class Knob:
    """A CrawlConfig field a contract may set: under which key, in which unit, within which
    bounds, starting from which default (all in the contract's unit)."""

    default: Any
    help: str
    key: str = ""  # the contract's key; "" until declared: the field's name
    unit: float = 1  # the field's value is the contract's times this
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    name: str = ""  # the CrawlConfig field; filled in from the declaration
    type: Any = None  # the field's type (int, float | None, Literal[...]); filled in likewise

    def bounds(self) -> dict[str, float]:
        """The bounds that are set, by pydantic's and annotated-types' names (ge, gt, le, lt)."""
        return {k: v for k in ("ge", "gt", "le", "lt") if (v := getattr(self, k)) is not None}

    def to_config(self, value: Any) -> Any:
        """The contract's value in the field's unit (hours to seconds, ...)."""
        return value if value is None or self.unit == 1 else value * self.unit


_KNOB = "contract knob"  # the dataclass field metadata key a Knob is kept under


def knob(default: Any, *, help: str, key: str = "", unit: float = 1,
         ge: float | None = None, gt: float | None = None,
         le: float | None = None, lt: float | None = None) -> Any:
    """A CrawlConfig field a contract may set (see `Knob`); `default` is in the contract's unit."""
    spec = Knob(default, help, key, unit, ge, gt, le, lt)
    return field(default=spec.to_config(default), metadata={_KNOB: spec})


@dataclass
class CrawlConfig:
    base_url: str
    # The only origins anything is fetched from (pages, redirect hops, images, scripts);
    # empty: base_url's. The audits pass the contract's store.origins.
    origins: list[str] = field(default_factory=list)
    sitemap_url: str | None = "/sitemap.xml"
    urls: list[str] = field(default_factory=list)  # explicit listing pages: no discovery
    listing_pattern: str = r"/(p|product|products|item|items|dp)/"
    category_pattern: str = r"/(c|category|categories|collections)/"
    selectors: Selectors = field(default_factory=Selectors.defaults)
    default_currency: str | None = None
    # A platform preset (crawler.presets): its documented endpoints for discovery and values.
    platform: str = "generic"
    concurrency: int = knob(
        4, ge=1, le=32,
        help="Requests at once per origin: plain HTTP, image downloads and the browser alike.")
    page_timeout_s: float = knob(
        15.0, key="page_timeout_seconds", gt=0, le=300,
        help="A page, an image or a sitemap that has not arrived whole after this many "
             "seconds (however slowly it came) is recorded as failed; a rendered page whose "
             "scripts keep it busy longer is closed.")
    retries: int = knob(
        1, ge=0, le=5,
        help="More tries for a page that timed out or answered 429/5xx.")
    retry_backoff_s: float = 0.5  # the wait before the first retry; doubled for each next
    # The longest wait before a retry, whatever a store's Retry-After asks for: a hostile or
    # broken store cannot stall the audit.
    max_retry_wait_s: float = 30.0
    max_pages: int = knob(5000, ge=1, help="The most listing pages one crawl reads.")
    render: Literal["auto", "always"] = knob(
        "auto",
        help='"auto": plain HTTP first, the browser only for pages whose title or price is '
             'left to JavaScript (learnt per page type); "always": every page rendered in '
             "the browser.")
    max_requests_per_second: float | None = knob(
        None, gt=0, le=1000,
        help="Requests a second per origin, on every path; unset: only `concurrency` limits.")
    recheck_share: float = knob(
        0.02, ge=0, le=1,
        help="Share of pages plain HTTP was enough for that are rendered too and compared, so "
             "the guess stays honest (0 turns it off).")
    check_not_modified_share: float = knob(
        0.02, ge=0, le=1,
        help="Share of the store's 304 Not Modified answers checked by asking again without "
             "validators (crawler.not_modified; a small store has about ten checked however "
             "small the share; 0 turns checking off): a store caught answering 304 for a page "
             "or image that had changed is a finding, and no 304 of it is trusted for a week.")
    # False: send no validators at all, every page and image read whole (the store was
    # caught answering a false 304 lately, or a random check wants fresh eyes).
    trust_not_modified: bool = True
    seed: int = 0
    reuse_fresh_images_s: float = knob(
        6, key="reuse_fresh_images_hours", unit=HOURS, ge=0, le=12,
        help="An image the store confirmed less than this many hours ago, and marked "
             "cacheable at least that long (Cache-Control max-age), is not downloaded again "
             "(crawler.images.ImageHasher): a second audit the same day costs one request per "
             "page, not per image. The nightly audit, a day later, always asks again; a "
             "spot-check always asks; 0 turns this off.")
    deadline_s: float = knob(
        60, key="deadline_minutes", unit=MINUTES, gt=0, le=24 * 60,
        help="The longest a whole crawl may take, in minutes: when it has passed, what was "
             "read is recorded and every page not read yet is recorded as not read (so "
             "crawl.incomplete says so); no store, however slow, holds an audit longer.")
    # Processes that hash images (crawler.hash_workers); None: one per core for a crawl of
    # PROCESS_HASHING_FROM listings or more on a machine with cores to spare, else threads.
    hash_processes: int | None = None

    def allowed_origins(self) -> list[str]:
        """The origins anything may be fetched from: `origins`, or else base_url's."""
        return self.origins or [origin_of(self.base_url)]


def _contract_knobs() -> tuple[Knob, ...]:
    hints = get_type_hints(CrawlConfig)
    return tuple(
        replace(spec, name=f.name, key=spec.key or f.name, type=hints[f.name])
        for f in fields(CrawlConfig) if (spec := f.metadata.get(_KNOB)) is not None
    )


# The knobs a contract may set, in CrawlConfig's field order.
CONTRACT_KNOBS: tuple[Knob, ...] = _contract_knobs()
