"""A load generator that is cheap, and says how busy it was: HTTP/1.1 over keep-alive
sockets, each request's bytes made once, answers read by their Content-Length. Run in its
own process (`python -m bench.load --help`) so it never shares a CPU with the server it
measures, and prints one JSON line.

Two ways of loading:

* **open loop** (`--rate R`): a request is due every 1/R s whatever the answers do (a slow
  answer does not delay the next request). Latency is counted from when a request was due,
  so a request that waited for a free connection counts its wait (no coordinated omission).
* **closed loop** (`--rate 0`): every connection sends its next request as soon as its
  answer is in: the server's capacity.

What it reports about itself, so a saturated generator is never taken for a slow server:
its CPU (user + system) per second of the run, and how late it sent requests that had a
free connection (`send_lag_ms`). A bench row whose generator used most of its core or sent
late is invalid (`valid`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

# The generator is short of headroom past these: its one core mostly busy, or requests that
# had a free connection sent late.
MAX_CPU_SHARE = 0.7
MAX_SEND_LAG_MS = 5.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _requests(url_prefix: str, token: str, pages: list[str]) -> list[bytes]:
    parts = urlsplit(url_prefix)
    host = parts.netloc
    path = parts.path + ("?" + parts.query if parts.query else "")
    return [(f"GET {path}{quote(page, safe='')} HTTP/1.1\r\nHost: {host}\r\n"
             f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n").encode()
            for page in pages]


async def _answer(reader: asyncio.StreamReader) -> int:
    """Read one answer; its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
            break
    if length:
        await reader.readexactly(length)
    return status


class _Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []     # ms, answers 200
        self.shed: list[float] = []          # ms, answers 503 (overload said so)
        self.errors = 0
        self.statuses: dict[int, int] = {}   # answers neither 200 nor 503, by status
        self.lags: list[float] = []          # ms a request with a free connection was sent late


async def _connect(host: str, port: int):
    return await asyncio.open_connection(host, port, limit=1 << 22)


async def run(url_prefix: str, token: str, pages: list[str], *, rate: float, seconds: float,
              connections: int, max_connections: int = 1024) -> dict:
    parts = urlsplit(url_prefix)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = _requests(url_prefix, token, pages)
    tally = _Tally()
    conns = [await _connect(host, port) for _ in range(connections)]
    # Warm the connections (and the server's caches) before the measured window.
    for i, (reader, writer) in enumerate(conns):
        writer.write(requests[i % len(requests)])
        await _answer(reader)

    opened = [len(conns)]

    async def exchange(conn, request: bytes, due: float) -> None:
        # A kept-alive connection the server closed while idle (uvicorn: after 5 s) fails
        # before any answer: sent again on a new one, as a browser does; not an error.
        for attempt in (0, 1):
            try:
                if conn is None:   # none idle: a new one, as another browser would
                    conn = await _connect(host, port)
                reader, writer = conn
                writer.write(request)
                status = await _answer(reader)
                break
            except (OSError, asyncio.IncompleteReadError, ValueError) as e:
                idle_closed = isinstance(e, (asyncio.IncompleteReadError, ConnectionError)) and (
                    not isinstance(e, asyncio.IncompleteReadError) or not e.partial)
                if attempt == 0 and conn is not None and idle_closed:
                    conn = None
                    continue
                tally.errors += 1
                opened[0] -= 1
                return
        took = (time.perf_counter() - due) * 1000
        if status == 200:
            tally.latencies.append(took)
        elif status == 503:
            tally.shed.append(took)
        else:
            tally.errors += 1
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
        conns.append(conn)

    cpu0, start = _cpu(), time.perf_counter()
    end = start + seconds
    sent = 0
    if rate > 0:
        tasks = set()
        total = int(rate * seconds)
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            # How late the generator itself is: every request is sent at once on an idle
            # connection or a new one, so lateness here is the generator's own.
            tally.lags.append(max(0.0, (time.perf_counter() - due) * 1000))
            while not conns and opened[0] >= max_connections:
                await asyncio.sleep(0.0005)   # at the cap: the request waits (and counts it)
            conn = conns.pop() if conns else None
            if conn is None:
                opened[0] += 1
            task = asyncio.create_task(exchange(conn, requests[i % len(requests)], due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        await asyncio.gather(*tasks)
    else:
        async def loop(n: int) -> None:
            nonlocal sent
            i = n
            while time.perf_counter() < end:
                sent += 1
                await exchange(conns.pop() if conns else None, requests[i % len(requests)],
                               time.perf_counter())
                i += connections

        await asyncio.gather(*(loop(n) for n in range(connections)))
    wall = time.perf_counter() - start
    cpu = _cpu() - cpu0
    for _, writer in conns:
        writer.close()
    lags = sorted(tally.lags)
    lag99 = lags[int(0.99 * (len(lags) - 1))] if lags else 0.0
    share = cpu / wall if wall else 0.0
    return {
        "offered_per_s": rate or None, "sent": sent,
        "achieved_per_s": (len(tally.latencies) + len(tally.shed)) / wall if wall else 0.0,
        "ok_per_s": len(tally.latencies) / wall if wall else 0.0,
        "ok": len(tally.latencies), "shed_503": len(tally.shed), "errors": tally.errors,
        "other_statuses": tally.statuses,
        "latencies_ms": tally.latencies, "shed_ms": tally.shed,
        "seconds": wall, "generator_cpu_share": share,
        "generator_cpu_us_per_request": 1e6 * cpu / max(1, sent),
        "send_lag_p99_ms": lag99, "connections": opened[0],
        "valid": share <= MAX_CPU_SHARE and lag99 <= MAX_SEND_LAG_MS,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("url_prefix", help="e.g. http://127.0.0.1:8600/api/overlay?url=")
    parser.add_argument("token")
    parser.add_argument("pages", nargs="+", help="page URLs, asked in turn (@FILE: one a line)")
    parser.add_argument("--rate", type=float, default=200, help="requests a second; 0: closed loop")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32,
                        help="connections opened first (closed loop: the only ones); an open "
                             "loop opens more while none is idle, up to 1024")
    args = parser.parse_args(argv)
    pages = [line for page in args.pages for line in (
        Path(page[1:]).read_text(encoding="utf-8").splitlines() if page.startswith("@")
        else [page]) if line]
    print(json.dumps(asyncio.run(run(args.url_prefix, args.token, pages, rate=args.rate,
                                     seconds=args.seconds, connections=args.connections))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
