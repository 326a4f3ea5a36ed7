"""`python -m bench big` (or `make bench BIG=1`): a 20,000-listing store, outside `make bench`'s
default because its cold audit alone takes many minutes.

Rows: the cold full audit, the warm re-audit with nothing changed and the re-audit after one
scenario day of changes, each run in a process of its own (`bench.audit_once`) with the peak
memory of that process and everything it started (Chromium, the hashing workers), and how
many bytes the ledger grew by per listing-night on each night. Each figure is the median of
RUNS runs of the three nights, each run on a new ledger with the store back on its first day
(about an hour in all).

The store runs in its own process at a lower priority (a stand-in for a site on another
machine), and every listing photo is asked for once before anything is timed, so the store's
first drawing of each photo is not timed as the audit's.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .crawl import _bench_contract, _process, _run_stats, _warm_store
from .peak_memory import PeakRss
from .table import RUNS, Row, spread

SECTION = "big store"
SIZE = 20_000
QUICK_SIZE = 3_000
MEMORY_TARGET_MB = 1536


def run(quick: bool) -> list[Row]:
    from audits.ledger import Ledger
    from storeaudit.sample_store import set_store_day

    size = QUICK_SIZE if quick else SIZE
    rows: list[Row] = []
    work = Path(tempfile.mkdtemp(prefix="storeaudit-bench-big-"))
    try:
        with _process(["-m", "bench.store_process", "--size", str(size), "--nice", "10"],
                      "the bench store") as (store_url, store_pid):
            # the whole store: a crawl reads 5,000 listing pages unless the contract says more
            _bench_contract(work, store_url, size, max_pages=size)
            t0 = time.perf_counter()
            _warm_store(store_url, size)
            warmed_s = time.perf_counter() - t0
            path = work / "ledger.db"

            def night() -> tuple[float, float, int, str]:
                before = _ledger_bytes(path)
                # In a process of its own (what a nightly is), so its memory is the audit's
                # alone; the ledger is closed after each night, its write-ahead log then in
                # the file, so the file's growth is the night's.
                audit = subprocess.Popen([sys.executable, "-m", "bench.audit_once",
                                          str(work / "contract.toml"), str(path)],
                                         stdout=subprocess.PIPE, text=True)
                with PeakRss({store_pid}, root=audit.pid) as rss:
                    out, _ = audit.communicate()
                if audit.returncode:
                    raise RuntimeError(f"the audit failed (exit status {audit.returncode})")
                answer = json.loads(out.strip().splitlines()[-1])
                with Ledger(path) as ledger:
                    stats = _run_stats(ledger, answer["run_id"])
                return answer["seconds"], rss.peak_kb / 1024, _ledger_bytes(path) - before, stats

            nights = ("cold", "warm", "day")
            seen: dict[str, list[tuple[float, float, int, str]]] = {n: [] for n in nights}
            events: list = []
            for n in range(1 if quick else RUNS):
                # each run from the start: a new ledger, the store back on its first day
                for old in work.glob("ledger.db*"):
                    old.unlink()
                set_store_day(store_url, 0)
                for what in nights:
                    if what == "day":
                        events = set_store_day(store_url, 1)["events"]
                    seen[what].append(night())
            for what, target_s, target, label in (
                    ("cold", 600, "<= 10 min", f"cold full audit ({size:,} listings)"),
                    ("warm", 60, "<= 60 s", "warm re-audit, nothing changed"),
                    ("day", None, None, "re-audit after one day of changes")):
                runs = seen[what]
                took = statistics.median(r[0] for r in runs)
                peak_mb = statistics.median(r[1] for r in runs)
                grown = statistics.median(r[2] for r in runs)
                note_extra = f"{len(events)} scenario events; " if what == "day" else ""
                rows.append(Row(SECTION, label, took, "s", target=target,
                                met=None if target_s is None or quick else took <= target_s,
                                note=f"{spread([r[0] for r in runs], '{:.0f}')} s; "
                                     f"{note_extra}{runs[-1][3]}"))
                rows.append(Row(SECTION, f"{what}: peak memory incl. Chromium", peak_mb, "MB",
                                target=f"<= {MEMORY_TARGET_MB} MB",
                                met=None if quick else peak_mb <= MEMORY_TARGET_MB,
                                note=f"{spread([r[1] for r in runs], '{:.0f}')} MB; PSS of the "
                                     "audit's process and its children; the store not counted"))
                rows.append(Row(SECTION, f"{what}: ledger growth per listing-night",
                                grown / size, "B",
                                note=f"{spread([r[2] / size for r in runs], '{:.0f}')} B; "
                                     f"{grown / 1e6:.1f} MB for {size:,} listings"))
            rows[0].note += f"; the store's photos were first drawn in {warmed_s:.0f} s"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def _ledger_bytes(path: Path) -> int:
    """The ledger's size on disk, its write-ahead log included."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal"))
               if p.exists())
