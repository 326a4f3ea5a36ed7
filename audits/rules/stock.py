"""Stock rules: the contract's "never promote what is out of stock".

A listing counts as promoted when the page shows it so (badge, featured section) or when it is
on the merchant's promoted-SKU list in catalog.csv; `promoted_source` picks which of the two
counts ("either" by default).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from crawler.snapshot import LOW_STOCK, OUT_OF_STOCK

from .base import Draft, RuleSettings, rule
from .context import PROMOTED_SOURCE_HELP, AuditContext, ListingState, PromotedSource


def _is_out_of_stock(state: ListingState) -> bool:
    return state.snap.availability == OUT_OF_STOCK or state.snap.stock_count == 0


def _stock_evidence(ctx: AuditContext, state: ListingState) -> dict:
    return {
        "url": state.snap.url,
        "sku": state.sku,
        "availability": state.snap.availability,
        "stock_count": state.snap.stock_count,
        "promoted": state.promoted_how,
        "snapshot_id": state.snap.id,
        "run_id": ctx.run.id,
        "seen_at": state.snap.fetched_at,
    }


class OutOfStockSettings(RuleSettings):
    promoted_source: PromotedSource = Field(default="either", description=PROMOTED_SOURCE_HELP)


@rule("stock.promoted_out_of_stock", "Promoted but out of stock", "critical", OutOfStockSettings)
def promoted_out_of_stock(ctx: AuditContext, settings: OutOfStockSettings) -> Iterator[Draft]:
    """A promoted listing shows out of stock.

    The contract says never promote what is out of stock: shoppers sent to it by an ad or a
    featured section find nothing to buy. Promoted means a badge or featured section on the
    store's page, or the promoted column of your catalog.csv (`promoted_source`).

    Example: the featured kettle shows "0 in stock": a critical finding until it is back in
    stock or no longer promoted."""
    for state in ctx.listings:
        if not state.promoted(settings.promoted_source) or not _is_out_of_stock(state):
            continue
        shown = ("0 in stock" if state.snap.stock_count == 0 else "out of stock")
        yield Draft(
            state.id, "out-of-stock",
            f"Promoted listing shows {shown} (promoted by {state.promoted_how})",
            _stock_evidence(ctx, state),
        )


class LowStockSettings(RuleSettings):
    threshold: int = Field(
        default=5, ge=0,
        description="A promoted listing with this many items or fewer in stock (but more than "
                    "0) is low on stock.",
    )
    promoted_source: PromotedSource = Field(default="either", description=PROMOTED_SOURCE_HELP)


@rule("stock.promoted_low_stock", "Promoted, low stock", "major", LowStockSettings)
def promoted_low_stock(ctx: AuditContext, settings: LowStockSettings) -> Iterator[Draft]:
    """A promoted listing is nearly out of stock.

    A warning before stock.promoted_out_of_stock: a promoted listing whose page shows a count
    at or under the threshold, or says stock is limited without a count.

    Example: threshold 5; a promoted lamp showing "only 3 left" is a major finding."""
    for state in ctx.listings:
        if not state.promoted(settings.promoted_source) or _is_out_of_stock(state):
            continue  # out of stock is stock.promoted_out_of_stock's finding
        count = state.snap.stock_count
        if count is not None and 0 < count <= settings.threshold:
            message = (f"Promoted listing has only {count} in stock "
                       f"(limit {settings.threshold}; promoted by {state.promoted_how})")
        elif count is None and state.snap.availability == LOW_STOCK:
            message = ("Promoted listing shows limited stock; the page does not say how many "
                       f"(promoted by {state.promoted_how})")
        else:
            continue
        yield Draft(state.id, "low-stock", message,
                    {**_stock_evidence(ctx, state), "threshold": settings.threshold})
