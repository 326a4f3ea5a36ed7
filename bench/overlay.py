"""The overlay under load (`python -m bench overlay`): the extension asks `/api/overlay` on every
page view of every person, so the API is loaded from a separate, cheap generator process
(`bench/load.py`) that reports its own CPU and lateness; a row whose generator had no
headroom is marked invalid, not reported as the server's figure.

On a ledger of 2,000 listings x 30 nights (the crawl section's history), the API run as
`storeaudit serve` would be:

* latency at 200 requests a second, alone and with a full audit of the bench store running
  at the same time (another process crawling 2,000 pages, hashing their images, judging);
* capacity, closed loop: every connection sends again as soon as answered — answers kept
  (pages asked before), with 1 and 2 worker processes, and answers built (pages never asked
  before: each reads the ledger);
* overload: three times the built-answer capacity offered; every answer must come within
  100 ms or be a 503 (refused at once, Retry-After).

Each figure is the median of RUNS runs, with their spread.
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

from .crawl import SIZE, _bench_contract, _build_history, _free_port, _process, _wait_http
from .table import RUNS, Row, spread

SECTION = "overlay"
RATE = 200
P99_TARGET_MS = 20
CAPACITY_TARGET = 800
OVERLOAD_MS = 100


def _pct(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(pct / 100 * len(values)) - 1))]


def _load(prefix: str, secret: str, pages: list[str], *, rate: float, seconds: float,
          connections: int = 32) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(pages))   # many pages: by file, not on the command line
    try:
        out = subprocess.run([sys.executable, "-m", "bench.load", prefix, secret, "@" + f.name,
                              "--rate", str(rate), "--seconds", str(seconds),
                              "--connections", str(connections)],
                             capture_output=True, text=True, check=True)
    finally:
        Path(f.name).unlink(missing_ok=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _generator(results: list[dict]) -> str:
    worst = max(results, key=lambda r: r["generator_cpu_share"])
    return (f"generator: {worst['generator_cpu_share']:.0%} of a core at most, sent "
            f"{max(r['send_lag_p99_ms'] for r in results):.1f} ms late at p99")


def _valid(results: list[dict]) -> bool:
    return all(r["valid"] for r in results)


def _serve(args: list[str]):
    return _process(["-m", "storeaudit", "serve", "--no-schedule", *args], "the API server",
                    pattern=r"http://127\.0\.0\.1:\d+")


def run(quick: bool) -> list[Row]:
    from audits.catalog import load_catalog
    from audits.engine import audit_run
    from audits.ledger import Ledger

    size, nights = (400, 10) if quick else (SIZE, 30)
    seconds = 3 if quick else 8
    work = Path(tempfile.mkdtemp(prefix="storeaudit-bench-overlay-"))
    rows: list[Row] = []
    try:
        # The store stands in for a site on another machine: it runs at the audit's lower
        # priority (audits.priority), so the audit's load on this machine is the audit's.
        with _process(["-m", "bench.store_process", "--size", str(size), "--nice", "10"],
                      "the bench store") as (store_url, _):
            contract = _bench_contract(work, store_url, size)
            catalog = load_catalog(contract.catalog_path())
            path = work / "history.db"
            clock, last = _build_history(path, contract, size, nights)
            with Ledger(path, clock) as ledger:
                audit_run(ledger, contract, catalog, last, full=True)
                secret, _ = ledger.create_token("bench", "merchant")
                urls = [listing.url for listing in ledger.listings()]
            kept_pages = urls[:: max(1, len(urls) // 200)] + [store_url + "/", store_url + "/c/apparel"]
            # pages never asked before: each answer is built (a search page each time; the
            # overload runs ask others again)
            new_pages = [f"{store_url}/search?q={n}" for n in range(20_000)]
            other_new = [f"{store_url}/search?o={n}" for n in range(60_000)]
            serve = ["-c", str(work / "contract.toml"), "--db", str(path)]

            def port_args() -> tuple[list[str], str]:
                port = _free_port()
                return ["--port", str(port)], f"http://127.0.0.1:{port}"

            args, base = port_args()
            with _serve(serve + args):
                _wait_http(base + "/healthz")
                prefix = base + "/api/overlay?url="
                alone = [_load(prefix, secret, kept_pages, rate=RATE, seconds=seconds)
                         for _ in range(RUNS)]
                kept = [_load(prefix, secret, kept_pages, rate=0, seconds=seconds)
                        for _ in range(RUNS)]
                # as many connections as answers may be built or wait at once: none refused
                built = [_load(prefix, secret, new_pages[i::RUNS], rate=0, seconds=seconds,
                               connections=8) for i in range(RUNS)]
                capacity = statistics.median(r["ok_per_s"] for r in built)
                over = [_load(prefix, secret, other_new[i::RUNS], rate=3 * capacity,
                              seconds=seconds, connections=64) for i in range(RUNS)]
                audit = subprocess.Popen([sys.executable, "-m", "storeaudit", "audit", *serve],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    time.sleep(5)   # the audit under way: the browser up, pages coming in
                    during = [_load(prefix, secret, kept_pages, rate=RATE, seconds=seconds)
                              for _ in range(RUNS)]
                    audit_running = audit.poll() is None
                finally:
                    audit.terminate()
                    audit.wait(30)
            args, base = port_args()
            with _serve(serve + args + ["--workers", "2"]):
                _wait_http(base + "/healthz")
                prefix = base + "/api/overlay?url="
                kept2 = [_load(prefix, secret, kept_pages, rate=0, seconds=seconds)
                         for _ in range(RUNS)]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def latency_row(name: str, results: list[dict], extra: str) -> Row:
        p99s = [_pct(r["latencies_ms"], 99) for r in results]
        p50s = [_pct(r["latencies_ms"], 50) for r in results]
        errors = sum(r["errors"] for r in results)
        refused = sum(r["shed_503"] for r in results)
        valid = _valid(results)
        p99 = statistics.median(p99s)
        return Row(SECTION, name, p99, "ms", target=f"<= {P99_TARGET_MS} ms",
                   met=valid and p99 <= P99_TARGET_MS and errors == refused == 0,
                   note=("" if valid else "INVALID, the generator had no headroom: ")
                   + f"p99 {spread(p99s)}, p50 median {statistics.median(p50s):.1f} ms; "
                     f"offered {RATE}/s, achieved {statistics.median(r['achieved_per_s'] for r in results):.0f}/s; "
                     f"{errors} errors, {refused} refused (503); {_generator(results)}{extra}")

    def capacity_row(name: str, results: list[dict], target: bool) -> Row:
        rates = [r["ok_per_s"] for r in results]   # answers given, not refusals
        valid = _valid(results)
        value = statistics.median(rates)
        return Row(SECTION, name, value, "req/s",
                   target=f">= {CAPACITY_TARGET} req/s" if target else None,
                   met=(valid and value >= CAPACITY_TARGET) if target else None,
                   note=("" if valid else "INVALID, the generator had no headroom: ")
                   + f"{spread(rates, '{:.0f}')}; p99 "
                     f"{statistics.median(_pct(r['latencies_ms'], 99) for r in results):.1f} ms; "
                     f"{_generator(results)}")

    rows.append(latency_row(f"p99 at {RATE} req/s", alone, ""))
    rows.append(latency_row(f"p99 at {RATE} req/s, a full audit running", during,
                            "; the audit ran through every window" if audit_running
                            else "; the audit ENDED before the last window"))
    rows[-1].met = rows[-1].met and audit_running
    rows.append(capacity_row("capacity, answers kept, 1 worker", kept, False))
    rows.append(capacity_row("capacity, answers kept, 2 workers", kept2, True))
    rows.append(capacity_row("capacity, answers built (pages not asked before)", built, False))
    timely = []
    for r in over:
        answered = r["latencies_ms"] + r["shed_ms"]
        on_time = sum(1 for t in r["latencies_ms"] if t <= OVERLOAD_MS) + len(r["shed_ms"])
        timely.append(100 * on_time / max(1, len(answered) + r["errors"]))
    valid = _valid(over)
    share = statistics.median(timely)
    rows.append(Row(
        SECTION, f"3x capacity offered: answered within {OVERLOAD_MS} ms or refused", share, "%",
        target="100 %", met=valid and share >= 100,
        note=("" if valid else "INVALID, the generator had no headroom: ")
        + f"{spread(timely)}; offered {3 * capacity:.0f}/s (3 x {capacity:.0f}); "
          f"{statistics.median(r['shed_503'] for r in over):.0f} refused (503), "
          f"{statistics.median(r['ok'] for r in over):.0f} answered, p99 of those "
          f"{statistics.median(_pct(r['latencies_ms'], 99) for r in over):.0f} ms; "
          f"up to {max(r['connections'] for r in over)} connections; {_generator(over)}"))
    return rows
