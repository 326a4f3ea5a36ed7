"""`python -m bench big` (or `make bench BIG=1`): a 20,000-listing store, outside `make bench`'s
default because its cold audit alone takes many minutes.

Rows: the cold full audit, the warm re-audit with nothing changed and the re-audit after one
scenario day of changes, each with the peak memory of the audit's process and everything it
started (Chromium, the hashing workers), and how many bytes the ledger grew by per
listing-night on each night.

The store runs in its own process at a lower priority (a stand-in for a site on another
machine), and every listing photo is asked for once before anything is timed, so the store's
first drawing of each photo is not timed as the audit's.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from .crawl import _bench_contract, _process, _run_stats, _warm_store
from .peak_memory import PeakRss
from .table import Row

SECTION = "big store"
SIZE = 20_000
QUICK_SIZE = 3_000
MEMORY_TARGET_MB = 1536


def run(quick: bool) -> list[Row]:
    from audits.catalog import load_catalog
    from audits.ledger import Ledger
    from audits.runner import run_audit
    from storeaudit.sample_store import set_store_day

    size = QUICK_SIZE if quick else SIZE
    rows: list[Row] = []
    work = Path(tempfile.mkdtemp(prefix="storeaudit-bench-big-"))
    try:
        with _process(["-m", "bench.store_process", "--size", str(size), "--nice", "10"],
                      "the bench store") as (store_url, store_pid):
            # the whole store: a crawl reads 5,000 listing pages unless the contract says more
            contract = _bench_contract(work, store_url, size, max_pages=size)
            catalog = load_catalog(contract.catalog_path())
            t0 = time.perf_counter()
            _warm_store(store_url, size)
            warmed_s = time.perf_counter() - t0
            path = work / "ledger.db"

            def night() -> tuple[float, float, int, str]:
                before = _ledger_bytes(path)
                # Closed after each night: its write-ahead log goes into the file, so the
                # file's growth is the night's.
                with Ledger(path) as ledger, PeakRss({store_pid}) as rss:
                    t0 = time.perf_counter()
                    outcome = run_audit(contract, ledger, kind="nightly", catalog=catalog)
                    took = time.perf_counter() - t0
                    stats = _run_stats(ledger, outcome.run.id)
                return took, rss.peak_kb / 1024, _ledger_bytes(path) - before, stats

            for what, target_s, target, label in (
                    ("cold", 600, "<= 10 min", f"cold full audit ({size:,} listings)"),
                    ("warm", 60, "<= 60 s", "warm re-audit, nothing changed"),
                    ("day", None, None, "re-audit after one day of changes")):
                note_extra = ""
                if what == "day":
                    events = set_store_day(store_url, 1)["events"]
                    note_extra = f"{len(events)} scenario events; "
                took, peak_mb, grown, stats = night()
                per_listing = grown / size
                rows.append(Row(SECTION, label, took, "s", target=target,
                                met=None if target_s is None or quick else took <= target_s,
                                note=f"{note_extra}{stats}"))
                rows.append(Row(SECTION, f"{what}: peak memory incl. Chromium", peak_mb, "MB",
                                target=f"<= {MEMORY_TARGET_MB} MB",
                                met=None if quick else peak_mb <= MEMORY_TARGET_MB,
                                note="PSS of the audit's process and its children; the "
                                     "store not counted"))
                rows.append(Row(SECTION, f"{what}: ledger growth per listing-night",
                                per_listing, "B",
                                note=f"{grown / 1e6:.1f} MB for {size:,} listings; ledger "
                                     f"{_ledger_bytes(path) / 1e6:.0f} MB after"))
            rows[0].note += f"; the store's photos were first drawn in {warmed_s:.0f} s"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def _ledger_bytes(path: Path) -> int:
    """The ledger's size on disk, its write-ahead log included."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal"))
               if p.exists())
