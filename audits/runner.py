"""One audit pass, start to finish: the contract's crawl recorded in the ledger, then the rules.

The CLI, the demo and (later) the scheduler and the spot-check all go through here, so a run
is recorded and judged the same way whoever starts it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from urllib.parse import urljoin

from crawler.config import CrawlConfig
from crawler.crawl import CrawlProgress, crawl_sync

from .catalog import CatalogEntry, load_catalog
from .contract import Contract
from .engine import AuditOutcome, audit_run
from .evidence import keep_screenshots
from .ledger import Ledger, LedgerError, Run
from .priority import yield_cpu
from .registry import refresh_features, stale_entries
from .rules.crawl import NOT_MODIFIED_DISTRUSTED

log = logging.getLogger(__name__)


def run_crawl(
    contract: Contract,
    ledger: Ledger,
    *,
    kind: str = "manual",
    progress: CrawlProgress | None = None,
    config: CrawlConfig | None = None,
    run_id: int | None = None,
    finish: bool = True,
) -> Run:
    """Crawl the store now and record what was seen. A crawl that breaks down, or cannot be
    written (disk full, database locked), is recorded as a failed run where the ledger can
    still be written, and re-raised; the ledger keeps its previous state.

    `run_id`: a run already started (so a caller could hand its id out before the crawl).
    `finish`: the run is complete once recorded; False when an audit judges it next."""
    config = config or contract.crawl_config()
    if ledger.false_not_modified_since(ledger.clock.now() - NOT_MODIFIED_DISTRUSTED):
        # caught answering a false 304 lately: every page and image read whole
        config = replace(config, trust_not_modified=False)
    run_id = run_id or ledger.start_run(kind)
    try:
        result = crawl_sync(config, known_images=ledger.known_images(),
                            known_pages=ledger.known_pages(
                                [urljoin(config.base_url, u) for u in config.urls]
                                if config.urls else None),
                            # A whole-store crawl reads every listing it knows, listed or not.
                            known_urls=() if config.urls else
                            [listing.url for listing in ledger.listings()],
                            known_shared=ledger.shared_image_keys(),
                            now=ledger.clock.now, progress=progress)
        return ledger.record_crawl(run_id, result, full=not config.urls, finish=finish)
    except BaseException as e:
        _mark_failed(ledger, run_id, f"{type(e).__name__}: {e}")
        raise


def _refresh_registry(ledger: Ledger) -> None:
    """Registry images added before local features were kept get them from their files, once,
    before the audit matches by them: an upgraded storeaudit catches rotated and half-cropped
    copies of them without the merchant having to know `storeaudit registry refresh`. A file
    gone or changed is left to its hashes, and said in the log each audit."""
    if not stale_entries(ledger):
        return
    outcome = refresh_features(ledger, actor="storeaudit")
    if outcome.refreshed:
        log.info("local features found for %d registry image(s)", len(outcome.refreshed))
    for entry, reason in outcome.refused:
        log.warning("registry #%s %s keeps matching by its hashes only: %s", entry.id,
                    entry.label, reason)


def _mark_failed(ledger: Ledger, run_id: int, error: str) -> None:
    """Record the run as failed, if the ledger can be written at all: when it cannot (the
    disk is full, another process keeps it locked) the run stays unfinished, and the next run
    marks it abandoned."""
    try:
        ledger.fail_run(run_id, error)
    except LedgerError as e:
        log.warning("run %s could not be marked failed: %s", run_id, e)


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
    """Crawl, record, and judge the run against the contract, then keep screenshots of the
    pages of the findings it raised and resolved (`audits.evidence`). The run is complete when
    its findings are written (the same transaction); the crawl and the findings are each all
    or nothing, so a failure in between keeps the crawl and leaves the findings as they were.

    The catalog is read before the crawl starts: a bad sheet is refused before anything
    is written."""
    if catalog is None:
        try:
            catalog = load_catalog(contract.catalog_path())
        except BaseException as e:
            if run_id is not None:  # started by the caller (a spot-check): it ends here
                _mark_failed(ledger, run_id, f"{type(e).__name__}: {e}")
            raise
    config = config or contract.crawl_config()
    if not config.urls:   # a whole-store audit, not a person's spot-check: people first
        yield_cpu()
    _refresh_registry(ledger)
    run = run_crawl(contract, ledger, kind=kind, progress=progress, config=config, run_id=run_id,
                    finish=False)
    try:
        outcome = audit_run(ledger, contract, catalog, run, full=not config.urls)
    except BaseException as e:
        _mark_failed(ledger, run.id, f"the findings could not be updated: {type(e).__name__}: {e}")
        raise
    # The pages of what it raised and resolved, as evidence; the run is complete already.
    keep_screenshots(contract, ledger, outcome)
    return replace(outcome, run=ledger.run(run.id))
