"""The sample agency's people in the demo's replay: when they answer the findings the audits
raise, and the clock moving through each simulated day with the escalation ladder watching.

The sample store's scenario (demostore/scenario.py) is what the agency does to the store; this
is how fast it answers for it, so that the response times, the escalations and the penalty
statement have something real to measure. Fixed, so the replay is the same every time:

* critical findings: acknowledged 40 minutes after the audit raised them (in time: 1 h),
  except an infringing image, which nobody answers (it goes up the ladder, and past its fix-by
  time the merchant is told);
* major findings: answered at 10:30 the same morning (late: a plan within 4 h), except an
  unapproved discount, answered within 3 h;
* minor findings: answered 90 minutes after (in time: 2 h) on weekdays; raised on a weekend
  night, on Monday at 10:00 (late).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from audits.clock import ManualClock
from audits.contract import Contract
from audits.ledger import FindingError, Ledger
from audits.notify import tick_notifiers

AGENCY = "Demo agency (sample)"
SWEEP = timedelta(minutes=15)   # how often the scheduler's tick would look, in the replay
NEVER_ANSWERED = {"images.infringing"}
ANSWERED_QUICKLY = {"prices.unapproved_discount": timedelta(hours=3)}


def answer_time(rule_id: str, severity: str, raised: datetime) -> datetime | None:
    """When the sample agency acknowledges a finding raised at `raised` (store time)."""
    if rule_id in NEVER_ANSWERED:
        return None
    if rule_id in ANSWERED_QUICKLY:
        return raised + ANSWERED_QUICKLY[rule_id]
    if severity == "critical":
        return raised + timedelta(minutes=40)
    if severity == "major":
        morning = raised.replace(hour=10, minute=30, second=0, microsecond=0)
        return morning if morning > raised else morning + timedelta(days=1)
    if raised.weekday() >= 5:   # Saturday or Sunday night: Monday morning
        monday = raised + timedelta(days=7 - raised.weekday())
        return monday.replace(hour=10, minute=0, second=0, microsecond=0)
    return raised + timedelta(minutes=90)


class AgencyDesk:
    """The agency's queue of answers, played as the replay's clock moves."""

    def __init__(self, contract: Contract, ledger: Ledger, clock: ManualClock):
        self.contract, self.ledger, self.clock = contract, ledger, clock
        self.queue: list[tuple[datetime, int]] = []

    def raised(self, finding_ids: list[int]) -> None:
        """Findings an audit just raised: each gets its answer time (or none)."""
        now = self.clock.now()
        for f in self.ledger.findings(ids=finding_ids):
            at = answer_time(f.rule_id, f.severity, now)
            if at is not None:
                self.queue.append((at, f.id))
        self.queue.sort()

    def until(self, when: datetime, on_answer: Callable[[int, datetime], None] = lambda *a: None
              ) -> None:
        """Move the clock to `when`, answering what falls due and letting the escalation
        ladder look every SWEEP on the way, as the scheduler's tick would."""
        t = self.clock.now()
        while t < when:
            t = min(t + SWEEP, when)
            while self.queue and self.queue[0][0] <= t:
                at, finding_id = self.queue.pop(0)
                self.clock.set(at)
                try:
                    self.ledger.acknowledge(finding_id, AGENCY, "on it (sample agency)")
                    on_answer(finding_id, at)
                except FindingError:
                    pass   # fixed, gone or waived before anyone answered: nothing to do
            self.clock.set(t)
            tick_notifiers(self.contract, self.ledger, t)
