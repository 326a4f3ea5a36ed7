"""A steady-rate load generator, run in its own process so it never shares a CPU-bound event
loop with the server it measures:

    python -m bench.load URL_PREFIX TOKEN RATE SECONDS PAGE_URL...

Starts one GET every 1/RATE s (open loop: a slow answer does not delay the next request),
cycling through the page URLs (`URL_PREFIX + quote(page)`), and prints one JSON line:
{"sent", "ok", "errors", "latencies_ms": [...]}. Latency is measured from the scheduled start,
so a request the generator itself started late still counts its wait.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import quote

import httpx


async def run(prefix: str, token: str, rate: float, seconds: float, pages: list[str]) -> dict:
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"},
                                 limits=httpx.Limits(max_connections=64,
                                                     max_keepalive_connections=64),
                                 timeout=10) as client:
        # Warm the connections and the server before the measured window.
        for page in pages[:20]:
            await client.get(prefix + quote(page, safe=""))

        async def one(due: float, page: str) -> None:
            nonlocal errors
            try:
                r = await client.get(prefix + quote(page, safe=""))
                if r.status_code != 200:
                    errors += 1
                    return
            except httpx.HTTPError:
                errors += 1
                return
            latencies.append((time.perf_counter() - due) * 1000)

        tasks = []
        start = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(due, pages[i % len(pages)])))
        await asyncio.gather(*tasks)
    return {"sent": total, "ok": len(latencies), "errors": errors, "latencies_ms": latencies}


def main(argv: list[str]) -> int:
    prefix, token, rate, seconds, *pages = argv
    print(json.dumps(asyncio.run(run(prefix, token, float(rate), float(seconds), pages))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
