"""The sample store for the benchmark, in its own process: `python -m bench.store_process
--size 2000` prints its URL and serves until killed (POST /__scenario__ moves its day).

Its listing photos come from `quick_image`: the sample store's studio drawing costs the store
~0.1 s of Pillow per photo, which would make the benchmark measure the store's drawing, not the
audit. A real store serves photo files; here each photo is drawn once, quickly (~3 ms), and
kept, so every photo is still its own picture with its own bytes and hashes.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from functools import lru_cache

from PIL import Image, ImageDraw


@lru_cache(maxsize=None)
def quick_image(sku: str, index: int, ext: str, category: str | None = None) -> bytes:
    rng = random.Random(f"{sku}:{index}:{category}")
    colour = lambda: tuple(rng.randrange(256) for _ in range(3))  # noqa: E731
    img = Image.new("RGB", (480, 480), colour())
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        x, y = rng.randrange(400), rng.randrange(400)
        w, h = rng.randrange(40, 240), rng.randrange(40, 240)
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + w, y + h), fill=colour())
    buf = io.BytesIO()
    if ext == "png":
        img.save(buf, "PNG", compress_level=1)
    else:
        img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.store_process")
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--day", type=int, default=0)
    parser.add_argument("--nice", type=int, default=0,
                        help="run at this lower CPU priority: a stand-in for a store on "
                             "another machine, kept from taking the CPU of what is measured")
    args = parser.parse_args(argv)
    if args.nice:
        import os

        os.nice(args.nice)
    from demostore.app import DemoStore
    from demostore.server import run_in_thread

    store = DemoStore(size=args.size, day=args.day, draw_image=quick_image)
    running = run_in_thread(store)
    print(f"sample store at {running.url}", flush=True)
    try:
        while running.thread.is_alive():
            time.sleep(0.5)
    finally:
        running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
