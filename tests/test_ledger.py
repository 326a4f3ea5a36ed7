"""The ledger on hand-built crawls: history questions, failures, all-or-nothing writes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from audits.ledger import Ledger
from crawler.snapshot import CrawlResult, ImageInfo, Snapshot, Thumbnail

URL = "http://shop.test/p/{}"


def snap(sku, title="Title", price="100.00", **kw) -> Snapshot:
    return Snapshot(url=URL.format(sku.lower()), sku=sku, title=title, price=Decimal(price),
                    currency="CNY", availability="InStock", image_urls=[], **kw)


def failed(sku, error="HTTP 500") -> Snapshot:
    return Snapshot(url=URL.format(sku.lower()), error=error)


def record(ledger: Ledger, clock, *snaps: Snapshot, full=True, images=None, thumbnails=None,
           features=None):
    clock.advance(timedelta(days=1))
    for s in snaps:
        s.fetched_at = clock.now().isoformat()
    run_id = ledger.start_run("manual")
    result = CrawlResult(snapshots=list(snaps), images=images or {},
                         thumbnails=thumbnails or {}, features=features or {},
                         listing_urls=[s.url for s in snaps], started_at=clock.now().isoformat(),
                         finished_at=clock.now().isoformat())
    return ledger.record_crawl(run_id, result, full=full)


def test_a_recorded_crawl_reads_back_with_exact_prices(ledger, clock):
    run = record(ledger, clock, snap("A", price="1299.90"), snap("B"))
    assert (run.status, run.pages_ok, run.pages_failed) == ("complete", 2, 0)
    latest = {s.sku: s for s in ledger.latest_snapshots()}
    assert latest["A"].price == Decimal("1299.90")
    assert latest["A"].currency == "CNY"


def test_a_title_change_is_found_with_before_and_after(ledger, clock):
    record(ledger, clock, snap("A", "Old title"))
    start = clock.now()
    record(ledger, clock, snap("A", "New title"))
    changes = ledger.title_changes(since=start)
    assert [(c.sku, c.before, c.after) for c in changes] == [("A", "Old title", "New title")]


def test_a_failed_fetch_between_two_equal_titles_is_no_change(ledger, clock):
    start = clock.now()
    record(ledger, clock, snap("A", "Same"))
    record(ledger, clock, failed("A"))
    record(ledger, clock, snap("A", "Same"))
    assert ledger.title_changes(since=start) == []
    assert ledger.changes_in_run(3) == []


def test_a_failed_page_is_kept_on_the_same_listing_as_an_error_row(ledger, clock):
    record(ledger, clock, snap("A"))
    record(ledger, clock, failed("A", "timed out after 15 s"))
    [listing] = ledger.listings()
    history = ledger.history(listing.id)
    assert [h.ok for h in history] == [True, False]
    assert history[1].error == "timed out after 15 s"
    assert history[1].title is None and history[1].price is None


def test_title_changes_respect_the_window(ledger, clock):
    record(ledger, clock, snap("A", "v1"))
    record(ledger, clock, snap("A", "v2"))
    after_first_change = clock.now() + timedelta(seconds=1)
    record(ledger, clock, snap("A", "v3"))
    assert [c.after for c in ledger.title_changes(since=after_first_change)] == ["v3"]


def test_last_title_change_is_first_sighting_when_never_changed(ledger, clock):
    record(ledger, clock, snap("A", "v1"))
    first = clock.now().isoformat()
    record(ledger, clock, snap("A", "v1"))
    [listing] = ledger.listings()
    assert ledger.last_title_change(listing.id) == first


def not_there(sku, status=404) -> Snapshot:
    return Snapshot(url=URL.format(sku.lower()), error=f"HTTP {status}", http_status=status,
                    absent=True)


def test_a_listing_is_gone_only_when_its_own_url_says_so_twice_running(ledger, clock):
    """Issue #16: a listing the crawl did not see (left out of the sitemap), a 500 or one 404
    is not a removal; a 404 or 410 at two looks in a row is."""
    record(ledger, clock, snap("A"), snap("B"), snap("C"))
    record(ledger, clock, snap("A"))                                 # B, C not looked at
    assert sorted(l.sku for l in ledger.listings()) == ["A", "B", "C"]
    record(ledger, clock, snap("A"), failed("B"), not_there("C"))    # C: not there, once
    assert sorted(l.sku for l in ledger.listings()) == ["A", "B", "C"]
    run = record(ledger, clock, snap("A"), failed("B"), not_there("C", 410))
    assert [g.sku for g in ledger.gone_in_run(run.id)] == ["C"]
    assert sorted(l.sku for l in ledger.listings()) == ["A", "B"]
    # Still answering 404 later does not make it gone again (nor come back).
    later = record(ledger, clock, snap("A"), not_there("C"))
    assert ledger.gone_in_run(later.id) == []
    assert sorted(l.sku for l in ledger.listings()) == ["A", "B"]
    # Back on the store: it is the same listing again.
    record(ledger, clock, snap("A"), snap("C"))
    assert sorted(l.sku for l in ledger.listings()) == ["A", "B", "C"]


def test_a_look_between_two_absences_that_found_the_listing_breaks_the_run(ledger, clock):
    record(ledger, clock, snap("A"))
    record(ledger, clock, not_there("A"))
    record(ledger, clock, snap("A"))
    record(ledger, clock, not_there("A"))
    assert [l.sku for l in ledger.listings()] == ["A"]


def test_a_spot_check_says_nothing_about_listings_it_did_not_visit(ledger, clock):
    record(ledger, clock, snap("A"), snap("B"))
    record(ledger, clock, snap("A"), full=False)
    assert sorted(l.sku for l in ledger.listings()) == ["A", "B"]


def test_a_crash_while_recording_leaves_the_previous_state_intact(ledger, clock, monkeypatch):
    record(ledger, clock, snap("A", "Before"))
    calls = {"n": 0}
    real = Ledger._listing_for

    def dies_on_second(self, s, now):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real(self, s, now)

    monkeypatch.setattr(Ledger, "_listing_for", dies_on_second)
    with pytest.raises(RuntimeError):
        record(ledger, clock, snap("A", "After"), snap("B"))
    monkeypatch.undo()
    assert [s.title for s in ledger.latest_snapshots()] == ["Before"]
    assert len(ledger.listings()) == 1
    # The interrupted run stays 'running' until the next one starts, then it is abandoned.
    record(ledger, clock, snap("A", "After"))
    assert [r.status for r in ledger.runs()] == ["complete", "abandoned", "complete"]


def test_known_images_round_trip_for_conditional_requests(ledger, clock):
    image = ImageInfo("http://shop.test/img/a.jpg", sha256="ab" * 32, phash="f" * 16,
                      dhash="0" * 16, width=10, height=10, bytes=123, etag='"x"')
    thumbnail = Thumbnail(b"\xff\xd8 a small jpeg", 10, 10)
    record(ledger, clock, snap("A"), images={image.url: image},
           thumbnails={image.sha256: thumbnail}, features={image.sha256: b"SAF2 features"})
    assert ledger.known_images() == {image.url: image}
    assert ledger.thumbnail(image.sha256) == thumbnail


def test_an_image_hashed_without_a_kept_thumbnail_is_downloaded_again_once(ledger, clock):
    # A ledger from before thumbnails were kept: the image's hashes are there, its picture is
    # not, so the next crawl must not ask for it conditionally (a 304 would never bring it).
    image = ImageInfo("http://shop.test/img/b.jpg", sha256="cd" * 32, phash="f" * 16,
                      dhash="0" * 16, width=10, height=10, bytes=123, etag='"y"')
    record(ledger, clock, snap("A"), images={image.url: image})
    assert ledger.known_images() == {}
    assert ledger.thumbnail(image.sha256) is None


def test_an_image_hashed_without_local_features_is_downloaded_again_once(ledger, clock):
    # A ledger from before schema 7: hashes and thumbnail kept, local features not; the next
    # crawl downloads it again (a 304 would never bring them), and then asks conditionally.
    image = ImageInfo("http://shop.test/img/c.jpg", sha256="ef" * 32, phash="f" * 16,
                      dhash="0" * 16, width=10, height=10, bytes=123, etag='"z"')
    kept = {image.sha256: Thumbnail(b"\xff\xd8 jpeg", 10, 10)}
    record(ledger, clock, snap("A"), images={image.url: image}, thumbnails=kept)
    assert ledger.known_images() == {}
    record(ledger, clock, snap("A"), images={image.url: image}, thumbnails=kept,
           features={image.sha256: b"SAF2 features"})
    assert ledger.known_images() == {image.url: image}


def test_the_ledger_refuses_a_file_that_is_not_sqlite(tmp_path):
    from audits.ledger import LedgerError

    bad = tmp_path / "notes.db"
    bad.write_text("these are my notes, not a database" * 100)
    with pytest.raises(LedgerError, match="notes.db"):
        Ledger(bad)


def test_the_ledger_uses_wal_mode(ledger):
    assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_ledger_from_before_the_pages_table_is_brought_up_to_date(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # a version-1 snapshots table: no `unchanged`
        conn.execute("CREATE TABLE snapshots (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, "
                     "listing_id INTEGER NOT NULL, fetched_at TEXT, url TEXT NOT NULL, "
                     "title TEXT)")
        conn.execute("INSERT INTO snapshots (run_id, listing_id, url, title) "
                     "VALUES (1, 1, 'http://shop.test/p/a', 'kept')")
    with Ledger(path) as led:
        columns = led.db["snapshots"].columns_dict
        assert "unchanged" in columns and "content_hash" in columns
        assert led.db["pages"].exists()
        assert [r["title"] for r in led.db.query("SELECT title FROM snapshots")] == ["kept"]
        assert led.known_pages() == {}
