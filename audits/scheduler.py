"""The schedule: the nightly audit and what the notifiers send after it (the email first), the
contract's extra crawls, and the retries of deliveries that did not go.

When a job is due is decided from the contract, the injected clock and the ledger, never from
the scheduler's memory, so that it survives restarts:

* the contract's times are APScheduler `CronTrigger`s in the store's time zone, which give the
  last and next fire time for any "now" the clock says;
* a nightly audit is due when the last scheduled time has passed and no nightly run has started
  since. One missed while nothing was running is run once at start-up if the process comes back
  within `schedule.catch_up_hours`; several missed nights are one catch-up run (coalesced), and
  once a run has started it is never run again for that night, whatever became of it;
* an extra crawl is due the same way, within EXTRA_GRACE, and is satisfied by any audit of the
  whole store (nightly or extra) started after its time;
* a random check (`audits.random_checks`) is due at its drawn time when the nightly and the
  extras are not, and is never announced: `next_runs` leaves the random checks out.

`AuditScheduler.tick()` does whatever is due now. `start()` has an APScheduler
BackgroundScheduler call it at start-up (the catch-up) and then every `tick_seconds`; tests
call `tick()` themselves after moving a ManualClock, which makes the jobs fire exactly when
the clock says.

Every scheduled audit goes through `audits.audit_then_tell`, as every other audit does. Two
audits never run at once on one ledger, in this process or another (`storeaudit serve
--no-schedule` beside this scheduler, a `storeaudit audit` by hand): a scheduled audit waits
for the audit slot (a running spot-check finishes first, up to SLOT_WAIT_SECONDS; after that
it is logged and tried again at the next tick) and holds it while it runs, so a spot-check
asked for meanwhile is refused with a message saying the nightly audit is running.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .audit_lock import AuditBusy
from .audit_then_tell import AuditFn, audit_then_tell
from .catalog import CatalogEntry, load_catalog
from .clock import Clock, SystemClock
from .contract import Contract
from .ledger import Ledger
from .notify import retry_pending, tick_notifiers
from .notify.email import digest_follows_nightly
from .random_checks import random_check_config, random_check_due
from .runner import run_audit

log = logging.getLogger(__name__)

EXTRA_GRACE = timedelta(hours=1)  # an extra crawl missed by more than this waits for the next
TICK_SECONDS = 30
# How a tick's lines name what the notifiers sent.
_DELIVERY_WORDS = {("email", "digest"): "digest", ("email", "critical"): "critical alert"}
SLOT_WAIT_SECONDS = 30 * 60       # how long a scheduled audit waits for a spot-check to finish


@dataclass(frozen=True)
class Job:
    """One of the contract's scheduled times."""

    name: str              # "nightly", "extra 14:00"
    kind: str              # the run kind it records: "nightly" or "extra"
    at: str                # "02:00", store time
    trigger: CronTrigger | None  # None: a random check, due once at its drawn time

    def last_fire(self, now: datetime) -> datetime | None:
        """The latest scheduled time at or before `now`."""
        last, t = None, now - timedelta(days=2)
        while True:
            fire = self.trigger.get_next_fire_time(None, t)
            if fire is None or fire > now:
                return last
            last, t = fire, fire + timedelta(seconds=1)

    def next_fire(self, now: datetime) -> datetime:
        """The first scheduled time after `now`."""
        return self.trigger.get_next_fire_time(None, now + timedelta(seconds=1))


@dataclass(frozen=True)
class Due:
    job: Job
    scheduled: datetime    # the time it was due at
    catch_up: bool         # it is late (missed while nothing was running)


def jobs(contract: Contract) -> list[Job]:
    """The contract's scheduled times (none when `schedule.enabled = false`)."""
    schedule = contract.schedule
    if not schedule.enabled:
        return []
    zone = ZoneInfo(contract.store.timezone)

    def job(name: str, kind: str, at: str) -> Job:
        hour, minute = (int(x) for x in at.split(":"))
        return Job(name, kind, at, CronTrigger(hour=hour, minute=minute, timezone=zone))

    return [job("nightly", "nightly", schedule.nightly),
            *(job(f"extra {at}", "extra", at) for at in schedule.extra_crawls)]


def _started(ledger: Ledger, kinds: tuple[str, ...]) -> datetime | None:
    times = [datetime.fromisoformat(r.started) for k in kinds if (r := ledger.last_run(k))]
    return max(times) if times else None


def due_now(contract: Contract, ledger: Ledger,
            now: datetime) -> tuple[Due | None, list[tuple[int, str]]]:
    """The job to run now (the nightly first), and notes (log level, text) about runs missed
    for good."""
    notes: list[tuple[int, str]] = []
    catch_up = timedelta(hours=contract.schedule.catch_up_hours)
    all_jobs = jobs(contract)
    nightly = [j for j in all_jobs if j.kind == "nightly"]
    extras = [j for j in all_jobs if j.kind == "extra"]
    for group, done_by, grace in ((nightly, ("nightly",), catch_up),
                                  (extras, ("nightly", "extra"), min(EXTRA_GRACE, catch_up))):
        fired = [(j, t) for j in group if (t := j.last_fire(now)) is not None]
        if not fired:
            continue
        job, scheduled = max(fired, key=lambda jt: jt[1])
        started = _started(ledger, done_by)
        if started is not None and started >= scheduled:
            continue
        late = now - scheduled
        if late > grace and started is None:
            notes.append((logging.INFO, f"no {job.kind} audit has run yet; the first is at "
                                        f"{job.next_fire(now):%Y-%m-%d %H:%M}"))
            continue
        if late > grace:
            notes.append((logging.WARNING,
                          f"the {job.name} audit of {scheduled:%Y-%m-%d %H:%M} was missed by "
                          f"{late.total_seconds() / 3600:.1f} h (more than {_hours(grace)}): "
                          f"it waits for {job.next_fire(now):%Y-%m-%d %H:%M}"))
            continue
        return Due(job, scheduled, catch_up=late > timedelta(minutes=5)), notes
    return None, notes


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} h"


def next_runs(contract: Contract, now: datetime, ledger: Ledger | None = None) -> list[dict]:
    """When each scheduled job runs next, soonest first: for `storeaudit status` and the API.

    Each: {"job", "kind", "at" (HH:MM store time), "next_run" (ISO 8601 UTC), "next_run_local"
    (ISO 8601 in the store's zone), "timezone", "email" (a digest follows), "catch_up_due"
    (with a ledger: missed and will run as soon as the scheduler starts or ticks)}."""
    zone = ZoneInfo(contract.store.timezone)
    due = due_now(contract, ledger, now)[0] if ledger is not None else None
    out = []
    for job in jobs(contract):
        nxt = job.next_fire(now)
        out.append({
            "job": job.name, "kind": job.kind, "at": job.at,
            "next_run": nxt.astimezone(timezone.utc).isoformat(),
            "next_run_local": nxt.astimezone(zone).isoformat(),
            "timezone": contract.store.timezone,
            "email": job.kind == "nightly" and digest_follows_nightly(contract),
            "catch_up_due": due is not None and due.job.name == job.name,
        })
    return sorted(out, key=lambda r: r["next_run"])


class AuditScheduler:
    """Runs the contract's schedule against one ledger file.

    `audit(contract, ledger, kind)` does one audit; by default the real crawl and rules
    (`run_audit`) with the catalog read at start. Tests give their own and a ManualClock."""

    def __init__(self, contract: Contract, db_path: Path | str, *, clock: Clock | None = None,
                 catalog: dict[str, CatalogEntry] | None = None, audit: AuditFn | None = None,
                 tick_seconds: float = TICK_SECONDS, slot_wait: float | None = SLOT_WAIT_SECONDS):
        self.contract = contract
        self.db_path = Path(db_path)
        self.clock = clock or SystemClock()
        if audit is None:
            catalog = catalog if catalog is not None else load_catalog(contract.catalog_path())
            def audit(c: Contract, ledger: Ledger, kind: str):
                # A random check reads its chosen listings; every other kind the whole store.
                config = random_check_config(c, ledger) if kind == "random" else None
                return run_audit(c, ledger, kind=kind, catalog=catalog, config=config)
        self.audit = audit
        self.tick_seconds = tick_seconds
        self.slot_wait = slot_wait
        self._tick_lock = threading.Lock()
        self._ticks = 0
        self._ticked = threading.Condition()
        self._noted: set[str] = set()
        # Scheduled times this process already tried: not tried again even when the audit
        # broke before recording a run (the ledger covers restarts).
        self._attempted: set[tuple[str, datetime]] = set()
        self._aps: BackgroundScheduler | None = None

    # ---------------------------------------------------------------- what a tick does
    def tick(self) -> list[str]:
        """Do what is due now: retry pending deliveries, then run a due audit (and tell the
        notifiers). Returns what was done, in words."""
        with self._tick_lock:
            try:
                with Ledger(self.db_path, self.clock) as ledger:
                    return self._tick(ledger)
            finally:
                with self._ticked:
                    self._ticks += 1
                    self._ticked.notify_all()

    def _tick(self, ledger: Ledger) -> list[str]:
        done: list[str] = []
        now = self.clock.now()
        for record in retry_pending(self.contract, ledger, now=now):
            done.append(f"{record.notifier} #{record.id} retried: {record.status}")
        for d in tick_notifiers(self.contract, ledger, now):  # what is due by the clock
            done.append(f"{d.notifier} {d.kind} #{d.id}: {d.status}")
        due, notes = due_now(self.contract, ledger, now)
        for level, note in notes:
            if note not in self._noted:
                self._noted.add(note)
                log.log(level, "%s", note)
        if due is None:
            check = random_check_due(self.contract, ledger, now)
            if check is not None:
                due = Due(Job("random check", "random", f"{check.scheduled:%H:%M}", None),
                          check.scheduled, catch_up=False)
        if due is not None and (due.job.name, due.scheduled) not in self._attempted:
            done += self._run(ledger, due)
        return done

    def _run(self, ledger: Ledger, due: Due) -> list[str]:
        job = due.job
        holder = f"the {job.name} audit (scheduled {due.scheduled:%H:%M})"
        if due.catch_up:
            log.warning("catching up: %s missed at %s runs now", job.name,
                        due.scheduled.isoformat())

        def audit(contract: Contract, led: Ledger, kind: str):
            # Tried once it has the slot: not again, even when it breaks before recording a
            # run (the ledger covers restarts).
            self._attempted.add((job.name, due.scheduled))
            return self.audit(contract, led, kind)

        try:
            told = audit_then_tell(self.contract, ledger, kind=job.kind, holder=holder,
                                   wait=self.slot_wait, audit=audit,
                                   nightly=job.kind == "nightly")
        except AuditBusy as e:
            log.warning("%s waited %s s for the audit slot and will try again: %s", job.name,
                        self.slot_wait, e)
            return [f"{job.name} not run: {e}"]
        if told.error is not None:  # recorded on the run; the nightly email says so
            log.error("%s failed", holder, exc_info=told.error)
        done = [f"{job.name} audit: " + (f"run {told.outcome.run.id}" if told.outcome
                                         else f"failed ({told.problem})")]
        for d in told.deliveries:
            what = _DELIVERY_WORDS.get((d.notifier, d.kind), f"{d.notifier} {d.kind}")
            done.append(f"{what} #{d.id}: {d.status}")
        return done

    # ---------------------------------------------------------------- running in the background
    def _safe_tick(self) -> None:
        try:
            for line in self.tick():
                log.info("%s", line)
        except Exception:
            log.exception("scheduler tick failed")

    def start(self) -> "AuditScheduler":
        """Tick now (the catch-up) and then every `tick_seconds`, in a background thread."""
        if self._aps is not None:
            return self
        self._aps = BackgroundScheduler(timezone=timezone.utc, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        self._aps.add_job(self._safe_tick, IntervalTrigger(seconds=self.tick_seconds),
                          id="storeaudit-tick", name="storeaudit schedule",
                          next_run_time=datetime.now(timezone.utc))
        self._aps.start()
        return self

    def shutdown(self, wait: bool = True) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=wait)
            self._aps = None

    def wait_for_ticks(self, count: int, timeout: float = 30) -> bool:
        """Block until `count` ticks have finished since this scheduler was made."""
        with self._ticked:
            return self._ticked.wait_for(lambda: self._ticks >= count, timeout)

    def __enter__(self) -> "AuditScheduler":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.shutdown()

    def next_runs(self) -> list[dict]:
        with Ledger(self.db_path, self.clock) as ledger:
            return next_runs(self.contract, self.clock.now(), ledger)


__all__ = ["AuditScheduler", "Due", "Job", "due_now", "jobs", "next_runs"]
