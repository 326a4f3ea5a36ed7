"""Filling the registry of known infringing images from files and folders.

Each file is hashed the same way the crawler hashes listing images; a file that is not an
image we are willing to decode is refused with the reason, and the rest still go in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from crawler.images import ImageRefused, hash_image_bytes

from .ledger import Ledger, RegistryEntry

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"}
MAX_FILE_BYTES = 50 * 1024 * 1024


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


def add_to_registry(ledger: Ledger, paths: list[Path], *, label: str | None = None,
                    source: str | None = None) -> RegistryAdd:
    files, refused = image_files(paths)
    outcome = RegistryAdd(refused=refused)
    for path in files:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ImageRefused(f"too large: {path.stat().st_size} bytes")
            hashed = hash_image_bytes(path.read_bytes())
        except (ImageRefused, OSError) as e:
            outcome.refused.append((path, str(e)))
            continue
        name = label if label and len(files) == 1 else (f"{label}: {path.stem}" if label else path.stem)
        outcome.added.append(ledger.add_registry_entry(
            label=name, source=source, path=str(path.resolve()), sha256=hashed["sha256"],
            phash=hashed["phash"], dhash=hashed["dhash"]))
    return outcome
