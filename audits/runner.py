"""One audit pass, start to finish: the contract's crawl recorded in the ledger, then the rules.

The CLI, the demo and (later) the scheduler and the spot-check all go through here, so a run
is recorded and judged the same way whoever starts it.
"""

from __future__ import annotations

import logging
from urllib.parse import urljoin

from crawler.crawl import CrawlConfig, CrawlProgress, crawl_sync

from .catalog import CatalogEntry, load_catalog
from .contract import Contract
from .engine import AuditOutcome, audit_run
from .ledger import Ledger, Run

log = logging.getLogger(__name__)


def run_crawl(
    contract: Contract,
    ledger: Ledger,
    *,
    kind: str = "manual",
    progress: CrawlProgress | None = None,
    config: CrawlConfig | None = None,
    run_id: int | None = None,
) -> Run:
    """Crawl the store now and record what was seen. A crawl that breaks down is recorded
    as a failed run and re-raised; the ledger keeps its previous state.

    `run_id`: a run already started (so a caller could hand its id out before the crawl)."""
    config = config or contract.crawl_config()
    run_id = run_id or ledger.start_run(kind)
    try:
        result = crawl_sync(config, known_images=ledger.known_images(),
                            known_pages=ledger.known_pages(
                                [urljoin(config.base_url, u) for u in config.urls]
                                if config.urls else None),
                            now=ledger.clock.now, progress=progress)
    except BaseException as e:
        ledger.fail_run(run_id, f"{type(e).__name__}: {e}")
        raise
    return ledger.record_crawl(run_id, result, full=not config.urls)


def run_audit(
    contract: Contract,
    ledger: Ledger,
    *,
    kind: str = "manual",
    progress: CrawlProgress | None = None,
    config: CrawlConfig | None = None,
    catalog: dict[str, CatalogEntry] | None = None,
    run_id: int | None = None,
) -> AuditOutcome:
    """Crawl, record, and judge the run against the contract.

    The catalog is read before the crawl starts: a bad sheet is refused before anything
    is written."""
    if catalog is None:
        catalog = load_catalog(contract.catalog_path())
    config = config or contract.crawl_config()
    run = run_crawl(contract, ledger, kind=kind, progress=progress, config=config, run_id=run_id)
    return audit_run(ledger, contract, catalog, run, full=not config.urls)
