"""Deliveries: everything a notifier sent or tried to send (the nightly email, a critical
alert, a message to a chat channel), with what it reported and whether it went.

A delivery is `pending` until it is delivered (`sent`, or `written` when it was only kept as a
file: the email's outbox without an SMTP server); a failed try leaves it pending with the
error and the time of its next try, until the tries run out and it is `failed`. Only a
delivered one counts when the next works out what is new: findings are never lost to a
message that did not go.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from .base import LedgerBase, utc_iso

DELIVERY_STATUSES = ("pending", "sent", "written", "failed")
DELIVERED = ("sent", "written")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")  # a notifier's name, a delivery's kind


@dataclass(frozen=True)
class Delivery:
    id: int
    notifier: str                  # who made it: "email"
    kind: str                      # what it is, the notifier's word: "digest", "critical"
    created: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt: str | None
    sent_at: str | None
    transport: str | None          # how it goes: for the email "smtp" or "outbox"
    subject: str | None
    recipients: list[str]
    finding_ids: dict[str, list[int]] = field(default_factory=dict)  # section -> ids
    run_id: int | None = None
    path: str | None = None        # the copy kept of what was sent (the email's .eml)
    html_path: str | None = None   # the same, to read in a browser
    body: str | None = None        # a chat message's text (sent again as it was)
    period: str | None = None      # what a review covers: "2026-W46", "2026-11"

    @property
    def delivered(self) -> bool:
        return self.status in DELIVERED

    @property
    def reported_open(self) -> set[int]:
        """Findings this delivery reported as open (new or still open)."""
        return set(self.finding_ids.get("new", [])) | set(self.finding_ids.get("open", []))

    @property
    def all_ids(self) -> list[int]:
        return sorted({i for ids in self.finding_ids.values() for i in ids})


def delivery_of_row(r: dict) -> Delivery:
    return Delivery(
        id=r["id"], notifier=r["notifier"] or "email", kind=r["kind"], created=r["created"],
        status=r["status"], attempts=r["attempts"] or 0, last_error=r["last_error"],
        next_attempt=r["next_attempt"], sent_at=r["sent_at"], transport=r["transport"],
        subject=r["subject"], recipients=json.loads(r["recipients"] or "[]"),
        finding_ids={k: list(v) for k, v in json.loads(r["finding_ids"] or "{}").items()},
        run_id=r["run_id"], path=r["path"], html_path=r["html_path"], body=r.get("body"),
        period=r.get("period"))


class DeliveryRecords(LedgerBase):
    def add_delivery(self, notifier: str, kind: str, *, subject: str, recipients: list[str],
                     finding_ids: dict[str, list[int]], transport: str,
                     run_id: int | None = None, body: str | None = None,
                     period: str | None = None) -> Delivery:
        """A new pending delivery (its kept copy is attached with `set_delivery_files`)."""
        for what, name in (("notifier", notifier), ("kind", kind)):
            if not _NAME.match(name):
                raise ValueError(f"a delivery's {what} is a short lower-case word, not {name!r}")
        with self._writing(f"a new {notifier} {kind}"):
            pk = self.db["deliveries"].insert({
                "notifier": notifier, "kind": kind, "created": self._now(),
                "status": "pending", "attempts": 0, "transport": transport,
                "subject": subject, "recipients": json.dumps(recipients),
                "finding_ids": json.dumps(finding_ids), "run_id": run_id, "body": body,
                "period": period,
            }).last_pk
        return self.delivery(pk)

    def set_delivery_files(self, delivery_id: int, path: str,
                           html_path: str | None) -> Delivery:
        with self._writing(f"delivery #{delivery_id}'s files"):
            self.db["deliveries"].update(delivery_id, {"path": path, "html_path": html_path})
        return self.delivery(delivery_id)

    def delivery_done(self, delivery_id: int, *, status: str = "sent",
                      note: str | None = None) -> Delivery:
        if status not in DELIVERED:
            raise ValueError(f"delivered means one of {', '.join(DELIVERED)}, not {status!r}")
        with self._writing(f"delivery #{delivery_id}'s outcome"):
            self.db.execute(
                "UPDATE deliveries SET status = ?, sent_at = ?, attempts = attempts + 1, "
                "next_attempt = NULL, last_error = ? WHERE id = ?",
                [status, self._now(), note, delivery_id])
        return self.delivery(delivery_id)

    def delivery_failed_try(self, delivery_id: int, error: str, *, max_attempts: int,
                            retry_at: datetime | None) -> Delivery:
        """Count one failed try: still pending (retried at `retry_at`) until the tries run
        out, then failed."""
        with self._writing(f"delivery #{delivery_id}'s failed try"):
            row = self._one("SELECT attempts FROM deliveries WHERE id = ?", [delivery_id])
            if row is None:
                raise KeyError(f"no delivery #{delivery_id}")
            attempts = (row["attempts"] or 0) + 1
            done = attempts >= max_attempts or retry_at is None
            self.db["deliveries"].update(delivery_id, {
                "attempts": attempts, "last_error": error,
                "status": "failed" if done else "pending",
                "next_attempt": None if done else utc_iso(retry_at)})
        return self.delivery(delivery_id)

    def delivery(self, delivery_id: int) -> Delivery:
        row = self._one("SELECT * FROM deliveries WHERE id = ?", [delivery_id])
        if row is None:
            raise KeyError(f"no delivery #{delivery_id}")
        return delivery_of_row(row)

    def deliveries(self, *, notifier: str | None = None, kind: str | None = None,
                   status: str | None = None, limit: int = 50) -> list[Delivery]:
        """The newest first."""
        return [delivery_of_row(r) for r in self.db.query(
            "SELECT * FROM deliveries WHERE (:notifier IS NULL OR notifier = :notifier) "
            "AND (:kind IS NULL OR kind = :kind) AND (:status IS NULL OR status = :status) "
            "ORDER BY id DESC LIMIT :limit",
            {"notifier": notifier, "kind": kind, "status": status, "limit": limit})]

    def pending_deliveries(self, *, notifier: str | None = None,
                           due_at: datetime | None = None) -> list[Delivery]:
        """Deliveries still to make, oldest first; with `due_at`, only those whose next try
        is due by then."""
        due = utc_iso(due_at) if due_at else None
        return [delivery_of_row(r) for r in self.db.query(
            "SELECT * FROM deliveries WHERE status = 'pending' "
            "AND (:notifier IS NULL OR notifier = :notifier) "
            "AND (:due IS NULL OR next_attempt IS NULL OR next_attempt <= :due) ORDER BY id",
            {"notifier": notifier, "due": due})]

    def last_delivered(self, notifier: str, kind: str) -> Delivery | None:
        """The newest delivery of this notifier and kind that went."""
        row = self._one("SELECT * FROM deliveries WHERE notifier = ? AND kind = ? "
                        "AND status IN ('sent', 'written') ORDER BY created DESC, id DESC "
                        "LIMIT 1", [notifier, kind])
        return delivery_of_row(row) if row else None
