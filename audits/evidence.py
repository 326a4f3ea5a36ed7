"""Screenshots as evidence: after an audit, the listing page of each finding it raised,
reopened or resolved, as the crawler's browser renders it (`crawler.screenshots`).

One screenshot per listing page and audit serves every finding on it; at most
`[evidence] max_per_audit` pages, the listings of the worst findings first. Then the ledger
drops what is older than `retention_days` and, oldest first, what does not fit in `max_mb`.
A screenshot that cannot be taken (the page failed, the browser is missing) is logged and the
audit stands: evidence is extra, the finding is not.
"""

from __future__ import annotations

import logging

from crawler.screenshots import shoot_pages_sync

from .contract import Contract
from .engine import AuditOutcome
from .ledger import Finding, Ledger, LedgerError
from .rules import SEVERITIES

log = logging.getLogger(__name__)

def _wanted(ledger: Ledger, outcome: AuditOutcome) -> list[tuple[Finding, str]]:
    update = outcome.update
    raised = [(f, "first_seen") for f in ledger.findings(ids=update.new + update.reopened)]
    resolved = [(f, "resolved") for f in ledger.findings(ids=update.resolved)]
    return sorted(((f, m) for f, m in raised + resolved if f.listing_id is not None and f.url),
                  key=lambda fm: (SEVERITIES.index(fm[0].severity), fm[0].id))


def keep_screenshots(contract: Contract, ledger: Ledger, outcome: AuditOutcome) -> int:
    """Take and keep the audit's screenshots; returns how many findings got one."""
    settings = contract.evidence
    if not settings.screenshots:
        return 0
    wanted = _wanted(ledger, outcome)
    pages = list(dict.fromkeys(f.url for f, _ in wanted))[:settings.max_per_audit]
    if not pages:
        return 0
    try:
        shots = shoot_pages_sync(contract.crawl_config(), pages)
    except Exception as e:  # no browser, the browser broke: the audit stands
        log.warning("no screenshots for run %s: %s: %s", outcome.run.id, type(e).__name__, e)
        return 0
    kept = []
    for finding, moment in wanted:
        shot = shots.get(finding.url)
        if shot is None:
            continue
        if shot.jpeg is None:
            log.info("no screenshot of %s: %s", finding.url, shot.error)
            continue
        kept.append({"finding_id": finding.id, "moment": moment, "run_id": outcome.run.id,
                     "url": finding.url, "jpeg": shot.jpeg, "width": shot.width,
                     "height": shot.height})
    try:
        if kept:
            ledger.add_screenshots(kept)
        ledger.prune_screenshots(keep_days=settings.retention_days,
                                 max_bytes=int(settings.max_mb * 1024 * 1024))
    except LedgerError as e:  # the disk is full, the ledger locked: the audit stands
        log.warning("the screenshots of run %s were not kept: %s", outcome.run.id, e)
        return 0
    return len(kept)


__all__ = ["keep_screenshots"]
