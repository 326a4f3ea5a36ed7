"""The store at a glance, for the dashboard, the overlay's popup and the nightly email:
open findings by severity and the week's title-quota progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .contract import Contract
from .ledger import Ledger
from .rules import SEVERITIES
from .rules.titles import WEEK, effective_quota


@dataclass(frozen=True)
class QuotaProgress:
    changed: int           # distinct listings retitled in the rolling week
    quota: int             # what the contract asks for this store
    window_start: str
    window_end: str
    enabled: bool

    @property
    def met(self) -> bool:
        return self.changed >= self.quota


def open_counts(ledger: Ledger) -> dict[str, int]:
    """Open and acknowledged findings by severity, worst first."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in ledger.findings(status=["open", "acknowledged"]):
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return counts


def quota_progress(ledger: Ledger, contract: Contract, now: datetime) -> QuotaProgress:
    settings = contract.rule_settings("titles.weekly_quota")
    start = now - WEEK
    changed = {c.listing_id for c in ledger.title_changes(since=start, until=now)}
    quota = effective_quota(settings, len(ledger.listings()))
    return QuotaProgress(len(changed), quota, start.isoformat(), now.isoformat(),
                         settings.enabled)


__all__ = ["QuotaProgress", "open_counts", "quota_progress"]
