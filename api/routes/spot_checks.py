"""Spot-checks on demand: audit a page, some SKUs or a random sample now.

The request is checked (store origins only, rate limit, one audit at a time) before anything
runs; the audit then runs in the background and GET /api/spot-checks/{id} tells its state.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException

from audits.ledger import Ledger, Token
from audits import spot_check
from audits.spot_check import AuditBusy, SpotCheckRefused, plan_spot_check

from . import AuthFirstRoute
from ..deps import Services, any_role, get_ledger, services
from ..refusals import bad_input, refusals
from ..schemas import FindingOut, RowId, RunOut, SpotCheckIn, SpotCheckOut

router = APIRouter(prefix="/api/spot-checks", tags=["spot-checks"], route_class=AuthFirstRoute,
                   responses=refusals(401))


def _outcome(ledger: Ledger, run_id: int, ladder: dict[str, str]) -> SpotCheckOut:
    try:
        run = ledger.run(run_id)
    except KeyError:
        raise HTTPException(404, f"no spot-check #{run_id}") from None
    if run.kind != "spot":
        raise HTTPException(404, f"run #{run_id} is not a spot-check")
    snaps = ledger.run_snapshots(run_id)
    findings = []
    for listing_id in dict.fromkeys(s.listing_id for s in snaps):
        findings += ledger.findings(listing_id=listing_id, status=["open", "acknowledged", "waived"])
    return SpotCheckOut(run=RunOut.of(run), urls=[s.url for s in snaps],
                        findings=[FindingOut.of(f, ladder) for f in findings])


@router.post("", response_model=SpotCheckOut, status_code=202,
             responses=refusals(400, 409, 429))
def start_spot_check(body: SpotCheckIn, svc: Services = Depends(services),
                     ledger: Ledger = Depends(get_ledger),
                     token: Token = Depends(any_role)) -> SpotCheckOut:
    contract = svc.contract
    try:
        urls = plan_spot_check(contract, ledger, url=body.url, skus=body.skus, sample=body.sample)
    except SpotCheckRefused as e:
        raise bad_input(("body",), str(e)) from None
    wait = svc.spot_limiter.allow(token.id)
    if wait is not None:
        raise HTTPException(429, f"too many spot-checks; try again in {wait:.0f} s",
                            headers={"Retry-After": str(max(1, round(wait)))})
    try:
        # The slot is taken now (this process's other audits, and other processes'), and the
        # audit runs in the background; its run id is the answer.
        run = spot_check.start_spot_check(contract, ledger, urls)
    except AuditBusy as e:
        raise HTTPException(409, str(e)) from None
    return SpotCheckOut(run=RunOut.of(run), urls=urls, findings=[])


@router.get("/{run_id}", response_model=SpotCheckOut, responses=refusals(404))
def get_spot_check(run_id: RowId, svc: Services = Depends(services),
                   ledger: Ledger = Depends(get_ledger),
                   _: Token = Depends(any_role)) -> SpotCheckOut:
    outcome = _outcome(ledger, run_id, svc.contract.escalation.ladder_text())
    if outcome.run.status != "running":
        # Whoever waited for the look asks for the page's overlay next: the views kept by the
        # ledger's state have caught up with what it found before this answer goes.
        svc.after_write()
    return outcome
