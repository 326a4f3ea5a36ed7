"""Faults of the process and the database: what a merchant's ledger must survive.

* the process killed (SIGKILL) half-way through a crawl, through writing it, and through the
  findings update: real `storeaudit audit` processes, stopped at a well-defined point by a
  driver (below) that patches the point inside the child to tell the test it is there and
  wait to be killed; afterwards the ledger is sound, the previous findings are exactly as
  they were, the killed run is shown abandoned, and the next run gives the right findings;
* the disk full (SQLite's `max_page_count`) and the database locked by another process
  while a crawl or the findings are written: one clear line from the CLI, nothing half-written,
  and the next run works;
* two processes wanting to audit the same ledger: the second is refused, naming the first
  (the scheduler waits, then tries again at a later tick).

The SMTP server down at the nightly email is in test_email.py.
"""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from audits.audit_lock import AUDIT_LOCK, lock_file, slot_holder
from audits.catalog import load_catalog
from storeaudit.cli import app
from audits.clock import ManualClock
from audits.contract import load_contract
from storeaudit.sample_store import demostore_dir
from audits.ledger import Ledger
from audits.ledger.crawls import ABANDONED_AFTER_CRAWL, ABANDONED_DURING_CRAWL
from audits.registry import add_to_registry
from audits.runner import run_audit, run_crawl
from audits.scheduler import AuditScheduler
from crawler.snapshot import CrawlResult
from demostore.app import DemoStore
from demostore.infringing import export_registry
from demostore.server import run_in_thread
from history import listing

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STORE_SIZE = 40           # the scenario's listings all sit below SH-0031
BEFORE_DAY, AFTER_DAY = 3, 10  # between them: listings new, resolved, still open, one removed
HALF = 15                 # the kill point: this many pages (or listings written, or findings)
runner = CliRunner()

# The child: `storeaudit audit` with one point patched to say "here" on a pipe and then wait
# for the SIGKILL. Only this test's driver does it; the product has no such hook.
DRIVER = r"""
import os, sys, threading
point, fd, half = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def here():
    os.write(fd, point.encode() + b"\n")
    threading.Event().wait()  # until killed

if point == "crawl":            # half the pages fetched; nothing of the crawl written yet
    from storeaudit.console import RichCrawlProgress as P
    real, n = P.page_done, [0]
    def page_done(self, snapshot):
        real(self, snapshot)
        n[0] += 1
        if n[0] == half:
            here()
    P.page_done = page_done
elif point == "recording":      # inside the crawl's transaction, half its listings written
    from audits.ledger.crawls import CrawlRecords as C
    real, n = C._listing_for, [0]
    def listing_for(self, snap, now):
        n[0] += 1
        if n[0] == half:
            here()
        return real(self, snap, now)
    C._listing_for = listing_for
elif point == "findings":       # inside the findings' transaction, half of them folded in
    from audits.ledger.findings import FindingRecords as F
    real = F.reconcile_findings
    def reconcile(self, run_id, seen, *args, **kwargs):
        seen = list(seen)
        def slowly():
            for i, finding in enumerate(seen):
                if i == len(seen) // 2:
                    here()
                yield finding
        return real(self, run_id, slowly(), *args, **kwargs)
    F.reconcile_findings = reconcile

from storeaudit.cli import app
sys.argv = ["storeaudit", *sys.argv[4:]]
app(sys.argv[1:], prog_name="storeaudit")
"""

# Another process holding the audit slot of a ledger until its stdin closes.
HOLDER = r"""
import sys
from audits.audit_lock import claim_audit_slot
claim_audit_slot("a manual audit", db=sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
"""

# Another process holding a write transaction on a ledger until its stdin closes.
LOCKER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


# ------------------------------------------------------------------ looking at a ledger file
TABLES = ("runs", "listings", "snapshots", "images", "pages", "findings", "events", "deliveries",
          "registry")


def dump(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table, read with plain sqlite3 (which also recovers the WAL)."""
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in TABLES}
    finally:
        conn.close()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def open_findings(db: Path) -> set[tuple]:
    with Ledger(db) as ledger:
        return {(f.rule_id, f.sku, f.fingerprint, f.severity, f.status)
                for f in ledger.findings(status=["open", "acknowledged"])}


def copy_ledger(source: Path, target: Path) -> Path:
    """A consistent copy (the backup API, WAL included)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target


def run_statuses(db: Path) -> list[tuple[str, str | None]]:
    with Ledger(db) as ledger:
        return [(r.status, r.error) for r in reversed(ledger.runs())]


def python(code: str, *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, "-c", code, *map(str, args)], cwd=ROOT, **popen)


def read_line(proc: subprocess.Popen, timeout: float = 30) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the helper process did not get ready"
    return proc.stdout.readline().strip()


# ------------------------------------------------------------------ the killed audit
@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """The sample store, a contract for it, the ledger after night BEFORE_DAY's audit, and
    what an audit of AFTER_DAY finds when nothing goes wrong (the control)."""
    tmp = tmp_path_factory.mktemp("faults")
    store = DemoStore(size=STORE_SIZE, day=BEFORE_DAY)
    with run_in_thread(store) as running:
        text = (demostore_dir() / "contract.toml").read_text(encoding="utf-8")
        text = text.replace('base_url = "http://127.0.0.1:8765"', f'base_url = "{running.url}"')
        text = text.replace('catalog = "catalog.csv"',
                            f'catalog = "{(demostore_dir() / "catalog.csv").as_posix()}"')
        text = text.replace("[email]\n", f'[email]\noutbox = "{(tmp / "outbox").as_posix()}"\n')
        # Plain HTTP reads these pages: no browser for the killed process to leave behind.
        text = text.replace("[crawl]\n", "[crawl]\nrecheck_share = 0\n")
        contract_file = tmp / "contract.toml"
        contract_file.write_text(text, encoding="utf-8")
        contract = load_contract(contract_file)
        catalog = load_catalog(contract.catalog_path())
        baseline = tmp / "baseline.db"
        with Ledger(baseline) as ledger:
            add_to_registry(ledger, [export_registry(tmp / "registry")[0].parent])
            run_audit(contract, ledger, catalog=catalog)
        store.day = AFTER_DAY
        control = copy_ledger(baseline, tmp / "control.db")
        with Ledger(control) as ledger:
            run_audit(contract, ledger, catalog=catalog)

        expected = open_findings(control)
        assert expected != open_findings(baseline)  # the night to kill changes the findings
        # Killed once its crawl was recorded, the night had two looks at the store: the
        # removed listing's page answered 404 at both, so the next audit reports the removal.
        looked_twice = copy_ledger(baseline, tmp / "looked_twice.db")
        with Ledger(looked_twice) as ledger:
            run_crawl(contract, ledger)
            run_audit(contract, ledger, catalog=catalog)
        assert open_findings(looked_twice) - expected == {
            f for f in open_findings(looked_twice) if f[0] == "crawl.removed"} != set()
        yield SimpleNamespace(store=store, contract_file=contract_file, baseline=baseline,
                              expected=expected, expected_after_a_look=open_findings(looked_twice))


def kill_audit_at(point: str, contract_file: Path, db: Path, log: Path) -> None:
    """Run `storeaudit audit` in a process of its own, SIGKILL it (and anything it started)
    when it reaches `point`."""
    mark_r, mark_w = os.pipe()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [PYTHON, "-c", DRIVER, point, str(mark_w), str(HALF), "audit",
             "-c", str(contract_file), "--db", str(db)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, pass_fds=(mark_w,),
            start_new_session=True)
    os.close(mark_w)
    try:
        while True:
            ready, _, _ = select.select([mark_r], [], [], 1.0)
            if ready:
                assert os.read(mark_r, 100).decode().strip() == point
                break
            if proc.poll() is not None:
                raise AssertionError(f"the audit ended ({proc.returncode}) before {point}:\n"
                                     + log.read_text(errors="replace")[-3000:])
        holder = slot_holder(db)  # the audit holds the slot, naming itself
        assert holder and holder["pid"] == proc.pid and holder["holder"] == "a manual audit"
    finally:
        os.close(mark_r)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.e2e
@pytest.mark.parametrize("point", ["crawl", "recording", "findings"])
def test_an_audit_killed_half_way_leaves_the_last_findings_and_the_next_run_completes(
        night, point, tmp_path):
    db = copy_ledger(night.baseline, tmp_path / "ledger.db")
    before = dump(db)

    kill_audit_at(point, night.contract_file, db, tmp_path / "audit.log")

    assert integrity(db) == "ok"
    after = dump(db)
    # The findings, and what people did about them, are exactly as the last night left them.
    for table in ("findings", "events", "deliveries", "registry"):
        assert after[table] == before[table], table
    if point == "findings":  # the crawl was written before; its findings never were
        assert len(after["snapshots"]) > len(before["snapshots"])
    else:                    # nothing of the crawl was written
        for table in ("listings", "snapshots", "images", "pages"):
            assert after[table] == before[table], table
    # The killed run is not shown as finished: it is left running, and the status shows it
    # abandoned once no process holds the audit slot.
    assert after["runs"][:-1] == before["runs"]
    assert run_statuses(db)[-1] == ("running", None)
    assert slot_holder(db) is None
    shown = runner.invoke(app, ["status", "-c", str(night.contract_file), "--db", str(db)],
                          terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert f"Run {len(after['runs'])} abandoned: the process running it stopped" in shown.output

    # The next run takes the slot the killed one held, completes, and finds what an audit
    # that was never interrupted finds.
    result = runner.invoke(app, ["audit", "-c", str(night.contract_file), "--db", str(db)],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    assert integrity(db) == "ok"
    statuses = run_statuses(db)
    assert statuses[-2] == ("abandoned", ABANDONED_AFTER_CRAWL if point == "findings"
                            else ABANDONED_DURING_CRAWL)
    assert statuses[-1] == ("complete", None)
    crawl_recorded = point == "findings"
    assert open_findings(db) == (night.expected_after_a_look if crawl_recorded
                                 else night.expected)


# ------------------------------------------------------------------ disk full, database locked
CATALOG_CSV = "sku,cost,reference_price,promoted\n" + "".join(
    f"S-{i:02d},100,199,no\n" for i in range(30))


class FakeShop:
    """What the crawler brings back each night (no network): 30 listings, some titles with
    an absolute claim the advertising law bans (one finding each)."""

    def __init__(self):
        self.banned: set[int] = set(range(0, 10))

    def crawl(self, config, *, now, **_):
        when = now().isoformat()
        snaps = [listing(f"S-{i:02d}", title=f"山禾 {'最好的 ' if i in self.banned else ''}"
                         f"商品 {i} " + "细节说明" * 5, price="150")
                 for i in range(30)]
        for s in snaps:
            s.fetched_at = when
        return CrawlResult(snapshots=snaps, images={}, listing_urls=[s.url for s in snaps],
                           started_at=when, finished_at=when)


@pytest.fixture
def shop(tmp_path, monkeypatch):
    (tmp_path / "catalog.csv").write_text(CATALOG_CSV, encoding="utf-8")
    (tmp_path / "contract.toml").write_text(
        '[store]\nname = "Shop"\nbase_url = "http://shop.test"\ncatalog = "catalog.csv"\n'
        'timezone = "Asia/Shanghai"\n\n'
        f'[email]\noutbox = "{(tmp_path / "outbox").as_posix()}"\n', encoding="utf-8")
    fake = FakeShop()
    monkeypatch.setattr("audits.runner.crawl_sync", fake.crawl)
    fake.contract, fake.db = tmp_path / "contract.toml", tmp_path / "ledger.db"
    return fake


def audit(shop):
    return runner.invoke(app, ["audit", "-c", str(shop.contract), "--db", str(shop.db)],
                         terminal_width=300)


def banned_findings(db: Path) -> set[str]:
    with Ledger(db) as ledger:
        return {f.sku for f in ledger.findings(status="open", rule_id="titles.forbidden_terms")}


@pytest.fixture
def locker(shop):
    """Start another process that holds a write transaction on the ledger, on demand."""
    procs = []

    def lock():
        proc = python(LOCKER, shop.db, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert read_line(proc) == "locked"

    lock.procs = procs
    yield lock
    for proc in procs:
        proc.stdin.close()
        proc.wait(timeout=10)


@pytest.mark.parametrize("fault", ["disk full", "locked"])
@pytest.mark.parametrize("point", ["recording", "findings"])
def test_a_write_that_cannot_happen_is_one_clear_error_and_nothing_half_written(
        shop, locker, fault, point):
    assert audit(shop).exit_code == 0
    assert banned_findings(shop.db) == {f"S-{i:02d}" for i in range(10)}
    before = dump(shop.db)

    # The next night: ten titles fixed, twenty broken (enough rows to need new pages).
    shop.banned = set(range(10, 30))
    method = "record_crawl" if point == "recording" else "reconcile_findings"
    real = getattr(Ledger, method)

    def faulty(self, *args, **kwargs):
        if fault == "disk full":  # the file may not grow by a single page
            pages = self.db.execute("PRAGMA page_count").fetchone()[0]
            self.db.execute(f"PRAGMA max_page_count = {pages}")
        else:                     # another process keeps a write open past the busy timeout
            self.busy_timeout = 0.3
            self.db.execute("PRAGMA busy_timeout = 300")
            locker()
        return real(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Ledger, method, faulty)
        result = audit(shop)

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    said = " ".join(result.output.split())
    if fault == "disk full":
        assert "error: the disk or database is full" in said
    else:
        assert "is locked by another process" in said
    what = "'s crawl could not be written" if point == "recording" else \
        "the findings update of run 2 could not be written"
    assert what in said and "nothing of it was kept" in said

    for proc in locker.procs:  # the other process is done
        proc.stdin.close()
        proc.wait(timeout=10)
    locker.procs.clear()
    assert integrity(shop.db) == "ok"
    after = dump(shop.db)
    for table in ("findings", "events"):
        assert after[table] == before[table], table
    if point == "recording":
        assert after["snapshots"] == before["snapshots"]
        assert after["listings"] == before["listings"]
    else:  # the crawl is whole, and its run is not complete: its findings were never judged
        assert len(after["snapshots"]) == len(before["snapshots"]) + 30
    [status, error] = run_statuses(shop.db)[-1]
    if fault == "disk full":  # recorded as failed, with the reason
        assert status == "failed" and "full" in error
    else:                     # the run could not even be marked: left running, abandoned next
        assert (status, error) == ("running", None)

    result = audit(shop)  # the disk has room again / the other process is done
    assert result.exit_code == 0, result.output
    assert banned_findings(shop.db) == {f"S-{i:02d}" for i in range(10, 30)}
    statuses = [s for s, _ in run_statuses(shop.db)]
    assert statuses == ["complete", "failed" if fault == "disk full" else "abandoned", "complete"]


# ------------------------------------------------------------------ one audit per ledger
@pytest.fixture
def holder(shop):
    """Another process holding the ledger's audit slot, as a running audit does."""
    with Ledger(shop.db):
        pass
    proc = python(HOLDER, shop.db, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert read_line(proc) == "holding"
        yield proc
    finally:
        if proc.poll() is None:
            proc.stdin.close()
            proc.wait(timeout=10)


def test_a_second_audit_process_on_the_same_ledger_is_refused_naming_the_first(shop, holder):
    second = subprocess.run(
        [str(Path(PYTHON).parent / "storeaudit"), "audit", "-c", str(shop.contract),
         "--db", str(shop.db)], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "300"})
    assert second.returncode == 1, second.stdout + second.stderr
    said = " ".join(second.stderr.split())
    assert "Traceback" not in said
    assert (f"error: a manual audit (process {holder.pid}, python -c, since" in said
            and f"is running now on {shop.db} and a manual audit cannot run beside it" in said)
    with Ledger(shop.db) as ledger:
        assert ledger.runs() == []  # the refused audit wrote nothing
    shown = runner.invoke(app, ["status", "-c", str(shop.contract), "--db", str(shop.db)],
                          terminal_width=300)
    assert f"Running now: a manual audit (process {holder.pid}, python -c" in shown.output

    # The holder is killed: the kernel drops its lock, and the next audit runs.
    holder.kill()
    holder.wait(timeout=10)
    assert slot_holder(shop.db) is None
    result = audit(shop)
    assert result.exit_code == 0, result.output
    assert lock_file(shop.db).read_text() == ""  # released: nobody holds it now


def test_the_scheduler_beside_another_audit_process_waits_then_runs_at_a_later_tick(
        shop, holder):
    contract = load_contract(shop.contract)
    clock = ManualClock(datetime(2026, 11, 16, 2, 0, tzinfo=timezone(timedelta(hours=8))))
    calls = []

    def audit_fn(c, ledger, kind):
        calls.append(kind)
        return run_audit(c, ledger, kind=kind, catalog=load_catalog(c.catalog_path()))

    scheduler = AuditScheduler(contract, shop.db, clock=clock, audit=audit_fn, slot_wait=0.3)
    [done] = scheduler.tick()
    assert calls == [] and done.startswith("nightly not run: a manual audit (process "
                                           f"{holder.pid}")
    assert not AUDIT_LOCK.locked()

    holder.stdin.close()  # the other audit finishes
    holder.wait(timeout=10)
    clock.advance(timedelta(seconds=30))
    done = scheduler.tick()
    assert calls == ["nightly"] and done[0].startswith("nightly audit: run 1")
    assert banned_findings(shop.db) == {f"S-{i:02d}" for i in range(10)}
