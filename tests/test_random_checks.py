"""Random checks: a few listings audited at times nobody can guess, so that a price dropped
under the floor in the afternoon and put back before the nightly is seen, with both looks."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import pytest

from audits.clock import ManualClock
from audits.contract import ContractError, ScheduleSettings, parse_contract
from audits.ledger import Ledger
from audits.random_checks import (SECRET_NAME, check_times, choose_listings, describe,
                                  random_check_due)
from demostore import scenario
from history import History, listing
from test_scheduler import SHANGHAI, Audits, at, contract, db, scheduler  # noqa: F401 (db: a fixture)


def schedule(**kw) -> ScheduleSettings:
    return ScheduleSettings(**{"random_checks": 3, **kw})


def test_the_days_times_fall_within_store_hours_and_differ_from_day_to_day():
    days = [date(2026, 11, 9) + timedelta(days=d) for d in range(60)]
    drawn = [check_times("secret A", d, schedule(), SHANGHAI) for d in days]
    for d, times in zip(days, drawn):
        assert len(times) == 3 and len(set(times)) == 3 and times == sorted(times)
        assert all(t.date() == d and 9 <= t.hour < 22 for t in times)
    # Spread over the whole span, not bunched: every hour of the day's span is drawn.
    assert {t.hour for times in drawn for t in times} == set(range(9, 22))
    assert len({tuple(t.time() for t in times) for times in drawn}) == 60


def test_the_times_are_the_same_after_a_restart_and_another_secret_draws_others():
    day = date(2026, 11, 20)
    assert check_times("secret A", day, schedule(), SHANGHAI) == \
        check_times("secret A", day, schedule(), SHANGHAI)
    assert check_times("secret A", day, schedule(), SHANGHAI) != \
        check_times("secret B", day, schedule(), SHANGHAI)
    assert check_times("secret A", day, schedule(random_checks=0), SHANGHAI) == []
    narrow = check_times("secret A", day, schedule(store_hours="14:00-14:02"), SHANGHAI)
    assert [t.strftime("%H:%M") for t in narrow] == ["14:00", "14:01"]  # no more than fit


@pytest.mark.parametrize("hours", ["22:00-09:00", "9-17", "09:00", "09:00-24:00"])
def test_store_hours_that_are_not_a_span_of_one_day_are_refused(tmp_path, hours):
    with pytest.raises(ContractError, match="store_hours"):
        contract(tmp_path, f'random_checks = 2\nstore_hours = "{hours}"')


def test_the_ledger_keeps_its_own_secret_and_the_schedule_never_shows_the_times(tmp_path):
    c = contract(tmp_path, "random_checks = 2")
    with Ledger(tmp_path / "a.db") as a, Ledger(tmp_path / "b.db") as b:
        first = a.secret(SECRET_NAME)
        assert len(first) == 64 and a.secret(SECRET_NAME) == first != b.secret(SECRET_NAME)
        from audits.scheduler import next_runs
        assert [r["kind"] for r in next_runs(c, at(20, 1), a)] == ["nightly"]
    assert describe(c.schedule) == ("2 random checks a day between 09:00 and 22:00, 10 "
                                    "listings each, at times drawn from this ledger's secret "
                                    "(not shown)")


def test_the_scheduler_runs_each_random_check_once_at_its_drawn_time(tmp_path, db):
    c = contract(tmp_path, "random_checks = 2")
    clock = ManualClock(at(19, 1, 0))
    audits = Audits(clock)
    with Ledger(db, clock) as ledger:
        times = check_times(ledger.secret(SECRET_NAME), date(2026, 11, 19), c.schedule, SHANGHAI)
        clock.set(times[0] + timedelta(minutes=1))
        assert random_check_due(c, ledger, clock.now()) is None  # nothing known yet
    clock.set(at(19, 2, 0))
    s = scheduler(c, db, clock, audits)
    assert s.tick()[0] == "nightly audit: run 1"
    clock.set(times[0] - timedelta(minutes=1))
    assert s.tick() == []
    clock.set(times[0] + timedelta(minutes=1))
    assert s.tick() == ["random check audit: run 2"]
    assert s.tick() == []  # once
    # Restarted: the ledger says it ran; the second comes at its own time.
    s = scheduler(c, db, clock, audits)
    assert s.tick() == []
    clock.set(times[1])
    assert s.tick() == ["random check audit: run 3"]
    assert [k for k, _ in audits.calls] == ["nightly", "random", "random"]
    assert [when for _, when in audits.calls[1:]] == [times[0] + timedelta(minutes=1), times[1]]


def test_a_random_check_missed_by_more_than_an_hour_is_not_run_late(tmp_path, db):
    c = contract(tmp_path, "random_checks = 1")
    clock = ManualClock(at(19, 2, 0))
    audits = Audits(clock)
    s = scheduler(c, db, clock, audits)
    s.tick()
    with Ledger(db, clock) as ledger:
        (when,) = check_times(ledger.secret(SECRET_NAME), date(2026, 11, 19), c.schedule,
                              SHANGHAI)
    clock.set(when + timedelta(minutes=61))
    assert s.tick() == []


def test_promoted_and_recently_changed_listings_are_drawn_more_often(tmp_path):
    c = parse_contract('[store]\nname = "S"\nbase_url = "http://shop.test"\n'
                       'timezone = "Asia/Shanghai"\n')
    clock = ManualClock(at(1, 2))
    with Ledger(tmp_path / "l.db", clock) as ledger:
        history = History(ledger, clock)
        plain = [listing(f"P{i}", price="100") for i in range(20)]
        history.night(listing("PROMO", price="100", promoted=True), *plain, days=0)
        history.night(listing("PROMO", price="100", promoted=True), *plain,
                      listing("CHANGED", price="100"), days=1)
        history.night(listing("PROMO", price="100", promoted=True), *plain,
                      listing("CHANGED", price="90"), days=1)
        rng = random.Random(7)
        drawn = Counter(url.rsplit("/", 1)[-1] for _ in range(2000)
                        for url in choose_listings(ledger, c, 3, rng, clock.now()))
    plain_rate = sum(drawn[f"p{i}"] for i in range(20)) / 20
    assert drawn["promo"] > 2.5 * plain_rate and drawn["changed"] > 2.5 * plain_rate
    assert all(drawn[f"p{i}"] > 0 for i in range(20))  # every listing can be drawn


@pytest.mark.e2e
def test_a_price_dropped_in_the_afternoon_is_caught_by_a_random_check_with_both_looks(
        demo_fortnight):
    """The sample store's day 11: the promoted jacket sells at ¥149 from 12:00 to 23:00 and is
    back at ¥299 before the 02:00 nightly. The demo's replay (its fixed secret) checks at 20:39."""
    tmp_path = demo_fortnight
    ledger = Ledger(tmp_path / "demo.db")
    try:
        runs = {r.id: r for r in ledger.runs(limit=200)}
        # Raised on day 2, resolved on day 8, and reopened by the random check of day 11.
        (floor,) = ledger.findings(rule_id="prices.below_floor", sku=scenario.JACKET_SKU)
        assert runs[floor.run_id].kind == "random"
        assert floor.last_seen.startswith("2026-11-20T12:39")  # 20:39 Shanghai
        assert floor.status == "resolved"
        seen = floor.evidence
        assert [(c["field"], c["before"], c["after"]) for c in seen["changed"]] == \
            [("price", "299.00", "149.00")]
        assert seen["resolved_by"]["price"] == "299.00"
        assert seen["resolved_by"]["at"].startswith("2026-11-20T18:00")  # 02:00 Shanghai
        # No nightly ever saw the dip: only the random check did.
        nightly_prices = {s.price for r in runs.values() if r.kind == "demo"
                          for s in ledger.run_snapshots(r.id) if s.sku == scenario.JACKET_SKU}
        assert str(scenario.JACKET_DIP_PRICE) not in {str(p) for p in nightly_prices}
    finally:
        ledger.close()
    (digest,) = (tmp_path / "outbox").glob("2026-11-21_0200_digest_*.eml")
    import email
    text = next(p.get_payload(decode=True).decode() for p in
                email.message_from_bytes(digest.read_bytes()).walk()
                if p.get_content_type() == "text/plain")
    resolved = text.split("== Resolved since the last email", 1)[1]
    assert "Price ¥149.00 is under the floor ¥240.00" in resolved
    lines = [line.strip() for line in resolved.splitlines()]
    assert "resolved 2026-11-21 02:00 (no longer seen)" in lines  # each on a line of its own
    assert "seen by a random check at 2026-11-20 20:39, between nightly audits" in lines
    assert "then: price ¥149.00 → ¥299.00 (2026-11-20 20:39 → 2026-11-21 02:00)" in lines
    log = (tmp_path / "demo.log").read_text()
    assert "random check 20:39: 12 listings read, 2 new finding(s)" in log
