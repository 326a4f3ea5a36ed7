"""What a notifier is, and what it is told.

A notifier is one module of this package (the email is the first) that registers one
`Notifier`: its `name` (the deliveries it records in the ledger carry it), what it does after
any audit (`after_audit`), what it does after the nightly one (`after_nightly`), what is due
by the clock at each of the scheduler's ticks (`on_tick`), and how it tries a pending delivery
again (`deliver`). The audit use case (`audits.audit_then_tell`) calls every registered
notifier at those moments, the scheduler calls `tick_notifiers`; the scheduler and `storeaudit
report` retry what is pending. Adding a notifier is one new module, its settings section in
the contract and its test: nothing that runs audits changes.

A notifier never undoes an audit: whatever it raises is logged and the others are told all the
same. What it sends is recorded as a delivery (`ledger.add_delivery`), pending until it went,
retried with a doubling wait, failed after its last try; `record_failed_try` is that policy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..contract import Contract
from ..engine import AuditOutcome
from ..ledger import Delivery, Ledger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditNews:
    """One audit, as the notifiers hear of it."""

    contract: Contract
    ledger: Ledger
    kind: str                          # the run's kind: nightly, manual, spot, extra, demo
    outcome: AuditOutcome | None     # None: the audit broke down before its findings
    problem: str | None = None         # why it broke down, in words

    @property
    def run_id(self) -> int | None:
        return self.outcome.run.id if self.outcome is not None else None

    @property
    def raised(self) -> list[int]:
        """Findings new or back in this audit."""
        if self.outcome is None:
            return []
        return self.outcome.update.new + self.outcome.update.reopened


class Notifier:
    """One way of telling people. Subclasses override the moments they care about."""

    name: str = ""

    def after_audit(self, news: AuditNews) -> list[Delivery]:
        """After any audit (manual, spot-check, scheduled, the demo's), whatever became of it."""
        return []

    def after_nightly(self, news: AuditNews) -> list[Delivery]:
        """After the nightly audit (also when it broke down: `news.problem` says why), and
        for `storeaudit report` with no audit at all (`news.outcome` None, no problem)."""
        return []

    def deliver(self, contract: Contract, ledger: Ledger, record: Delivery,
                now: datetime) -> Delivery:
        """Try a pending delivery of this notifier's again; the ledger says how it went."""
        return record

    def on_tick(self, contract: Contract, ledger: Ledger, now: datetime) -> list[Delivery]:
        """At each of the scheduler's ticks, audit or none: what is due by the clock (a
        reminder, a step up the escalation ladder)."""
        return []


NOTIFIERS: list[Notifier] = []


def register(notifier: Notifier) -> Notifier:
    """Add a notifier to those told after every audit (one per name)."""
    if not notifier.name:
        raise ValueError(f"{type(notifier).__name__} needs a name")
    if any(n.name == notifier.name for n in NOTIFIERS):
        raise ValueError(f"a notifier named {notifier.name!r} is registered already")
    NOTIFIERS.append(notifier)
    return notifier


def unregister(name: str) -> None:
    NOTIFIERS[:] = [n for n in NOTIFIERS if n.name != name]


def tell(news: AuditNews, *, nightly: bool = False) -> list[Delivery]:
    """Every registered notifier, after an audit (and, for the nightly, after the nightly).
    Never raises: a notifier that breaks is logged, and the others are told all the same."""
    done: list[Delivery] = []
    for notifier in list(NOTIFIERS):
        moments = [notifier.after_audit] + ([notifier.after_nightly] if nightly else [])
        for moment in moments:
            try:
                done += moment(news) or []
            except Exception:
                log.exception("notifier %s failed %s for run %s", notifier.name,
                              moment.__name__, news.run_id)
    return done


def tick_notifiers(contract: Contract, ledger: Ledger, now: datetime) -> list[Delivery]:
    """Every registered notifier's `on_tick`. Never raises: a notifier that breaks is logged,
    and the others are asked all the same."""
    done: list[Delivery] = []
    for notifier in list(NOTIFIERS):
        try:
            done += notifier.on_tick(contract, ledger, now) or []
        except Exception:
            log.exception("notifier %s failed on_tick at %s", notifier.name, now.isoformat())
    return done


def retry_pending(contract: Contract, ledger: Ledger, *, now: datetime | None = None,
                  due_only: bool = True) -> list[Delivery]:
    """Try the pending deliveries again (those whose next try is due, or all of them), each
    through the notifier that made it. One whose notifier is gone stays pending."""
    now = now or ledger.clock.now()
    by_name = {n.name: n for n in NOTIFIERS}
    done = []
    for record in ledger.pending_deliveries(due_at=now if due_only else None):
        notifier = by_name.get(record.notifier)
        if notifier is None:
            continue
        try:
            done.append(notifier.deliver(contract, ledger, record, now))
        except Exception:
            log.exception("notifier %s failed to retry delivery #%s", record.notifier, record.id)
    return done


def record_failed_try(ledger: Ledger, record: Delivery, error: str, *, attempts: int,
                      retry_minutes: float, now: datetime) -> Delivery:
    """Count one failed try of `record`: pending again after `retry_minutes` (doubled for
    each try before), failed once `attempts` tries have failed."""
    retry_at = now + timedelta(minutes=retry_minutes * 2 ** record.attempts)
    done = ledger.delivery_failed_try(record.id, error, max_attempts=attempts, retry_at=retry_at)
    if done.status == "failed":
        log.error("%s #%s (%s) failed after %s tries: %s", record.notifier, record.id,
                  record.kind, done.attempts, error)
    else:
        log.warning("%s #%s (%s) not sent (try %s of %s), next try at %s: %s",
                    record.notifier, record.id, record.kind, done.attempts, attempts,
                    retry_at.isoformat(), error)
    return done
