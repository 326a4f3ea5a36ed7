"""The dashboard: server-rendered pages at / for the merchant and the agency.

Jinja2 with autoescape on (store titles and messages are someone else's text), no script at
all (a strict Content-Security-Policy on every answer), a login with an API token kept in an
HttpOnly, SameSite=Strict session cookie. One router, assembled from one module per concern:
auth (login/logout), pages (overview, listing, finding), actions (acknowledge, waive,
approve), files (stylesheet, the kept thumbnails of the store's images, registry images),
reviews (the weekly and monthly review, and its PDF);
chart lays out the price-history SVG.
"""

from fastapi import APIRouter, Depends, Request

from audits.ledger import Ledger

from ..deps import get_ledger
from . import actions, auth, files, pages, reviews


async def _attach_ledger(request: Request, ledger: Ledger = Depends(get_ledger)) -> None:
    """Every dashboard request borrows one ledger connection from the pool for its pages."""
    request.state.ledger = ledger


router = APIRouter(include_in_schema=False, dependencies=[Depends(_attach_ledger)])
for _module in (auth, pages, actions, files, reviews):
    router.include_router(_module.router)

__all__ = ["router"]
