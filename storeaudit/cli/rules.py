"""What storeaudit checks: `rules`, written from the rule registry."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from audits.contract import load_contract
from audits.rules import RULES
from audits.rules.docs import markdown_table

from .common import USER_ERRORS, app, console, fail


@app.command("rules")
def rules_cmd(
    contract: Path = typer.Option(None, "--contract", "-c",
                                  help="Show each rule as this contract sets it (on or off, "
                                       "its severity)."),
    markdown: bool = typer.Option(False, "--markdown",
                                  help="Print the README's table of rules (Markdown)."),
    details: bool = typer.Option(False, "--details", help="Also say why, with an example."),
) -> None:
    """List every rule: its id (the contract's [rules.<id>] section), its name, its severity
    and what it checks."""
    if markdown:
        console.print(markdown_table(), end="", markup=False, highlight=False, soft_wrap=True)
        return
    loaded = None
    if contract is not None:
        try:
            loaded = load_contract(contract)
        except USER_ERRORS as e:
            fail(str(e))
    table = Table(title="Rules" + (f" as {contract} sets them" if loaded else ""),
                  title_justify="left", show_lines=details)
    table.add_column("rule", no_wrap=True)  # the contract's section name: never cut
    for column in ("name", "severity", "checks"):
        table.add_column(column)
    for rule in RULES:
        severity, on = rule.severity, True
        if loaded is not None:
            settings = loaded.rule_settings(rule.id)
            severity, on = settings.severity or rule.severity, settings.enabled
        checks = Text(rule.description)
        if details and rule.details:
            checks.append("\n\n" + rule.details, style="dim")
        table.add_row(rule.id, rule.label, severity if on else f"{severity} (off)", checks)
    console.print(table)
