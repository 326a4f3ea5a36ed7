from fastapi import APIRouter, Depends, Query

from audits.ledger import Ledger, Token

from ..deps import any_role, get_ledger
from ..schemas import RunOut

router = APIRouter(prefix="/api/runs", tags=["runs"])


@router.get("", response_model=list[RunOut])
def list_runs(limit: int = Query(default=50, ge=1, le=1000), ledger: Ledger = Depends(get_ledger),
              _: Token = Depends(any_role)) -> list[RunOut]:
    """Recent crawls and spot-checks, newest first."""
    return [RunOut.of(r) for r in ledger.runs(limit)]
