"""crawl.incomplete over hand-built histories."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from audits.rules.crawl import IncompleteSettings, incomplete
from tests.history import History, failed, listing


@pytest.fixture
def h(ledger, clock) -> History:
    return History(ledger, clock)


def crawl(h, ok: int, bad: int, error: str = "HTTP 500"):
    h.night(*[listing(f"OK-{i}") for i in range(ok)],
            *[failed(f"BAD-{i}", error) for i in range(bad)])
    return h.context()


@pytest.mark.parametrize("ok, bad, limit, raised", [
    (9, 1, 10, False),    # exactly 10%: at the limit is fine
    (8, 2, 10, True),
    (48, 12, 10, True),
    (10, 0, 10, False),
    (10, 0, 0, False),
    (99, 1, 0, True),     # limit 0: any failure
    (0, 3, 100, False),   # limit 100: never
    (0, 3, 99.9, True),
    (2, 1, 33.3, True),   # 33.33…% > 33.3
    (2, 1, 34, False),
])
def test_crawl_failing_more_pages_than_allowed_is_raised(h, ok, bad, limit, raised):
    ctx = crawl(h, ok, bad)
    found = list(incomplete(ctx, IncompleteSettings(max_failed_percent=limit)))
    assert bool(found) is raised


def test_incomplete_crawl_message_says_what_it_means(h):
    [draft] = incomplete(crawl(h, 48, 12), IncompleteSettings())
    assert draft.message == ("12 of 60 pages could not be read in this crawl (20%; limit 10%): "
                             "findings on those pages are neither raised nor resolved")
    assert draft.fingerprint == "run"
    assert draft.listing_id is None


def test_fractional_share_is_shown_with_one_decimal(h):
    [draft] = incomplete(crawl(h, 4, 2), IncompleteSettings(max_failed_percent=12.5))
    assert "2 of 6 pages" in draft.message
    assert "(33.3%; limit 12.5%)" in draft.message


def test_incomplete_crawl_evidence_lists_failed_pages_and_errors(h):
    ctx = crawl(h, 3, 2, error="timeout after 30 s")
    [draft] = incomplete(ctx, IncompleteSettings())
    snaps = {s.url: s.id for s in h.ledger.run_snapshots(h.last_run.id)}
    assert draft.evidence["run_id"] == h.last_run.id
    assert draft.evidence["pages_ok"] == 3
    assert draft.evidence["pages_failed"] == 2
    assert draft.evidence["failed_percent"] == 40.0
    assert draft.evidence["max_failed_percent"] == 10
    assert sorted(draft.evidence["failed_pages"], key=lambda p: p["url"]) == [
        {"url": f"http://shop.test/p/bad-{i}", "error": "timeout after 30 s",
         "snapshot_id": snaps[f"http://shop.test/p/bad-{i}"]} for i in range(2)]
    assert draft.evidence["failed_pages_not_listed"] == 0


def test_evidence_lists_at_most_fifty_failed_pages(h):
    [draft] = incomplete(crawl(h, 10, 60), IncompleteSettings())
    assert len(draft.evidence["failed_pages"]) == 50
    assert draft.evidence["failed_pages_not_listed"] == 10


def test_only_tonights_failures_count(h):
    crawl(h, 5, 5)
    ctx = crawl(h, 10, 0)
    assert list(incomplete(ctx, IncompleteSettings(max_failed_percent=0))) == []


def test_crawl_that_saw_no_pages_raises_nothing(h):
    assert list(incomplete(crawl(h, 0, 0), IncompleteSettings(max_failed_percent=0))) == []


@pytest.mark.parametrize("bad", [{"max_failed_percent": -1}, {"max_failed_percent": 101},
                                 {"max_failed_percent": "some"}, {"max_failed": 10}])
def test_bad_crawl_settings_are_refused(bad):
    with pytest.raises(ValidationError):
        IncompleteSettings(**bad)
