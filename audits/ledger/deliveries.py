"""Emails and the scheduler's questions: every digest and critical alert storeaudit made, with
what it reported and whether it went; and when each kind of run last started.

An email is `pending` until it is delivered (`sent` over SMTP, or `written` to the outbox when
no SMTP server is configured); a failed try leaves it pending with the error and the time of
its next try, until the tries run out and it is `failed`. Only a delivered email counts when
the next one works out what is new: findings are never lost to an email that did not go.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from .base import LedgerBase, utc_iso
from .records import Finding, Run, _finding, _run

EMAIL_KINDS = ("digest", "critical")
EMAIL_STATUSES = ("pending", "sent", "written", "failed")
DELIVERED = ("sent", "written")


@dataclass(frozen=True)
class EmailRecord:
    id: int
    kind: str
    created: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt: str | None
    sent_at: str | None
    transport: str | None          # "smtp" or "outbox"
    subject: str | None
    recipients: list[str]
    finding_ids: dict[str, list[int]] = field(default_factory=dict)  # section -> ids
    run_id: int | None = None
    path: str | None = None        # the .eml copy
    html_path: str | None = None   # the HTML part, viewable in a browser

    @property
    def delivered(self) -> bool:
        return self.status in DELIVERED

    @property
    def reported_open(self) -> set[int]:
        """Findings this email reported as open (new or still open)."""
        return set(self.finding_ids.get("new", [])) | set(self.finding_ids.get("open", []))

    @property
    def all_ids(self) -> list[int]:
        return sorted({i for ids in self.finding_ids.values() for i in ids})


def _email(r: dict) -> EmailRecord:
    return EmailRecord(
        id=r["id"], kind=r["kind"], created=r["created"], status=r["status"],
        attempts=r["attempts"] or 0, last_error=r["last_error"], next_attempt=r["next_attempt"],
        sent_at=r["sent_at"], transport=r["transport"], subject=r["subject"],
        recipients=json.loads(r["recipients"] or "[]"),
        finding_ids={k: list(v) for k, v in json.loads(r["finding_ids"] or "{}").items()},
        run_id=r["run_id"], path=r["path"], html_path=r["html_path"])


class EmailRecords(LedgerBase):
    def add_email(self, kind: str, *, subject: str, recipients: list[str],
                  finding_ids: dict[str, list[int]], transport: str,
                  run_id: int | None = None) -> EmailRecord:
        """A new pending email (its files are attached with `set_email_files`)."""
        if kind not in EMAIL_KINDS:
            raise ValueError(f"unknown email kind {kind!r}; one of {', '.join(EMAIL_KINDS)}")
        with self._writing(f"a new {kind} email"):
            pk = self.db["emails"].insert({
                "kind": kind, "created": self._now(), "status": "pending", "attempts": 0,
                "transport": transport, "subject": subject, "recipients": json.dumps(recipients),
                "finding_ids": json.dumps(finding_ids), "run_id": run_id,
            }).last_pk
        return self.email(pk)

    def set_email_files(self, email_id: int, path: str, html_path: str | None) -> EmailRecord:
        with self._writing(f"email #{email_id}'s files"):
            self.db["emails"].update(email_id, {"path": path, "html_path": html_path})
        return self.email(email_id)

    def email_delivered(self, email_id: int, *, status: str = "sent",
                        note: str | None = None) -> EmailRecord:
        if status not in DELIVERED:
            raise ValueError(f"delivered means one of {', '.join(DELIVERED)}, not {status!r}")
        with self._writing(f"email #{email_id}'s delivery"):
            self.db.execute(
                "UPDATE emails SET status = ?, sent_at = ?, attempts = attempts + 1, "
                "next_attempt = NULL, last_error = ? WHERE id = ?",
                [status, self._now(), note, email_id])
        return self.email(email_id)

    def email_attempt_failed(self, email_id: int, error: str, *, max_attempts: int,
                             retry_at: datetime | None) -> EmailRecord:
        """Count one failed try: still pending (retried at `retry_at`) until the tries run
        out, then failed."""
        with self._writing(f"email #{email_id}'s failed try"):
            row = self._one("SELECT attempts FROM emails WHERE id = ?", [email_id])
            if row is None:
                raise KeyError(f"no email #{email_id}")
            attempts = (row["attempts"] or 0) + 1
            done = attempts >= max_attempts or retry_at is None
            self.db["emails"].update(email_id, {
                "attempts": attempts, "last_error": error,
                "status": "failed" if done else "pending",
                "next_attempt": None if done else utc_iso(retry_at)})
        return self.email(email_id)

    def email(self, email_id: int) -> EmailRecord:
        row = self._one("SELECT * FROM emails WHERE id = ?", [email_id])
        if row is None:
            raise KeyError(f"no email #{email_id}")
        return _email(row)

    def emails(self, *, kind: str | None = None, status: str | None = None,
               limit: int = 50) -> list[EmailRecord]:
        """The newest first."""
        return [_email(r) for r in self.db.query(
            "SELECT * FROM emails WHERE (? IS NULL OR kind = ?) AND (? IS NULL OR status = ?) "
            "ORDER BY id DESC LIMIT ?", [kind, kind, status, status, limit])]

    def pending_emails(self, *, due_at: datetime | None = None) -> list[EmailRecord]:
        """Emails still to deliver, oldest first; with `due_at`, only those whose next try
        is due by then."""
        due = utc_iso(due_at) if due_at else None
        return [_email(r) for r in self.db.query(
            "SELECT * FROM emails WHERE status = 'pending' "
            "AND (? IS NULL OR next_attempt IS NULL OR next_attempt <= ?) ORDER BY id",
            [due, due])]

    def last_delivered_email(self, kind: str = "digest") -> EmailRecord | None:
        row = self._one("SELECT * FROM emails WHERE kind = ? AND status IN ('sent', 'written') "
                        "ORDER BY created DESC, id DESC LIMIT 1", [kind])
        return _email(row) if row else None

    def findings_resolved_since(self, since: datetime | str) -> list[Finding]:
        """Findings resolved after `since` (and still resolved), oldest first."""
        return [_finding(r) for r in self.db.query(
            "SELECT f.*, l.sku AS sku, l.url AS url FROM findings f "
            "LEFT JOIN listings l ON l.id = f.listing_id "
            "WHERE f.status = 'resolved' AND f.resolved_at > ? ORDER BY f.resolved_at, f.id",
            [utc_iso(since)])]

    def last_run(self, kind: str) -> Run | None:
        """The run of this kind that started last, whatever became of it."""
        row = self._one("SELECT * FROM runs WHERE kind = ? ORDER BY started DESC, id DESC "
                        "LIMIT 1", [kind])
        return _run(row) if row else None

    def runs_since(self, since: datetime | str) -> list[Run]:
        """Runs whose crawl was recorded (`full` is set with it), started after `since`,
        oldest first: an audit cut short after its crawl still saw what changed."""
        return [_run(r) for r in self.db.query(
            "SELECT * FROM runs WHERE full IS NOT NULL AND started > ? ORDER BY started, id",
            [utc_iso(since)])]
