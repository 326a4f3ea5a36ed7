"""python -m bench [--quick] [--busy] [--big] [section ...]"""

from __future__ import annotations

import argparse
import importlib
import sys

from .table import print_table

SECTIONS = ["images", "photos", "crawl", "overlay", "extraction"]  # each a module bench/<name>.py with run(quick) -> list[Row]
LONG_SECTIONS = ["big"]  # run when named, or with --big: a 20,000-listing store takes long


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("sections", nargs="*", help=f"some of: {', '.join(SECTIONS + LONG_SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--busy", action="store_true",
                        help="keep one core busy with another process throughout (a shared "
                             "machine): what holds then holds")
    parser.add_argument("--big", action="store_true",
                        help="add the 20,000-listing store (bench/big.py), which takes long")
    args = parser.parse_args(argv)
    if args.big:
        args.sections = (args.sections or list(SECTIONS)) + LONG_SECTIONS
    burner = _burn_one_core() if args.busy else None
    try:
        rows = _run(args)
    finally:
        if burner is not None:
            burner.kill()
    print_table(rows, busy=args.busy)
    return 0 if all(r.met is not False for r in rows) else 1


def _burn_one_core():
    import subprocess

    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def _run(args) -> list:
    rows = []
    for name in args.sections or SECTIONS:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"bench.{name}":
                print(f"bench: no section {name!r} yet", file=sys.stderr)
                continue
            raise
        rows += module.run(quick=args.quick)
    return rows


if __name__ == "__main__":
    sys.exit(main())
