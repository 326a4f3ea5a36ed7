"""The agency's response times, level by level: how many findings it was owed an answer on,
how many it answered by their answer-by time, how fast, and the worst cases by name.

The contract's ladder (`[escalation]`) says how fast each severity must be answered and
fixed; this is the review's evidence that it was, or was not. Each spell of a finding counts
on its own (a problem that came back had to be answered again), in the period it was raised.
A waived spell is left out: the merchant said it did not count.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from .rules import SEVERITIES, rule_label

HOUR = timedelta(hours=1)


def when(iso: str | None) -> datetime | None:
    return None if iso is None else datetime.fromisoformat(iso)


def answer_by(contract, spell) -> datetime:
    """The spell's answer-by time (as the engine set it; from the ladder for an old row)."""
    return when(spell.deadline) or (when(spell.opened_at)
                                    + contract.escalation.level(spell.severity).answer_within)


def fix_by(contract, spell) -> datetime | None:
    """When the spell had to be fixed by, if its level sets a fix time."""
    return contract.escalation.fix_by(spell.severity, spell.opened_at)


def answered_at(spell) -> datetime | None:
    """When the agency answered: its acknowledgement, or the fix if that came first."""
    if spell.acknowledged_at:
        return when(spell.acknowledged_at)
    return when(spell.resolved_at) if spell.status == "resolved" else None


def waivers(ledger, spells, now: datetime) -> dict[tuple[int, str], str]:
    """(finding id, opened_at) -> the merchant's reason, for every waived spell: waived now, or
    waived before it was resolved (the waive event falls inside the spell)."""
    events: dict[int, list[tuple[datetime, str]]] = {}
    for e in ledger.events():
        if e["action"] == "waive" and e["finding_id"] is not None:
            events.setdefault(e["finding_id"], []).append((when(e["at"]), e["detail"] or ""))
    out = {}
    for s in spells:
        start, end = when(s.opened_at), when(s.resolved_at) or now
        inside = [why for at, why in events.get(s.finding_id, ()) if start <= at <= end]
        if inside or s.status == "waived":
            out[(s.finding_id, s.opened_at)] = inside[-1] if inside else "no reason recorded"
    return out


def spell_name(spell) -> str:
    """"#12 SH-0001 Price under the floor": how a person finds it in the dashboard."""
    sku = f" {spell.sku}" if spell.sku else ""
    return f"#{spell.finding_id}{sku} {rule_label(spell.rule_id)}"


def duration(hours: float) -> str:
    """"9.5 h" under two days, "3 days" (or "2.5 days") from there."""
    if hours < 48:
        return f"{round(hours, 1):g} h"
    return f"{round(hours / 24, 1):g} days"


@dataclass(frozen=True)
class Case:
    """One spell, as the worst cases list names it."""

    finding_id: int
    sku: str | None
    rule_id: str
    severity: str
    opened_at: str
    answer_hours: float | None   # None: still unanswered (or gone unanswered)
    late_hours: float            # how long past its answer-by time (0 if in time)
    text: str


@dataclass(frozen=True)
class LevelTimes:
    severity: str
    answer_text: str             # the ladder's words: "answer within 1 h, fix within 24 h"
    raised: int
    answered: int
    answered_in_time: int
    missed: int                  # not answered, answer-by passed
    waiting: int                 # not answered, answer-by still ahead
    median_answer_hours: float | None
    fixed: int
    fixed_in_time: int | None    # None: the level sets no fix time
    median_fix_hours: float | None
    worst: list[Case]            # up to 3, the latest first

    @property
    def share_in_time(self) -> float | None:
        """Answered in time out of all that fell due (answered late and missed count
        against); None when nothing fell due."""
        due = self.answered + self.missed
        return None if due == 0 else self.answered_in_time / due


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _hours(delta: timedelta) -> float:
    return delta / HOUR


def response_times(contract, ledger, start: datetime, end: datetime, now: datetime, *,
                   spells: list | None = None) -> list[LevelTimes]:
    """The response-time KPI per level (critical, major, minor) for the spells raised in
    [start, end).

    A spell gone with its listing before its answer-by time, unanswered, owed nothing: it
    counts as raised, neither answered, missed nor waiting. `spells`: the ledger's, when the
    caller has read them."""
    spells = [s for s in (ledger.spells() if spells is None else spells)
              if start <= when(s.opened_at) < end]
    waived = waivers(ledger, spells, now)
    spells = [s for s in spells if (s.finding_id, s.opened_at) not in waived]
    return [_level(contract, sev, [s for s in spells if s.severity == sev], now)
            for sev in SEVERITIES]


def _level(contract, severity: str, spells: list, now: datetime) -> LevelTimes:
    level = contract.escalation.level(severity)
    answers, fixes, cases = [], [], []
    answered = in_time = missed = waiting = fixed = fixed_in_time = 0
    for s in spells:
        opened, due, got = when(s.opened_at), answer_by(contract, s), answered_at(s)
        if got is not None:
            answered += 1
            in_time += got <= due
            answers.append(_hours(got - opened))
            if got > due:
                cases.append(_case(s, level, _hours(got - opened), _hours(got - due), opened))
        else:
            ended = when(s.resolved_at) if s.status == "gone" else now
            if due < ended:
                missed += 1
                cases.append(_case(s, level, None, _hours(ended - due), opened, ended))
            elif s.status != "gone":
                waiting += 1
        if s.status == "resolved" and s.resolved_at:
            fixed += 1
            fixes.append(_hours(when(s.resolved_at) - opened))
            limit = fix_by(contract, s)
            fixed_in_time += limit is not None and when(s.resolved_at) <= limit
    # the latest answer or the longest silence first; an unanswered one before an answered
    # one as late
    cases.sort(key=lambda c: (-c.late_hours, c.answer_hours is not None, c.finding_id))
    return LevelTimes(
        severity=severity, answer_text=level.text(), raised=len(spells), answered=answered,
        answered_in_time=in_time, missed=missed, waiting=waiting,
        median_answer_hours=_median(answers), fixed=fixed,
        fixed_in_time=fixed_in_time if level.fix_within is not None else None,
        median_fix_hours=_median(fixes), worst=cases[:3])


def _case(spell, level, answer_hours: float | None, late_hours: float, opened: datetime,
          ended: datetime | None = None) -> Case:
    due = f"(due in {duration(level.answer_within_hours)})"
    if answer_hours is not None:
        said = f"answered after {duration(answer_hours)} {due}"
    else:
        said = f"unanswered for {duration(_hours(ended - opened))} {due}"
    return Case(finding_id=spell.finding_id, sku=spell.sku, rule_id=spell.rule_id,
                severity=spell.severity, opened_at=spell.opened_at, answer_hours=answer_hours,
                late_hours=late_hours, text=f"{spell_name(spell)}: {said}")
