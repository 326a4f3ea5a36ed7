"""The one use case: take the audit slot, audit the store, then tell every notifier.

The CLI's `storeaudit audit`, the scheduler's nightly and extra audits, the spot-check (from the
API or the CLI) and the demo's nights all call `audit_then_tell`, so an audit is recorded,
judged and told about the same way whoever starts it:

1. the audit slot (`audits.audit_lock`): two audits never run at once on one ledger; a caller
   may wait for it, or be refused at once (AuditBusy, before anything is written), or hand
   in a slot it already took;
2. the audit itself (`audits.runner.run_audit`: crawl, record, judge), or the caller's own;
3. the slot is given back, then every registered notifier hears of it (`audits.notify`):
   after any audit, and after the nightly one. A notifier never undoes an audit, and an
   audit that broke down is told about too (the nightly email says it could not finish).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from crawler.config import CrawlConfig
from crawler.crawl import CrawlProgress

from .audit_lock import HeldSlot, take_audit_slot
from .catalog import CatalogEntry
from .contract import Contract
from .engine import AuditOutcome
from .ledger import Delivery, Ledger
from .notify import AuditNews, tell
from .runner import run_audit

# An audit as a function: (contract, ledger, run kind) -> its outcome. The scheduler's tests
# give their own, which records a night without crawling.
AuditFn = Callable[[Contract, Ledger, str], AuditOutcome]


@dataclass
class Told:
    """What became of one audit, and what the notifiers sent about it."""

    outcome: AuditOutcome | None               # None: it broke down
    problem: str | None = None                 # why, in words
    error: Exception | None = None             # what it raised
    deliveries: list[Delivery] = field(default_factory=list)

    def raise_error(self) -> None:
        """Raise what the audit raised, if it did (after the notifiers were told)."""
        if self.error is not None:
            raise self.error


def audit_then_tell(contract: Contract, ledger: Ledger, *, kind: str, holder: str,
                    wait: float | None = 0, slot: HeldSlot | None = None,
                    nightly: bool = False, audit: AuditFn | None = None,
                    catalog: dict[str, CatalogEntry] | None = None,
                    config: CrawlConfig | None = None, progress: CrawlProgress | None = None,
                    run_id: int | None = None) -> Told:
    """Audit the store once (a run of `kind`) and tell every notifier.

    `holder` names the audit to whoever finds the slot taken ("the nightly audit"); `wait`:
    how long to wait for the slot (0: refused at once with AuditBusy; None: as long as it
    takes); `slot`: one the caller took already (released here, whatever happens). `nightly`:
    the notifiers' after-the-nightly moment follows too (the scheduler's nightly, the demo's
    nights). Without `audit`, the real crawl and rules run with `catalog`, `config`,
    `progress` and `run_id` (see `run_audit`).

    Does not raise for an audit that broke down: the notifiers are told, and `Told.error`
    holds it (`Told.raise_error()` for callers that want it raised)."""
    if audit is None:
        def audit(c: Contract, led: Ledger, k: str) -> AuditOutcome:
            return run_audit(c, led, kind=k, progress=progress, config=config, catalog=catalog,
                             run_id=run_id)

    held = slot or take_audit_slot(holder, wait=wait, db=ledger.path)
    told = Told(outcome=None)
    with held:
        try:
            told.outcome = audit(contract, ledger, kind)
        except Exception as e:  # recorded on the run by run_audit; the notifiers hear of it
            told.problem, told.error = f"{type(e).__name__}: {e}", e
    news = AuditNews(contract, ledger, kind, told.outcome, told.problem)
    told.deliveries = tell(news, nightly=nightly)
    return told


__all__ = ["AuditFn", "Told", "audit_then_tell"]
