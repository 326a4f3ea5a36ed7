"""An ASGI app whose every answer holds the event loop WORK_S (the work of a real answer, done
on the loop: nothing else moves meanwhile), behind `ShedOverload`; run by uvicorn in a
process of its own, as the API is, so a test's clients do not share its interpreter."""

from __future__ import annotations

import time

from api.overload import ShedOverload

WORK_S = 0.03   # 33 answers a second at most


async def slow_app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    end = time.perf_counter() + WORK_S
    while time.perf_counter() < end:
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


shedding = ShedOverload(slow_app)
