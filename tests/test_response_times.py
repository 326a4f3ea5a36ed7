"""The agency's response times per level (issue #20): answered in time, late, missed and
waiting counted from the ledger's spells, the medians, and the worst cases named in order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from history import History, listing, not_there

from audits.clock import ManualClock
from audits.contract import parse_contract
from audits.ledger import Ledger, NewFinding
from audits.response_times import response_times

STORE = timezone(timedelta(hours=8))  # Asia/Shanghai, the contract's default time zone

# The default ladder: critical answer within 1 h, fix within 24 h; major "a plan" within 4 h;
# minor answer within 2 h.
CONTRACT = parse_contract("""
[store]
name = "Shop"
base_url = "http://shop.test"
""")
NOVEMBER = (datetime(2026, 11, 1, tzinfo=STORE), datetime(2026, 12, 1, tzinfo=STORE))


def store(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STORE)


class World:
    """Findings raised, answered and fixed at given store times through a real ledger."""

    def __init__(self, ledger: Ledger, clock: ManualClock):
        self.ledger, self.clock, self.history = ledger, clock, History(ledger, clock)
        self.raised: dict[int, tuple] = {}

    def at(self, when: str) -> World:
        self.clock.set(store(when))
        return self

    def raise_(self, when: str, sku: str, rule_id: str = "prices.below_floor",
               severity: str = "critical") -> int:
        self.at(when)
        run = self.history.night(listing(sku), days=0)
        listing_id = next(x.id for x in self.ledger.listings() if x.sku == sku)
        due = store(when) + CONTRACT.escalation.level(severity).answer_within
        update = self.ledger.reconcile_findings(run.id, [NewFinding(
            rule_id, severity, listing_id, "fp", f"{sku} problem", {}, due.isoformat())], set())
        [fid] = update.new + update.reopened + update.still_open
        self.raised[fid] = (rule_id, listing_id)
        return fid

    def fix(self, when: str, fid: int) -> None:
        run = self.at(when).ledger.start_run("manual")
        assert fid in self.ledger.reconcile_findings(run, [], {self.raised[fid]}).resolved

    def ack(self, when: str, fid: int) -> None:
        self.at(when).ledger.acknowledge(fid, "agency")


@pytest.fixture
def world(tmp_path):
    clock = ManualClock(store("2026-10-01 00:00"))
    with Ledger(tmp_path / "l.db", clock) as led:
        yield World(led, clock)


@pytest.fixture
def november(world):
    """A month of critical findings, one of each kind, and one major answered in time."""
    w, ids = world, {}
    ids["before"] = w.raise_("2026-10-31 10:00", "SH-0")     # October's, unanswered
    ids["quick"] = w.raise_("2026-11-10 03:00", "SH-1")
    w.ack("2026-11-10 03:30", ids["quick"])                    # 0.5 h: in time
    w.fix("2026-11-10 20:00", ids["quick"])                    # 17 h: fixed in time
    ids["late"] = w.raise_("2026-11-11 03:00", "SH-2")
    w.ack("2026-11-11 12:30", ids["late"])                     # 9.5 h: 8.5 h late
    ids["fixed_first"] = w.raise_("2026-11-12 03:00", "SH-3")
    w.fix("2026-11-13 05:00", ids["fixed_first"])              # answered by the fix: 26 h
    ids["waived"] = w.raise_("2026-11-14 03:00", "SH-6")
    w.at("2026-11-14 05:00").ledger.waive(ids["waived"], "merchant", "agreed")
    ids["plan"] = w.raise_("2026-11-15 08:00", "SH-7", "prices.unapproved_discount", "major")
    w.ack("2026-11-15 10:00", ids["plan"])                     # 2 h of 4: in time
    ids["silent"] = w.raise_("2026-11-17 12:00", "SH-4")       # never answered
    ids["new"] = w.raise_("2026-11-20 11:30", "SH-5")          # answer by 12:30
    return ids


def kpi(world, now="2026-11-20 12:00"):
    return {x.severity: x for x in response_times(CONTRACT, world.ledger, *NOVEMBER,
                                                  store(now))}


def test_the_levels_come_in_ladder_order_with_the_ladders_words(world, november):
    levels = response_times(CONTRACT, world.ledger, *NOVEMBER, store("2026-11-20 12:00"))
    assert [(x.severity, x.answer_text) for x in levels] == [
        ("critical", "answer within 1 h, fix within 24 h"), ("major", "a plan within 4 h"),
        ("minor", "answer within 2 h")]


def test_in_time_late_missed_and_waiting_are_counted_per_level(world, november):
    critical = kpi(world)["critical"]
    # raised in November, the waived one left out: quick, late, fixed_first, silent, new
    assert (critical.raised, critical.answered, critical.answered_in_time, critical.missed,
            critical.waiting) == (5, 3, 1, 1, 1)
    assert critical.share_in_time == pytest.approx(1 / 4)  # late ones and missed count against
    major = kpi(world)["major"]
    assert (major.raised, major.answered_in_time, major.share_in_time) == (1, 1, 1.0)
    assert major.fixed_in_time is None  # the major rung sets no fix time
    minor = kpi(world)["minor"]
    assert (minor.raised, minor.share_in_time, minor.median_answer_hours) == (0, None, None)


def test_a_waiting_finding_is_missed_once_its_answer_by_time_passes(world, november):
    critical = kpi(world, "2026-11-20 12:31")["critical"]
    assert (critical.missed, critical.waiting) == (2, 0)


def test_the_medians_of_answer_and_fix_times(world, november):
    critical = kpi(world)["critical"]
    assert critical.median_answer_hours == pytest.approx(9.5)   # of 0.5, 9.5, 26
    assert (critical.fixed, critical.fixed_in_time) == (2, 1)  # 17 h in time, 26 h not
    assert critical.median_fix_hours == pytest.approx(21.5)     # of 17, 26


def test_the_worst_cases_longest_silence_and_latest_answer_first(world, november):
    worst = kpi(world)["critical"].worst
    assert [c.finding_id for c in worst] == [november["silent"], november["fixed_first"],
                                             november["late"]]
    assert [c.text for c in worst] == [
        f"#{november['silent']} SH-4 Price under the floor: unanswered for 3 days (due in 1 h)",
        (f"#{november['fixed_first']} SH-3 Price under the floor: answered after 26 h "
         "(due in 1 h)"),
        f"#{november['late']} SH-2 Price under the floor: answered after 9.5 h (due in 1 h)"]
    assert [c.late_hours for c in worst] == pytest.approx([71, 25, 8.5])
    assert worst[0].answer_hours is None and worst[2].answer_hours == pytest.approx(9.5)


def test_a_spell_counts_in_the_period_it_was_raised(world, november):
    october = response_times(CONTRACT, world.ledger, datetime(2026, 10, 1, tzinfo=STORE),
                             NOVEMBER[0], store("2026-11-20 12:00"))[0]
    assert (october.raised, october.missed) == (1, 1)
    assert october.worst[0].finding_id == november["before"]


def test_a_reopened_finding_is_answered_again(world):
    fid = world.raise_("2026-11-10 03:00", "SH-1")
    world.ack("2026-11-10 03:30", fid)
    world.fix("2026-11-10 08:00", fid)
    assert world.raise_("2026-11-12 03:00", "SH-1") == fid  # back: owed an answer again
    critical = kpi(world, "2026-11-13 03:00")["critical"]
    assert (critical.raised, critical.answered_in_time, critical.missed) == (2, 1, 1)
    assert critical.worst[0].text == (
        f"#{fid} SH-1 Price under the floor: unanswered for 24 h (due in 1 h)")


def test_a_finding_gone_with_its_listing_before_its_answer_by_time_owed_nothing(world):
    fid = world.raise_("2026-11-10 03:00", "SH-1")
    world.at("2026-11-10 03:10").history.night(not_there("SH-1"), days=0)
    run = world.at("2026-11-10 03:20").history.night(not_there("SH-1"), days=0)  # twice: gone
    listing_id = world.raised[fid][1]
    update = world.ledger.reconcile_findings(run.id, [], set(), gone_listings=[listing_id])
    assert update.gone == [fid]
    critical = kpi(world)["critical"]
    assert (critical.raised, critical.answered, critical.missed, critical.waiting,
            critical.fixed) == (1, 0, 0, 0, 0)
