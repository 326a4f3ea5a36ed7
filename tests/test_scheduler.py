"""The schedule: the nightly audit fires when the store's clock says, a night missed while
nothing ran is caught up once (never twice, whatever the restarts), and two audits never run
at the same time."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from audits.audit_lock import AUDIT_LOCK, AuditBusy, claim_audit_slot
from audits.catalog import parse_catalog
from storeaudit.cli import app
from audits.clock import ManualClock
from audits.contract import parse_contract
from audits.engine import audit_run
from audits.ledger import Ledger
from audits.scheduler import AuditScheduler, next_runs
from audits.spot_check import run_spot_check
from history import History, listing

SHANGHAI = ZoneInfo("Asia/Shanghai")
CATALOG = parse_catalog("sku,cost,reference_price,promoted\nA,100,299,no\n")


def contract(tmp_path, schedule: str = "", zone: str = "Asia/Shanghai"):
    return parse_contract(f"""
[store]
name = "Shop"
base_url = "http://shop.test"
timezone = "{zone}"

[schedule]
nightly = "02:00"
catch_up_hours = 12
{schedule}

[email]
outbox = "{tmp_path / 'outbox'}"
""")


def at(day: int, hour: int, minute: int = 0, zone=SHANGHAI) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=zone)


class Audits:
    """A stand-in for the crawl: records one run of the asked kind, and who asked when."""

    def __init__(self, clock: ManualClock, block: threading.Event | None = None):
        self.clock = clock
        self.calls: list[tuple[str, datetime]] = []
        self.started = threading.Event()
        self.block = block

    def __call__(self, c, ledger: Ledger, kind: str):
        self.calls.append((kind, self.clock.now()))
        self.started.set()
        if self.block is not None:
            assert self.block.wait(10), "the test never let the audit finish"
        run = History(ledger, self.clock).night(listing("A", price="299"), days=0, kind=kind)
        return audit_run(ledger, c, CATALOG, run, full=True)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "ledger.db"


def scheduler(c, db, clock, audits, **kw) -> AuditScheduler:
    return AuditScheduler(c, db, clock=clock, audit=audits, tick_seconds=3600, **kw)


def test_the_nightly_audit_runs_when_the_store_clock_reaches_its_time(tmp_path, db):
    clock = ManualClock(at(16, 1, 59))
    audits = Audits(clock)
    s = scheduler(contract(tmp_path), db, clock, audits)
    assert s.tick() == []
    clock.set(at(16, 2, 0))
    done = s.tick()
    assert audits.calls == [("nightly", at(16, 2, 0))]
    assert any(line.startswith("digest #") for line in done)
    clock.set(at(16, 2, 30))
    assert s.tick() == []
    assert len(audits.calls) == 1


def test_a_missed_nightly_runs_once_after_restart_never_twice(tmp_path, db):
    c = contract(tmp_path)
    clock = ManualClock(at(16, 9, 30))  # the process was down at 02:00
    audits = Audits(clock)
    for restart in range(2):  # two start-ups on the same ledger
        s = scheduler(c, db, clock, audits)
        s.start()
        assert s.wait_for_ticks(1, timeout=20)
        s.shutdown()
        clock.advance(timedelta(minutes=20))
    assert audits.calls == [("nightly", at(16, 9, 30))]
    with Ledger(db, clock) as ledger:
        assert [r.kind for r in ledger.runs()] == ["nightly"]
        # The next night runs at its time as usual.
        clock.set(at(17, 2, 0))
        scheduler(c, db, clock, audits).tick()
        assert [r.kind for r in ledger.runs()] == ["nightly", "nightly"]


def test_several_missed_nights_are_caught_up_with_one_run(tmp_path, db):
    c = contract(tmp_path)
    clock = ManualClock(at(14, 2, 0))
    audits = Audits(clock)
    scheduler(c, db, clock, audits).tick()
    clock.set(at(17, 3, 0))  # down for the nights of the 15th, 16th and 17th
    s = scheduler(c, db, clock, audits)
    s.tick()
    s.tick()
    assert [when for _, when in audits.calls] == [at(14, 2, 0), at(17, 3, 0)]


def test_a_nightly_missed_by_more_than_the_grace_waits_for_the_next_night(tmp_path, db, caplog):
    c = contract(tmp_path)
    clock = ManualClock(at(15, 2, 0))
    audits = Audits(clock)
    scheduler(c, db, clock, audits).tick()
    clock.set(at(16, 15, 0))  # 13 h late, catch_up_hours = 12
    with Ledger(db, clock) as ledger:
        [nightly] = next_runs(c, clock.now(), ledger)
    assert nightly["catch_up_due"] is False
    s = scheduler(c, db, clock, audits)
    assert s.tick() == []
    assert len(audits.calls) == 1
    assert "missed by 13.0 h" in caplog.text and "2026-11-17 02:00" in caplog.text


def test_a_spot_check_while_the_nightly_runs_is_refused(tmp_path, db):
    c = contract(tmp_path)
    clock = ManualClock(at(16, 2, 0))
    release = threading.Event()
    audits = Audits(clock, block=release)
    s = scheduler(c, db, clock, audits)
    nightly = threading.Thread(target=s.tick)
    nightly.start()
    try:
        assert audits.started.wait(10)
        with Ledger(db, clock) as ledger, pytest.raises(AuditBusy) as refused:
            run_spot_check(c, ledger, ["http://shop.test/p/a"])
        assert "the nightly audit (scheduled 02:00) is running now" in str(refused.value)
        with Ledger(db, clock) as ledger:
            assert [r.kind for r in ledger.runs()] == []  # the refused spot-check left no run
    finally:
        release.set()
        nightly.join(10)
    assert [kind for kind, _ in audits.calls] == ["nightly"]
    assert not AUDIT_LOCK.locked()


def test_the_nightly_waits_for_a_running_spot_check(tmp_path, db):
    c = contract(tmp_path)
    clock = ManualClock(at(16, 2, 0))
    audits = Audits(clock)
    s = scheduler(c, db, clock, audits)
    claim_audit_slot("a spot-check")  # as the API does while its spot-check runs
    nightly = threading.Thread(target=s.tick)
    try:
        nightly.start()
        time.sleep(0.5)
        assert audits.calls == [] and nightly.is_alive()  # waiting, not refused, not skipped
    finally:
        AUDIT_LOCK.release()
    nightly.join(10)
    assert [kind for kind, _ in audits.calls] == ["nightly"]


def test_a_nightly_that_cannot_get_the_slot_in_time_runs_at_a_later_tick(tmp_path, db):
    c = contract(tmp_path)
    clock = ManualClock(at(16, 2, 0))
    audits = Audits(clock)
    s = scheduler(c, db, clock, audits, slot_wait=0.1)
    with AUDIT_LOCK:
        [done] = s.tick()
    assert audits.calls == [] and done.startswith("nightly not run: another audit is running")
    clock.advance(timedelta(minutes=1))
    s.tick()
    assert [kind for kind, _ in audits.calls] == ["nightly"]


def test_an_extra_crawl_runs_at_its_time_without_an_email(tmp_path, db):
    c = contract(tmp_path, 'extra_crawls = ["14:00"]')
    clock = ManualClock(at(16, 2, 0))
    audits = Audits(clock)
    s = scheduler(c, db, clock, audits)
    s.tick()
    clock.set(at(16, 14, 0))
    done = s.tick()
    assert [kind for kind, _ in audits.calls] == ["nightly", "extra"]
    assert not any(line.startswith("digest") for line in done)
    with Ledger(db, clock) as ledger:
        assert [e.kind for e in ledger.deliveries(notifier="email")] == ["digest"]


@pytest.mark.parametrize("zone, now, expected", [
    # 23:45 in Shanghai is 15:45 UTC: the 00:15 extra is after midnight, store time.
    ("Asia/Shanghai", datetime(2026, 11, 16, 23, 45, tzinfo=SHANGHAI), [
        ("extra 00:15", "2026-11-16T16:15:00+00:00", "2026-11-17T00:15:00+08:00"),
        ("nightly", "2026-11-16T18:00:00+00:00", "2026-11-17T02:00:00+08:00"),
        ("extra 23:30", "2026-11-17T15:30:00+00:00", "2026-11-17T23:30:00+08:00"),
    ]),
    # New York leaves daylight saving time at 02:00 on 1 November 2026: 02:00 EST is 07:00 UTC.
    ("America/New_York", datetime(2026, 10, 31, 23, 45, tzinfo=ZoneInfo("America/New_York")), [
        ("extra 00:15", "2026-11-01T04:15:00+00:00", "2026-11-01T00:15:00-04:00"),
        ("nightly", "2026-11-01T07:00:00+00:00", "2026-11-01T02:00:00-05:00"),
        ("extra 23:30", "2026-11-02T04:30:00+00:00", "2026-11-01T23:30:00-05:00"),
    ]),
])
def test_next_run_times_are_in_the_store_time_zone_across_midnight(tmp_path, zone, now, expected):
    c = contract(tmp_path, 'extra_crawls = ["23:30", "00:15"]', zone=zone)
    runs = next_runs(c, now.astimezone(timezone.utc))
    assert [(r["job"], r["next_run"], r["next_run_local"]) for r in runs] == expected
    assert runs[1]["email"] is True and runs[0]["email"] is False


def test_status_shows_next_runs_last_runs_and_open_findings(tmp_path, db):
    c = contract(tmp_path)
    clock = ManualClock(at(16, 2, 0))
    scheduler(c, db, clock, Audits(clock)).tick()
    path = tmp_path / "contract.toml"
    path.write_text(f"""
[store]
name = "Shop"
base_url = "http://shop.test"
catalog = "catalog.csv"

[email]
outbox = "{tmp_path / 'outbox'}"
""", encoding="utf-8")
    (tmp_path / "catalog.csv").write_text("sku,cost,reference_price,promoted\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["status", "-c", str(path), "--db", str(db)],
                                terminal_width=160)
    assert result.exit_code == 0, result.output
    assert "nightly" in result.output and "02:00" in result.output
    assert "Asia/Shanghai" in result.output
    assert "critical" in result.output and "digest" in result.output
