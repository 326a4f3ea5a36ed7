"""What the merchant's own browser saw on a product page (the extension reports it): kept as
the second witness, and the crawler looks again when it disagrees (audits/observations.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException

from audits.ledger import Ledger, Token
from audits.observations import ObservationRefused, report_view

from . import AuthFirstRoute
from ..deps import Services, actor, get_ledger, merchant_only, services
from ..refusals import bad_input, refusals
from ..schemas import ObservationIn, ObservationOut

router = APIRouter(prefix="/api/observations", tags=["observations"], route_class=AuthFirstRoute,
                   responses=refusals(401))


@router.post("", response_model=ObservationOut, status_code=201,
             responses=refusals(400, 403, 429))
def report(body: ObservationIn, svc: Services = Depends(services),
           ledger: Ledger = Depends(get_ledger),
           token: Token = Depends(merchant_only)) -> ObservationOut:
    """Only the merchant's browser is a witness: the agency runs the store, and its reports
    could cover for it."""
    wait = svc.observation_limiter.allow(token.id)
    if wait is not None:
        raise HTTPException(429, f"too many reports; try again in {wait:.0f} s",
                            headers={"Retry-After": str(max(1, round(wait)))})
    try:
        told = report_view(svc.contract, ledger, url=body.url, reported_by=actor(token),
                           title=body.title, price=body.price, currency=body.currency,
                           availability=body.availability, stock=body.stock,
                           promoted=body.promoted)
    except ObservationRefused as e:
        raise bad_input(("body", "url"), str(e), body.url) from None
    o = told.observation
    return ObservationOut(
        id=o.id, listing_id=o.listing_id, url=o.url, observed_at=o.observed_at, title=o.title,
        price=None if o.price is None else str(o.price), currency=o.currency,
        availability=o.availability, stock_count=o.stock_count, promoted=o.promoted,
        crawler=told.crawler, run_id=told.run_id)
