"""Discount approvals: the merchant's written OK, recorded with who and until when."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from audits.ledger import Ledger, Token

from . import AuthFirstRoute
from ..deps import actor, any_role, get_ledger, merchant_only
from ..refusals import refusals
from ..schemas import ApprovalIn, ApprovalOut

router = APIRouter(prefix="/api/approvals", tags=["approvals"], route_class=AuthFirstRoute,
                   responses=refusals(401))


@router.get("", response_model=list[ApprovalOut])
def list_approvals(sku: str | None = None, ledger: Ledger = Depends(get_ledger),
                   _: Token = Depends(any_role)) -> list[ApprovalOut]:
    return [ApprovalOut.of(a) for a in ledger.approvals(sku=sku)]


@router.post("", response_model=ApprovalOut, status_code=201, responses=refusals(400, 403))
def create_approval(body: ApprovalIn, ledger: Ledger = Depends(get_ledger),
                    token: Token = Depends(merchant_only)) -> ApprovalOut:
    approval = ledger.add_approval(body.sku, valid_until=body.valid_until,
                                   max_discount=body.max_discount, min_price=body.min_price,
                                   note=body.note, created_by=actor(token))
    return ApprovalOut.of(approval)
