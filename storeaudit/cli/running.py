"""Running over time: `serve`, `schedule`, `report` and `status`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.text import Text

from audits.catalog import load_catalog
from audits.contract import load_contract
from audits.ledger import Ledger
from .common import (USER_ERRORS, ContractOption, DbOption, contract_and_ledger, fail,
                     print_delivery, store_zone, app, console)


@app.command()
def serve(
    contract: Path = ContractOption,
    db: Path = DbOption,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8600, help="Port to listen on."),
    extension_origin: list[str] = typer.Option(
        [], "--extension-origin",
        help="Another browser extension origin to allow by CORS (chrome-extension://<id>, "
             "moz-extension://<uuid>); the shipped extension's is always allowed."),
    schedule: bool = typer.Option(True, "--schedule/--no-schedule",
                                  help="Also run the contract's schedule (nightly audit and "
                                       "email) in this process."),
    workers: int = typer.Option(1, min=1, max=32,
                                help="API worker processes (each with its own caches, kept "
                                     "by the ledger's change counter); the schedule runs in "
                                     "this process only."),
) -> None:
    """Run the API and the dashboard (log in with a token from `storeaudit token create`),
    and the schedule: the nightly audit and its email, at the contract's [schedule] times."""
    from api.settings import SHIPPED_EXTENSION_ORIGIN, ApiSettings

    from ..serving import run_api

    loaded, catalog = _ready(contract, db)
    try:
        settings = ApiSettings(db_path=db, contract_path=contract,
                               extension_origins=[SHIPPED_EXTENSION_ORIGIN, *extension_origin])
    except ValueError as e:  # pydantic's ValidationError: an --extension-origin that is not one
        fail("--extension-origin: " + e.errors()[0]["msg"].removeprefix("Value error, "))
    console.print(f"Dashboard and API on http://{host}:{port}/  (API docs: /docs)"
                  + (f"; {workers} worker processes" if workers > 1 else ""))
    scheduler = None
    if schedule:
        from audits.scheduler import AuditScheduler

        scheduler = AuditScheduler(loaded, db, catalog=catalog)
        _print_schedule(loaded, db)
        scheduler.start()
    try:
        run_api(settings, loaded, host=host, port=port, workers=workers)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


@app.command("schedule")
def schedule_cmd(contract: Path = ContractOption, db: Path = DbOption) -> None:
    """Run the contract's schedule in the foreground (Ctrl+C stops): the nightly audit and its
    email, the extra crawls, and retries of emails that did not go.

    A nightly audit missed while nothing was running is run once at start-up (within
    schedule.catch_up_hours). `storeaudit serve` runs the same schedule beside the API."""
    import threading

    from audits.scheduler import AuditScheduler

    loaded, catalog = _ready(contract, db)
    if not loaded.schedule.enabled:
        fail(f"{contract}: [schedule] enabled = false: nothing to run")
    scheduler = AuditScheduler(loaded, db, catalog=catalog)
    _print_schedule(loaded, db)
    console.print("Running; press Ctrl+C to stop.")
    scheduler.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        console.print("Stopping (an audit running now is left unfinished).")
    finally:
        scheduler.shutdown(wait=False)


@app.command()
def report(contract: Path = ContractOption, db: Path = DbOption) -> None:
    """Send today's audit email now, or write it to the outbox folder when the contract has
    no [email.smtp] server. Emails (and other notifications) still waiting to go are tried
    again first."""
    from audits.notify import retry_pending
    from audits.notify.email import send_digest

    loaded, ledger = contract_and_ledger(contract, db)
    if not ledger.runs(1):
        fail(f"{db} has no audit yet: run `storeaudit audit` first")
    for retried in retry_pending(loaded, ledger, due_only=False):
        print_delivery(retried)
    record = send_digest(loaded, ledger)
    print_delivery(record)
    if not record.delivered:
        raise typer.Exit(1)


@app.command()
def status(contract: Path = ContractOption, db: Path = DbOption) -> None:
    """When the scheduled audits run next, the last runs, the open findings and the last
    emails and other notifications."""
    from datetime import timezone

    from audits.audit_lock import describe_holder, slot_holder
    from ..console import deliveries_table, recent_runs_table, schedule_table
    from audits.scheduler import next_runs
    from audits.summary import open_counts

    loaded, ledger = contract_and_ledger(contract, db)
    zone = store_zone(loaded)
    now = datetime.now(timezone.utc)
    runs = next_runs(loaded, now, ledger)
    if runs:
        console.print(schedule_table(runs, now, zone))
        _print_random_checks(loaded)
    else:
        console.print("No schedule: [schedule] enabled = false in the contract.")
    holder = slot_holder(db)
    last = _as_seen_now(ledger.runs(5), holder)
    console.print(recent_runs_table(last, zone) if last else "No run yet.")
    if holder is not None:
        console.print(Text(f"Running now: {describe_holder(holder)}"), highlight=False)
    for run in last:
        if run.status in ("failed", "abandoned") and run.error:
            console.print(Text(f"Run {run.id} {run.status}: {run.error}"), highlight=False)
    counts = open_counts(ledger)
    console.print("Open findings: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    sent = ledger.deliveries(limit=5)
    console.print(deliveries_table(sent, zone) if sent else "No email or other notification yet.")


def _as_seen_now(runs: list, holder: dict | None) -> list:
    """A run still marked running while no process holds the audit slot was left by a process
    that died (killed, power cut): it is shown abandoned, as the next run will record it. The
    ledger is not written here."""
    from dataclasses import replace

    if holder is not None:
        return runs
    return [replace(r, status="abandoned", error="the process running it stopped before it "
                    "finished; the next run records what of it was kept")
            if r.status == "running" else r for r in runs]


def _ready(contract: Path, db: Path):
    """The contract and the catalog, read, and the ledger opened once (created or brought up to
    date), before a long-running command starts; a mistake ends it with the reason."""
    try:
        loaded = load_contract(contract)
        catalog = load_catalog(loaded.catalog_path())
        Ledger(db).close()
    except USER_ERRORS as e:
        fail(str(e))
    return loaded, catalog


def _print_random_checks(contract) -> None:
    from audits.random_checks import describe

    words = describe(contract.schedule)
    if words:
        console.print(f"  and {words}", highlight=False)


def _print_schedule(contract, db: Path) -> None:
    from datetime import timezone

    from ..console import schedule_table
    from audits.scheduler import next_runs

    now = datetime.now(timezone.utc)
    with Ledger(db) as ledger:
        runs = next_runs(contract, now, ledger)
    if runs:
        console.print(schedule_table(runs, now, store_zone(contract)))
        _print_random_checks(contract)
    else:
        console.print("The contract's schedule is off ([schedule] enabled = false).")
