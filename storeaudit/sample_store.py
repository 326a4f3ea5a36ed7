"""The sample store, seen from outside as any store is: found without importing it, run as a
child process, moved to a scenario day over HTTP, its rights holder's photos exported as files.

The demo, the tests and the bench use it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import httpx

from audits.contract import Contract, load_contract

from .children import serving_child


def demostore_dir() -> Path:
    """The sample store's folder, found without importing it (storeaudit only talks to it)."""
    spec = importlib.util.find_spec("demostore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the demostore package is not installed; run `make setup`")
    return Path(list(spec.submodule_search_locations)[0])


def demo_contract() -> Contract:
    """The sample store's contract (`demostore/contract.toml`)."""
    return load_contract(demostore_dir() / "contract.toml")


@contextmanager
def sample_store(size: int = 60, port: int = 0, host: str = "127.0.0.1",
                 hostile_titles: bool = False):
    """Run the sample store in a child process; yield its base URL."""
    with serving_child(["-m", "demostore", "--size", str(size), "--port", str(port),
                        "--host", host, *(["--hostile-titles"] if hostile_titles else [])],
                       "the sample store") as (url, _):
        yield url


def export_registry_images(folder: Path) -> Path:
    """The sample store's known infringing photos, written as files (as a rights holder's
    notice would come), for `registry add`."""
    subprocess.run([sys.executable, "-m", "demostore", "export-registry", str(folder)],
                   check=True, capture_output=True, text=True)
    return folder


def set_store_day(base_url: str, day: int, hour: int | None = None) -> dict:
    """Move the sample store to a scenario day (at `hour`, store time; by default the
    nightly's); returns its date and the agency's events."""
    asked = {"day": day} if hour is None else {"day": day, "hour": hour}
    response = httpx.post(f"{base_url}/__scenario__", json=asked, timeout=10)
    response.raise_for_status()
    return response.json()
