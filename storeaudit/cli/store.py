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
    from_url: str | None = typer.Option(
        None, "--from", metavar="URL",
        help="The store's address: find its sitemap and listing pages, tell its platform, read "
             "its listings and show what was read, then write a contract for it and a catalog "
             "with one row per SKU (costs to fill in)."),
    max_listings: int = typer.Option(500, min=1, max=5000,
                                     help="With --from: how many listings to read."),
    sample: int = typer.Option(10, min=1, max=100, help="With --from: listings shown."),
) -> None:
    """Write a commented contract.toml template (every rule's section with its defaults and
    what it checks) and an empty catalog.csv to fill in; with --from, filled in from the
    store itself."""
    from audits.contract_template import contract_template

    directory.mkdir(parents=True, exist_ok=True)
    contract_path, catalog_path = directory / "contract.toml", directory / "catalog.csv"
    existing = [p for p in (contract_path, catalog_path) if p.exists()]
    if existing and not force:
        fail(f"{', '.join(map(str, existing))} already exist; use --force to overwrite.")
    if from_url is None:
        texts = {contract_path: contract_template(), catalog_path: CATALOG_HEADER}
        next_step = ("Next: set [bold]store.base_url[/bold] in contract.toml, list your "
                     "products in catalog.csv, then run [bold]storeaudit crawl[/bold].")
    else:
        setup = _survey(from_url, max_listings)
        texts = {contract_path: setup.contract_text, catalog_path: setup.catalog_text}
        next_step = ("Next: check [bold]contract.toml[/bold] (the \\[store] values above and every "
                     "rule's), fill in each SKU's [bold]cost[/bold] in catalog.csv (and check "
                     "reference_price: it is the price shown today), then run "
                     "[bold]storeaudit audit[/bold].")
        _print_setup(setup, sample)
    for path, text in texts.items():
        path.write_text(text, encoding="utf-8")
        console.print(f"wrote {path}")
    console.print(next_step)


def _survey(url: str, max_listings: int):
    from audits.store_setup import SurveyFailed, set_up_from
    from ..console import RichCrawlProgress

    try:
        with RichCrawlProgress(console, "Reading the listings") as progress:
            return set_up_from(url, max_listings=max_listings, progress=progress)
    except SurveyFailed as e:
        fail(str(e))
    except USER_ERRORS as e:
        fail(f"{url}: {e}")


def _print_setup(setup, sample: int) -> None:
    from ..console import setup_table

    survey = setup.survey
    console.print(f"Store: [bold]{survey.title or survey.base_url}[/bold] — platform "
                  f"{survey.platform}" + (f" ({survey.platform_why})" if survey.platform_why
                                          else ""), highlight=False)
    where = f"the sitemap {survey.sitemap}" if survey.sitemap else "the home page's links"
    console.print(f"Listings: {setup.listings_found} found in {where}; listing pages match "
                  f"{survey.listing_pattern!r}; {len(setup.snapshots)} read", highlight=False)
    console.print(setup_table(setup.snapshots[:sample], setup.currency))
    for line in _setup_notes(setup):
        console.print(line, highlight=False, soft_wrap=True)


def _setup_notes(setup) -> list[str]:
    """What a merchant should know before trusting the files: pages that could not be read,
    listings without a SKU (not in the catalog), pictures that are the store's own."""
    notes = []
    read = [s for s in setup.snapshots if s.ok]
    failed = [s for s in setup.snapshots if not s.ok]
    if failed:
        reasons = ", ".join(sorted({(s.error or "").split(" (")[0] for s in failed})[:3])
        notes.append(f"note: {len(failed)} of {len(setup.snapshots)} listing pages could not be "
                     f"read ({reasons}); they are not in catalog.csv. `storeaudit crawl` tries "
                     "them again.")
    no_sku = [s for s in read if not s.sku]
    if read and len(no_sku) == len(read):
        notes.append("note: no listing page shows a SKU that storeaudit could read, so "
                     "catalog.csv has no rows. Set [store.selectors] sku to the element that "
                     "shows it (for example \".product-sku\") and run init again, or write the "
                     "catalog by hand; until then listings are known by their address.")
    elif no_sku:
        notes.append(f"note: {len(no_sku)} of {len(read)} listings show no SKU: they are known "
                     "by their address and are not in catalog.csv.")
    if setup.shared_images:
        notes.append(f"note: {len(setup.shared_images)} picture(s) are on many listings (a "
                     "placeholder, a logo): they are not counted as any listing's photo.")
    return notes


@app.command()
def crawl(contract: Path = ContractOption, db: Path = DbOption) -> None:
    """Crawl the store once now and record every listing's title, price, stock and images."""
    from audits.audit_lock import audit_slot
    from ..console import RichCrawlProgress, run_table
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
    _print_what_was_not_read(ledger, run)


def _print_what_was_not_read(ledger: Ledger, run) -> None:
    """The pages that could not be read, and the pictures left out as not a listing's own."""
    from ..console import failures_table, shared_images_warning

    failures = failures_table(ledger, run)
    if failures:
        console.print(failures)
    shared = shared_images_warning(ledger, run)
    if shared:
        console.print(shared, soft_wrap=True)


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

    from ..console import (RichCrawlProgress, changes_table, findings_summary, findings_table,
                           run_table)

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
    _print_what_was_not_read(ledger, outcome.run)
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
