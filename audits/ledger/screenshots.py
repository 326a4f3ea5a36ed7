"""Screenshots kept as a finding's evidence, within a retention limit and a size cap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .base import LedgerBase, utc_iso

MOMENTS = ("first_seen", "resolved")


@dataclass(frozen=True)
class Screenshot:
    id: int
    finding_id: int
    moment: str          # "first_seen" or "resolved"
    run_id: int | None
    url: str
    taken_at: str
    bytes: int
    width: int | None
    height: int | None


_COLUMNS = "id, finding_id, moment, run_id, url, taken_at, bytes, width, height"


class ScreenshotRecords(LedgerBase):
    def add_screenshots(self, shots: list[dict]) -> list[int]:
        """Keep screenshots, all or nothing: each {finding_id, moment, run_id, url, jpeg,
        width, height}, taken now."""
        now, ids = self._now(), []
        with self._writing(f"{len(shots)} screenshot(s)"):
            for shot in shots:
                if shot["moment"] not in MOMENTS:
                    raise ValueError(f"moment must be one of {MOMENTS}")
                ids.append(self.db["screenshots"].insert({
                    **{k: shot.get(k) for k in ("finding_id", "moment", "run_id", "url",
                                                "jpeg", "width", "height")},
                    "taken_at": now, "bytes": len(shot["jpeg"])}).last_pk)
        return ids

    def screenshots(self, finding_id: int) -> list[Screenshot]:
        """A finding's screenshots, oldest first (without their bytes)."""
        return [Screenshot(**r) for r in self.db.query(
            f"SELECT {_COLUMNS} FROM screenshots WHERE finding_id = ? ORDER BY taken_at, id",
            [finding_id])]

    def screenshot_jpeg(self, screenshot_id: int) -> bytes | None:
        row = self._one("SELECT jpeg FROM screenshots WHERE id = ?", [screenshot_id])
        return row["jpeg"] if row else None

    def screenshot_bytes(self) -> int:
        """What all kept screenshots take."""
        row = self._one("SELECT coalesce(sum(bytes), 0) AS total FROM screenshots", [])
        return row["total"]

    def prune_screenshots(self, *, keep_days: float, max_bytes: int) -> int:
        """Drop screenshots older than `keep_days`, then the oldest until the rest fit in
        `max_bytes`. Returns how many were dropped."""
        cutoff = utc_iso(self.clock.now() - timedelta(days=keep_days))
        with self._writing("the pruning of old screenshots"):
            dropped = self.db.execute("DELETE FROM screenshots WHERE taken_at < ?",
                                      [cutoff]).rowcount
            # Newest first, the running total of bytes: everything past the cap goes.
            dropped += self.db.execute(
                """DELETE FROM screenshots WHERE id IN (
                     SELECT id FROM (SELECT id, sum(bytes) OVER (
                         ORDER BY taken_at DESC, id DESC) AS kept FROM screenshots)
                     WHERE kept > ?)""", [max_bytes]).rowcount
        return dropped
