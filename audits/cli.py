"""The `storeaudit` command. Every verb's --help says what it does and what it needs."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console

from crawler.browser import BrowserNotFound

from .contract import ContractError, load_contract
from .ledger import Ledger, LedgerError

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


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what happens.")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


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
    except (ContractError, LedgerError, BrowserNotFound) as e:
        _fail(str(e))
    console.print(run_table(run, ledger))
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
) -> None:
    """Start the sample store and replay its two-week scenario through the real crawler,
    one simulated night at a time, showing what changed each day."""
    from .demo import run_demo

    try:
        run_demo(console, days=days, size=size, db_path=db, port=port)
    except (ContractError, LedgerError, BrowserNotFound) as e:
        _fail(str(e))


if __name__ == "__main__":
    app()
