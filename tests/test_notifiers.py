"""Every audit ends the same way, whoever starts it: the registered notifiers are told.

A dummy notifier, registered here and nowhere else, hears of the audit after a spot-check from
the API, an audit from the command, the scheduler's nightly and each of the demo's nights;
none of those call sites knows it exists. It records deliveries as any notifier does, and a
pending one is retried through it."""

from __future__ import annotations

import shutil
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner

from api.app import create_app
from api.settings import ApiSettings
from audits.catalog import parse_catalog
from audits.clock import ManualClock
from audits.contract import load_contract, parse_contract
from audits.engine import audit_run
from audits.ledger import Ledger
from audits.notify import AuditNews, Notifier, register, retry_pending, unregister
from audits.notify.base import record_failed_try
from audits.scheduler import AuditScheduler
from history import History, listing
from servers import serve
from storeaudit.cli import app
from storeaudit.sample_store import demostore_dir

runner = CliRunner()
SHANGHAI = ZoneInfo("Asia/Shanghai")


class Pager(Notifier):
    """A notifier of the test's own: notes each moment, records one delivery per audit."""

    name = "pager"

    def __init__(self):
        self.heard: list[tuple[str, str, int | None, str | None]] = []
        self.retried: list[int] = []
        self.told = threading.Event()
        self.fail_next = False

    def after_audit(self, news: AuditNews):
        self.heard.append(("after_audit", news.kind, news.run_id, news.problem))
        record = news.ledger.add_delivery(self.name, "page", subject=f"run {news.run_id}",
                                          recipients=["#ops"], finding_ids={"new": news.raised},
                                          transport="test", run_id=news.run_id)
        self.told.set()
        if self.fail_next:
            return [record_failed_try(news.ledger, record, "pager offline", attempts=3,
                                      retry_minutes=5, now=news.ledger.clock.now())]
        return [news.ledger.delivery_done(record.id)]

    def after_nightly(self, news: AuditNews):
        self.heard.append(("after_nightly", news.kind, news.run_id, news.problem))
        return []

    def deliver(self, contract, ledger, record, now):
        self.retried.append(record.id)
        return ledger.delivery_done(record.id)


@pytest.fixture
def pager():
    notifier = register(Pager())
    try:
        yield notifier
    finally:
        unregister(notifier.name)


def _sample_contract(folder, base_url: str, pages: list[str]):
    """The sample store's contract and catalog, pointed at `base_url`, auditing `pages` only."""
    shutil.copy(demostore_dir() / "catalog.csv", folder / "catalog.csv")
    text = (demostore_dir() / "contract.toml").read_text(encoding="utf-8")
    urls = ", ".join(f'"{p}"' for p in pages)
    text = text.replace("[store]\n", f'[store]\nurls = [{urls}]\n', 1)
    path = folder / "contract.toml"
    path.write_text(text.replace('base_url = "http://127.0.0.1:8765"', f'base_url = "{base_url}"'),
                    encoding="utf-8")
    contract = load_contract(path)
    assert contract.store.base_url == base_url, "the sample contract's base_url was replaced"
    return contract, path


@pytest.mark.e2e
def test_a_notifier_is_told_after_a_spot_check_from_the_api(pager, tmp_path, ledger, store):
    store.day = 2  # the promoted jacket is at ¥199, under its floor
    jacket = f"{store.url}/p/{store.product('SH-0001').slug}"
    contract, path = _sample_contract(tmp_path, store.url, [jacket])
    merchant, _ = ledger.create_token("Merchant Li", "merchant")
    settings = ApiSettings(db_path=ledger.path, contract_path=path)
    with serve(create_app(settings, contract=contract)) as url:
        answer = httpx.post(f"{url}/api/spot-checks", json={"url": jacket},
                            headers={"Authorization": f"Bearer {merchant}"}, timeout=30)
        assert answer.status_code == 202, answer.text
        run_id = answer.json()["run"]["id"]
        assert pager.told.wait(60), "the notifier was never told of the spot-check"
    [(moment, kind, told_run, problem)] = pager.heard
    assert (moment, kind, told_run, problem) == ("after_audit", "spot", run_id, None)
    [record] = ledger.deliveries(notifier="pager")
    assert record.status == "sent" and record.run_id == run_id
    [below_floor] = ledger.findings(rule_id="prices.below_floor")
    assert sorted(record.finding_ids["new"]) == sorted(f.id for f in ledger.findings())
    assert below_floor.id in record.finding_ids["new"]


@pytest.mark.e2e
def test_a_notifier_is_told_after_an_audit_from_the_command(pager, tmp_path, store):
    pages = [f"{store.url}/p/{store.product(sku).slug}" for sku in ("SH-0001", "SH-0002")]
    _, path = _sample_contract(tmp_path, store.url, pages)
    db = tmp_path / "ledger.db"
    result = runner.invoke(app, ["audit", "-c", str(path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    with Ledger(db) as ledger:
        [run] = ledger.runs()
    assert pager.heard == [("after_audit", "manual", run.id, None)]
    assert "Pager message #1 sent to #ops" in result.output


CATALOG = parse_catalog("sku,cost,reference_price,promoted\nA,100,299,yes\n")


def test_a_notifier_is_told_after_the_nightly_and_its_failed_delivery_is_retried(
        pager, tmp_path):
    contract = parse_contract(f"""
[store]
name = "Shop"
base_url = "http://shop.test"

[email]
outbox = "{tmp_path / 'outbox'}"
""")
    clock = ManualClock(datetime(2026, 11, 16, 2, 0, tzinfo=SHANGHAI))
    db = tmp_path / "ledger.db"

    def audit(c, ledger, kind):  # a night recorded without crawling, as the scheduler tests do
        run = History(ledger, clock).night(listing("A", price="120", promoted=True), days=0,
                                           kind=kind)
        return audit_run(ledger, c, CATALOG, run, full=True)

    pager.fail_next = True
    done = AuditScheduler(contract, db, clock=clock, audit=audit, tick_seconds=3600).tick()
    with Ledger(db, clock) as ledger:
        [run] = ledger.runs()
        [page] = ledger.deliveries(notifier="pager")
        assert page.status == "pending" and page.last_error == "pager offline"
    assert pager.heard == [("after_audit", "nightly", run.id, None),
                           ("after_nightly", "nightly", run.id, None)]
    assert f"pager page #{page.id}: pending" in done
    assert any(line.startswith("digest #") for line in done), "the email is told too"

    clock.advance(timedelta(minutes=6))  # its next try is due
    with Ledger(db, clock) as ledger:
        [retried] = retry_pending(contract, ledger)
        assert retried.id == page.id and retried.status == "sent"
    assert pager.retried == [page.id]


def test_a_notifier_hears_of_a_nightly_audit_that_broke_down(pager, tmp_path):
    contract = parse_contract('[store]\nname = "Shop"\nbase_url = "http://shop.test"\n'
                              f'[email]\noutbox = "{tmp_path / "outbox"}"\n')
    clock = ManualClock(datetime(2026, 11, 16, 2, 0, tzinfo=SHANGHAI))

    def broken(c, ledger, kind):
        raise RuntimeError("the store's DNS is gone")

    AuditScheduler(contract, tmp_path / "l.db", clock=clock, audit=broken,
                   tick_seconds=3600).tick()
    problem = "RuntimeError: the store's DNS is gone"
    assert pager.heard == [("after_audit", "nightly", None, problem),
                           ("after_nightly", "nightly", None, problem)]


@pytest.mark.e2e
def test_a_notifier_is_told_after_each_of_the_demos_nights(pager, tmp_path):
    from storeaudit.demo import run_demo

    ledger = run_demo(Console(file=open(tmp_path / "demo.log", "w"), width=160), days=2,
                      size=12, db_path=tmp_path / "demo.db", outbox=tmp_path / "outbox")
    runs = sorted(ledger.runs(), key=lambda r: r.id)
    ledger.close()
    # Each night, then the day's random checks (the demo contract asks for 3 a day).
    assert [r.kind for r in runs] == ["demo", "random", "random", "random"] * 2
    assert pager.heard == [m for run in runs for m in (
        (("after_audit", "demo", run.id, None), ("after_nightly", "demo", run.id, None))
        if run.kind == "demo" else (("after_audit", "random", run.id, None),))]
