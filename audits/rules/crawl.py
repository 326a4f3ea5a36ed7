"""Crawl rules: what a crawl could not see, and what the store kept from it.

Findings on a page that failed are neither raised nor resolved (a rule never sees a failed
fetch), so a crawl with many failures quietly audits less of the store: `crawl.incomplete`
makes that visible. A listing left out of the sitemap and category pages is still read
through its own URL (so its findings stay); `crawl.hidden` says that it was left out. A
listing taken off the store is an agency action the merchant must see: `crawl.removed`. A
store that serves the crawler a page of its own is caught by a second witness, the
merchant's browser: `crawl.view_mismatch`. A store that answers "304 Not Modified" for a
page or an image it changed is caught by checking a share of its 304s (crawler.not_modified):
`crawl.false_not_modified`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from pydantic import Field

from crawler.prices import format_price
from crawler.snapshot import IN_STOCK, LOW_STOCK, OUT_OF_STOCK, PRE_ORDER

from .base import Draft, RuleSettings, rule
from .context import AuditContext

MAX_FAILED_LISTED = 50  # failed pages named in the evidence


def _answered(error: str | None) -> str:
    """What a removed listing's page did, for a message: "answered HTTP 404"."""
    if error and error.startswith("HTTP "):
        return f"answered {error}"
    return "showed no listing" if error else "was not there"


def _percent(value: float) -> str:
    """20.0 -> "20%", 16.666 -> "16.7%"."""
    return f"{value:.1f}".removesuffix(".0") + "%"


class IncompleteSettings(RuleSettings):
    max_failed_percent: float = Field(
        default=10, ge=0, le=100,
        description="The largest share of listing pages, in percent, a crawl may fail to read "
                    "before it is reported as incomplete.",
    )


@rule("crawl.incomplete", "Crawl incomplete", "major", IncompleteSettings, scope="store")
def incomplete(ctx: AuditContext, settings: IncompleteSettings) -> Iterator[Draft]:
    """A crawl could not read too many of the store's pages.

    A page that failed (timeout, error, a login wall) neither raises nor resolves findings,
    so a crawl with many failures quietly audits less of the store; this makes it visible,
    and the other store-level rules sit that run out.

    Example: 9 of 60 pages answered 503: "9 of 60 pages could not be read in this crawl
    (15%; limit 10%)". Also when the store lists more listing pages than the contract's
    `[crawl] max_pages` lets a crawl read: those past it are not read at all."""
    failed, total = ctx.run.pages_failed, ctx.run.pages_ok + ctx.run.pages_failed
    not_read = ctx.run.listings_not_read
    if not_read:
        # The store lists more than the contract lets a crawl read: a store bigger than
        # expected, or one padding its sitemap so that its newest listings come past the end.
        yield Draft(
            None, "max_pages",
            f"The store lists {not_read:,} more listing pages than a crawl reads (the "
            f"contract's [crawl] max_pages): {total:,} were read, and findings on the others "
            "are neither raised nor resolved. Raise max_pages to audit the whole store.",
            {"run_id": ctx.run.id, "run_started": ctx.run.started, "pages_read": total,
             "listings_not_read": not_read},
        )
    if total == 0:
        return
    share = 100 * failed / total
    if share <= settings.max_failed_percent:
        return
    # The one place a rule reads the ledger itself: AuditContext hides failed fetches on
    # purpose, and this rule is about exactly those.
    failures = [s for s in ctx.ledger.run_snapshots(ctx.run.id) if not s.ok and not s.absent]
    yield Draft(
        None, "run",
        f"{failed} of {total} pages could not be read in this crawl ({_percent(share)}; limit "
        f"{_percent(settings.max_failed_percent)}): findings on those pages are neither raised "
        "nor resolved",
        {
            "run_id": ctx.run.id,
            "run_started": ctx.run.started,
            "pages_ok": ctx.run.pages_ok,
            "pages_failed": failed,
            "failed_percent": round(share, 2),
            "max_failed_percent": settings.max_failed_percent,
            "failed_pages": [{"url": s.url, "error": s.error, "snapshot_id": s.id}
                             for s in failures[:MAX_FAILED_LISTED]],
            "failed_pages_not_listed": max(0, len(failures) - MAX_FAILED_LISTED),
        },
    )


@rule("crawl.hidden", "Hidden from the sitemap and categories", "major", whole_store=True)
def hidden(ctx: AuditContext, settings: RuleSettings) -> Iterator[Draft]:
    """A listing still on the store at its own address is no longer listed by the store's
    sitemap or category pages.

    Leaving a listing out of what the crawler is pointed at does not make its problems go
    away: storeaudit reads every listing it knows through its own URL, keeps its findings
    open, and reports that it was left out. Only a whole-store crawl judges this; the finding
    resolves when the sitemap or a category lists the listing again.

    Example: SH-7's page still answers at ¥89 (under its floor) but the sitemap dropped it:
    "Still on the store at http://shop/p/sh-7, but the sitemap and category pages no longer
    list it"."""
    for state in ctx.listings:
        if state.snap.undiscovered:
            yield Draft(state.id, "undiscovered",
                        f"Still on the store at {state.snap.url}, but the sitemap and category "
                        "pages no longer list it",
                        {"url": state.snap.url, "run_id": ctx.run.id,
                         "snapshot_id": state.snap.id, "fetched_at": state.snap.fetched_at})


@rule("crawl.removed", "Listing removed from the store", "minor", scope="store")
def removed(ctx: AuditContext, settings: RuleSettings) -> Iterator[Draft]:
    """A listing was taken off the store: its own address answered 404 or 410 (or sent the
    shopper to a page with no listing) on two looks in a row.

    Removing a listing is something the agency did, and its problems did not get fixed: they
    went with it (their findings become "gone", not "resolved"). Minor; major when the
    listing was promoted or had findings open. The finding stays until someone answers it
    (acknowledged, or waived when the removal was agreed); it resolves if the listing comes
    back.

    Example: the promoted rice cooker SH-0005, with a price finding open, answers 404 two
    nights running: "SH-0005 (电饭煲 …) was removed from the store: its page answered HTTP
    404 two looks running; 1 open finding went with it" (major)."""
    for gone in ctx.removed_listings:
        listing, last = gone.listing, gone.last_seen
        name = listing.sku or listing.url
        title = f" ({last.title})" if last and last.title else ""
        went = len(gone.active_findings)
        tail = f"; {went} open finding{'s' if went != 1 else ''} went with it" if went else ""
        yield Draft(
            listing.id, "removed",
            f"{name}{title} was removed from the store: its page "
            f"{_answered(gone.answer)} two looks running{tail}",
            {"url": listing.url, "sku": listing.sku, "gone_since": listing.gone_since,
             "last_seen": listing.last_seen, "last_title": last.title if last else None,
             "last_price": str(last.price) if last and last.price is not None else None,
             "promoted": gone.promoted, "answer": gone.answer,
             "findings_gone": [f.id for f in gone.active_findings]},
            severity="major" if gone.promoted or went else None)


# ---------------------------------------------------------------- the second witness
VIEW_FIELDS = ("price", "title", "availability", "promoted")
ORDERABLE = {IN_STOCK, LOW_STOCK, PRE_ORDER}  # what counts as "can be bought" below


def _same(field: str, browser, crawler) -> bool:
    if field == "title":
        return " ".join(str(browser).split()) == " ".join(str(crawler).split())
    if field == "availability":  # the shopper's question: can it be bought?
        return (browser in ORDERABLE) == (crawler in ORDERABLE)
    return browser == crawler


def view_differences(observation, snapshot) -> list[dict]:
    """Where what the merchant's browser read (an Observation) and what the crawler read (a
    StoredSnapshot) disagree: one {"field", "browser", "crawler"} per field both read. The
    rule judges by it, and the API decides by it whether the crawler should look again now."""
    out = []
    for name in VIEW_FIELDS:
        seen, crawled = getattr(observation, name), getattr(snapshot, name)
        if seen is None or crawled is None or _same(name, seen, crawled):
            continue
        out.append({"field": name,
                    "browser": str(seen) if name == "price" else seen,
                    "crawler": str(crawled) if name == "price" else crawled})
    return out


class ViewMismatchSettings(RuleSettings):
    window_minutes: int = Field(
        default=60, ge=1, le=24 * 60,
        description="How close in time (minutes) the merchant's browser and the crawler must "
                    "have looked at a listing for their views to be compared.")


AVAILABILITY_WORDS = {IN_STOCK: "in stock", LOW_STOCK: "low stock", PRE_ORDER: "pre-order",
                      OUT_OF_STOCK: "out of stock"}


def _shown(field: str, value, currency: str) -> str:
    if field == "price":
        return format_price(value, currency)
    if field == "promoted":
        return "promoted" if value else "not promoted"
    if field == "availability":
        return AVAILABILITY_WORDS.get(value, str(value))
    return repr(value)


@rule("crawl.view_mismatch", "Your browser and the crawler saw different pages", "major",
      ViewMismatchSettings)
def view_mismatch(ctx: AuditContext, settings: ViewMismatchSettings) -> Iterator[Draft]:
    """Your own browser (the extension) and the crawler read the same listing within the
    hour and saw different prices, titles, stock or promotion.

    A store can recognise the audit's crawler and serve it a page made for it: the price the
    contract allows, while shoppers pay another. The extension reads each product page you
    view with the same extraction rules and reports the values; a disagreement close in time
    is evidence of a page made for the audit (or of a change within the hour, which the two
    times show). The finding names both values and both times.

    Example: "Your browser saw ¥199.00 at 14:02, the crawler ¥299.00 at 14:05"."""
    window = timedelta(minutes=settings.window_minutes)
    for state in ctx.listings:
        crawled_at = datetime.fromisoformat(state.snap.fetched_at)
        near = [o for o in ctx.observations(state.id, crawled_at - window)
                if abs(datetime.fromisoformat(o.observed_at) - crawled_at) <= window]
        for observation in reversed(near):  # the latest that disagrees
            differences = view_differences(observation, state.snap)
            if not differences:
                continue
            first = differences[0]
            seen_at = datetime.fromisoformat(observation.observed_at).astimezone(ctx.zone)
            crawl_at = crawled_at.astimezone(ctx.zone)
            more = f" (and {len(differences) - 1} more)" if len(differences) > 1 else ""
            what = "" if first["field"] == "price" else f"{first['field'].replace('_', ' ')} "
            yield Draft(
                state.id, "view",
                f"Your browser saw {what}{_shown(first['field'], first['browser'], ctx.currency)} "
                f"at {seen_at:%H:%M}, the crawler "
                f"{_shown(first['field'], first['crawler'], ctx.currency)} at "
                f"{crawl_at:%H:%M}{more}",
                {"url": state.snap.url, "differences": differences,
                 "browser_at": observation.observed_at, "crawler_at": state.snap.fetched_at,
                 "observation_id": observation.id, "snapshot_id": state.snap.id,
                 "reported_by": observation.reported_by})
            break


# How long a store caught answering a false 304 is not trusted with one: every page and image
# read whole (audits.runner), and the finding stays open (raised again by each whole-store
# audit) until then.
NOT_MODIFIED_DISTRUSTED = timedelta(days=7)
MAX_FALSE_LISTED = 20   # pages and images named in the evidence


@rule("crawl.false_not_modified", "The store hid changes from the audit", "major",
      scope="store")
def false_not_modified(ctx: AuditContext, settings: RuleSettings) -> Iterator[Draft]:
    """The store answered "304 Not Modified" to the crawler for a page or an image that had
    changed.

    A crawl asks for a page it has read before with the validators the store gave it, and
    a 304 answer means "as you last read it": the page's values are taken from then. A store
    answering 304 for a page it changed would freeze what the audit sees (a price cut under the
    floor, a picture swapped behind its old address). So a share of 304s, drawn at random, are
    read whole as well (the contract's `[crawl] check_not_modified_share`), and a random check
    reads every page whole. One found false, and for a week every page and image is read whole
    and this finding stays open.

    Example: "The store answered 'not modified' to the audit for 1 page that had changed
    (https://shop.example/p/tent: its price), on 2026-11-12; every page and image is read
    whole until 2026-11-19"."""
    caught = ctx.false_not_modified(ctx.now - NOT_MODIFIED_DISTRUSTED)
    if not caught:
        return
    hidden = [dict(item, run_id=run.id, run_started=run.started)
              for run in caught for item in run.false_not_modified]
    last = caught[-1]
    until = (datetime.fromisoformat(last.started) + NOT_MODIFIED_DISTRUSTED).astimezone(ctx.zone)
    pages = sum(1 for h in hidden if h["what"] != "its picture")
    counted = ", ".join(f"{n} {noun}{'s' if n != 1 else ''}" for n, noun in
                        ((pages, "page"), (len(hidden) - pages, "image")) if n)
    latest = hidden[-1]
    yield Draft(
        None, "false-304",
        f"The store answered 'not modified' to the audit for {counted} that had changed "
        f"({latest['url']}: {latest['what']}), the last on "
        f"{datetime.fromisoformat(last.started).astimezone(ctx.zone):%Y-%m-%d}; every page and "
        f"image is read whole until {until:%Y-%m-%d}",
        {"hidden": hidden[-MAX_FALSE_LISTED:], "hidden_count": len(hidden),
         "read_whole_until": until.isoformat(), "runs": [r.id for r in caught]},
    )
