"""Recording crawls: runs, listings, snapshots and images, each crawl in one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from crawler.snapshot import CrawlResult, ImageInfo, Snapshot

from .base import utc_iso
from .records import Run, row_of_page_state, row_of_snapshot, run_of_row
from .features import FeatureRecords
from .thumbnails import ThumbnailRecords

# extra: the contract's extra_crawls; random: a check at a time nobody could guess
RUN_KINDS = ("nightly", "extra", "spot", "manual", "demo", "random")
# The kinds that set out to crawl the whole store (a spot-check and a random check read a few
# listings): what such a run saw, or why it saw nothing, is what a week's end is judged on.
WHOLE_STORE_KINDS = ("nightly", "extra", "manual", "demo")


# What became of a run left 'running' by a process that stopped (killed, power cut): whether
# its crawl had been written (the `full` column is set with it) decides what was kept.
ABANDONED_DURING_CRAWL = ("the process stopped during the crawl; nothing of this run was "
                          "recorded")
ABANDONED_AFTER_CRAWL = ("the process stopped after the crawl was recorded and before the "
                         "findings were updated; its pages are kept as history, and the next "
                         "audit judges them")


class CrawlRecords(ThumbnailRecords, FeatureRecords):
    """A run is `running` from its start until it is done: until its crawl is recorded, or for
    an audit until its findings are updated too (so that `complete` means the findings are
    there to read). Then `complete`, or `failed` with the error, or `abandoned` when the
    process died and a later run found it still `running`."""

    def start_run(self, kind: str) -> int:
        if kind not in RUN_KINDS:
            raise ValueError(f"unknown run kind {kind!r}; one of {', '.join(RUN_KINDS)}")
        with self._writing(f"the start of a {kind} run"):
            # A run left 'running' by a process that died can never finish now (runs are
            # started only by the holder of the audit slot, audits.audit_lock).
            self.db.execute(
                "UPDATE runs SET status = 'abandoned', finished = ?, "
                "error = CASE WHEN full IS NULL THEN ? ELSE ? END WHERE status = 'running'",
                [self._now(), ABANDONED_DURING_CRAWL, ABANDONED_AFTER_CRAWL],
            )
            return self.db["runs"].insert(
                {"kind": kind, "status": "running", "started": self._now()}
            ).last_pk

    def fail_run(self, run_id: int, error: str) -> None:
        """Mark a run that is still running failed, with the error; a crawl it recorded is
        kept. A run already complete stays so."""
        with self._writing(f"run {run_id}'s failure"):
            self.db.execute("UPDATE runs SET status = 'failed', finished = ?, error = ? "
                            "WHERE id = ? AND status = 'running'", [self._now(), error, run_id])

    def record_crawl(self, run_id: int, result: CrawlResult, *, full: bool = True,
                     finish: bool = True) -> Run:
        """Write one crawl's snapshots and images (with the thumbnails and features it made), all
        or nothing.

        A listing is gone when the store says so twice running: its own URL answered
        404/410 (or redirected to a page with no listing) at this look and at the one before
        (`Snapshot.absent`). A listing the store's sitemap no longer lists is not gone: the
        crawl reads it through its own URL. A listing a crawl did not look at stays as it is.
        `full`: the crawl looked at the whole store (recorded on the run).
        `finish`: the run is complete now; False when an audit's findings are still to come
        (`reconcile_findings` completes it).
        """
        now = self._now()
        with self._writing(f"run {run_id}'s crawl"):
            self._record_images(result.images.values(), now)
            self._record_thumbnails(result.thumbnails, now)
            self._record_features(result.features)
            pages, absent = [], []
            insert = None
            for snap in result.snapshots:
                listing_id = self._listing_for(snap, now)
                if snap.absent:
                    absent.append(listing_id)
                row = row_of_snapshot(run_id, listing_id, snap)
                # One statement, prepared once: a store's thousands of snapshots a night
                # (sqlite-utils' insert reads the table's columns for each).
                insert = insert or (f"INSERT INTO snapshots ({', '.join(row)}) "
                                    f"VALUES ({', '.join('?' * len(row))})")
                snapshot_id = self.db.conn.execute(insert, list(row.values())).lastrowid
                state = result.pages.get(snap.url)
                if snap.ok and state is not None:
                    pages.append(row_of_page_state(state, snapshot_id, now))
            if pages:
                self.db["pages"].upsert_all(pages, pk="url")
            self._mark_gone(absent, run_id, now)
            if full:  # what the whole store shows on many listings, as of this crawl
                self.db.execute("DELETE FROM shared_images")
                self.db["shared_images"].insert_all(
                    {"key": s.key, "urls": json.dumps(list(s.urls)), "listings": s.listings,
                     "of_listings": s.of, "run_id": run_id}
                    for s in result.shared_images.values())
            self.db["runs"].update(run_id, {
                "pages_ok": result.pages_ok,
                "pages_failed": result.pages_failed,
                "image_downloads": result.image_downloads,
                "listings_not_read": result.stats.get("listings_over_max_pages", 0),
                "false_not_modified": (json.dumps(result.false_not_modified, ensure_ascii=False)
                                       if result.false_not_modified else None),
                "full": int(full),  # set exactly when the crawl is recorded
            })
            if finish:
                self._finish_run(run_id)
        return self.run(run_id)

    def _listing_for(self, snap: Snapshot, now: str) -> int:
        """Find or create the listing a snapshot belongs to: by SKU when the page gave one,
        else by URL (a failed page gives no SKU, yet is the same listing as before)."""
        row = None
        if snap.sku:
            row = self._one("SELECT id FROM listings WHERE sku = ?", [snap.sku])
            if row is None:
                # First time the page shows its SKU: adopt the URL-keyed listing.
                row = self._one(
                    "SELECT id FROM listings WHERE url = ? AND sku IS NULL", [snap.url]
                )
                if row:
                    self.db["listings"].update(row["id"], {"sku": snap.sku, "key": snap.key})
        else:
            row = self._one(
                "SELECT id FROM listings WHERE url = ? ORDER BY last_seen DESC LIMIT 1", [snap.url]
            )
        if row is None:
            return self.db["listings"].insert({
                "key": snap.key, "sku": snap.sku, "url": snap.url,
                "first_seen": now, "last_seen": now,
            }).last_pk
        if not snap.absent:  # seen again: back on the store if it had gone
            self.db.execute("UPDATE listings SET url = ?, last_seen = ?, gone_since = NULL "
                            "WHERE id = ?", [snap.url, now, row["id"]])
        return row["id"]

    def _mark_gone(self, absent: list[int], run_id: int, now: str) -> None:
        """Mark gone the listings of `absent` (not there at this look) whose look before
        this run's said so too."""
        for listing_id in absent:
            before = self._one(
                "SELECT absent FROM snapshots WHERE listing_id = ? AND run_id != ? "
                "ORDER BY id DESC LIMIT 1", [listing_id, run_id])
            if before and before["absent"]:
                self.db.execute("UPDATE listings SET gone_since = ? WHERE id = ? AND "
                                "gone_since IS NULL", [now, listing_id])

    def _record_images(self, images: Iterable[ImageInfo], now: str) -> None:
        """Insert or update every image of the crawl, keeping each one's first sighting: one
        statement for them all (a big store has thousands, most of them unchanged)."""
        fields = list(ImageInfo.__dataclass_fields__)
        columns = [*fields, "last_checked", "first_seen"]
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:-1])
        self.db.conn.executemany(
            f"INSERT INTO images ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT(url) DO UPDATE SET {updates}",
            ([*(getattr(info, f) for f in fields), now, now] for info in images))

    def shared_image_keys(self) -> list[str]:
        """The pictures the last whole-store crawl found on many listings (sha256 or URL)."""
        return [r["key"] for r in self.db.query("SELECT key FROM shared_images")]

    def shared_images(self, run_id: int | None = None) -> list[dict]:
        """Those pictures as {key, urls, listings, of_listings, run_id}, most shown first;
        `run_id`: only if that crawl found them."""
        return [{**r, "urls": json.loads(r["urls"] or "[]")} for r in self.db.query(
            "SELECT * FROM shared_images WHERE ? IS NULL OR run_id = ? "
            "ORDER BY listings DESC, key", [run_id, run_id])]

    def note_run_error(self, run_id: int, error: str) -> None:
        """Keep a problem met after the crawl (a rule that broke) on the run's record."""
        with self._writing(f"run {run_id}'s error note"):
            self.db["runs"].update(run_id, {"error": error})

    def run(self, run_id: int) -> Run:
        row = self._one("SELECT * FROM runs WHERE id = ?", [run_id])
        if row is None:
            raise KeyError(f"no run {run_id}")
        return run_of_row(row)

    def runs(self, limit: int = 50) -> list[Run]:
        return [run_of_row(r) for r in self.db.query(
            "SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit])]

    def last_full_audit(self) -> Run | None:
        """The latest complete run that crawled the whole store: when the store-level rules
        last judged it."""
        row = self._one("SELECT * FROM runs WHERE full = 1 AND status = 'complete' "
                        "ORDER BY finished DESC, id DESC LIMIT 1", [])
        return run_of_row(row) if row else None

    def first_full_run(self) -> Run | None:
        """The first recorded crawl of the whole store: where the store's history starts
        (a spot-check before it saw only a few listings). Its audit may still be running, or
        may have been cut short: its pages are history all the same."""
        row = self._one("SELECT * FROM runs WHERE full = 1 ORDER BY id LIMIT 1", [])
        return run_of_row(row) if row else None

    def last_run(self, kind: str) -> Run | None:
        """The run of this kind that started last, whatever became of it."""
        row = self._one("SELECT * FROM runs WHERE kind = ? ORDER BY started DESC, id DESC "
                        "LIMIT 1", [kind])
        return run_of_row(row) if row else None

    def full_run_between(self, start: datetime, end: datetime) -> bool:
        """Whether a crawl of the whole store was recorded that started in [start, end)."""
        return self._one("SELECT 1 FROM runs WHERE full = 1 AND started >= ? AND started < ? "
                         "LIMIT 1", [utc_iso(start), utc_iso(end)]) is not None

    def failed_whole_store_runs_between(self, start: datetime, end: datetime) -> list[Run]:
        """Runs that set out to crawl the whole store, started in [start, end), and failed
        before their crawl was recorded; oldest first."""
        return [run_of_row(r) for r in self.db.query(
            f"SELECT * FROM runs WHERE status = 'failed' AND full IS NULL "
            f"AND kind IN ({', '.join('?' * len(WHOLE_STORE_KINDS))}) "
            f"AND started >= ? AND started < ? ORDER BY started, id",
            [*WHOLE_STORE_KINDS, utc_iso(start), utc_iso(end)])]

    def false_not_modified_since(self, since: datetime) -> list[Run]:
        """Runs started since `since` whose crawl caught the store answering a false 304,
        oldest first."""
        return [run_of_row(r) for r in self.db.query(
            "SELECT * FROM runs WHERE false_not_modified IS NOT NULL AND started >= ? "
            "ORDER BY started, id", [utc_iso(since)])]

    def runs_since(self, since: datetime | str) -> list[Run]:
        """Runs whose crawl was recorded (`full` is set with it), started after `since`,
        oldest first: an audit cut short after its crawl still saw what changed."""
        return [run_of_row(r) for r in self.db.query(
            "SELECT * FROM runs WHERE full IS NOT NULL AND started > ? ORDER BY started, id",
            [utc_iso(since)])]
