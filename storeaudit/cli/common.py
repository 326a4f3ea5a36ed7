"""What the `storeaudit` verbs share: the Typer `app` and its callback, the consoles, the
common options, `USER_ERRORS` and how they are printed (`fail`), how a delivery is printed."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from crawler.browser import BrowserNotFound

from audits.audit_lock import AuditBusy
from audits.catalog import CatalogError
from audits.contract import load_contract
from audits.contract_errors import ContractError
from audits.ledger import FindingError, LedgerError

app = typer.Typer(
    help="Check, from the store's public pages, that the operations agency keeps the contract.",
    no_args_is_help=True,
    add_completion=False,
    # Help texts name contract sections ("[schedule]"): plain text, not rich markup.
    rich_markup_mode=None,
)
console = Console()
err = Console(stderr=True)

CATALOG_HEADER = "sku,cost,reference_price,promoted\n"

ContractOption = typer.Option(Path("contract.toml"), "--contract", "-c",
                              help="The contract file (see `storeaudit init`).")
DbOption = typer.Option(Path("storeaudit.db"), "--db", help="The ledger (SQLite file).")


# What the user can fix: each is printed as one clear line, never as a traceback. A LedgerError
# says the disk is full or the database locked by another process, and that nothing of the
# failed write was kept; AuditBusy names the audit (and process) already running.
USER_ERRORS = (ContractError, CatalogError, LedgerError, BrowserNotFound, FindingError, AuditBusy)


def cli_actor() -> str:
    import getpass

    return f"{getpass.getuser()} (cli)"


def store_zone(contract):
    from zoneinfo import ZoneInfo

    return ZoneInfo(contract.store.timezone)


def zone_of_file(path: Path):
    """The store's time zone from a contract file, or UTC when there is none to read."""
    from datetime import timezone

    try:
        return store_zone(load_contract(path))
    except ContractError:
        return timezone.utc


def fail(message: str) -> None:
    # The message is text, never markup: "[store]" or a value from a file must print as is.
    err.print(Text.assemble(("error:", "red"), " ", message), highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what happens.")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every tick at INFO


def contract_and_ledger(contract: Path, db: Path):
    """The contract and the ledger a verb works on, or the verb fails saying what is wrong."""
    from audits.contract import load_contract
    from audits.ledger import Ledger

    try:
        return load_contract(contract), Ledger(db)
    except USER_ERRORS as e:
        fail(str(e))


def print_delivery(record) -> None:
    """How an email (or another notification) went, in one line a person can act on."""
    what = "Email" if record.notifier == "email" else f"{record.notifier.capitalize()} message"
    if record.status == "sent":
        console.print(f"{what} #{record.id} sent to {', '.join(record.recipients)}: ",
                      Text(record.subject or ""), highlight=False)
    elif record.status == "written":
        console.print(f"{what} #{record.id} written to {record.path}", highlight=False)
        if record.html_path:
            console.print(f"  (open {record.html_path} in a browser to read it)", highlight=False)
    elif record.status == "pending":
        err.print(Text.assemble((f"{what.lower()} #{record.id} not sent yet", "yellow"),
                                f" (try {record.attempts}): {record.last_error}. The scheduler "
                                "tries again, or run `storeaudit report`."), soft_wrap=True)
    else:
        err.print(Text.assemble((f"{what.lower()} #{record.id} failed", "red"),
                                f" after {record.attempts} tries: {record.last_error}. Its "
                                "findings come again in the next one."), soft_wrap=True)
