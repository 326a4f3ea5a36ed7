"""The registry of known infringing images: `registry add`, `import`, `list`, `refresh` and
`remove`."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import typer
from rich.text import Text

from audits.ledger import Ledger
from .common import USER_ERRORS, DbOption, fail, app, console, err


registry_app = typer.Typer(help="The registry of known infringing images.", no_args_is_help=True)
app.add_typer(registry_app, name="registry")


@registry_app.command("add")
def registry_add(
    paths: list[Path] = typer.Argument(..., help="Image files or folders (searched recursively)."),
    label: str = typer.Option(None, help="What the images are (default: each file's name)."),
    source: str = typer.Option(None, help="Where they came from, e.g. a rights holder's notice."),
    db: Path = DbOption,
) -> None:
    """Add known infringing images: listing images that look like them become findings.

    Each file is hashed (phash and dhash of the picture, of its mirror image and of crops, and
    its colours) and its local features are kept (corners that still agree in a copy rotated,
    cropped to half, put on a canvas or recoloured). A file that is empty, truncated,
    corrupt, not an image or too large to decode safely is refused with the reason; the
    others still go in. Exits 1 when nothing was added.
    """
    from audits.registry import add_to_registry

    try:
        outcome = add_to_registry(Ledger(db), paths, label=label, source=source)
    except USER_ERRORS as e:
        fail(str(e))
    for entry in outcome.added:
        console.print(f"added #{entry.id} {entry.label} (phash {entry.phash})", highlight=False)
    for path, reason in outcome.refused:
        err.print(f"[red]refused[/red] {path}: {reason}", highlight=False, soft_wrap=True)
    if not outcome.added:
        fail("no image was added")


@registry_app.command("import")
def registry_import(
    csv_file: Path = typer.Argument(..., help="CSV with columns label,phash and optionally "
                                              "source,dhash,colour,sha256.", exists=True,
                                    dir_okay=False),
    source: str = typer.Option(None, help="Source note for rows whose source column is empty."),
    db: Path = DbOption,
) -> None:
    """Import a list of image hashes (e.g. a shared list of stolen photos, or another ledger's
    `registry list --csv`). phash and dhash are 16 hex digits. The whole file is checked
    first: a bad row refuses it, naming the line and the column, and nothing is added.

    An entry without its image file is matched by its hashes as they are: resized,
    recompressed and lightly edited copies are caught, mirrored or cropped ones need the file."""
    from audits.registry import RegistryImportError, import_hash_list

    try:
        added = import_hash_list(Ledger(db), csv_file, source=source)
    except (RegistryImportError, *USER_ERRORS) as e:
        fail(str(e))
    console.print(f"imported {len(added)} hash(es): #{added[0].id}–#{added[-1].id}",
                  highlight=False)


@registry_app.command("list")
def registry_list(
    as_csv: bool = typer.Option(False, "--csv", help="Write CSV (for `registry import`)."),
    db: Path = DbOption,
) -> None:
    """List the registry's images with their hashes."""
    from rich.table import Table

    entries = Ledger(db).registry()
    if as_csv:
        out = csv.writer(sys.stdout)
        out.writerow(["id", "label", "source", "phash", "dhash", "colour", "sha256"])
        for e in entries:
            out.writerow([e.id, e.label, e.source or "", e.core_phash or e.phash or "",
                          e.core_dhash or e.dhash or "", e.colour or "", e.sha256 or ""])
        return
    if not entries:
        console.print("The registry is empty: add images with `storeaudit registry add PATH` "
                      "or a hash list with `storeaudit registry import FILE.csv`.")
        return
    table = Table(title="Known infringing images", title_justify="left")
    for column in ("#", "label", "source", "phash", "kind", "added"):
        table.add_column(column)
    for e in entries:
        if not e.path:
            kind = "hashes only"
        elif e.local_features:
            kind = "file, local features"
        else:
            kind = "file, no local features"
        table.add_row(str(e.id), Text(e.label), Text(e.source or ""), e.phash or "", kind,
                      e.added[:10])
    console.print(table)
    stale = [e for e in entries if e.path and not e.local_features]
    if stale:
        console.print(f"{len(stale)} added before local features were kept: only their hashes "
                      "match them (a rotated or half-cropped copy is missed). Run `storeaudit "
                      "registry refresh`.", highlight=False)


@registry_app.command("refresh")
def registry_refresh(db: Path = DbOption) -> None:
    """Find the local features of registry images added before storeaudit kept them, from
    their files, so that rotated, heavily cropped and recoloured copies of them are caught
    too. Entries imported as hashes have no file and stay matched by their hashes."""
    from audits.registry import refresh_features

    try:
        outcome = refresh_features(Ledger(db), actor="merchant (cli)")
    except USER_ERRORS as e:
        fail(str(e))
    for entry in outcome.refreshed:
        console.print(f"refreshed #{entry.id} {entry.label}", highlight=False)
    for entry, reason in outcome.refused:
        err.print(f"[red]refused[/red] #{entry.id} {entry.label}: {reason}", highlight=False,
                  soft_wrap=True)
    if outcome.without_file:
        n = len(outcome.without_file)
        console.print(f"{n} {'entry' if n == 1 else 'entries'} imported as hashes: matched "
                      "by their hashes only", highlight=False)
    if not outcome.refreshed and not outcome.refused:
        console.print("every registry image with a file has its local features already")
    if outcome.refused:
        raise typer.Exit(1)


@registry_app.command("remove")
def registry_remove(
    entry_id: int = typer.Argument(..., help="The entry's number (see `registry list`)."),
    db: Path = DbOption,
) -> None:
    """Take an image out of the registry. Its open findings are resolved at once, with a note
    saying why; the image file itself is left where it is."""
    try:
        entry, resolved = Ledger(db).remove_registry_entry(entry_id, actor="merchant (cli)")
    except KeyError:
        fail(f"there is no registry entry #{entry_id} (see `storeaudit registry list`)")
    except USER_ERRORS as e:
        fail(str(e))
    console.print(f"removed #{entry.id} {entry.label}", highlight=False)
    if resolved:
        console.print(f"resolved finding(s) #{', #'.join(map(str, resolved))}", highlight=False)
