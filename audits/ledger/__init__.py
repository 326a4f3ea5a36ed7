"""The ledger: the one package that knows the SQL schema.

Everything else asks questions in the domain's words (`ledger.title_changes(since=…)`,
`ledger.latest_snapshots()`). One SQLite file in WAL mode, created on first use. A crawl is
written in one transaction, and an audit's findings in another that also completes the run, so
a process killed in the middle leaves the previous state intact (its run is marked abandoned by
the next). A write that cannot happen (disk full, the database locked by another process past
the busy timeout) is a LedgerError saying so, and nothing of it is kept.

The Ledger class is assembled from one part per kind of record, so each file stays readable.
"""

from __future__ import annotations

from .base import LedgerError
from .crawls import RUN_KINDS, CrawlRecords
from .escalations import ESCALATION_STEPS, EscalationRecords
from .deliveries import DELIVERY_STATUSES, Delivery, DeliveryRecords
from .findings import FindingError, FindingRecords
from .history import HistoryQueries
from .merchant import MerchantRecords
from .observations import ObservationRecords
from .screenshots import Screenshot, ScreenshotRecords
from .secrets import SecretRecords
from .tokens import ROLES, TokenRecords
from .records import (Approval, FieldChange, Finding, FindingsUpdate, Listing, NewFinding, Spell,
                      Observation, RegistryEntry, Run, StoredSnapshot, TitleChange, Token)


class Ledger(CrawlRecords, HistoryQueries, MerchantRecords, FindingRecords, TokenRecords,
             DeliveryRecords, SecretRecords, ObservationRecords, ScreenshotRecords,
             EscalationRecords):
    """The storeaudit ledger (see the package docstring)."""


__all__ = ["DELIVERY_STATUSES", "ESCALATION_STEPS", "Approval", "Delivery", "FieldChange", "Finding", "FindingError",
           "FindingsUpdate", "Ledger", "LedgerError", "Listing", "NewFinding", "Observation",
           "ROLES", "RUN_KINDS", "RegistryEntry", "Run", "Screenshot", "Spell", "StoredSnapshot",
           "TitleChange", "Token"]
