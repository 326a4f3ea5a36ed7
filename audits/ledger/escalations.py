"""Escalations: each time a finding's lateness was told, so it is told once per spell.

A finding past its answer-by time without an acknowledgement is told again, one level up; a
finding past its fix-by time is told to the merchant. Which findings are due either is asked
here; what to tell whom is audits/notify/escalation.py's.
"""

from __future__ import annotations

import json
from datetime import datetime

from .base import LedgerBase, utc_iso
from .findings import FINDINGS_SELECT
from .records import Finding, finding_of_row

ESCALATION_STEPS = ("unanswered", "unfixed")

_NOT_TOLD = """NOT EXISTS (SELECT 1 FROM escalations e WHERE e.finding_id = f.id
               AND e.step = :step AND e.opened_at = COALESCE(f.opened_at, f.first_seen))"""


class EscalationRecords(LedgerBase):
    def unanswered_past(self, now: datetime) -> list[Finding]:
        """Open findings (not acknowledged, waived or fixed) whose answer-by time has passed
        by `now`, not yet told as such in their spell; oldest deadline first."""
        return [finding_of_row(r) for r in self.db.query(
            f"""{FINDINGS_SELECT}
                WHERE f.status = 'open' AND f.deadline IS NOT NULL AND f.deadline <= :now
                AND {_NOT_TOLD} ORDER BY f.deadline, f.id""",
            {"now": utc_iso(now), "step": "unanswered"})]

    def unfixed_opened_by(self, severity: str, opened_by: datetime) -> list[Finding]:
        """Open or acknowledged findings of `severity` raised at or before `opened_by` (so past
        their fix-by time), not yet told as unfixed in their spell."""
        return [finding_of_row(r) for r in self.db.query(
            f"""{FINDINGS_SELECT}
                WHERE f.status IN ('open', 'acknowledged') AND f.severity = :severity
                AND COALESCE(f.opened_at, f.first_seen) <= :by AND {_NOT_TOLD}
                ORDER BY COALESCE(f.opened_at, f.first_seen), f.id""",
            {"severity": severity, "by": utc_iso(opened_by), "step": "unfixed"})]

    def claim_escalation(self, finding: Finding, step: str, told_level: str) -> bool:
        """Write down that `finding`'s lateness (`step`) is being told, to `told_level`'s
        contacts, before anything is sent. False: it was told already in this spell (by this
        process or another): tell nothing."""
        if step not in ESCALATION_STEPS:
            raise ValueError(f"an escalation step is one of {ESCALATION_STEPS}, not {step!r}")
        with self._writing(f"the escalation of finding #{finding.id}"):
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO escalations (finding_id, step, opened_at, severity, "
                "told_level, at, deliveries) VALUES (?, ?, ?, ?, ?, ?, '[]')",
                [finding.id, step, finding.opened, finding.severity, told_level, self._now()])
        return cursor.rowcount == 1

    def note_escalation_deliveries(self, finding: Finding, step: str,
                                   delivery_ids: list[int]) -> None:
        """The deliveries that carry a claimed escalation."""
        with self._writing(f"the escalation of finding #{finding.id}"):
            self.db.execute("UPDATE escalations SET deliveries = ? WHERE finding_id = ? AND "
                            "step = ? AND opened_at = ?",
                            [json.dumps(delivery_ids), finding.id, step, finding.opened])

    def escalations(self, finding_id: int | None = None) -> list[dict]:
        """What was told of findings' lateness, oldest first."""
        return [{**r, "deliveries": json.loads(r["deliveries"] or "[]")} for r in self.db.query(
            "SELECT * FROM escalations WHERE (:id IS NULL OR finding_id = :id) ORDER BY id",
            {"id": finding_id})]
