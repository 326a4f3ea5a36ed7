"""The pictures storeaudit shows: the thumbnail the crawl made of each image it hashed, kept by
the sha256 of the image's bytes (the images table says which URL showed which bytes).

The dashboard serves these from its own origin and the email embeds them; nothing shows a
picture from an address the store chose. An image with no thumbnail kept (hashed before
schema 4, or refused) has no picture to show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from crawler.snapshot import Thumbnail

from .base import LedgerBase


class ThumbnailRecords(LedgerBase):
    def _record_thumbnails(self, thumbnails: Mapping[str, Thumbnail], now: str) -> None:
        """Keep each new thumbnail (one statement; a sha256 kept already is left as it is).
        Inside the crawl's transaction."""
        self.db.conn.executemany(
            "INSERT INTO thumbnails (sha256, jpeg, width, height, kept) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(sha256) DO NOTHING",
            ((sha, t.jpeg, t.width, t.height, now) for sha, t in thumbnails.items()))

    def thumbnail(self, sha256: str) -> Thumbnail | None:
        """The kept thumbnail of the image whose bytes have this sha256, or None."""
        row = self._one("SELECT jpeg, width, height FROM thumbnails WHERE sha256 = ?",
                        [sha256])
        return Thumbnail(row["jpeg"], row["width"], row["height"]) if row else None

    def thumbnail_shas(self, urls: Iterable[str]) -> dict[str, str]:
        """Image URL -> the sha256 of its kept thumbnail (the bytes last seen at that URL),
        for those of `urls` that have one."""
        urls = [u for u in dict.fromkeys(urls) if isinstance(u, str)]
        if not urls:
            return {}
        marks = ",".join("?" * len(urls))
        return {r["url"]: r["sha256"] for r in self.db.query(
            f"SELECT i.url, i.sha256 FROM images i JOIN thumbnails t ON t.sha256 = i.sha256 "
            f"WHERE i.url IN ({marks})", urls)}

    def kept_picture(self, sha256: object, url: object) -> str | None:
        """The sha256 of the kept thumbnail for an image a finding names: by its bytes
        (`sha256`) when it names them, else the bytes last seen at `url`; None when none is
        kept. Either may be anything a finding's evidence holds (it is JSON)."""
        if isinstance(sha256, str):
            return sha256 if self.thumbnails_kept([sha256]) else None
        return self.thumbnail_shas([url]).get(url) if isinstance(url, str) else None

    def thumbnails_kept(self, shas: Iterable[str]) -> set[str]:
        """Those of `shas` whose thumbnail is kept."""
        shas = [s for s in dict.fromkeys(shas) if isinstance(s, str)]
        if not shas:
            return set()
        marks = ",".join("?" * len(shas))
        return {r["sha256"] for r in self.db.query(
            f"SELECT sha256 FROM thumbnails WHERE sha256 IN ({marks})", shas)}
