"""The registry of known infringing images: `registry add` and `registry list`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from ..ledger import Ledger
from . import USER_ERRORS, DbOption, _fail, app, console, err


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
    from ..registry import add_to_registry

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
