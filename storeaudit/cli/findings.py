"""Working with findings: `findings`, `acknowledge`, `waive` and `approve`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from audits.contract import load_contract
from audits.ledger import Ledger
from .common import USER_ERRORS, ContractOption, DbOption, cli_actor, fail, zone_of_file, app, console


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
    from ..console import findings_table

    statuses = None if status == "all" else [s.strip() for s in status.split(",") if s.strip()]
    try:
        found = Ledger(db).findings(status=statuses, severity=severity, rule_id=rule, sku=sku)
    except USER_ERRORS as e:
        fail(str(e))
    if not found:
        console.print("No findings match.")
        return
    console.print(findings_table(found, title=f"Findings ({status})", zone=zone_of_file(contract)))


@app.command()
def acknowledge(finding_id: int = typer.Argument(..., help="The finding's number (#)."),
                note: str = typer.Option(None, help="What is being done about it."),
                db: Path = DbOption) -> None:
    """Mark an open finding as seen and being handled (it stays until the problem is gone)."""
    try:
        f = Ledger(db).acknowledge(finding_id, cli_actor(), note)
    except USER_ERRORS as e:
        fail(str(e))
    console.print(f"#{f.id} acknowledged.")


@app.command()
def waive(finding_id: int = typer.Argument(..., help="The finding's number (#)."),
          reason: str = typer.Option(..., help="Why this is acceptable (kept with the finding)."),
          db: Path = DbOption) -> None:
    """Accept a finding as it is, with a reason: it stops counting as open."""
    try:
        f = Ledger(db).waive(finding_id, cli_actor(), reason)
    except USER_ERRORS as e:
        fail(str(e))
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
        fail("give --max-discount (e.g. 0.4 for 40%) or --min-price")
    if max_discount is not None and not 0 < max_discount < 1:
        fail("--max-discount is a fraction between 0 and 1 (0.4 means 40% off)")
    try:
        zone = ZoneInfo(load_contract(contract).store.timezone) if contract.exists() else None
        end = until.replace(hour=23, minute=59, second=59) if until.hour == 0 and until.minute == 0 else until
        end = end.replace(tzinfo=zone) if zone else end.astimezone()
        approval = Ledger(db).add_approval(
            sku, valid_until=end,
            max_discount=None if max_discount is None else Decimal(str(max_discount)),
            min_price=None if min_price is None else Decimal(str(min_price)),
            note=note, created_by=cli_actor())
    except USER_ERRORS as e:
        fail(str(e))
    console.print(f"Approved for {approval.sku} until {approval.valid_until}.")
