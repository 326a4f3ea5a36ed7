"""Price rules: "promoted items never sell below 1.5 × cost" and "a discount over 30% needs the
merchant's written OK", checked against the cost and reference price in catalog.csv and the
approvals recorded in storeaudit.

A price can only be compared with the catalog when it is in the store's currency: a listing
priced in another currency is skipped rather than judged on a meaningless comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import Field

from crawler.prices import format_price

from ..catalog import CatalogEntry
from ..ledger import Approval
from .base import Draft, RuleSettings, rule
from .context import (PROMOTED_SOURCE_HELP, AuditContext, ListingState, PromotedSource,
                      is_promoted)


def _comparable(ctx: AuditContext, state: ListingState) -> str | None:
    """The currency to show the listing's price in, or None when it is not the store's
    (a page without a currency is taken to be in the store's)."""
    store = ctx.currency.upper()
    shown = (state.snap.currency or store).upper()
    return store if shown == store else None


def _number(value: Decimal) -> str:
    """A multiple or fraction without trailing zeros: 1.5, 2, 0.3."""
    return format(value.normalize(), "f")


def _percent(fraction: Decimal, places: int = 1) -> str:
    """0.4 -> "40%", 0.3333 -> "33.3%"."""
    shown = (fraction * 100).quantize(Decimal(1).scaleb(-places))
    return f"{_number(shown)}%"


class BelowFloorSettings(RuleSettings):
    multiple: Decimal = Field(
        default=Decimal("1.5"), gt=0,
        description="The lowest allowed price as a multiple of the cost in catalog.csv "
                    "(1.5: never below 1.5 × cost).",
    )
    applies_to: Literal["promoted", "all"] = Field(
        default="promoted",
        description="Check only promoted listings ('promoted') or every listing ('all').",
    )
    promoted_source: PromotedSource = Field(default="either", description=PROMOTED_SOURCE_HELP)


class DiscountSettings(RuleSettings):
    max_discount: Decimal = Field(
        default=Decimal("0.30"), ge=0, lt=1,
        description="The largest discount under the reference price in catalog.csv the agency "
                    "may set without your written OK, as a fraction (0.30 = 30% off).",
    )


# --- the judgment both rules make, for the overlay, the dashboard and the chart -------------


@dataclass(frozen=True)
class PriceLimits:
    """The prices one listing is judged by, exactly as the two price rules judge it."""

    cost: Decimal | None               # from catalog.csv; None: the SKU is not in it
    reference_price: Decimal | None
    floor: Decimal | None              # under it, prices.below_floor raises a finding
    floor_multiple: Decimal
    floor_not_judged: str | None       # why `floor` is None, in words
    discount_limit: Decimal | None     # under it, prices.unapproved_discount wants your OK
    max_discount: Decimal
    discount_not_judged: str | None    # why `discount_limit` is None


def floor_judged(settings: BelowFloorSettings, entry: CatalogEntry | None,
                 promoted_on_page: bool) -> str | None:
    """None when prices.below_floor judges this listing's price against a floor, else why not."""
    if not settings.enabled:
        return "prices.below_floor is turned off in the contract"
    if entry is None:
        return "the SKU is not in your product sheet (catalog.csv): no cost to compare with"
    if settings.applies_to == "promoted" and not is_promoted(
            promoted_on_page, bool(entry.promoted), settings.promoted_source):
        how = {"page": "a badge on its page", "catalog": "your promoted list",
               "either": "a badge on its page or your promoted list"}[settings.promoted_source]
        return (f"the floor applies to promoted listings (promoted by {how}, "
                f"promoted_source = \"{settings.promoted_source}\"), and this one is not")
    return None


def price_limits(settings_of: Callable[[str], RuleSettings], entry: CatalogEntry | None, *,
                 promoted_on_page: bool) -> PriceLimits:
    """The floor and the discount limit of a listing with catalog line `entry` whose page
    shows (or not) a promotion badge. `settings_of` gives a rule's settings by id (the
    contract's `rule_settings`)."""
    floor_settings: BelowFloorSettings = settings_of("prices.below_floor")
    discount_settings: DiscountSettings = settings_of("prices.unapproved_discount")
    not_floor = floor_judged(floor_settings, entry, promoted_on_page)
    if not discount_settings.enabled:
        not_discount = "prices.unapproved_discount is turned off in the contract"
    elif entry is None:
        not_discount = "the SKU is not in your product sheet (catalog.csv): no reference price"
    else:
        not_discount = None
    return PriceLimits(
        cost=entry.cost if entry else None,
        reference_price=entry.reference_price if entry else None,
        floor=None if not_floor else entry.cost * floor_settings.multiple,
        floor_multiple=floor_settings.multiple, floor_not_judged=not_floor,
        discount_limit=(None if not_discount
                        else entry.reference_price * (1 - discount_settings.max_discount)),
        max_discount=discount_settings.max_discount, discount_not_judged=not_discount)


# --- prices.below_floor ---------------------------------------------------------------------


@rule("prices.below_floor", "Price under the floor", "critical", BelowFloorSettings)
def below_floor(ctx: AuditContext, settings: BelowFloorSettings) -> Iterator[Draft]:
    """A listing sells below the contract's floor (a multiple of cost).

    The contract says promoted items never sell below a multiple of their cost ("never below
    1.5 × cost"): the cost is the one in your product sheet (catalog.csv), which the agency
    never sees. Only prices in the store's currency are compared.

    Example: cost 150, multiple 1.5, so the floor is 225; the promoted down jacket shown at
    ¥199 is a critical finding until its price is back at 225 or more."""
    for state in ctx.listings:
        if state.snap.price is None:
            continue  # no price shown
        if floor_judged(settings, state.catalog, bool(state.snap.promoted)):
            continue  # not in the catalog, or a listing the floor does not apply to
        currency = _comparable(ctx, state)
        if currency is None:
            continue
        price, cost = state.snap.price, state.catalog.cost
        floor = cost * settings.multiple
        if price >= floor:
            continue
        yield Draft(
            state.id, "below-floor",
            f"Price {format_price(price, currency)} is under the floor "
            f"{format_price(floor, currency)} ({_number(settings.multiple)} × cost "
            f"{format_price(cost, currency)})",
            {
                "url": state.snap.url,
                "sku": state.sku,
                "price": str(price),
                "cost": str(cost),
                "multiple": str(settings.multiple),
                "floor": str(floor),
                "currency": currency,
                "currency_on_page": state.snap.currency,
                "promoted": state.promoted_how,
                "snapshot_id": state.snap.id,
                "run_id": ctx.run.id,
                "seen_at": state.snap.fetched_at,
            },
        )


# --- prices.unapproved_discount -------------------------------------------------------------


def _covers(approval: Approval, discount: Decimal, price: Decimal) -> bool:
    return ((approval.max_discount is not None and approval.max_discount >= discount)
            or (approval.min_price is not None and approval.min_price <= price))


def _approval_evidence(approval: Approval) -> dict:
    return {
        "id": approval.id,
        "max_discount": None if approval.max_discount is None else str(approval.max_discount),
        "min_price": None if approval.min_price is None else str(approval.min_price),
        "valid_until": approval.valid_until,
        "note": approval.note,
        "created_by": approval.created_by,
    }


@rule("prices.unapproved_discount", "Discount without approval", "major", DiscountSettings)
def unapproved_discount(ctx: AuditContext, settings: DiscountSettings) -> Iterator[Draft]:
    """A listing is discounted under the reference price by more than allowed, without an
    approval.

    The contract says a discount over a share of the reference price needs your written OK.
    Your OK is an approval recorded in storeaudit (`storeaudit approve`, or the dashboard's
    Approve discount), with the largest discount or the lowest price it allows and the last
    day it counts; an expired approval counts for nothing.

    Example: reference 1,299, max_discount 0.30: a sofa at 779 (40 % off) is a major finding
    unless an approval of at least 40 % for its SKU is valid today."""
    for state in ctx.listings:
        if state.catalog is None or state.snap.price is None:
            continue
        currency = _comparable(ctx, state)
        if currency is None:
            continue
        price, reference = state.snap.price, state.catalog.reference_price
        discount = AuditContext.discount(price, reference)
        if discount <= settings.max_discount:
            continue
        approvals = ctx.approvals_for(state.sku)
        if any(_covers(a, discount, price) for a in approvals):
            continue
        limit = _percent(settings.max_discount)
        shown = _percent(discount)
        if shown == limit:  # 30.04% must not read as "30% under ... (more than 30%)"
            shown = _percent(discount, places=2)
        yield Draft(
            state.id, "discount",
            f"Price {format_price(price, currency)} is {shown} under the reference "
            f"{format_price(reference, currency)} (more than {limit} needs your written OK)",
            {
                "url": state.snap.url,
                "sku": state.sku,
                "price": str(price),
                "reference_price": str(reference),
                "currency": currency,
                "discount": str(discount.quantize(Decimal("0.0001"))),
                "max_discount": str(settings.max_discount),
                # Approvals valid now that do not reach this far. Expired approvals are not
                # listed: AuditContext only offers the ones valid now.
                "approvals_insufficient": [_approval_evidence(a) for a in approvals],
                "snapshot_id": state.snap.id,
                "run_id": ctx.run.id,
                "seen_at": state.snap.fetched_at,
            },
        )
