"""`storeaudit demo`: start the sample store, replay its two-week scenario day by day through
the real crawler on a simulated clock, and show what was seen.

The sample store runs as its own process and is driven over HTTP (its scenario endpoint), the
way a real store is only ever seen from outside.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import tempfile
import sys
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from .catalog import load_catalog
from .clock import ManualClock
from .console import (RichCrawlProgress, changes_table, failures_table, findings_summary,
                      findings_table, run_table)
from .contract import Contract, load_contract
from .email import send_digest
from .ledger import Ledger
from .registry import add_to_registry
from .runner import run_audit

NIGHTLY_HOUR = 2  # each scenario day is crawled at 02:00 store time, as the nightly audit is
STARTUP_TIMEOUT_S = 30
URL_PATTERN = r"https?://[\w.\-\[\]:]+:\d+"  # the first URL a server child prints


def demostore_dir() -> Path:
    """The sample store's folder, found without importing it (audits only talks to it)."""
    spec = importlib.util.find_spec("demostore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the demostore package is not installed; run `make setup`")
    return Path(list(spec.submodule_search_locations)[0])


def demo_contract() -> Contract:
    return load_contract(demostore_dir() / "contract.toml")


@contextmanager
def sample_store(size: int = 60, port: int = 0, host: str = "127.0.0.1",
                 hostile_titles: bool = False):
    """Run the sample store in a child process; yield its base URL."""
    with serving_child(["-m", "demostore", "--size", str(size), "--port", str(port),
                        "--host", host, *(["--hostile-titles"] if hostile_titles else [])],
                       "the sample store") as (url, _):
        yield url


@contextmanager
def serving_child(args: list[str], what: str, pattern: str = URL_PATTERN,
                  startup_s: float = STARTUP_TIMEOUT_S):
    """Run `python ARGS`, a server that prints the URL it serves at; yield (that URL, its pid).
    It is stopped at the end, and on Linux dies with this process however this one ends."""
    proc = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    try:
        url = _wait_for_url(proc, what, pattern, startup_s)
        # Keep reading its output so a chatty child can never block on a full pipe.
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _die_with_parent() -> None:
    """Linux: the sample store goes when the demo goes, however the demo ends (uvicorn re-raises
    SIGTERM after its shutdown, which skips our clean-up)."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_for_url(proc: subprocess.Popen, what: str, pattern: str, startup_s: float) -> str:
    deadline = datetime.now() + timedelta(seconds=startup_s)
    seen = []
    while datetime.now() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match.group(0)
    raise RuntimeError(f"{what} did not start:\n" + "".join(seen[-20:]))


def export_registry_images(folder: Path) -> Path:
    """The sample store's known infringing photos, written as files (as a rights holder's
    notice would come), for `registry add`."""
    subprocess.run([sys.executable, "-m", "demostore", "export-registry", str(folder)],
                   check=True, capture_output=True, text=True)
    return folder


def set_store_day(base_url: str, day: int) -> dict:
    """Move the sample store to a scenario day; returns its date and the agency's events."""
    response = httpx.post(f"{base_url}/__scenario__", json={"day": day}, timeout=10)
    response.raise_for_status()
    return response.json()


def run_demo(console: Console, *, days: int = 14, size: int = 60,
             db_path: Path = Path("storeaudit-demo.db"), port: int = 0,
             serve_port: int | None = None, api_port: int = 8600, outbox: Path | None = None,
             hostile_titles: bool = False) -> Ledger:
    """Replay the scenario, writing each night's audit email to the outbox (`outbox`, else
    the contract's); then, with `serve_port`, keep the sample store, the API and the
    dashboard running on the replay's ledger until interrupted."""
    for stale in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        stale.unlink(missing_ok=True)  # the demo is a replay: start from an empty ledger
    contract = demo_contract()
    catalog = load_catalog(contract.catalog_path())
    email = contract.email.model_copy(update={
        "dashboard_url": f"http://127.0.0.1:{serve_port or api_port}",
        **({"outbox": str(outbox)} if outbox is not None else {})})
    contract = contract.model_copy(update={"email": email})
    with sample_store(size=size, port=port, hostile_titles=hostile_titles) as url, \
            tempfile.TemporaryDirectory() as tmp:
        contract = contract.with_base_url(url)
        zone = ZoneInfo(contract.store.timezone)
        clock = ManualClock(datetime.now(zone))
        ledger = Ledger(db_path, clock)
        console.print(f"Sample store running at [link={url}]{url}[/link]; ledger: {db_path}")
        added = add_to_registry(ledger, [export_registry_images(Path(tmp))],
                                source="rights holder's takedown notice (sample)")
        console.print(f"Registry: {len(added.added)} known infringing images "
                      f"({', '.join(e.label for e in added.added)})")
        for day in range(days):
            scenario = set_store_day(url, day)
            night = datetime.fromisoformat(scenario["date"]).replace(hour=NIGHTLY_HOUR, tzinfo=zone)
            clock.set(night)
            console.print(Rule(f"Day {day} — {night:%a %Y-%m-%d %H:%M} ({contract.store.timezone})"))
            for event in scenario.get("events", []):
                console.print(Text(f"  agency: {event['description']}", style="dim"))
            with RichCrawlProgress(console, f"Day {day}") as progress:
                outcome = run_audit(contract, ledger, kind="demo", progress=progress,
                                    catalog=catalog)
            _print_day(console, ledger, outcome, contract.store.currency, first=day == 0,
                       zone=zone)
            # The nightly email, as the scheduler sends it after the nightly audit.
            email_record = send_digest(contract, ledger, run_id=outcome.run.id)
        open_now = ledger.findings(status=["open", "acknowledged"])
        console.print(Rule("After two weeks" if days == 14 else f"After {days} days"))
        console.print(f"Open findings: {findings_summary(open_now)}")
        console.print(findings_table(open_now, zone=zone))
        console.print(f"Last night's email ({email_record.status}): "
                      f"[bold]{email_record.html_path}[/bold] — open it in a browser "
                      f"(the message itself: {email_record.path})", highlight=False,
                      soft_wrap=True)
        if serve_port is not None:
            _serve(console, ledger, contract, url, serve_port)
        return ledger


def _serve(console: Console, ledger: Ledger, contract: Contract, store_url: str, port: int) -> None:
    """The API and dashboard on the replay's ledger, with a token for each role."""
    import uvicorn

    from api.app import create_app
    from api.settings import ApiSettings

    merchant, _ = ledger.create_token("Demo merchant", "merchant")
    agency, _ = ledger.create_token("Demo agency", "agency")
    settings = ApiSettings(db_path=ledger.path, contract_path=contract.path)
    config = uvicorn.Config(create_app(settings, contract=contract), host="127.0.0.1",
                            port=port, log_level="warning")
    server = uvicorn.Server(config)
    console.print(Rule("Now running"))
    console.print(f"  Dashboard:    http://127.0.0.1:{port}/   (log in with the merchant token)")
    console.print(f"  API docs:     http://127.0.0.1:{port}/docs")
    console.print(f"  Sample store: {store_url}/")
    console.print(f"  Merchant token: {merchant}", highlight=False, soft_wrap=True)
    console.print(f"  Agency token:   {agency}", highlight=False, soft_wrap=True)
    console.print("  Press Ctrl+C to stop.")
    server.run()


def _print_day(console: Console, ledger: Ledger, outcome, currency: str, first: bool,
               zone: ZoneInfo) -> None:
    run = outcome.run
    console.print(run_table(run, ledger, zone))
    failures = failures_table(ledger, run)
    if failures:
        console.print(failures)
    changes = ledger.changes_in_run(run.id)
    gone = [g.sku or g.url for g in ledger.gone_in_run(run.id)]
    if changes or gone:
        console.print(changes_table(changes, gone, currency))
    elif not first:
        console.print("  no listing changed since the previous night")
    update = outcome.update
    raised = ledger.findings(ids=update.new + update.reopened)
    if raised:
        console.print(findings_table(raised, title=f"New findings ({len(raised)})", zone=zone))
    resolved = ledger.findings(ids=update.resolved)
    for f in resolved:
        console.print(Text(f"  resolved #{f.id} {f.rule_id} {f.sku or 'store'}: {f.note}",
                           style="green"))
