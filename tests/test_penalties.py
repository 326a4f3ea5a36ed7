"""The monthly penalty statement (issue #20): each clause's arithmetic checked against sums
worked out by hand, the days traced to the month they start in (store time), and what does not
count (waived findings, days a discount was approved) listed instead of charged."""

from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from history import History, listing

from audits.clock import ManualClock
from audits.contract import parse_contract
from audits.ledger import Ledger, NewFinding
from audits.penalties import penalty_statement, weekly_quota_weeks
from audits.periods import period_of
from audits.renewal import renewal_conditions
from audits.review.build import weekly_review
from audits.review.render import review_document
from audits.runner import run_crawl
from crawler.crawl import CrawlFailed
from servers import RawLoopback

STORE = timezone(timedelta(hours=8))  # Asia/Shanghai, the contracts' default time zone

HEAD = """
[store]
name = "Shop"
base_url = "http://shop.test"
"""


def store(text: str) -> datetime:
    """"2026-11-10 03:00" in the store's time."""
    return datetime.fromisoformat(text).replace(tzinfo=STORE)


class World:
    """A real ledger on a manual clock, with findings raised, answered and fixed at given
    store times, the way the engine and the people do it."""

    def __init__(self, ledger: Ledger, clock: ManualClock):
        self.ledger, self.clock = ledger, clock
        self.history = History(ledger, clock)
        self.raised: dict[int, tuple] = {}

    def at(self, when: str) -> World:
        self.clock.set(store(when))
        return self

    def crawl(self, *snaps):
        return self.history.night(*snaps, days=0)

    def raise_(self, when: str, sku: str, rule_id: str = "prices.below_floor",
               severity: str = "critical", answer_hours: float = 1) -> int:
        """Raise (or raise again) the finding of `rule_id` on `sku` at `when`."""
        self.at(when)
        run = self.crawl(listing(sku))
        listing_id = next(x.id for x in self.ledger.listings() if x.sku == sku)
        deadline = (store(when) + timedelta(hours=answer_hours)).isoformat()
        update = self.ledger.reconcile_findings(run.id, [NewFinding(
            rule_id, severity, listing_id, "fp", f"{sku} problem", {}, deadline)], set())
        [fid] = update.new + update.reopened + update.still_open
        self.raised[fid] = (rule_id, listing_id)
        return fid

    def fix(self, when: str, fid: int) -> None:
        self.at(when)
        run = self.ledger.start_run("manual")
        update = self.ledger.reconcile_findings(run, [], {self.raised[fid]})
        assert fid in update.resolved

    def ack(self, when: str, fid: int) -> None:
        self.at(when).ledger.acknowledge(fid, "agency")

    def waive(self, when: str, fid: int, reason: str) -> None:
        self.at(when).ledger.waive(fid, "merchant", reason)


@pytest.fixture
def world(tmp_path):
    clock = ManualClock(store("2026-11-01 00:00"))
    with Ledger(tmp_path / "l.db", clock) as led:
        yield World(led, clock)


def contract(penalties: str, extra: str = ""):
    return parse_contract(HEAD + extra + "\n[penalties]\nmonthly_fee = 10000\n" + penalties)


CRITICAL_UNFIXED = contract("[penalties.overdue.critical]\npercent_of_fee = 1\n")


def statement(c, world, month=11, now="2026-12-05 00:00"):
    return penalty_statement(c, world.ledger, 2026, month, store(now))


def clause(st, key):
    [found] = [c for c in st.clauses if c.clause == key]
    return found


def test_a_contract_without_penalties_has_no_statement(world):
    assert penalty_statement(parse_contract(HEAD), world.ledger, 2026, 11,
                             store("2026-11-20 00:00")) is None


def test_each_day_unfixed_costs_its_percent_of_the_fee(world):
    fid = world.raise_("2026-11-10 03:00", "SH-1")       # fix by 11-11 03:00
    world.fix("2026-11-13 10:00", fid)                    # days from 11-11, 11-12, 11-13 03:00
    st = statement(CRITICAL_UNFIXED, world)
    [line] = clause(st, "overdue.critical").lines
    assert line.what == f"#{fid} SH-1 Price under the floor — not fixed by 2026-11-11 03:00"
    assert line.charged == ["2026-11-11", "2026-11-12", "2026-11-13"]
    assert (line.units, line.rate, line.amount) == (3, "1 % of the fee a day", Decimal("300.00"))
    assert clause(st, "overdue.critical").label == "Critical findings left unfixed"
    assert (st.month, st.fee, st.currency, st.total) == ("2026-11", Decimal(10000), "CNY",
                                                         Decimal("300.00"))
    assert st.as_of == store("2026-12-01 00:00")


def test_a_finding_still_open_is_charged_as_far_as_the_last_look_that_saw_it(world):
    """No look since: a day nobody has seen it unfixed on is not charged yet; the next look
    that still sees it charges the days up to it."""
    fid = world.raise_("2026-11-10 03:00", "SH-1")       # fix by 11-11 03:00
    world.raise_("2026-11-12 02:00", "SH-1")             # seen again, unfixed
    [line] = clause(statement(CRITICAL_UNFIXED, world, now="2026-11-20 00:00"),
                    "overdue.critical").lines
    assert (line.finding_id, line.charged) == (fid, ["2026-11-11"])
    world.raise_("2026-11-16 02:00", "SH-1")             # and again, four days later
    [line] = clause(statement(CRITICAL_UNFIXED, world, now="2026-11-20 00:00"),
                    "overdue.critical").lines
    assert line.charged == ["2026-11-11", "2026-11-12", "2026-11-13", "2026-11-14",
                            "2026-11-15"]


def test_fixed_exactly_at_its_fix_by_time_costs_nothing(world):
    fid = world.raise_("2026-11-10 03:00", "SH-1")
    world.fix("2026-11-11 03:00", fid)
    assert clause(statement(CRITICAL_UNFIXED, world), "overdue.critical").lines == []


def test_a_fixed_amount_a_day_and_only_days_already_started(world):
    c = contract('[penalties.overdue.major]\nlate = "unanswered"\namount = 500\n')
    fid = world.raise_("2026-11-10 03:00", "SH-2", "prices.unapproved_discount", "major", 4)
    # answer by 11-10 07:00, never answered: days start 11-10, 11-11, 11-12 at 07:00
    st = statement(c, world, now="2026-11-12 08:00")
    [line] = clause(st, "overdue.major").lines
    assert (line.finding_id, line.units, line.rate, line.amount) == (
        fid, 3, "¥500.00 a day", Decimal("1500.00"))
    assert line.what.endswith("— not answered by 2026-11-10 07:00")
    assert st.as_of == store("2026-11-12 08:00")
    assert clause(statement(c, world, now="2026-11-12 06:59"),
                  "overdue.major").lines[0].units == 2


def test_unanswered_and_unfixed_clauses_count_different_days_of_the_same_spell(world):
    fid = world.raise_("2026-11-10 03:00", "SH-1")  # answer by 04:00, fix by 11-11 03:00
    world.ack("2026-11-10 05:30", fid)               # 1.5 h late: one day started
    world.fix("2026-11-12 05:00", fid)               # days from 11-11 and 11-12 03:00
    unanswered = contract('[penalties.overdue.critical]\nlate = "unanswered"\n'
                          'percent_of_fee = 1\n')
    [late_answer] = clause(statement(unanswered, world), "overdue.critical").lines
    assert (late_answer.charged, late_answer.amount) == (["2026-11-10"], Decimal("100.00"))
    [late_fix] = clause(statement(CRITICAL_UNFIXED, world), "overdue.critical").lines
    assert (late_fix.charged, late_fix.amount) == (["2026-11-11", "2026-11-12"],
                                                   Decimal("200.00"))


def test_days_are_charged_to_the_month_they_start_in_store_time(world):
    # raised 11-29 04:00 (11-28 20:00 UTC); fix by 11-30 04:00; the second day starts
    # 12-01 04:00 in the store, still 11-30 in UTC: December's.
    fid = world.raise_("2026-11-29 04:00", "SH-1")
    world.fix("2026-12-03 05:00", fid)
    nov = statement(CRITICAL_UNFIXED, world, 11, now="2026-12-10 00:00")
    dec = statement(CRITICAL_UNFIXED, world, 12, now="2026-12-10 00:00")
    assert clause(nov, "overdue.critical").lines[0].charged == ["2026-11-30"]
    assert nov.total == Decimal("100.00")
    assert clause(dec, "overdue.critical").lines[0].charged == [
        "2026-12-01", "2026-12-02", "2026-12-03"]
    assert dec.total == Decimal("300.00")


def test_a_clause_cap_is_the_lower_of_its_amount_and_its_share_of_the_fee(world):
    c = contract('[penalties.overdue.major]\nlate = "unanswered"\namount = 500\n'
                 'max_amount = 1200\nmax_percent_of_fee = 10\n')
    world.raise_("2026-11-10 03:00", "SH-2", "prices.unapproved_discount", "major", 4)
    major = clause(statement(c, world, now="2026-11-12 08:00"), "overdue.major")
    assert (major.subtotal, major.cap, major.charged) == (
        Decimal("1500.00"), Decimal("1000.00"), Decimal("1000.00"))


def test_the_month_cap_limits_all_clauses_together(world):
    c = contract('max_percent_of_fee = 15\n[penalties.overdue.critical]\npercent_of_fee = 1\n'
                 '[penalties.overdue.major]\nlate = "unanswered"\namount = 500\n')
    first = world.raise_("2026-11-10 03:00", "SH-1")
    world.raise_("2026-11-10 03:00", "SH-2", "prices.unapproved_discount", "major", 4)
    world.fix("2026-11-13 10:00", first)  # 3 days × 100
    st = statement(c, world, now="2026-11-12 08:00")  # critical: 2 days so far; major: 3
    assert [x.charged for x in st.clauses] == [Decimal("200.00"), Decimal("1500.00")]
    assert (st.subtotal, st.cap, st.total) == (Decimal("1700.00"), Decimal("1500.00"),
                                               Decimal("1500.00"))


def test_a_waived_finding_costs_nothing_and_says_why(world):
    fid = world.raise_("2026-11-10 03:00", "SH-1")
    world.waive("2026-11-10 04:00", fid, "clearance agreed by phone")
    world.raise_("2026-11-14 03:00", "SH-1")   # still there four days on: waived all the same
    st = statement(CRITICAL_UNFIXED, world)
    assert st.total == Decimal(0) and clause(st, "overdue.critical").lines == []
    assert st.excluded == [f"#{fid} waived by the merchant: clearance agreed by phone"]


def test_days_a_discount_was_approved_cost_nothing_on_price_findings_only(world):
    price = world.raise_("2026-11-10 03:00", "SH-1")  # fix by 11-11 03:00
    stock = world.raise_("2026-11-10 03:00", "SH-1", "stock.promoted_out_of_stock")
    world.at("2026-11-11 12:00").ledger.add_approval(
        "SH-1", valid_until=store("2026-11-12 23:59"), max_discount=Decimal("0.4"))
    world.fix("2026-11-13 10:00", price)
    world.fix("2026-11-13 10:00", stock)
    lines = {x.finding_id: x for x in clause(statement(CRITICAL_UNFIXED, world),
                                            "overdue.critical").lines}
    assert lines[price].charged == ["2026-11-11", "2026-11-13"]  # approved only from 12:00
    assert lines[price].amount == Decimal("200.00")
    assert lines[stock].charged == ["2026-11-11", "2026-11-12", "2026-11-13"]
    assert statement(CRITICAL_UNFIXED, world).excluded == [
        f"#{price} 2026-11-12: discount approved (approval #1, until 2026-11-12 23:59)"]


def test_a_reopened_finding_is_charged_for_each_spell(world):
    fid = world.raise_("2026-11-10 03:00", "SH-1")
    world.fix("2026-11-11 05:00", fid)                   # late from 11-11 03:00: 1 day
    assert world.raise_("2026-11-15 03:00", "SH-1") == fid
    world.fix("2026-11-16 04:00", fid)                   # late from 11-16 03:00: 1 day
    lines = clause(statement(CRITICAL_UNFIXED, world), "overdue.critical").lines
    assert [(x.finding_id, x.charged) for x in lines] == [
        (fid, ["2026-11-11"]), (fid, ["2026-11-16"])]
    assert statement(CRITICAL_UNFIXED, world).total == Decimal("200.00")


def test_a_spell_waived_before_it_was_fixed_stays_free_after_the_problem_returns(world):
    fid = world.raise_("2026-11-10 03:00", "SH-1")
    world.waive("2026-11-10 04:00", fid, "agreed")
    world.fix("2026-11-12 04:00", fid)                     # waived, then no longer seen
    world.raise_("2026-11-15 03:00", "SH-1")               # back, not waived this time
    world.fix("2026-11-16 04:00", fid)
    st = statement(CRITICAL_UNFIXED, world)
    assert [x.charged for x in clause(st, "overdue.critical").lines] == [["2026-11-16"]]
    assert st.excluded == [f"#{fid} waived by the merchant: agreed"]


# --- the weekly title quota -----------------------------------------------------------------

QUOTA = contract("[penalties.title_quota]\npercent_of_fee = 10\n",
                 "[rules.titles.weekly_quota]\nper_week = 12\nscale_to_store = false\n")
SKUS = [f"SH-{i:02d}" for i in range(1, 16)]


def quota_world(world, changed: int):
    """Watched from Sunday 11-08; `changed` titles changed in the week of 11-09; none in the
    week of 11-16."""
    world.at("2026-11-08 10:00").crawl(*(listing(s, title=f"Old {s}") for s in SKUS))
    titles = [f"New {s}" if i < changed else f"Old {s}" for i, s in enumerate(SKUS)]
    world.at("2026-11-10 10:00").crawl(*(listing(s, title=t) for s, t in zip(SKUS, titles)))
    for day in range(11, 31):   # the nightly looks on: a week is judged when it was looked at
        world.at(f"2026-11-{day:02d} 02:00").crawl(*(listing(s, title=t)
                                                     for s, t in zip(SKUS, titles)))
    return world


def test_a_week_nobody_looked_at_by_its_end_is_not_judged(world):
    """The scheduler stopped: no crawl in the week's last two days is not "nothing changed"."""
    world.at("2026-11-08 10:00").crawl(*(listing(s, title=f"Old {s}") for s in SKUS))
    world.at("2026-11-12 02:00").crawl(*(listing(s, title=f"Old {s}") for s in SKUS))
    (week,) = weekly_quota_weeks(QUOTA, world.ledger, store("2026-11-15 00:00"),
                                 store("2026-11-16 00:00"), store("2026-11-20 00:00"))
    assert week.finished and not week.judged
    st = statement(QUOTA, world, now="2026-11-20 00:00")
    assert clause(st, "title_quota").lines == []


def test_a_store_that_cannot_be_read_at_the_weeks_end_is_judged_on_what_was_seen(world):
    """The agency makes the store refuse storeaudit's nightly audits on the week's last two
    days (every page answers 403): that is no way out of the quota. A week whose audits did
    not run (storeaudit's own failure) is still not judged."""
    world.at("2026-11-08 10:00").crawl(*(listing(s, title=f"Old {s}") for s in SKUS))
    world.at("2026-11-12 02:00").crawl(*(listing(s, title=f"New {s}" if s in SKUS[:3]
                                               else f"Old {s}") for s in SKUS))
    refusing = RawLoopback(lambda head: b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    shop = QUOTA.with_base_url(refusing.url)
    try:
        for night in ("2026-11-14 02:00", "2026-11-15 02:00"):
            world.at(night)
            with pytest.raises(CrawlFailed):
                run_crawl(shop, world.ledger, kind="nightly")
    finally:
        refusing.close()
    (week,) = weekly_quota_weeks(QUOTA, world.ledger, store("2026-11-15 00:00"),
                                 store("2026-11-16 00:00"), store("2026-11-20 00:00"))
    assert week.judged and week.changed == 3
    [line] = clause(statement(QUOTA, world, now="2026-11-20 00:00"), "title_quota").lines
    assert line.what == ("Week 2026-11-09 – 2026-11-15: 3 of 12 titles changed (75 % short; "
                         "judged on what was seen: the store could not be read in its last two "
                         "days (2 audits, the last at 2026-11-15 02:00))")
    assert line.units == 7
    next_week = period_of("week", store("2026-11-18 00:00"))   # shows the week before too
    weekly = review_document(weekly_review(QUOTA, world.ledger, next_week,
                                           now=store("2026-11-20 00:00")))
    assert "yes, judged on what was seen: the store could not be read" in html.unescape(weekly)

    # The same week, but the audits failed on storeaudit's side: not judged.
    world.ledger.db.execute("UPDATE runs SET error = 'BrowserNotFound: no Chromium' "
                            "WHERE status = 'failed'")
    (week,) = weekly_quota_weeks(QUOTA, world.ledger, store("2026-11-15 00:00"),
                                 store("2026-11-16 00:00"), store("2026-11-20 00:00"))
    assert not week.judged and week.not_judged_because == "no whole-store crawl in its last two days"


def test_each_whole_step_short_of_the_quota_costs_its_share(world):
    quota_world(world, 5)  # 12 asked, 5 changed: 58.3 % short, 5 steps of 10 %
    st = statement(QUOTA, world, now="2026-11-20 00:00")
    quota = clause(st, "title_quota")
    [line] = quota.lines
    assert line.what == "Week 2026-11-09 – 2026-11-15: 5 of 12 titles changed (58.3 % short)"
    assert (line.charged, line.units, line.rate, line.amount) == (
        ["week of 2026-11-09"], 5, "10 % of the fee per 10 % short", Decimal("5000.00"))
    assert quota.label == "Weekly title quota" and st.total == Decimal("5000.00")
    # before the first full crawl's day, and the week under way: neither charged
    assert "week of 2026-11-02: not judged (storeaudit was not watching the store from its " \
           "first day)" in st.excluded
    assert "week of 2026-11-16: not over yet" in st.excluded


def test_an_unfinished_week_is_charged_once_it_is_over(world):
    quota_world(world, 12)  # the week of 11-09 met; the week of 11-16 changes nothing
    assert clause(statement(QUOTA, world, now="2026-11-22 23:59"), "title_quota").lines == []
    [line] = clause(statement(QUOTA, world, now="2026-11-23 00:00"), "title_quota").lines
    assert (line.charged, line.units, line.amount) == (["week of 2026-11-16"], 10,
                                                       Decimal("10000.00"))


def test_a_week_belongs_to_the_month_of_its_sunday(world):
    quota_world(world, 5)
    weeks = weekly_quota_weeks(QUOTA, world.ledger, store("2026-11-01 00:00"),
                               store("2026-12-01 00:00"), store("2026-12-10 00:00"))
    assert [w.label for w in weeks] == [
        "2026-10-26 – 2026-11-01", "2026-11-02 – 2026-11-08", "2026-11-09 – 2026-11-15",
        "2026-11-16 – 2026-11-22", "2026-11-23 – 2026-11-29"]
    assert [(w.judged, w.finished, w.changed, w.quota) for w in weeks[1:3]] == [
        (False, True, 0, 12), (True, True, 5, 12)]
    assert weeks[2].short_percent == Decimal("58.3")


def test_months_under_the_quota_in_a_row_let_the_merchant_end_the_contract(world):
    quota_world(world, 5)
    c = parse_contract(HEAD + "[rules.titles.weekly_quota]\nper_week = 12\n"
                       "scale_to_store = false\n[review]\nend_after_months_under_quota = 1\n"
                       "suspend_after_days_unanswered = 0\n")
    [end] = renewal_conditions(c, world.ledger, 2026, 11, store("2026-12-01 00:00"))
    assert end.clause == ("1 month in a row under the title quota: the merchant may end the "
                          "contract without liability")
    assert end.met and end.detail == "2026-11: under (5 of 36 titles over 3 weeks)"
    two = c.model_copy(update={"review": c.review.model_copy(
        update={"end_after_months_under_quota": 2})})
    [end] = renewal_conditions(two, world.ledger, 2026, 11, store("2026-12-01 00:00"))
    assert not end.met and end.detail.startswith("2026-10: no judged week yet; 2026-11: under")


def test_a_finding_left_unanswered_for_days_lets_the_merchant_suspend_payment(world):
    c = parse_contract(HEAD + "[review]\nend_after_months_under_quota = 0\n"
                              "suspend_after_days_unanswered = 3\n")
    quick = world.raise_("2026-11-10 03:00", "SH-1")
    world.ack("2026-11-12 03:00", quick)                          # 2 days
    slow = world.raise_("2026-11-14 03:00", "SH-2")               # never answered
    [suspend] = renewal_conditions(c, world.ledger, 2026, 11, store("2026-11-17 02:00"))
    assert not suspend.met and suspend.detail == "every finding was answered within 3 days"
    [suspend] = renewal_conditions(c, world.ledger, 2026, 11, store("2026-11-18 03:00"))
    assert suspend.clause == "no response for 3 days: the merchant may suspend payment"
    assert suspend.met and suspend.detail == (
        f"#{slow} SH-2 Price under the floor: raised 2026-11-14 03:00, unanswered for 4 days")
