"""The ledger: the one module that knows the SQL schema.

Everything else asks questions in the domain's words (`ledger.title_changes(since=…)`,
`ledger.latest_snapshots()`). One SQLite file in WAL mode, created on first use. A crawl is
written in one transaction, so a crash in the middle leaves the previous state intact.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import sqlite_utils

from crawler.snapshot import CrawlResult, ImageInfo, Snapshot

from ..clock import Clock, SystemClock
from .schema import ensure_schema

RUN_KINDS = ("nightly", "spot", "manual", "demo")


@dataclass(frozen=True)
class Run:
    id: int
    kind: str
    status: str
    started: str
    finished: str | None
    pages_ok: int
    pages_failed: int
    image_downloads: int
    error: str | None


@dataclass(frozen=True)
class StoredSnapshot:
    """One row of history: a listing as one run saw it (or failed to)."""

    id: int
    run_id: int
    listing_id: int
    fetched_at: str
    url: str
    sku: str | None
    title: str | None
    price: Decimal | None
    list_price: Decimal | None
    currency: str | None
    availability: str | None
    stock_count: int | None
    promoted: bool | None
    image_urls: list[str]
    price_note: str | None
    error: str | None
    content_hash: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Listing:
    id: int
    key: str
    sku: str | None
    url: str
    first_seen: str
    last_seen: str
    gone_since: str | None


@dataclass(frozen=True)
class TitleChange:
    listing_id: int
    sku: str | None
    url: str
    before: str
    after: str
    changed_at: str
    run_id: int


@dataclass(frozen=True)
class FieldChange:
    """A value that differs from the listing's previous successful snapshot."""

    listing_id: int
    sku: str | None
    field: str
    before: object
    after: object


TRACKED_FIELDS = ("title", "price", "list_price", "availability", "stock_count", "promoted",
                  "image_urls")


class LedgerError(RuntimeError):
    """The ledger could not be written; nothing of the failed write was kept."""


class Ledger:
    def __init__(self, path: Path | str, clock: Clock | None = None):
        self.path = Path(path)
        self.clock = clock or SystemClock()
        try:
            self.db = sqlite_utils.Database(self.path)
            self.db.enable_wal()
            ensure_schema(self.db)
        except sqlite3.DatabaseError as e:
            raise LedgerError(f"{self.path}: not a usable storeaudit ledger ({e})") from e

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _now(self) -> str:
        return self.clock.now().isoformat()

    # --- runs -----------------------------------------------------------------------------

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
                for snap in result.snapshots:
                    listing_id = self._listing_for(snap, now)
                    seen.add(listing_id)
                    self.db["snapshots"].insert(_snapshot_row(run_id, listing_id, snap))
                if full and result.listing_urls:
                    self._mark_gone(seen, now)
                self.db["runs"].update(run_id, {
                    "status": "complete",
                    "finished": now,
                    "pages_ok": result.pages_ok,
                    "pages_failed": result.pages_failed,
                    "image_downloads": result.image_downloads,
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

    def run(self, run_id: int) -> Run:
        row = self._one("SELECT * FROM runs WHERE id = ?", [run_id])
        if row is None:
            raise KeyError(f"no run {run_id}")
        return _run(row)

    def runs(self, limit: int = 50) -> list[Run]:
        return [_run(r) for r in self.db.query(
            "SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit])]

    # --- history questions ------------------------------------------------------------------

    def listings(self, *, include_gone: bool = False) -> list[Listing]:
        where = "" if include_gone else "WHERE gone_since IS NULL"
        return [Listing(**r) for r in self.db.query(
            f"SELECT id, key, sku, url, first_seen, last_seen, gone_since FROM listings {where} "
            "ORDER BY id")]

    def listing(self, listing_id: int) -> Listing | None:
        row = self._one("SELECT id, key, sku, url, first_seen, last_seen, gone_since "
                        "FROM listings WHERE id = ?", [listing_id])
        return Listing(**row) if row else None

    def history(self, listing_id: int, *, ok_only: bool = False) -> list[StoredSnapshot]:
        where = "AND error IS NULL" if ok_only else ""
        return [_stored(r) for r in self.db.query(
            f"SELECT * FROM snapshots WHERE listing_id = ? {where} ORDER BY fetched_at, id",
            [listing_id])]

    def run_snapshots(self, run_id: int) -> list[StoredSnapshot]:
        return [_stored(r) for r in self.db.query(
            "SELECT * FROM snapshots WHERE run_id = ? ORDER BY listing_id", [run_id])]

    def latest_snapshots(self) -> list[StoredSnapshot]:
        """Each current listing's most recent successful snapshot."""
        return [_stored(r) for r in self.db.query(
            """SELECT s.* FROM snapshots s
               JOIN listings l ON l.id = s.listing_id AND l.gone_since IS NULL
               WHERE s.id = (SELECT id FROM snapshots WHERE listing_id = s.listing_id
                             AND error IS NULL ORDER BY fetched_at DESC, id DESC LIMIT 1)
               ORDER BY s.listing_id""")]

    def title_changes(self, since: datetime, until: datetime | None = None) -> list[TitleChange]:
        """Titles that differ from the same listing's previous successful snapshot.
        Failed fetches are skipped, so an outage never looks like a change."""
        rows = self.db.query(
            """WITH ok AS (
                 SELECT s.*, LAG(title) OVER (PARTITION BY listing_id
                                              ORDER BY fetched_at, id) AS before
                 FROM snapshots s WHERE error IS NULL)
               SELECT ok.listing_id, l.sku, l.url, ok.before, ok.title AS after,
                      ok.fetched_at AS changed_at, ok.run_id
               FROM ok JOIN listings l ON l.id = ok.listing_id
               WHERE ok.before IS NOT NULL AND ok.before != ok.title
                 AND ok.fetched_at >= ? AND (? IS NULL OR ok.fetched_at < ?)
               ORDER BY ok.fetched_at, ok.listing_id""",
            [since.isoformat(), until and until.isoformat(), until and until.isoformat()],
        )
        return [TitleChange(**r) for r in rows]

    def last_title_change(self, listing_id: int) -> str | None:
        """When the listing's title last changed; its first sighting if it never has."""
        ok = self.history(listing_id, ok_only=True)
        if not ok:
            return None
        changed = ok[0].fetched_at
        for before, after in zip(ok, ok[1:]):
            if after.title != before.title:
                changed = after.fetched_at
        return changed

    def changes_in_run(self, run_id: int) -> list[FieldChange]:
        """What a run saw change, listing by listing, against each one's previous good snapshot."""
        changes: list[FieldChange] = []
        for snap in self.run_snapshots(run_id):
            if not snap.ok:
                continue
            prev = self._one(
                "SELECT * FROM snapshots WHERE listing_id = ? AND error IS NULL AND run_id < ? "
                "ORDER BY run_id DESC, id DESC LIMIT 1", [snap.listing_id, run_id])
            if prev is None:
                continue
            before = _stored(prev)
            for name in TRACKED_FIELDS:
                if getattr(before, name) != getattr(snap, name):
                    changes.append(FieldChange(snap.listing_id, snap.sku, name,
                                               getattr(before, name), getattr(snap, name)))
        return changes

    def gone_in_run(self, run_id: int) -> list[Listing]:
        run = self.run(run_id)
        return [Listing(**r) for r in self.db.query(
            "SELECT id, key, sku, url, first_seen, last_seen, gone_since FROM listings "
            "WHERE gone_since = ?", [run.finished])]

    def known_images(self) -> dict[str, ImageInfo]:
        """Images already hashed, for conditional re-fetching."""
        return {r["url"]: ImageInfo(**{k: r[k] for k in ImageInfo.__dataclass_fields__})
                for r in self.db.query("SELECT * FROM images WHERE sha256 IS NOT NULL")}

    def images(self, urls: list[str]) -> dict[str, ImageInfo]:
        if not urls:
            return {}
        marks = ",".join("?" * len(urls))
        return {r["url"]: ImageInfo(**{k: r[k] for k in ImageInfo.__dataclass_fields__})
                for r in self.db.query(f"SELECT * FROM images WHERE url IN ({marks})", urls)}

    def _one(self, sql: str, params: list) -> dict | None:
        return next(iter(self.db.query(sql, params)), None)


def _snapshot_row(run_id: int, listing_id: int, snap: Snapshot) -> dict:
    return {
        "run_id": run_id,
        "listing_id": listing_id,
        "fetched_at": snap.fetched_at,
        "url": snap.url,
        "sku": snap.sku,
        "title": snap.title,
        "price": None if snap.price is None else str(snap.price),
        "list_price": None if snap.list_price is None else str(snap.list_price),
        "currency": snap.currency,
        "availability": snap.availability,
        "stock_count": snap.stock_count,
        "promoted": None if snap.promoted is None else int(snap.promoted),
        "image_urls": json.dumps(snap.image_urls),
        "price_note": snap.price_note,
        "source": snap.source,
        "fetched_with": snap.fetched_with,
        "http_status": snap.http_status,
        "error": snap.error,
        "content_hash": None if snap.error else snap.content_hash(),
    }


def _stored(r: dict) -> StoredSnapshot:
    return StoredSnapshot(
        id=r["id"], run_id=r["run_id"], listing_id=r["listing_id"], fetched_at=r["fetched_at"],
        url=r["url"], sku=r["sku"], title=r["title"],
        price=None if r["price"] is None else Decimal(r["price"]),
        list_price=None if r["list_price"] is None else Decimal(r["list_price"]),
        currency=r["currency"], availability=r["availability"], stock_count=r["stock_count"],
        promoted=None if r["promoted"] is None else bool(r["promoted"]),
        image_urls=json.loads(r["image_urls"] or "[]"), price_note=r["price_note"],
        error=r["error"], content_hash=r["content_hash"],
    )


def _run(r: dict) -> Run:
    return Run(id=r["id"], kind=r["kind"], status=r["status"], started=r["started"],
               finished=r["finished"], pages_ok=r["pages_ok"] or 0,
               pages_failed=r["pages_failed"] or 0, image_downloads=r["image_downloads"] or 0,
               error=r["error"])
