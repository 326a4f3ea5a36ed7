"""Listings as the crawls saw them, with their history."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query

from audits.contract import Contract
from audits.ledger import Ledger, Token

from . import AuthFirstRoute
from ..deps import any_role, get_contract, get_ledger
from ..refusals import refusals
from ..schemas import FindingOut, ListingDetail, ListingOut, RowId, SnapshotOut

router = APIRouter(prefix="/api/listings", tags=["listings"], route_class=AuthFirstRoute,
                   responses=refusals(401))


@router.get("", response_model=list[ListingOut])
def list_listings(include_gone: bool = False, ledger: Ledger = Depends(get_ledger),
                  _: Token = Depends(any_role)) -> list[ListingOut]:
    latest = {s.listing_id: s for s in ledger.latest_snapshots()}
    return [ListingOut.of(l, latest.get(l.id)) for l in ledger.listings(include_gone=include_gone)]


@router.get("/{listing_id}", response_model=ListingDetail, responses=refusals(404))
def get_listing(listing_id: RowId, limit: int = Query(default=200, ge=1, le=2000),
                ledger: Ledger = Depends(get_ledger),
                contract: Contract = Depends(get_contract),
                _: Token = Depends(any_role)) -> ListingDetail:
    listing = ledger.listing(listing_id)
    if listing is None:
        raise HTTPException(404, f"no listing #{listing_id}")
    history = ledger.history(listing_id)[-limit:]
    current = next((s for s in reversed(history) if s.ok), None)
    base = ListingOut.of(listing, current)
    return ListingDetail(**base.model_dump(), history=[SnapshotOut.of(s) for s in history],
                         findings=[FindingOut.of(f, contract.escalation.ladder_text())
                                   for f in ledger.findings(listing_id=listing_id,
                                   status=["open", "acknowledged", "waived", "resolved", "gone"])])
