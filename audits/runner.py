"""One audit pass, start to finish: the contract's crawl, recorded in the ledger.

The CLI, the demo and (later) the scheduler and the spot-check all go through here, so a run
is recorded the same way whoever starts it.
"""

from __future__ import annotations

import logging

from crawler.crawl import CrawlConfig, CrawlProgress, crawl_sync

from .contract import Contract
from .ledger import Ledger, Run

log = logging.getLogger(__name__)


def run_crawl(
    contract: Contract,
    ledger: Ledger,
    *,
    kind: str = "manual",
    progress: CrawlProgress | None = None,
    config: CrawlConfig | None = None,
) -> Run:
    """Crawl the store now and record what was seen. A crawl that breaks down is recorded
    as a failed run and re-raised; the ledger keeps its previous state."""
    config = config or contract.crawl_config()
    run_id = ledger.start_run(kind)
    try:
        result = crawl_sync(config, known_images=ledger.known_images(),
                            now=ledger.clock.now, progress=progress)
    except BaseException as e:
        ledger.fail_run(run_id, f"{type(e).__name__}: {e}")
        raise
    return ledger.record_crawl(run_id, result, full=not config.urls)
