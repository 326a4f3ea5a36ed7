"""Filling the registry of known infringing images: from image files and folders, from a hash
list (CSV), from an upload through the API; and taking entries out.

Each file is hashed the way the crawler hashes listing images (`imaging`), plus the
variants a registry image is matched by (its mirror image and crops); a file that is not an
image we are willing to decode is refused with the reason, and the rest still go in. A hash list
with a bad row is refused whole, naming the row and the column, before anything is written.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from imaging import ImageRefused, hash_registry_bytes

from .ledger import Ledger, RegistryEntry

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"}
MAX_FILE_BYTES = 50 * 1024 * 1024
HASH_COLUMNS = ("phash", "dhash")          # 16 hex digits each
CSV_REQUIRED = ("label", "phash")
CSV_OPTIONAL = ("source", "dhash", "colour", "sha256")
CSV_IGNORED = ("id",)  # `registry list --csv` writes it; a new ledger numbers entries anew
_HEX16 = re.compile(r"^[0-9a-fA-F]{16}$")
_HEX_COLOUR = re.compile(r"^[0-9a-fA-F]{256}$")
_HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class RegistryImportError(ValueError):
    """A hash list that cannot be imported; the message names the file, row and column."""


@dataclass
class RegistryAdd:
    added: list[RegistryEntry] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)


def image_files(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The image files named, folders searched recursively for image suffixes."""
    found, missing = [], []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*")
                            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            missing.append((path, "no such file or folder"))
    return found, missing


def hash_file(path: Path) -> dict:
    """The registry hashes of one image file, or ImageRefused / OSError saying why not."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ImageRefused(f"too large: {size} bytes (limit {MAX_FILE_BYTES})")
    return hash_registry_bytes(path.read_bytes())


def _entry(hashed: dict, *, label: str, source: str | None, path: str | None) -> dict:
    return dict(label=label, source=source, path=path, sha256=hashed["sha256"],
                phash=hashed["phash"], dhash=hashed["dhash"], core_phash=hashed["core_phash"],
                core_dhash=hashed["core_dhash"], colour=hashed["colour"],
                variants=hashed["variants"], features=hashed["features"],
                mirror_features=hashed["mirror_features"])


def add_to_registry(ledger: Ledger, paths: list[Path], *, label: str | None = None,
                    source: str | None = None, added_by: str = "merchant") -> RegistryAdd:
    files, refused = image_files(paths)
    outcome = RegistryAdd(refused=refused)
    entries = []
    for path in files:
        try:
            hashed = hash_file(path)
        except (ImageRefused, OSError) as e:
            outcome.refused.append((path, str(e)))
            continue
        name = label if label and len(files) == 1 else (f"{label}: {path.stem}" if label else path.stem)
        entries.append(_entry(hashed, label=name, source=source, path=str(path.resolve())))
    outcome.added = ledger.add_registry_entries(entries, added_by=added_by) if entries else []
    return outcome


@dataclass
class RegistryRefresh:
    refreshed: list[RegistryEntry] = field(default_factory=list)
    refused: list[tuple[RegistryEntry, str]] = field(default_factory=list)
    without_file: list[RegistryEntry] = field(default_factory=list)


def stale_entries(ledger: Ledger) -> list[RegistryEntry]:
    """Registry entries with a file but no local features (added before they were kept)."""
    return [e for e in ledger.registry() if e.path and not e.local_features]


def refresh_features(ledger: Ledger, *, actor: str = "merchant") -> RegistryRefresh:
    """Find the local features of the registry entries that have none (added before they
    were kept) from their image files. An entry added from hashes alone has no file: it
    stays matched by its hashes. A file gone or changed is refused with the reason."""
    outcome = RegistryRefresh()
    found = {}
    for entry in ledger.registry():
        if entry.local_features:
            continue
        if not entry.path:
            outcome.without_file.append(entry)
            continue
        try:
            hashed = hash_file(Path(entry.path))
        except (ImageRefused, OSError) as e:
            outcome.refused.append((entry, str(e)))
            continue
        if entry.sha256 and hashed["sha256"] != entry.sha256:
            outcome.refused.append((entry, f"{entry.path} is not the file registered (its "
                                           "bytes changed): register it again"))
            continue
        found[entry.id] = (hashed["features"], hashed["mirror_features"])
        outcome.refreshed.append(entry)
    ledger.set_registry_features(found, actor=actor)
    return outcome


def upload_folder(ledger: Ledger) -> Path:
    """Where images uploaded through the API are kept: beside the ledger file."""
    return ledger.path.resolve().parent / f"{ledger.path.stem}-registry"


def add_uploaded_image(ledger: Ledger, data: bytes, *, filename: str | None, label: str | None,
                       source: str | None, added_by: str) -> RegistryEntry:
    """Hash an uploaded image (ImageRefused if it is not one we decode), keep the file beside
    the ledger (named by its sha256, so the dashboard and email can show it) and register it."""
    if len(data) > MAX_FILE_BYTES:
        raise ImageRefused(f"too large: {len(data)} bytes (limit {MAX_FILE_BYTES})")
    hashed = hash_registry_bytes(data)
    folder = upload_folder(ledger)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{hashed['sha256']}.img"
    if not target.exists():
        target.write_bytes(data)
    name = label or (Path(filename).stem if filename else None) or f"upload {hashed['sha256'][:12]}"
    return ledger.add_registry_entries(
        [_entry(hashed, label=name[:200], source=source, path=str(target))], added_by=added_by)[0]


def check_hashes(values: dict[str, str | None], where: str) -> dict[str, str | None]:
    """Validated, lower-cased hashes (phash required; dhash, colour, sha256 optional); a
    RegistryImportError naming `where` and the column otherwise."""
    out: dict[str, str | None] = {}
    for column, pattern, what in (("phash", _HEX16, "16 hex digits"),
                                  ("dhash", _HEX16, "16 hex digits"),
                                  ("colour", _HEX_COLOUR, "256 hex digits"),
                                  ("sha256", _HEX_SHA256, "64 hex digits")):
        value = (values.get(column) or "").strip()
        if not value:
            if column == "phash":
                raise RegistryImportError(f"{where}, column 'phash': empty (give the 64-bit "
                                          "perceptual hash as 16 hex digits)")
            out[column] = None
            continue
        if not pattern.match(value):
            raise RegistryImportError(f"{where}, column {column!r}: {value[:40]!r} is not "
                                      f"{what}")
        out[column] = value.lower()
    return out


def parse_hash_list(text: str, name: str = "hash list") -> list[dict]:
    """Registry entries from a CSV with the columns label,phash and optionally source, dhash,
    colour, sha256 (as `registry list --csv` writes them). The whole file is checked first:
    a bad row refuses the file, naming the row."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise RegistryImportError(f"{name}: empty; the first line must name the columns "
                                  f"({', '.join(CSV_REQUIRED + CSV_OPTIONAL)})")
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        raise RegistryImportError(f"{name}, line 1: missing column(s) {', '.join(missing)} "
                                  f"(found: {', '.join(header)})")
    unknown = [c for c in header if c not in CSV_REQUIRED + CSV_OPTIONAL + CSV_IGNORED]
    if unknown:
        raise RegistryImportError(f"{name}, line 1: unknown column(s) {', '.join(unknown)} "
                                  f"(known: {', '.join(CSV_REQUIRED + CSV_OPTIONAL)})")
    entries = []
    for row in reader:
        line = reader.line_num
        row = {(k or "").strip(): v for k, v in row.items()}
        if None in row or "" in row:
            raise RegistryImportError(f"{name}, line {line}: more values than columns")
        if not any((v or "").strip() for v in row.values()):
            continue
        label = (row.get("label") or "").strip()
        if not label:
            raise RegistryImportError(f"{name}, line {line}, column 'label': empty (say what "
                                      "the image is)")
        hashes = check_hashes(row, f"{name}, line {line}")
        entries.append(dict(label=label[:200], source=(row.get("source") or "").strip() or None,
                            path=None, sha256=hashes["sha256"], phash=hashes["phash"],
                            dhash=hashes["dhash"], colour=hashes["colour"]))
    if not entries:
        raise RegistryImportError(f"{name}: no rows under the header")
    return entries


def import_hash_list(ledger: Ledger, path: Path, *, source: str | None = None,
                     added_by: str = "merchant") -> list[RegistryEntry]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise RegistryImportError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}); "
                                  "save it as CSV UTF-8") from e
    entries = parse_hash_list(text, str(path))
    for e in entries:
        e["source"] = e["source"] or source
    return ledger.add_registry_entries(entries, added_by=added_by)
