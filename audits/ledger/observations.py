"""What the merchant's own browser read on a listing page (the extension): the second witness.

An observation is a snapshot of its own kind: the same values the crawler records (title,
price, stock, promoted), read in the merchant's browser with the same extraction rules, kept
beside the crawler's history and never mixed into it, so a store that shows the crawler one
thing and shoppers another is seen as two witnesses disagreeing.
"""

from __future__ import annotations

from datetime import datetime

from .base import LedgerBase, utc_iso
from .records import Observation, observation_of_row


class ObservationRecords(LedgerBase):
    def add_observation(self, listing_id: int, url: str, values: dict,
                        reported_by: str) -> Observation:
        """Keep what the merchant's browser read (`values`: title, price as a decimal string,
        currency, availability, stock_count, promoted; each may be None)."""
        with self._writing("an observation from the merchant's browser"):
            pk = self.db["observations"].insert({
                "listing_id": listing_id, "url": url, "observed_at": self._now(),
                "title": values.get("title"), "price": values.get("price"),
                "currency": values.get("currency"), "availability": values.get("availability"),
                "stock_count": values.get("stock_count"),
                "promoted": None if values.get("promoted") is None else int(values["promoted"]),
                "reported_by": reported_by}).last_pk
        return self.observations(ids=[pk])[0]

    def observations(self, *, listing_id: int | None = None, since: datetime | str | None = None,
                     ids: list[int] | None = None) -> list[Observation]:
        """Observations, oldest first: of one listing, after `since`, or these ids."""
        where, params = [], []
        if listing_id is not None:
            where.append("listing_id = ?")
            params.append(listing_id)
        if since is not None:
            where.append("observed_at > ?")
            params.append(utc_iso(since))
        if ids is not None:
            where.append(f"id IN ({','.join('?' * len(ids)) or 'NULL'})")
            params += list(ids)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return [observation_of_row(r) for r in self.db.query(
            f"SELECT * FROM observations {clause} ORDER BY observed_at, id", params)]
