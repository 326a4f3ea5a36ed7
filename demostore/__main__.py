"""python -m demostore [--day N] [--size N] [--port N] [--host H] [--hostile-titles]
python -m demostore export-catalog PATH [--size N]
python -m demostore export-registry DIR
python -m demostore timeline
"""

from __future__ import annotations

import argparse
import sys
import time

from . import scenario
from .catalog import SHOP_NAME, write_catalog_csv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demostore", description=f"Serve the sample store {SHOP_NAME}.")
    parser.add_argument("--day", type=int, default=0, help=f"scenario day 0..{scenario.DAYS - 1} (default 0)")
    parser.add_argument("--size", type=int, default=60, help="number of listings (default 60)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port (default 8765)")
    parser.add_argument("--hostile-titles", action="store_true", help="include two listings with HTML in their titles")
    sub = parser.add_subparsers(dest="command")
    exp = sub.add_parser("export-catalog", help="write the merchant's catalog.csv")
    exp.add_argument("path")
    exp.add_argument("--size", type=int, default=60, dest="csv_size")
    reg = sub.add_parser("export-registry", help="write the known infringing images into a folder")
    reg.add_argument("dir")
    sub.add_parser("timeline", help="print what happens on which day")
    args = parser.parse_args(argv)

    if args.command == "export-catalog":
        path = write_catalog_csv(args.path, args.csv_size)
        print(f"wrote {path} ({args.csv_size} listings)")
        return 0
    if args.command == "export-registry":
        from .images import export_registry

        for path in export_registry(args.dir):
            print(f"wrote {path}")
        return 0
    if args.command == "timeline":
        for day in range(scenario.DAYS):
            events = scenario.events_on(day)
            print(f"day {day:2d} ({scenario.date_of(day)}): " + ("baseline" if day == 0 else "" if events else "-"))
            for e in events:
                print(f"    {e.sku} [{e.kind}] {e.description}")
        return 0

    if not 0 <= args.day < scenario.DAYS:
        parser.error(f"--day must be in 0..{scenario.DAYS - 1}")
    from .app import DemoStore
    from .server import run_in_thread

    store = DemoStore(size=args.size, day=args.day, hostile_titles=args.hostile_titles)
    running = run_in_thread(store, host=args.host, port=args.port)
    print(f"{SHOP_NAME} (day {args.day}, {args.size} listings) at {running.url}  — Ctrl+C to stop", flush=True)
    try:
        while running.thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
