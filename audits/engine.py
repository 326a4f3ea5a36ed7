"""The engine: one run's snapshots and the history before them, through every enabled rule,
into findings that last across nights.

What a rule did not look at, it cannot resolve: a failed page, a listing a spot-check did
not visit, or store-level rules in a crawl too incomplete to judge the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from .catalog import CatalogEntry
from .contract import Contract
from .ledger import FindingsUpdate, Ledger, NewFinding, Run
from .rules import RULES, Rule
from .rules.context import AuditContext

log = logging.getLogger(__name__)

# Judged first: when it fires, the other store-level rules sit this run out.
INCOMPLETE_RULE = "crawl.incomplete"
# Store-level rules that judge even an incomplete crawl: a removal is seen in one run only
# (the listing is gone the next), and pages that failed say nothing about it, nor about a
# false 304 caught on a page that was read.
JUDGED_WHEN_INCOMPLETE = {INCOMPLETE_RULE, "crawl.removed", "crawl.false_not_modified"}


@dataclass
class AuditOutcome:
    run: Run
    update: FindingsUpdate
    broken_rules: dict[str, str] = field(default_factory=dict)  # rule id -> error
    incomplete: bool = False


def _ordered(rules: list[Rule]) -> list[Rule]:
    return sorted(rules, key=lambda r: r.id != INCOMPLETE_RULE)


def audit_run(ledger: Ledger, contract: Contract, catalog: dict[str, CatalogEntry], run: Run,
              *, full: bool, now: datetime | None = None) -> AuditOutcome:
    """Run every enabled rule over `run` and fold the findings into the ledger."""
    now = now or ledger.clock.now()
    ctx = AuditContext(ledger, run, now=now, zone=ZoneInfo(contract.store.timezone),
                       catalog=catalog, full=full, currency=contract.store.currency)
    seen: list[NewFinding] = []
    evaluated: set[tuple[str, int | None]] = set()
    broken: dict[str, str] = {}
    incomplete = False
    for rule in _ordered(RULES):
        settings = contract.rule_settings(rule.id)
        if not settings.enabled:
            continue
        if rule.whole_store and not full:
            continue
        if rule.scope == "store" and incomplete and rule.id not in JUDGED_WHEN_INCOMPLETE:
            continue
        severity = settings.severity or rule.severity
        try:
            drafts = list(rule.check(ctx, settings))
        except Exception as e:  # one broken rule must not silence the others...
            log.exception("rule %s failed on run %s", rule.id, run.id)
            broken[rule.id] = f"{type(e).__name__}: {e}"
            continue  # ...nor resolve its own findings: it did not evaluate anything
        if rule.scope == "store":
            # It looked at the whole store: a finding of it on a listing still there that it
            # did not raise again is over (crawl.removed, once the listing is back).
            evaluated.add((rule.id, None))
            evaluated.update((rule.id, listing.id) for listing in ctx.known_listings)
        else:
            evaluated.update((rule.id, state.id) for state in ctx.listings)
        for d in drafts:
            level = d.severity or severity
            seen.append(NewFinding(rule.id, level, d.listing_id, d.fingerprint, d.message,
                                   d.evidence, (now + contract.escalation.level(level).answer_within).isoformat()))
        if rule.id == INCOMPLETE_RULE and drafts:
            incomplete = True
    seen = _with_what_changed(ledger, run, seen)
    gone = [l.id for l in ledger.listings(include_gone=True) if l.gone_since] if full else []
    update = ledger.reconcile_findings(run.id, seen, evaluated, gone)
    if broken:
        ledger.note_run_error(run.id, "; ".join(f"{k}: {v}" for k, v in broken.items()))
    return AuditOutcome(run, update, broken, incomplete)


def _with_what_changed(ledger: Ledger, run: Run, seen: list[NewFinding]) -> list[NewFinding]:
    """Give each listing finding's evidence what changed on its listing in this run: every
    tracked value that differs from the look before, both values and both times ("changed"),
    and when that look was ("compared_with"; None: the first look at the listing). The ledger
    keeps these from the first sighting (FIRST_SIGHTING), so a finding names the change that
    raised it."""
    changes: dict[int, list[dict]] = {}
    for c in ledger.changes_in_run(run.id):
        changes.setdefault(c.listing_id, []).append(
            {"field": c.field, "before": c.before, "after": c.after,
             "before_at": c.before_at, "after_at": c.after_at})
    previous = ledger.previous_look(run.id)
    return [f if f.listing_id is None or "changed" in f.evidence else replace(f, evidence={
        **f.evidence, "changed": changes.get(f.listing_id, []),
        "compared_with": previous.get(f.listing_id)}) for f in seen]
