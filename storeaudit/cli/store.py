"""Setting up and checking the store: `init`, `crawl`, `demo` and `audit`."""

from __future__ import annotations

from pathlib import Path

import typer
from audits.catalog import load_catalog
from audits.contract import load_contract
from audits.ledger import Ledger
from .common import (CATALOG_HEADER, USER_ERRORS, ContractOption, DbOption, fail,
               print_delivery, store_zone, app, console, err)


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), help="Where to write the files."),
    force: bool = typer.Option(False, "--force", help="Overwrite files that already exist."),
) -> None:
    """Write a commented contract.toml template (every rule's section with its defaults and
    what it checks) and an empty catalog.csv to fill in."""
    from audits.contract_template import contract_template

    directory.mkdir(parents=True, exist_ok=True)
    targets = {
        directory / "contract.toml": contract_template(),
        directory / "catalog.csv": CATALOG_HEADER,
    }
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        fail(f"{', '.join(map(str, existing))} already exist; use --force to overwrite.")
    for path, text in targets.items():
        path.write_text(text, encoding="utf-8")
        console.print(f"wrote {path}")
    console.print("Next: set [bold]store.base_url[/bold] in contract.toml, list your products "
                  "in catalog.csv, then run [bold]storeaudit crawl[/bold].")


@app.command()
def crawl(contract: Path = ContractOption, db: Path = DbOption) -> None:
    """Crawl the store once now and record every listing's title, price, stock and images."""
    from audits.audit_lock import audit_slot
    from ..console import RichCrawlProgress, failures_table, run_table
    from audits.runner import run_crawl

    try:
        loaded = load_contract(contract)
        ledger = Ledger(db)
        # Refused at once while another audit of this ledger runs, in any process.
        with audit_slot("a manual crawl", wait=0, db=db), \
                RichCrawlProgress(console) as progress:
            run = run_crawl(loaded, ledger, kind="manual", progress=progress)
    except USER_ERRORS as e:
        fail(str(e))
    console.print(run_table(run, ledger, store_zone(loaded)))
    failures = failures_table(ledger, run)
    if failures:
        console.print(failures)


@app.command()
def demo(
    days: int = typer.Option(14, min=1, max=14, help="Scenario days to replay (1-14)."),
    size: int = typer.Option(60, min=10, max=5000, help="Listings in the sample store."),
    db: Path = typer.Option(Path("storeaudit-demo.db"), "--db",
                            help="Ledger for the replay (recreated each time)."),
    port: int = typer.Option(0, help="Port for the sample store (0: any free port)."),
    serve: bool = typer.Option(True, "--serve/--no-serve",
                               help="Afterwards keep the API and dashboard running."),
    api_port: int = typer.Option(8600, help="Port for the API and dashboard."),
) -> None:
    """Replay the sample store's two-week scenario: one audit per simulated night.

    Starts the sample store, moves it day by day, crawls it in real Chromium, runs the rules,
    and shows what changed and which findings were raised or resolved. Each night's audit
    email is written to outbox/; the last one's path is printed at the end."""
    from ..demo import run_demo

    try:
        run_demo(console, days=days, size=size, db_path=db, port=port,
                 serve_port=api_port if serve else None, api_port=api_port)
    except USER_ERRORS as e:
        fail(str(e))


@app.command()
def audit(contract: Path = ContractOption, db: Path = DbOption) -> None:
    """Crawl the store now, judge it against the contract, and list the open findings; the
    notifiers are told as after any audit (an email for new critical findings with
    email.critical_immediately)."""
    from audits.audit_then_tell import audit_then_tell

    from ..console import (RichCrawlProgress, changes_table, failures_table, findings_summary,
                           findings_table, run_table)

    try:
        loaded = load_contract(contract)
        catalog = load_catalog(loaded.catalog_path())
        ledger = Ledger(db)
        # Refused at once while another audit of this ledger runs, in any process.
        with RichCrawlProgress(console, "Auditing") as progress:
            told = audit_then_tell(loaded, ledger, kind="manual", holder="a manual audit",
                                   wait=0, catalog=catalog, progress=progress)
        told.raise_error()
    except USER_ERRORS as e:
        fail(str(e))
    outcome = told.outcome
    for record in told.deliveries:
        print_delivery(record)
    console.print(run_table(outcome.run, ledger, store_zone(loaded)))
    failures = failures_table(ledger, outcome.run)
    if failures:
        console.print(failures)
    for rule_id, error in outcome.broken_rules.items():
        err.print(f"[red]rule {rule_id} broke and judged nothing this run:[/red] {error}",
                  highlight=False, soft_wrap=True)
    open_now = ledger.findings(status=["open", "acknowledged"])
    update = outcome.update
    gone = f", {len(update.gone)} gone with a removed listing" if update.gone else ""
    console.print(f"{len(update.new)} new, {len(update.reopened)} reopened, "
                  f"{len(update.resolved)} resolved{gone}; open now: {findings_summary(open_now)}")
    # What changed since the look before (before → after), and what was taken off the store.
    changes = ledger.changes_in_run(outcome.run.id)
    removed = [g.sku or g.url for g in ledger.gone_in_run(outcome.run.id)]
    if changes or removed:
        console.print(changes_table(changes, removed, loaded.store.currency))
    if open_now:
        console.print(findings_table(open_now, zone=store_zone(loaded)))
