"""Shared fixtures: the found Chromium for pytest-playwright, a fresh ledger, the sample store,
and the world the security tests attack."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from audits.clock import ManualClock
from audits.ledger import Ledger
from crawler.browser import LAUNCH_ARGS, find_chromium

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive the Chromium storeaudit itself would find, with the flags known to work here."""
    return {**browser_type_launch_args, "executable_path": find_chromium(), "args": LAUNCH_ARGS}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 2, 18, 0, tzinfo=timezone.utc))


@pytest.fixture
def ledger(tmp_path, clock) -> Ledger:
    with Ledger(tmp_path / "ledger.db", clock) as led:
        yield led


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def store():
    """A fresh sample store (scenario day 0) served on 127.0.0.1; tests may set day/faults."""
    from demostore.app import DemoStore
    from demostore.server import run_in_thread

    shop = DemoStore(size=60, day=0)
    with run_in_thread(shop) as running:
        shop.url = running.url
        yield shop


@pytest.fixture
def secured(tmp_path, ledger, clock):
    """The security tests' world (tests/security_world.py): a ledger with findings, a token
    for each role, and the API over it (not started)."""
    from security_world import Secured

    return Secured(tmp_path, ledger, clock)


@pytest.fixture
def running(secured):
    """`secured`, served on 127.0.0.1; its base URL is `running.url`."""
    from servers import serve

    with serve(secured.app()) as url:
        secured.url = url
        yield secured


@pytest.fixture(scope="session")
def demo_fortnight(tmp_path_factory) -> Path:
    """`storeaudit demo`'s replay of 13 scenario days (2026-11-09 to 11-21), run once for the
    tests that read what it left: its folder holds demo.log, demo.db and outbox/."""
    from rich.console import Console

    from storeaudit.demo import run_demo

    folder = tmp_path_factory.mktemp("demo")
    with open(folder / "demo.log", "w") as log:
        ledger = run_demo(Console(file=log, width=160), days=13, db_path=folder / "demo.db",
                          outbox=folder / "outbox")
    ledger.close()
    return folder
