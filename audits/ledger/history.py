"""History questions, asked in the domain's words: what changed, when, on which listing."""

from __future__ import annotations

from datetime import datetime

from crawler.snapshot import ImageInfo, KnownPage

from .base import LedgerBase, utc_iso
from .records import (TRACKED_FIELDS, FieldChange, Listing, StoredSnapshot, TitleChange,
                      known_page_of_row, stored_snapshot_of_row)


class HistoryQueries(LedgerBase):
    def listings(self, *, include_gone: bool = False) -> list[Listing]:
        where = "" if include_gone else "WHERE gone_since IS NULL"
        return [Listing(**r) for r in self.db.query(
            f"SELECT id, key, sku, url, first_seen, last_seen, gone_since FROM listings {where} "
            "ORDER BY id")]

    def listing(self, listing_id: int) -> Listing | None:
        row = self._one("SELECT id, key, sku, url, first_seen, last_seen, gone_since "
                        "FROM listings WHERE id = ?", [listing_id])
        return Listing(**row) if row else None

    def listing_by_url(self, url: str) -> Listing | None:
        """The listing whose page this is: same URL, or same origin and path (a page opened
        with tracking parameters or a #fragment is still the listing's page)."""
        bare = url.split("#", 1)[0]
        row = self._one("SELECT id, key, sku, url, first_seen, last_seen, gone_since FROM listings "
                        "WHERE url = ? ORDER BY gone_since IS NOT NULL, id DESC LIMIT 1", [bare])
        if row is None:
            path_only = bare.split("?", 1)[0]
            row = self._one(
                "SELECT id, key, sku, url, first_seen, last_seen, gone_since FROM listings "
                "WHERE url = ? OR url LIKE ? ESCAPE '\\' ORDER BY gone_since IS NOT NULL, id DESC "
                "LIMIT 1", [path_only, path_only.replace("%", "\\%").replace("_", "\\_") + "?%"])
        return Listing(**row) if row else None

    def history(self, listing_id: int, *, ok_only: bool = False) -> list[StoredSnapshot]:
        where = "AND error IS NULL" if ok_only else ""
        return [stored_snapshot_of_row(r) for r in self.db.query(
            f"SELECT * FROM snapshots WHERE listing_id = ? {where} ORDER BY fetched_at, id",
            [listing_id])]

    def run_snapshots(self, run_id: int) -> list[StoredSnapshot]:
        return [stored_snapshot_of_row(r) for r in self.db.query(
            "SELECT * FROM snapshots WHERE run_id = ? ORDER BY listing_id", [run_id])]

    def latest_snapshots(self) -> list[StoredSnapshot]:
        """Each current listing's most recent successful snapshot."""
        return [stored_snapshot_of_row(r) for r in self.db.query(
            """SELECT s.* FROM snapshots s
               JOIN listings l ON l.id = s.listing_id AND l.gone_since IS NULL
               WHERE s.id = (SELECT id FROM snapshots WHERE listing_id = s.listing_id
                             AND error IS NULL ORDER BY fetched_at DESC, id DESC LIMIT 1)
               ORDER BY s.listing_id""")]

    def title_changes(self, since: datetime, until: datetime | None = None) -> list[TitleChange]:
        """Titles that differ from the same listing's previous successful snapshot, seen after
        `since` and up to and including `until`. Failed fetches are skipped, so an outage
        never looks like a change."""
        rows = self.db.query(
            # Only the window's snapshots and, per listing, the last one before it (what the
            # first change in the window is measured against), and only the columns needed:
            # the overlay asks for this every minute, over the whole store's history.
            """WITH ok AS (
                 SELECT listing_id, title, fetched_at, run_id,
                        LAG(title) OVER (PARTITION BY listing_id ORDER BY fetched_at, id) AS before
                 FROM snapshots s
                 WHERE error IS NULL AND (fetched_at > :since OR id IN (
                   SELECT (SELECT p.id FROM snapshots p
                           WHERE p.listing_id = l.id AND p.error IS NULL
                             AND p.fetched_at <= :since
                           ORDER BY p.fetched_at DESC, p.id DESC LIMIT 1)
                   FROM listings l)))
               SELECT ok.listing_id, l.sku, l.url, ok.before, ok.title AS after,
                      ok.fetched_at AS changed_at, ok.run_id
               FROM ok JOIN listings l ON l.id = ok.listing_id
               WHERE ok.before IS NOT NULL AND ok.before != ok.title
                 AND ok.fetched_at > :since AND (:until IS NULL OR ok.fetched_at <= :until)
               ORDER BY ok.fetched_at, ok.listing_id""",
            {"since": utc_iso(since), "until": until and utc_iso(until)},
        )
        return [TitleChange(**r) for r in rows]

    def last_title_change(self, listing_id: int) -> str | None:
        """When the listing's title last changed; its first sighting if it never has."""
        return self.title_changed_at(self.history(listing_id, ok_only=True))

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
            before = stored_snapshot_of_row(prev)
            for name in TRACKED_FIELDS:
                if getattr(before, name) != getattr(snap, name):
                    changes.append(FieldChange(snap.listing_id, snap.sku, name,
                                               getattr(before, name), getattr(snap, name),
                                               before.fetched_at, snap.fetched_at))
        return changes

    def last_changed(self) -> dict[int, str]:
        """Listing id -> when a good look last saw any of its values differ from the look
        before (listings never seen to change are left out)."""
        return {r["listing_id"]: r["at"] for r in self.db.query(
            """WITH ok AS (
                 SELECT listing_id, fetched_at, content_hash,
                        LAG(content_hash) OVER (PARTITION BY listing_id
                                                ORDER BY fetched_at, id) AS before
                 FROM snapshots WHERE error IS NULL)
               SELECT listing_id, max(fetched_at) AS at FROM ok
               WHERE before IS NOT NULL AND before != content_hash GROUP BY listing_id""")}

    def previous_look(self, run_id: int) -> dict[int, str]:
        """Listing id -> when its previous good snapshot before `run_id` was taken, for the
        listings this run read."""
        return {r["listing_id"]: r["at"] for r in self.db.query(
            "SELECT s.listing_id, max(p.fetched_at) AS at FROM snapshots s "
            "JOIN snapshots p ON p.listing_id = s.listing_id AND p.error IS NULL "
            "AND p.run_id < s.run_id WHERE s.run_id = ? GROUP BY s.listing_id", [run_id])}

    def gone_in_run(self, run_id: int) -> list[Listing]:
        """The listings this run found removed (it may still be under way)."""
        run = self.run(run_id)
        return [Listing(**r) for r in self.db.query(
            "SELECT id, key, sku, url, first_seen, last_seen, gone_since FROM listings "
            "WHERE gone_since >= ? AND (? IS NULL OR gone_since <= ?) ORDER BY id",
            [run.started, run.finished, run.finished])]

    def known_images(self) -> dict[str, ImageInfo]:
        """Images already hashed and with their thumbnail and local features kept, for
        conditional re-fetching. One hashed without (before schema 4, or 7) is left out, so
        the next crawl downloads it whole once and keeps them."""
        return {r["url"]: ImageInfo(**{k: r[k] for k in ImageInfo.__dataclass_fields__})
                for r in self.db.query(
                    "SELECT i.* FROM images i JOIN thumbnails t ON t.sha256 = i.sha256 "
                    "JOIN image_features f ON f.sha256 = i.sha256")}

    def change_marker(self) -> tuple:
        """A value that changes whenever a run, a finding or a person's action is written
        (what a refused write must leave as it was). Caches use the ledger's change counter
        instead (`audits.ledger.changes`): any write moves it, and it costs no query."""
        row = self._one(
            "SELECT (SELECT max(id) FROM runs) AS r, (SELECT max(finished) FROM runs) AS f, "
            "(SELECT max(id) FROM findings) AS n, (SELECT max(last_seen) FROM findings) AS l, "
            "(SELECT max(resolved_at) FROM findings) AS x, (SELECT max(id) FROM events) AS e, "
            "(SELECT max(id) FROM approvals) AS a", [])
        return tuple(row.values()) if row else ()

    @staticmethod
    def title_changed_at(history: list[StoredSnapshot]) -> str | None:
        """When the title last changed in a listing's successful history (oldest first); its
        first sighting if it never has."""
        ok = [s for s in history if s.ok]
        if not ok:
            return None
        changed = ok[0].fetched_at
        for before, after in zip(ok, ok[1:]):
            if after.title != before.title:
                changed = after.fetched_at
        return changed

    def known_pages(self, urls: list[str] | None = None) -> dict[str, KnownPage]:
        """Each listing page's state from the last crawl that read it, with the snapshot it
        gave: for conditional re-fetching (an unchanged page keeps its values). `urls`: only
        those pages (a spot-check)."""
        where, params = "", []
        if urls is not None:
            where = f"WHERE p.url IN ({','.join('?' * len(urls)) or 'NULL'})"
            params = list(urls)
        return {r["page_url"]: known_page_of_row(r) for r in self.db.query(
            f"""SELECT s.*, p.url AS page_url, p.fetched_with AS page_fetched_with,
                       p.body_sha256, p.etag, p.last_modified, p.resources
                FROM pages p JOIN snapshots s ON s.id = p.snapshot_id AND s.error IS NULL
                {where}""", params)}

    def images(self, urls: list[str]) -> dict[str, ImageInfo]:
        if not urls:
            return {}
        marks = ",".join("?" * len(urls))
        return {r["url"]: ImageInfo(**{k: r[k] for k in ImageInfo.__dataclass_fields__})
                for r in self.db.query(f"SELECT * FROM images WHERE url IN ({marks})", urls)}
