"""Findings: list and read (any role), acknowledge (any role), waive (merchant)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query

from audits.contract import Contract
from audits.ledger import FindingError, Ledger, Token

from . import AuthFirstRoute
from ..deps import actor, any_role, get_contract, get_ledger, merchant_only
from ..refusals import IsoTime, bad_input, refusals
from ..schemas import MAX_ID, AcknowledgeIn, FindingOut, RowId, WaiveIn

router = APIRouter(prefix="/api/findings", tags=["findings"], route_class=AuthFirstRoute,
                   responses=refusals(401))

Status = Literal["open", "acknowledged", "resolved", "waived", "gone"]
Severity = Literal["critical", "major", "minor"]


@router.get("", response_model=list[FindingOut])
def list_findings(
    status: list[Status] = Query(default=["open", "acknowledged"]),
    severity: Severity | None = None,
    rule: str | None = Query(default=None, max_length=100),
    listing: int | None = Query(default=None, ge=1, le=MAX_ID),
    sku: str | None = Query(default=None, max_length=200),
    since: IsoTime | None = Query(default=None, description="Seen at or after (ISO 8601, with zone)"),
    ledger: Ledger = Depends(get_ledger),
    contract: Contract = Depends(get_contract),
    _: Token = Depends(any_role),
) -> list[FindingOut]:
    found = ledger.findings(status=status, severity=severity, rule_id=rule, listing_id=listing,
                            sku=sku, since=since)
    ladder = contract.escalation.ladder_text()
    return [FindingOut.of(f, ladder) for f in found]


def _finding_or_404(ledger: Ledger, finding_id: int):
    try:
        return ledger.finding(finding_id)
    except FindingError:
        raise HTTPException(404, f"no finding #{finding_id}") from None


@router.get("/{finding_id}", response_model=FindingOut, responses=refusals(404))
def get_finding(finding_id: RowId, ledger: Ledger = Depends(get_ledger),
                contract: Contract = Depends(get_contract),
                _: Token = Depends(any_role)) -> FindingOut:
    return FindingOut.of(_finding_or_404(ledger, finding_id), contract.escalation.ladder_text())


@router.post("/{finding_id}/acknowledge", response_model=FindingOut,
             responses=refusals(400, 404, 409))
def acknowledge(finding_id: RowId, body: AcknowledgeIn | None = None,
                ledger: Ledger = Depends(get_ledger),
                contract: Contract = Depends(get_contract),
                token: Token = Depends(any_role)) -> FindingOut:
    _finding_or_404(ledger, finding_id)
    try:
        return FindingOut.of(ledger.acknowledge(finding_id, actor(token), body.note if body else None),
                             contract.escalation.ladder_text())
    except FindingError as e:
        raise HTTPException(409, str(e)) from None


@router.post("/{finding_id}/waive", response_model=FindingOut,
             responses=refusals(400, 403, 404, 409))
def waive(finding_id: RowId, body: WaiveIn, ledger: Ledger = Depends(get_ledger),
          contract: Contract = Depends(get_contract),
          token: Token = Depends(merchant_only)) -> FindingOut:
    _finding_or_404(ledger, finding_id)
    try:
        return FindingOut.of(ledger.waive(finding_id, actor(token), body.reason),
                             contract.escalation.ladder_text())
    except FindingError as e:
        if "reason" in str(e):
            raise bad_input(("body", "reason"), str(e), body.reason) from None
        raise HTTPException(409, str(e)) from None
