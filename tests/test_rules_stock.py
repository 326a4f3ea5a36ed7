"""stock.promoted_out_of_stock and stock.promoted_low_stock over hand-built histories."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from audits.rules.stock import (LowStockSettings, OutOfStockSettings, promoted_low_stock,
                                promoted_out_of_stock)
from crawler.snapshot import DISCONTINUED, IN_STOCK, LOW_STOCK, OUT_OF_STOCK, PRE_ORDER
from tests.history import History, entry, failed, listing


@pytest.fixture
def h(ledger, clock) -> History:
    return History(ledger, clock)


def drafts(h, check, settings, *, in_list=False, **shown):
    h.night(listing("SH-1", **{"promoted": True, **shown}))
    ctx = h.context(catalog={"SH-1": entry("SH-1", promoted=in_list)})
    return list(check(ctx, settings))


# --- stock.promoted_out_of_stock -----------------------------------------------------------

@pytest.mark.parametrize("availability, count, raised", [
    (OUT_OF_STOCK, None, True),
    (OUT_OF_STOCK, 0, True),
    (IN_STOCK, 0, True),          # the count says none left, whatever the label says
    (None, 0, True),
    (IN_STOCK, None, False),
    (IN_STOCK, 1, False),
    (LOW_STOCK, 2, False),
    (LOW_STOCK, None, False),
    (PRE_ORDER, None, False),
    (DISCONTINUED, None, False),
    (None, None, False),
])
def test_promoted_listing_out_of_stock_is_raised(h, availability, count, raised):
    found = drafts(h, promoted_out_of_stock, OutOfStockSettings(),
                   availability=availability, stock_count=count)
    assert bool(found) is raised


def test_out_of_stock_message_and_evidence(h):
    [draft] = drafts(h, promoted_out_of_stock, OutOfStockSettings(), availability=OUT_OF_STOCK)
    snap = h.ledger.run_snapshots(h.last_run.id)[0]
    assert draft.message == "Promoted listing shows out of stock (promoted by badge on the page)"
    assert draft.fingerprint == "out-of-stock"
    assert draft.listing_id == snap.listing_id
    assert draft.evidence == {
        "url": "http://shop.test/p/sh-1", "sku": "SH-1", "availability": OUT_OF_STOCK,
        "stock_count": None, "promoted": "badge on the page", "snapshot_id": snap.id,
        "run_id": h.last_run.id, "seen_at": snap.fetched_at,
    }


def test_zero_count_message_says_zero_in_stock(h):
    [draft] = drafts(h, promoted_out_of_stock, OutOfStockSettings(), stock_count=0)
    assert draft.message.startswith("Promoted listing shows 0 in stock")


def test_unpromoted_listing_out_of_stock_is_fine(h):
    assert drafts(h, promoted_out_of_stock, OutOfStockSettings(), promoted=False,
                  availability=OUT_OF_STOCK) == []


@pytest.mark.parametrize("badge, in_list, source, raised", [
    (True, False, "either", True),
    (False, True, "either", True),
    (True, False, "page", True),
    (False, True, "page", False),     # promoted by catalog only
    (True, False, "catalog", False),  # promoted by badge only
    (False, True, "catalog", True),
])
def test_out_of_stock_follows_promoted_source(h, badge, in_list, source, raised):
    found = drafts(h, promoted_out_of_stock, OutOfStockSettings(promoted_source=source),
                   promoted=badge, in_list=in_list, availability=OUT_OF_STOCK)
    assert bool(found) is raised


def test_listing_missing_from_the_catalog_can_still_be_promoted_by_badge(h):
    h.night(listing("SH-1", promoted=True, availability=OUT_OF_STOCK))
    assert len(list(promoted_out_of_stock(h.context(catalog={}), OutOfStockSettings()))) == 1


def test_failed_page_is_not_out_of_stock(h):
    h.night(listing("SH-1", promoted=True, availability=OUT_OF_STOCK))
    h.night(failed("SH-1", "timeout"))
    ctx = h.context(catalog={"SH-1": entry("SH-1", promoted=True)})
    assert list(promoted_out_of_stock(ctx, OutOfStockSettings())) == []


def test_back_in_stock_tonight_raises_nothing(h):
    h.night(listing("SH-1", promoted=True, availability=OUT_OF_STOCK))
    h.night(listing("SH-1", promoted=True, availability=IN_STOCK, stock_count=40))
    assert list(promoted_out_of_stock(h.context(), OutOfStockSettings())) == []


# --- stock.promoted_low_stock --------------------------------------------------------------

@pytest.mark.parametrize("availability, count, threshold, raised", [
    (IN_STOCK, 5, 5, True),        # exactly at the threshold
    (IN_STOCK, 6, 5, False),
    (IN_STOCK, 1, 5, True),
    (LOW_STOCK, 3, 5, True),
    (LOW_STOCK, 20, 5, False),     # the count says there is enough
    (LOW_STOCK, None, 5, True),    # limited, count unknown
    (IN_STOCK, None, 5, False),
    (None, None, 5, False),
    (IN_STOCK, 0, 5, False),       # out of stock: the other rule's finding
    (OUT_OF_STOCK, None, 5, False),
    (OUT_OF_STOCK, 3, 5, False),
    (IN_STOCK, 1, 0, False),       # threshold 0: no count is low
    (IN_STOCK, 10, 10, True),
])
def test_promoted_listing_low_on_stock_is_raised(h, availability, count, threshold, raised):
    found = drafts(h, promoted_low_stock, LowStockSettings(threshold=threshold),
                   availability=availability, stock_count=count)
    assert bool(found) is raised


def test_low_stock_message_and_evidence(h):
    [draft] = drafts(h, promoted_low_stock, LowStockSettings(), stock_count=3)
    snap = h.ledger.run_snapshots(h.last_run.id)[0]
    assert draft.message == ("Promoted listing has only 3 in stock "
                             "(limit 5; promoted by badge on the page)")
    assert draft.fingerprint == "low-stock"
    assert draft.evidence == {
        "url": "http://shop.test/p/sh-1", "sku": "SH-1", "availability": IN_STOCK,
        "stock_count": 3, "promoted": "badge on the page", "snapshot_id": snap.id,
        "run_id": h.last_run.id, "seen_at": snap.fetched_at, "threshold": 5,
    }


def test_low_stock_with_unknown_count_says_so(h):
    [draft] = drafts(h, promoted_low_stock, LowStockSettings(), availability=LOW_STOCK,
                     promoted=False, in_list=True)
    assert draft.message == ("Promoted listing shows limited stock; the page does not say how "
                             "many (promoted by your promoted list)")


def test_unpromoted_listing_low_on_stock_is_fine(h):
    assert drafts(h, promoted_low_stock, LowStockSettings(), promoted=False, stock_count=1) == []


@pytest.mark.parametrize("badge, in_list, source, raised", [
    (True, False, "either", True),
    (False, True, "either", True),
    (False, True, "page", False),     # promoted by catalog only
    (True, False, "catalog", False),  # promoted by badge only
    (True, False, "page", True),
    (False, True, "catalog", True),
])
def test_low_stock_follows_promoted_source(h, badge, in_list, source, raised):
    found = drafts(h, promoted_low_stock, LowStockSettings(promoted_source=source),
                   promoted=badge, in_list=in_list, stock_count=2)
    assert bool(found) is raised


def test_failed_page_is_not_low_on_stock(h):
    h.night(listing("SH-1", promoted=True, stock_count=2))
    h.night(failed("SH-1"))
    assert list(promoted_low_stock(h.context(), LowStockSettings())) == []


@pytest.mark.parametrize("cls, bad", [
    (LowStockSettings, {"threshold": -1}),
    (LowStockSettings, {"threshold": "few"}),
    (LowStockSettings, {"promoted_source": "badge"}),
    (OutOfStockSettings, {"promoted_source": "both"}),
    (OutOfStockSettings, {"threshold": 5}),
])
def test_bad_stock_settings_are_refused(cls, bad):
    with pytest.raises(ValidationError):
        cls(**bad)
