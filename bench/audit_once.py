"""One nightly audit in a process of its own, as `storeaudit audit` or the scheduler's would run
it, so that its memory is measured alone: not with the bench's own (the bench process asked
the store for every photo first, and Python keeps the heap that took).

    python -m bench.audit_once CONTRACT LEDGER

prints one JSON line: the audit's own seconds (from the start of the crawl to its findings,
the interpreter's start-up not counted) and the run's id.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    from audits.catalog import load_catalog
    from audits.contract import load_contract
    from audits.ledger import Ledger
    from audits.runner import run_audit

    contract = load_contract(Path(argv[0]))
    catalog = load_catalog(contract.catalog_path())
    with Ledger(Path(argv[1])) as ledger:
        t0 = time.perf_counter()
        outcome = run_audit(contract, ledger, kind="nightly", catalog=catalog)
        took = time.perf_counter() - t0
    print(json.dumps({"seconds": took, "run_id": outcome.run.id}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
