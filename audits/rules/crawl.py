"""Crawl rules: what a crawl could not see, and what the store kept from it.

Findings on a page that failed are neither raised nor resolved (a rule never sees a failed
fetch), so a crawl with many failures quietly audits less of the store: `crawl.incomplete`
makes that visible. A listing left out of the sitemap and category pages is still read
through its own URL (so its findings stay); `crawl.hidden` says that it was left out.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from .base import Draft, RuleSettings, rule
from .context import AuditContext

MAX_FAILED_LISTED = 50  # failed pages named in the evidence


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
    failures = [s for s in ctx.ledger.run_snapshots(ctx.run.id) if not s.ok]
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
