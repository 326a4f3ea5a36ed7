"""The pages a person reads: the overview, a listing with its price history, a finding."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from audits.ledger import Finding, FindingError, StoredSnapshot
from audits.rules import RULES, SEVERITIES
from audits.rules.prices import price_limits
from audits.summary import open_counts, quota_progress
from crawler.prices import format_price

from .chart import price_chart
from .common import DashboardRoute, Session, logged_in, render
from .reviews import latest as latest_review

router = APIRouter(route_class=DashboardRoute)

ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)$")
HISTORY_POINTS = 400  # snapshots drawn on a listing's chart (about a year of nights)

# What `?done=` may say after a form: fixed texts, so a link cannot put words on the page.
FLASH = {
    "acknowledged": "Finding acknowledged. The agency's answer is recorded with your name.",
    "waived": "Finding waived. The reason is kept with it.",
    "approved": "Discount approved. The finding resolves at the next audit that sees the price "
                "within your approval.",
}

# A rule's name for a person comes from the rule (audits.rules): one name everywhere.
RULE_NAMES = {r.id: r.label for r in RULES}
RULES_BY_ID = {r.id: r for r in RULES}


@dataclass(frozen=True)
class FindingRow:
    finding: Finding
    title: str | None  # the listing's latest title (store text: shown escaped)
    deadline: str
    overdue: bool


def _row(session: Session, finding: Finding, titles: dict[int, str | None], now: datetime) -> FindingRow:
    overdue = False
    if finding.deadline and finding.status == "open":
        overdue = datetime.fromisoformat(finding.deadline) < now
    return FindingRow(finding, titles.get(finding.listing_id) if finding.listing_id else None,
                      session.local(finding.deadline), overdue)


def _flash(request: Request) -> str | None:
    return FLASH.get(request.query_params.get("done", ""))


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, session: Session = Depends(logged_in)) -> HTMLResponse:
    ledger, contract, now = session.ledger, session.contract, session.now()
    titles = {s.listing_id: s.title for s in ledger.latest_snapshots()}
    active = ledger.findings(status=["open", "acknowledged"])
    groups = [(severity, [_row(session, f, titles, now) for f in active if f.severity == severity])
              for severity in SEVERITIES]
    quota = quota_progress(ledger, contract, now)
    return render(request, "overview.html", flash=_flash(request), store=contract.store,
                  counts=open_counts(ledger), groups=groups, quota=quota,
                  overdue=sum(1 for _, rows in groups for r in rows if r.overdue),
                  runs=ledger.runs(10), local=session.local, rule_names=RULE_NAMES,
                  listing_count=len(titles),
                  month_key=latest_review(session, "month").key)


def _title_changes(ok: list[StoredSnapshot], session: Session) -> list[dict[str, str | None]]:
    changes = []
    for before, after in zip(ok, ok[1:]):
        if before.title != after.title:
            changes.append({"when": session.local(after.fetched_at), "before": before.title,
                            "after": after.title})
    return changes[::-1]  # newest first


def not_found(request: Request, what: str) -> HTMLResponse:
    return render(request, "message.html", status_code=404, title="Not found",
                  message=f"There is no {what}. It may have been removed from the ledger.")


@router.get("/listings/{listing_id}", response_class=HTMLResponse)
def listing_page(listing_id: int, request: Request,
                 session: Session = Depends(logged_in)) -> HTMLResponse:
    ledger, contract = session.ledger, session.contract
    listing = ledger.listing(listing_id)
    if listing is None:
        return not_found(request, f"listing #{listing_id}")
    history = ledger.history(listing_id)
    ok = [s for s in history if s.ok]
    current = ok[-1] if ok else None
    latest = history[-1] if history else None
    sku = (current.sku if current else None) or listing.sku
    currency = contract.store.currency
    catalog, catalog_error = session.catalog()
    entry = catalog.get(sku or "")
    # The floor and the discount limit exactly as the price rules judge this listing.
    limits = price_limits(contract.rule_settings, entry,
                          promoted_on_page=bool(current and current.promoted))
    multiple = format(limits.floor_multiple.normalize(), "f")
    percent = format((limits.max_discount * 100).normalize(), "f")
    chart = price_chart(history[-HISTORY_POINTS:], zone=session.zone, currency=currency,
                        floor=limits.floor, discount_limit=limits.discount_limit,
                        floor_label=f"floor ({multiple} × cost)",
                        discount_label=f"{percent}% off reference", until=session.now())
    # The store's images are shown only as the thumbnails kept of them (url -> sha256).
    kept = ledger.thumbnail_shas(current.image_urls) if current else {}
    return render(
        request, "listing.html", listing=listing, current=current, latest=latest, sku=sku,
        kept=kept,
        currency=currency, entry=entry, catalog_error=catalog_error, floor=limits.floor,
        limit=limits.discount_limit, limits=limits,
        floor_applies_to=contract.rule_settings("prices.below_floor").applies_to, chart=chart,
        title_changes=_title_changes(ok, session),
        findings=ledger.findings(listing_id=listing_id), local=session.local,
        rule_names=RULE_NAMES, snapshots=len(history), failed=len(history) - len(ok))


PRICE_KEYS = {"price", "cost", "floor", "reference_price", "min_price", "list_price"}
FRACTION_KEYS = {"discount", "max_discount"}


def _evidence_value(key: str, value: Any, currency: str | None, session: Session) -> Any:
    """An evidence value as a person reads it: prices with their currency, fractions as
    percent, times in the store's zone; anything else as recorded."""
    if value is None or value == [] or value == {}:
        return "none"
    if isinstance(value, str):
        if key in PRICE_KEYS:
            try:
                return f"{format_price(Decimal(value), currency)}"
            except ArithmeticError:
                return value
        if key in FRACTION_KEYS:
            try:
                return f"{format((Decimal(value) * 100).normalize(), 'f')}%"
            except ArithmeticError:
                return value
        if ISO_TIME.match(value):
            return session.local(value)
    return value


# Shown as "What changed" (with the look that resolved it), or as the quota's "Titles
# optimised" table, not as rows.
CHANGE_KEYS = ("changed", "compared_with", "resolved_by", "retitled")


def _evidence_rows(evidence: dict[str, Any], session: Session) -> list[tuple[str, Any]]:
    currency = evidence.get("currency") or session.contract.store.currency
    return [(key.replace("_", " "), _evidence_value(key, value, currency, session))
            for key, value in evidence.items() if key not in CHANGE_KEYS]


def _changed_value(field: str, value: Any, currency: str) -> str:
    if value is None:
        return "—"
    if field in PRICE_KEYS:
        return _evidence_value(field, str(value), currency, None)
    if field == "image_urls" and isinstance(value, list):
        return f"{len(value)} image{'s' if len(value) != 1 else ''}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _what_changed(evidence: dict[str, Any], session: Session) -> list[dict[str, str]] | None:
    """The finding's "what changed" as rows (field, before, after, both times); None when
    the finding predates this evidence (nothing recorded either way)."""
    if not isinstance(evidence.get("changed"), list):
        return None
    currency = evidence.get("currency") or session.contract.store.currency
    look = evidence.get("resolved_by") if isinstance(evidence.get("resolved_by"), dict) else {}
    return [{"field": str(c.get("field", "?")).replace("_", " "),
             "before": _changed_value(c.get("field"), c.get("before"), currency),
             "after": _changed_value(c.get("field"), c.get("after"), currency),
             "before_at": session.local(c["before_at"]) if c.get("before_at") else "",
             "after_at": session.local(c["after_at"]) if c.get("after_at") else "",
             # what the look that resolved it read ("" when it did not read this value)
             "resolved": (_changed_value(c.get("field"), look[c.get("field")], currency)
                          if c.get("field") in look else ""),
             "resolved_at": session.local(look["at"]) if look.get("at") else ""}
            for c in evidence["changed"] if isinstance(c, dict)]


def _retitled(evidence: dict[str, Any], session: Session) -> list[dict[str, str]] | None:
    """The weekly quota finding's listings retitled in its window (first title before, last
    after, when); None for any other finding."""
    if not isinstance(evidence.get("retitled"), list):
        return None
    return [{"sku": str(c.get("sku") or ""), "before": str(c.get("before") or ""),
             "after": str(c.get("after") or ""),
             "when": session.local(c["changed_at"]) if isinstance(c.get("changed_at"), str) else "",
             "times": c.get("changes") if isinstance(c.get("changes"), int) else 1}
            for c in evidence["retitled"] if isinstance(c, dict)]


def finding_page(request: Request, session: Session, finding_id: int, *, error: str | None = None,
                 status_code: int = 200, form: dict[str, str] | None = None) -> HTMLResponse:
    """The finding's page; also what a refused form shows, with its error and the values sent."""
    ledger = session.ledger
    try:
        finding = ledger.finding(finding_id)
    except FindingError:
        return not_found(request, f"finding #{finding_id}")
    evidence = finding.evidence or {}
    registry = listing_picture = None
    if finding.rule_id == "images.infringing":
        wanted = evidence.get("registry_id")
        registry = next((e for e in ledger.registry() if e.id == wanted), None)
        listing_picture = ledger.kept_picture(evidence.get("image_sha256"),
                                               evidence.get("image_url"))
    active = finding.status in ("open", "acknowledged")
    suggested = None
    if finding.rule_id == "prices.unapproved_discount":
        try:
            suggested = math.ceil(Decimal(str(evidence.get("discount"))) * 100)
        except (ArithmeticError, ValueError, TypeError):
            suggested = None
    listing = ledger.listing(finding.listing_id) if finding.listing_id else None
    titles = {s.listing_id: s.title for s in ledger.latest_snapshots()}
    row = _row(session, finding, titles, session.now())
    return render(
        request, "finding.html", status_code=status_code, flash=_flash(request), error=error,
        form=form or {}, f=finding, row=row, listing=listing, evidence=_evidence_rows(evidence, session),
        changed=_what_changed(evidence, session), retitled=_retitled(evidence, session),
        resolved_look=isinstance(evidence.get("resolved_by"), dict),
        screenshots=ledger.screenshots(finding_id),
        compared_with=(session.local(evidence["compared_with"])
                       if isinstance(evidence.get("compared_with"), str) else None),
        registry=registry, listing_picture=listing_picture,
        events=ledger.events(finding_id=finding_id), local=session.local,
        rule_names=RULE_NAMES, rule=RULES_BY_ID.get(finding.rule_id),
        can_acknowledge=finding.status == "open",
        can_waive=session.is_merchant and active,
        can_approve=(session.is_merchant and active and bool(finding.sku)
                     and finding.rule_id == "prices.unapproved_discount"),
        approvals=ledger.approvals(sku=finding.sku) if finding.sku else [],
        suggested_discount=suggested, today=session.now().astimezone(session.zone).date())


@router.get("/findings/{finding_id}", response_class=HTMLResponse)
def finding_view(finding_id: int, request: Request,
                 session: Session = Depends(logged_in)) -> HTMLResponse:
    return finding_page(request, session, finding_id)
