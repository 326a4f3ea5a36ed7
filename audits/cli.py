"""The `storeaudit` command. Every verb's --help says what it does and what it needs."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from crawler.browser import BrowserNotFound

from .catalog import CatalogError, load_catalog
from .contract import ContractError, load_contract
from .ledger import FindingError, Ledger, LedgerError

app = typer.Typer(
    help="Check, from the store's public pages, that the operations agency keeps the contract.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)

TEMPLATES = Path(__file__).parent / "templates"
CATALOG_HEADER = "sku,cost,reference_price,promoted\n"

ContractOption = typer.Option(Path("contract.toml"), "--contract", "-c",
                              help="The contract file (see `storeaudit init`).")
DbOption = typer.Option(Path("storeaudit.db"), "--db", help="The ledger (SQLite file).")


# What the user can fix: each is printed as one clear line, never as a traceback.
USER_ERRORS = (ContractError, CatalogError, LedgerError, BrowserNotFound, FindingError)


def _actor() -> str:
    import getpass

    return f"{getpass.getuser()} (cli)"


def _zone(contract):
    from zoneinfo import ZoneInfo

    return ZoneInfo(contract.store.timezone)


def _zone_of(path: Path):
    """The store's time zone from a contract file, or UTC when there is none to read."""
    from datetime import timezone

    try:
        return _zone(load_contract(path))
    except ContractError:
        return timezone.utc


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what happens.")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every tick at INFO


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), help="Where to write the files."),
    force: bool = typer.Option(False, "--force", help="Overwrite files that already exist."),
) -> None:
    """Write a commented contract.toml template and an empty catalog.csv to fill in."""
    directory.mkdir(parents=True, exist_ok=True)
    targets = {
        directory / "contract.toml": (TEMPLATES / "contract.toml").read_text(encoding="utf-8"),
        directory / "catalog.csv": CATALOG_HEADER,
    }
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        _fail(f"{', '.join(map(str, existing))} already exist; use --force to overwrite.")
    for path, text in targets.items():
        path.write_text(text, encoding="utf-8")
        console.print(f"wrote {path}")
    console.print("Next: set [bold]store.base_url[/bold] in contract.toml, list your products "
                  "in catalog.csv, then run [bold]storeaudit crawl[/bold].")


@app.command()
def crawl(contract: Path = ContractOption, db: Path = DbOption) -> None:
    """Crawl the store once now and record every listing's title, price, stock and images."""
    from .console import RichCrawlProgress, failures_table, run_table
    from .runner import run_crawl

    try:
        loaded = load_contract(contract)
        ledger = Ledger(db)
        with RichCrawlProgress(console) as progress:
            run = run_crawl(loaded, ledger, kind="manual", progress=progress)
    except USER_ERRORS as e:
        _fail(str(e))
    console.print(run_table(run, ledger, _zone(loaded)))
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
    from .demo import run_demo

    try:
        run_demo(console, days=days, size=size, db_path=db, port=port,
                 serve_port=api_port if serve else None, api_port=api_port)
    except USER_ERRORS as e:
        _fail(str(e))


@app.command()
def audit(contract: Path = ContractOption, db: Path = DbOption) -> None:
    """Crawl the store now, judge it against the contract, and list the open findings."""
    from .console import RichCrawlProgress, failures_table, findings_summary, findings_table, run_table
    from .runner import run_audit

    try:
        loaded = load_contract(contract)
        catalog = load_catalog(loaded.catalog_path())
        ledger = Ledger(db)
        with RichCrawlProgress(console, "Auditing") as progress:
            outcome = run_audit(loaded, ledger, kind="manual", progress=progress, catalog=catalog)
    except USER_ERRORS as e:
        _fail(str(e))
    from .email import notify_critical

    alert = notify_critical(loaded, ledger, outcome)  # with email.critical_immediately
    if alert is not None:
        _print_email(alert)
    console.print(run_table(outcome.run, ledger, _zone(loaded)))
    failures = failures_table(ledger, outcome.run)
    if failures:
        console.print(failures)
    for rule_id, error in outcome.broken_rules.items():
        err.print(f"[red]rule {rule_id} broke and judged nothing this run:[/red] {error}",
                  highlight=False, soft_wrap=True)
    open_now = ledger.findings(status=["open", "acknowledged"])
    update = outcome.update
    console.print(f"{len(update.new)} new, {len(update.reopened)} reopened, "
                  f"{len(update.resolved)} resolved; open now: {findings_summary(open_now)}")
    if open_now:
        console.print(findings_table(open_now, zone=_zone(loaded)))


@app.command()
def findings(
    status: str = typer.Option("open,acknowledged", help="Comma-separated: open, acknowledged, "
                               "resolved, waived, or 'all'."),
    severity: str = typer.Option(None, help="critical, major or minor."),
    rule: str = typer.Option(None, help="A rule id such as prices.below_floor."),
    sku: str = typer.Option(None, help="Only this listing."),
    contract: Path = typer.Option(Path("contract.toml"), "--contract", "-c",
                                  help="For the store's time zone (times in UTC without it)."),
    db: Path = DbOption,
) -> None:
    """List findings (by default the open and acknowledged ones), worst first."""
    from .console import findings_table

    statuses = None if status == "all" else [s.strip() for s in status.split(",") if s.strip()]
    try:
        found = Ledger(db).findings(status=statuses, severity=severity, rule_id=rule, sku=sku)
    except USER_ERRORS as e:
        _fail(str(e))
    if not found:
        console.print("No findings match.")
        return
    console.print(findings_table(found, title=f"Findings ({status})", zone=_zone_of(contract)))


@app.command()
def acknowledge(finding_id: int = typer.Argument(..., help="The finding's number (#)."),
                note: str = typer.Option(None, help="What is being done about it."),
                db: Path = DbOption) -> None:
    """Mark an open finding as seen and being handled (it stays until the problem is gone)."""
    try:
        f = Ledger(db).acknowledge(finding_id, _actor(), note)
    except USER_ERRORS as e:
        _fail(str(e))
    console.print(f"#{f.id} acknowledged.")


@app.command()
def waive(finding_id: int = typer.Argument(..., help="The finding's number (#)."),
          reason: str = typer.Option(..., help="Why this is acceptable (kept with the finding)."),
          db: Path = DbOption) -> None:
    """Accept a finding as it is, with a reason: it stops counting as open."""
    try:
        f = Ledger(db).waive(finding_id, _actor(), reason)
    except USER_ERRORS as e:
        _fail(str(e))
    console.print(f"#{f.id} waived: {f.waive_reason}")


@app.command()
def approve(
    sku: str = typer.Argument(..., help="The listing's SKU."),
    max_discount: float = typer.Option(None, "--max-discount",
                                       help="Largest discount allowed, as a fraction (0.4 = 40%)."),
    min_price: float = typer.Option(None, "--min-price", help="Lowest price allowed."),
    until: datetime = typer.Option(..., formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"],
                                   help="Last day the approval counts (store time zone)."),
    note: str = typer.Option(None, help="E.g. where the written OK is."),
    contract: Path = ContractOption,
    db: Path = DbOption,
) -> None:
    """Record your written OK for a discount on one SKU, until a date.

    It silences prices.unapproved_discount for that SKU while it lasts."""
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    if max_discount is None and min_price is None:
        _fail("give --max-discount (e.g. 0.4 for 40%) or --min-price")
    if max_discount is not None and not 0 < max_discount < 1:
        _fail("--max-discount is a fraction between 0 and 1 (0.4 means 40% off)")
    try:
        zone = ZoneInfo(load_contract(contract).store.timezone) if contract.exists() else None
        end = until.replace(hour=23, minute=59, second=59) if until.hour == 0 and until.minute == 0 else until
        end = end.replace(tzinfo=zone) if zone else end.astimezone()
        approval = Ledger(db).add_approval(
            sku, valid_until=end,
            max_discount=None if max_discount is None else Decimal(str(max_discount)),
            min_price=None if min_price is None else Decimal(str(min_price)),
            note=note, created_by=_actor())
    except USER_ERRORS as e:
        _fail(str(e))
    console.print(f"Approved for {approval.sku} until {approval.valid_until}.")


@app.command()
def serve(
    contract: Path = ContractOption,
    db: Path = DbOption,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8600, help="Port to listen on."),
    extension_origin: list[str] = typer.Option(
        [], "--extension-origin",
        help="The browser extension's origin (chrome-extension://<id>), allowed by CORS."),
    schedule: bool = typer.Option(True, "--schedule/--no-schedule",
                                  help="Also run the contract's schedule (nightly audit and "
                                       "email) in this process."),
) -> None:
    """Run the API and the dashboard (log in with a token from `storeaudit token create`),
    and the schedule: the nightly audit and its email, at the contract's [schedule] times."""
    import uvicorn

    from api.app import create_app
    from api.settings import ApiSettings

    try:
        loaded = load_contract(contract)
        catalog = load_catalog(loaded.catalog_path())
        Ledger(db).close()
    except USER_ERRORS as e:
        _fail(str(e))
    settings = ApiSettings(db_path=db, contract_path=contract, extension_origins=extension_origin)
    console.print(f"Dashboard and API on http://{host}:{port}/  (API docs: /docs)")
    scheduler = None
    if schedule:
        from .scheduler import AuditScheduler

        scheduler = AuditScheduler(loaded, db, catalog=catalog)
        _print_schedule(loaded, db)
        scheduler.start()
    try:
        uvicorn.run(create_app(settings, contract=loaded), host=host, port=port,
                    log_level="warning")
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

    from .scheduler import AuditScheduler

    try:
        loaded = load_contract(contract)
        catalog = load_catalog(loaded.catalog_path())
        Ledger(db).close()
    except USER_ERRORS as e:
        _fail(str(e))
    if not loaded.schedule.enabled:
        _fail(f"{contract}: [schedule] enabled = false: nothing to run")
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
    no [email.smtp] server. Emails still waiting to go are tried again first."""
    from .email import deliver_pending, send_digest

    try:
        loaded = load_contract(contract)
        ledger = Ledger(db)
    except USER_ERRORS as e:
        _fail(str(e))
    if not ledger.runs(1):
        _fail(f"{db} has no audit yet: run `storeaudit audit` first")
    for retried in deliver_pending(loaded, ledger, due_only=False):
        _print_email(retried)
    record = send_digest(loaded, ledger)
    _print_email(record)
    if not record.delivered:
        raise typer.Exit(1)


@app.command()
def status(contract: Path = ContractOption, db: Path = DbOption) -> None:
    """When the scheduled audits run next, the last runs, the open findings and the last
    emails."""
    from datetime import timezone

    from .console import emails_table, recent_runs_table, schedule_table
    from .scheduler import next_runs
    from .summary import open_counts

    try:
        loaded = load_contract(contract)
        ledger = Ledger(db)
    except USER_ERRORS as e:
        _fail(str(e))
    zone = _zone(loaded)
    now = datetime.now(timezone.utc)
    runs = next_runs(loaded, now, ledger)
    if runs:
        console.print(schedule_table(runs, now, zone))
    else:
        console.print("No schedule: [schedule] enabled = false in the contract.")
    last = ledger.runs(5)
    console.print(recent_runs_table(last, zone) if last else "No run yet.")
    counts = open_counts(ledger)
    console.print("Open findings: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    emails = ledger.emails(limit=5)
    console.print(emails_table(emails, zone) if emails else "No email yet.")


def _print_schedule(contract, db: Path) -> None:
    from datetime import timezone

    from .console import schedule_table
    from .scheduler import next_runs

    now = datetime.now(timezone.utc)
    with Ledger(db) as ledger:
        runs = next_runs(contract, now, ledger)
    if runs:
        console.print(schedule_table(runs, now, _zone(contract)))
    else:
        console.print("The contract's schedule is off ([schedule] enabled = false).")


def _print_email(record) -> None:
    """How an email went, in one line a person can act on."""
    if record.status == "sent":
        console.print(f"Email #{record.id} sent to {', '.join(record.recipients)}: ",
                      Text(record.subject or ""), highlight=False)
    elif record.status == "written":
        console.print(f"Email #{record.id} written to {record.path}", highlight=False)
        if record.html_path:
            console.print(f"  (open {record.html_path} in a browser to read it)", highlight=False)
    elif record.status == "pending":
        err.print(Text.assemble((f"email #{record.id} not sent yet", "yellow"),
                                f" (try {record.attempts}): {record.last_error}. The scheduler "
                                "tries again, or run `storeaudit report`."), soft_wrap=True)
    else:
        err.print(Text.assemble((f"email #{record.id} failed", "red"),
                                f" after {record.attempts} tries: {record.last_error}. Its "
                                "findings come again in the next email."), soft_wrap=True)


token_app = typer.Typer(help="API tokens for the extension, the dashboard and scripts.",
                        no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    role: str = typer.Option(..., help="merchant (everything) or agency (read and acknowledge)."),
    name: str = typer.Option(..., help="Who holds it, e.g. 'Merchant Li' or 'Agency ops'."),
    db: Path = DbOption,
) -> None:
    """Create a token. It is shown once: only its hash is stored."""
    try:
        secret, token = Ledger(db).create_token(name, role)
    except (ValueError, *USER_ERRORS) as e:
        _fail(str(e))
    console.print(f"Token #{token.id} for {token.name} ({token.role}) — keep it safe, it is "
                  "not shown again:", highlight=False)
    print(secret)


@token_app.command("list")
def token_list(db: Path = DbOption) -> None:
    """List tokens (names and roles; the secrets are not stored)."""
    for t in Ledger(db).tokens():
        state = f"revoked {t.revoked[:10]}" if t.revoked else "active"
        console.print(f"#{t.id} {t.name} ({t.role}) created {t.created[:10]}, {state}",
                      highlight=False)


@token_app.command("revoke")
def token_revoke(token_id: int = typer.Argument(..., help="The token's number (#)."),
                 db: Path = DbOption) -> None:
    """Revoke a token: it stops working at once."""
    try:
        t = Ledger(db).revoke_token(token_id)
    except KeyError as e:
        _fail(str(e))
    console.print(f"#{t.id} {t.name} revoked.")


registry_app = typer.Typer(help="The registry of known infringing images.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")


@registry_app.command("add")
def registry_add(
    paths: list[Path] = typer.Argument(..., help="Image files or folders (searched recursively)."),
    label: str = typer.Option(None, help="What the images are (default: each file's name)."),
    source: str = typer.Option(None, help="Where they came from, e.g. a rights holder's notice."),
    db: Path = DbOption,
) -> None:
    """Add known infringing images: listing images that look like them become findings."""
    from .registry import add_to_registry

    try:
        outcome = add_to_registry(Ledger(db), paths, label=label, source=source)
    except USER_ERRORS as e:
        _fail(str(e))
    for entry in outcome.added:
        console.print(f"added #{entry.id} {entry.label} (phash {entry.phash})", highlight=False)
    for path, reason in outcome.refused:
        err.print(f"[red]refused[/red] {path}: {reason}", highlight=False, soft_wrap=True)
    if not outcome.added:
        _fail("no image was added")


@registry_app.command("list")
def registry_list(db: Path = DbOption) -> None:
    """List the registry's images with their hashes."""
    from rich.table import Table

    entries = Ledger(db).registry()
    if not entries:
        console.print("The registry is empty: add images with `storeaudit registry add PATH`.")
        return
    table = Table(title="Known infringing images", title_justify="left")
    for column in ("#", "label", "source", "phash", "added"):
        table.add_column(column)
    for e in entries:
        table.add_row(str(e.id), Text(e.label), Text(e.source or ""), e.phash or "", e.added[:10])
    console.print(table)


if __name__ == "__main__":
    app()
