from fastapi import APIRouter, Depends

from audits.contract import Contract
from audits.ledger import Token

from . import AuthFirstRoute
from ..deps import any_role, get_contract
from ..refusals import refusals
from ..schemas import MeOut

router = APIRouter(prefix="/api", tags=["me"], route_class=AuthFirstRoute,
                   responses=refusals(401))


@router.get("/me", response_model=MeOut)
def me(token: Token = Depends(any_role), contract: Contract = Depends(get_contract)) -> MeOut:
    """Who this token is and which store it audits (the extension's "Test connection")."""
    return MeOut(name=token.name, role=token.role, store=contract.store.name)
