"""prices.below_floor and prices.unapproved_discount over hand-built histories."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from audits.rules.prices import (BelowFloorSettings, DiscountSettings, below_floor,
                                 unapproved_discount)
from tests.history import History, entry, failed, listing


@pytest.fixture
def h(ledger, clock) -> History:
    return History(ledger, clock)


def floor_drafts(h, *, settings=None, catalog=None, currency="CNY", **shown):
    snap = listing("SH-1", **{"price": "199", "promoted": True, **shown})
    snap.currency = currency
    h.night(snap)
    catalog = catalog if catalog is not None else {"SH-1": entry("SH-1", cost="160")}
    return list(below_floor(h.context(catalog=catalog), settings or BelowFloorSettings()))


# --- prices.below_floor --------------------------------------------------------------------

@pytest.mark.parametrize("price, cost, multiple, raised", [
    ("199", "160", "1.5", True),      # floor 240
    ("239.99", "160", "1.5", True),
    ("240", "160", "1.5", False),     # exactly at the floor is fine
    ("240.00", "160.00", "1.50", False),
    ("999", "160", "1.5", False),
    ("300", "160", "2", True),        # floor 320
    ("0", "160", "1.5", True),        # shown free
    ("100", "100", "1", False),
    ("99.99", "100", "1", True),
])
def test_price_under_the_floor_is_raised(h, price, cost, multiple, raised):
    drafts = floor_drafts(h, price=price, catalog={"SH-1": entry("SH-1", cost=cost)},
                          settings=BelowFloorSettings(multiple=Decimal(multiple)))
    assert bool(drafts) is raised


def test_below_floor_message_names_price_floor_and_cost(h):
    [draft] = floor_drafts(h, price="199")
    assert draft.message == "Price ¥199.00 is under the floor ¥240.00 (1.5 × cost ¥160.00)"
    assert draft.fingerprint == "below-floor"


def test_below_floor_evidence_can_be_checked_by_hand(h):
    [draft] = floor_drafts(h, price="199")
    snap = h.ledger.run_snapshots(h.last_run.id)[0]
    assert draft.listing_id == snap.listing_id
    assert draft.evidence == {
        "url": "http://shop.test/p/sh-1", "sku": "SH-1", "price": "199", "cost": "160",
        "multiple": "1.5", "floor": "240.0", "currency": "CNY", "currency_on_page": "CNY",
        "promoted": "badge on the page", "snapshot_id": snap.id, "run_id": h.last_run.id,
        "seen_at": snap.fetched_at,
    }


def test_listing_missing_from_the_catalog_is_not_judged(h):
    assert floor_drafts(h, price="1", catalog={"OTHER": entry("OTHER")}) == []


def test_page_without_currency_is_taken_in_the_store_currency(h):
    [draft] = floor_drafts(h, price="199", currency=None)
    assert draft.evidence["currency"] == "CNY"
    assert draft.evidence["currency_on_page"] is None
    assert "¥199.00" in draft.message


def test_price_in_a_foreign_currency_is_skipped(h):
    assert floor_drafts(h, price="19", currency="USD") == []


def test_store_in_another_currency_compares_its_own_prices(h):
    snap = listing("SH-1", price="19", promoted=True)
    snap.currency = "USD"
    h.night(snap)
    ctx = h.context(catalog={"SH-1": entry("SH-1", cost="16")}, currency="USD")
    [draft] = below_floor(ctx, BelowFloorSettings())
    assert draft.message == "Price $19.00 is under the floor $24.00 (1.5 × cost $16.00)"


def test_store_currency_price_is_skipped_in_a_store_priced_otherwise(h):
    h.night(listing("SH-1", price="199", promoted=True))  # CNY on a USD store
    ctx = h.context(catalog={"SH-1": entry("SH-1", cost="160")}, currency="USD")
    assert list(below_floor(ctx, BelowFloorSettings())) == []


def test_lowercase_store_currency_on_page_still_compares(h):
    assert len(floor_drafts(h, price="199", currency="cny")) == 1


def test_unpromoted_listing_is_not_checked_by_default(h):
    assert floor_drafts(h, price="199", promoted=False) == []


def test_unpromoted_listing_is_checked_when_rule_applies_to_all(h):
    [draft] = floor_drafts(h, price="199", promoted=False,
                           settings=BelowFloorSettings(applies_to="all"))
    assert draft.evidence["promoted"] == "not promoted"


@pytest.mark.parametrize("badge, in_list, source, raised", [
    (True, False, "either", True),
    (False, True, "either", True),
    (False, False, "either", False),
    (True, False, "page", True),
    (False, True, "page", False),     # promoted by catalog only, rule looks at the page
    (True, False, "catalog", False),  # promoted by badge only, rule looks at the catalog
    (False, True, "catalog", True),
    (True, True, "catalog", True),
])
def test_promoted_source_decides_which_listings_count(h, badge, in_list, source, raised):
    catalog = {"SH-1": entry("SH-1", cost="160", promoted=in_list)}
    drafts = floor_drafts(h, price="199", promoted=badge, catalog=catalog,
                          settings=BelowFloorSettings(promoted_source=source))
    assert bool(drafts) is raised


@pytest.mark.parametrize("badge, in_list, how", [
    (True, False, "badge on the page"),
    (False, True, "your promoted list"),
    (True, True, "badge on the page and your promoted list"),
])
def test_evidence_says_how_the_listing_is_promoted(h, badge, in_list, how):
    catalog = {"SH-1": entry("SH-1", cost="160", promoted=in_list)}
    [draft] = floor_drafts(h, price="199", promoted=badge, catalog=catalog)
    assert draft.evidence["promoted"] == how


def test_failed_page_raises_nothing(h):
    h.night(listing("SH-1", price="199", promoted=True))
    h.night(failed("SH-1"))
    ctx = h.context(catalog={"SH-1": entry("SH-1", cost="160")})
    assert list(below_floor(ctx, BelowFloorSettings())) == []


def test_only_listings_under_the_floor_are_raised(h):
    h.night(listing("SH-1", price="199", promoted=True), listing("SH-2", price="500", promoted=True))
    ctx = h.context(catalog={"SH-1": entry("SH-1", cost="160"), "SH-2": entry("SH-2", cost="160")})
    [draft] = below_floor(ctx, BelowFloorSettings())
    assert draft.evidence["sku"] == "SH-1"


@pytest.mark.parametrize("bad", [
    {"multiple": "-1.5"}, {"multiple": "0"}, {"applies_to": "some"},
    {"promoted_source": "badge"}, {"multiplier": "2"},
])
def test_bad_below_floor_settings_are_refused(bad):
    with pytest.raises(ValidationError):
        BelowFloorSettings(**bad)


# --- prices.unapproved_discount ------------------------------------------------------------

def discount_drafts(h, price="2999", *, reference="4999", settings=None, currency="CNY",
                    sku="SH-1", catalog=None):
    snap = listing(sku, price=price)
    snap.currency = currency
    h.night(snap)
    catalog = catalog if catalog is not None else {sku: entry(sku, reference=reference)}
    return list(unapproved_discount(h.context(catalog=catalog), settings or DiscountSettings()))


@pytest.mark.parametrize("price, reference, max_discount, raised", [
    ("2999", "4999", "0.30", True),     # 40% off
    ("3499.30", "4999", "0.30", False),  # exactly 30% off
    ("3499.29", "4999", "0.30", True),
    ("4999", "4999", "0.30", False),
    ("5999", "4999", "0.30", False),    # above the reference
    ("50", "100", "0.5", False),
    ("49.99", "100", "0.5", True),
    ("99", "100", "0", True),
    ("100", "100", "0", False),
    ("0", "100", "0.30", True),         # shown free
])
def test_discount_beyond_the_limit_is_raised(h, price, reference, max_discount, raised):
    drafts = discount_drafts(h, price, reference=reference,
                             settings=DiscountSettings(max_discount=Decimal(max_discount)))
    assert bool(drafts) is raised


def test_discount_message_names_price_reference_and_limit(h):
    [draft] = discount_drafts(h, "2999")
    assert draft.message == ("Price ¥2,999.00 is 40% under the reference ¥4,999.00 "
                             "(more than 30% needs your written OK)")
    assert draft.fingerprint == "discount"


def test_discount_just_over_the_limit_does_not_read_as_equal(h):
    [draft] = discount_drafts(h, "69.98", reference="100")
    assert "30.02% under" in draft.message


def test_discount_evidence_can_be_checked_by_hand(h):
    [draft] = discount_drafts(h, "2999")
    snap = h.ledger.run_snapshots(h.last_run.id)[0]
    assert draft.evidence == {
        "url": "http://shop.test/p/sh-1", "sku": "SH-1", "price": "2999",
        "reference_price": "4999", "currency": "CNY", "discount": "0.4001",
        "max_discount": "0.30", "approvals_insufficient": [], "snapshot_id": snap.id,
        "run_id": h.last_run.id, "seen_at": snap.fetched_at,
    }


@pytest.mark.parametrize("approval", [
    {"max_discount": Decimal("0.45")},
    {"max_discount": Decimal("0.4001")},
    {"min_price": Decimal("2999")},
    {"min_price": Decimal("2500")},
    {"max_discount": Decimal("0.1"), "min_price": Decimal("2999")},
])
def test_approval_valid_now_covers_the_discount(h, clock, approval):
    h.ledger.add_approval("SH-1", valid_until=clock.now() + timedelta(days=7), **approval)
    assert discount_drafts(h, "2999") == []


@pytest.mark.parametrize("approval", [
    {"max_discount": Decimal("0.35")},
    {"min_price": Decimal("3000")},
    {"max_discount": Decimal("0.35"), "min_price": Decimal("3000")},
])
def test_approval_that_does_not_reach_this_far_is_raised_and_shown(h, clock, approval):
    made = h.ledger.add_approval("SH-1", valid_until=clock.now() + timedelta(days=7),
                                 note="618 sale", **approval)
    [draft] = discount_drafts(h, "2999")
    [shown] = draft.evidence["approvals_insufficient"]
    assert shown["id"] == made.id
    assert shown["note"] == "618 sale"
    assert shown["valid_until"] == made.valid_until


def test_approval_that_expired_yesterday_no_longer_covers(h, clock):
    # Valid until exactly the first night (still valid then); the second night is a day later.
    h.ledger.add_approval("SH-1", valid_until=clock.now() + timedelta(days=1),
                          max_discount=Decimal("0.5"))
    h.night(listing("SH-1", price="2999"), days=1)
    ctx = h.context(catalog={"SH-1": entry("SH-1", reference="4999")})
    assert list(unapproved_discount(ctx, DiscountSettings())) == []
    drafts = discount_drafts(h, "2999")
    assert len(drafts) == 1
    assert drafts[0].evidence["approvals_insufficient"] == []


def test_approval_for_another_sku_does_not_cover(h, clock):
    h.ledger.add_approval("SH-2", valid_until=clock.now() + timedelta(days=7),
                          max_discount=Decimal("0.9"))
    assert len(discount_drafts(h, "2999")) == 1


def test_discount_of_listing_missing_from_the_catalog_is_not_judged(h):
    assert discount_drafts(h, "1", catalog={}) == []


def test_discount_with_page_without_currency_is_judged(h):
    assert len(discount_drafts(h, "2999", currency=None)) == 1


def test_discount_in_a_foreign_currency_is_skipped(h):
    assert discount_drafts(h, "299", currency="USD") == []


def test_discount_on_a_failed_page_raises_nothing(h):
    h.night(listing("SH-1", price="2999"))
    h.night(failed("SH-1"))
    ctx = h.context(catalog={"SH-1": entry("SH-1", reference="4999")})
    assert list(unapproved_discount(ctx, DiscountSettings())) == []


def test_discount_applies_to_unpromoted_listings_too(h):
    assert len(discount_drafts(h, "2999")) == 1  # listing() is not promoted by default


@pytest.mark.parametrize("bad", [
    {"max_discount": "-0.1"}, {"max_discount": "1"}, {"max_discount": "30"}, {"limit": "0.3"},
])
def test_bad_discount_settings_are_refused(bad):
    with pytest.raises(ValidationError):
        DiscountSettings(**bad)
