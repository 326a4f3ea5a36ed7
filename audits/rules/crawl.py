"""Crawl rules: what a crawl could not see, and what the store kept from it.

Findings on a page that failed are neither raised nor resolved (a rule never sees a failed
fetch), so a crawl with many failures quietly audits less of the store: `crawl.incomplete`
makes that visible. A listing left out of the sitemap and category pages is still read
through its own URL (so its findings stay); `crawl.hidden` says that it was left out. A
listing taken off the store is an agency action the merchant must see: `crawl.removed`.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

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
    (15%; limit 10%)"."""
    failed, total = ctx.run.pages_failed, ctx.run.pages_ok + ctx.run.pages_failed
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
