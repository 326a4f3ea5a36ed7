"""Recording crawls: runs, listings, snapshots and images, each crawl in one transaction."""

from __future__ import annotations

import sqlite3

from crawler.snapshot import CrawlResult, ImageInfo, Snapshot

from .base import LedgerBase, LedgerError
from .records import Run, _page_row, _run, _snapshot_row

RUN_KINDS = ("nightly", "extra", "spot", "manual", "demo")  # extra: the contract's extra_crawls


class CrawlRecords(LedgerBase):
    def start_run(self, kind: str) -> int:
        if kind not in RUN_KINDS:
            raise ValueError(f"unknown run kind {kind!r}; one of {', '.join(RUN_KINDS)}")
        with self.db.atomic():
            # A run left 'running' by a process that died can never finish now.
            self.db.execute(
                "UPDATE runs SET status = 'abandoned', finished = ? WHERE status = 'running'",
                [self._now()],
            )
            return self.db["runs"].insert(
                {"kind": kind, "status": "running", "started": self._now()}
            ).last_pk

    def fail_run(self, run_id: int, error: str) -> None:
        with self.db.atomic():
            self.db["runs"].update(
                run_id, {"status": "failed", "finished": self._now(), "error": error}
            )

    def record_crawl(self, run_id: int, result: CrawlResult, *, full: bool = True) -> Run:
        """Write one crawl's snapshots and images, all or nothing.

        `full` crawls saw the whole store: a listing they did not discover is marked gone.
        A spot-check (full=False) says nothing about listings it did not look at.
        """
        now = self._now()
        try:
            with self.db.atomic():
                for info in result.images.values():
                    self._upsert_image(info, now)
                seen: set[int] = set()
                pages = []
                for snap in result.snapshots:
                    listing_id = self._listing_for(snap, now)
                    seen.add(listing_id)
                    snapshot_id = self.db["snapshots"].insert(
                        _snapshot_row(run_id, listing_id, snap)).last_pk
                    state = result.pages.get(snap.url)
                    if snap.ok and state is not None:
                        pages.append(_page_row(state, snapshot_id, now))
                if pages:
                    self.db["pages"].upsert_all(pages, pk="url")
                if full and result.listing_urls:
                    self._mark_gone(seen, now)
                self.db["runs"].update(run_id, {
                    "status": "complete",
                    "finished": now,
                    "pages_ok": result.pages_ok,
                    "pages_failed": result.pages_failed,
                    "image_downloads": result.image_downloads,
                    "full": int(full),
                })
        except sqlite3.OperationalError as e:
            raise LedgerError(f"could not write run {run_id} to {self.path}: {e}") from e
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
        self.db["listings"].update(row["id"], {"url": snap.url, "last_seen": now,
                                                "gone_since": None})
        return row["id"]

    def _mark_gone(self, seen: set[int], now: str) -> None:
        placeholders = ",".join("?" * len(seen)) or "NULL"
        self.db.execute(
            f"UPDATE listings SET gone_since = ? WHERE gone_since IS NULL "
            f"AND id NOT IN ({placeholders})",
            [now, *seen],
        )

    def _upsert_image(self, info: ImageInfo, now: str) -> None:
        row = {k: v for k, v in info.__dict__.items()}
        row["last_checked"] = now
        existing = self._one("SELECT first_seen FROM images WHERE url = ?", [info.url])
        row["first_seen"] = existing["first_seen"] if existing else now
        self.db["images"].upsert(row, pk="url")

    def note_run_error(self, run_id: int, error: str) -> None:
        """Keep a problem met after the crawl (a rule that broke) on the run's record."""
        with self.db.atomic():
            self.db["runs"].update(run_id, {"error": error})

    def run(self, run_id: int) -> Run:
        row = self._one("SELECT * FROM runs WHERE id = ?", [run_id])
        if row is None:
            raise KeyError(f"no run {run_id}")
        return _run(row)

    def runs(self, limit: int = 50) -> list[Run]:
        return [_run(r) for r in self.db.query(
            "SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit])]

    def first_full_run(self) -> Run | None:
        """The first complete crawl of the whole store: where the store's history starts
        (a spot-check before it saw only a few listings)."""
        row = self._one(
            "SELECT * FROM runs WHERE status = 'complete' AND full = 1 ORDER BY id LIMIT 1", [])
        return _run(row) if row else None
