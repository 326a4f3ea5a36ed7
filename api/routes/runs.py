from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Query

from audits.contract import Contract
from audits.ledger import Ledger, Token
from audits.scheduler import next_runs

from . import AuthFirstRoute
from ..deps import any_role, get_contract, get_ledger
from ..refusals import refusals
from ..schemas import NextRunOut, RunOut, RunsOut

router = APIRouter(prefix="/api/runs", tags=["runs"], route_class=AuthFirstRoute,
                   responses=refusals(401))


@router.get("", response_model=RunsOut)
def list_runs(limit: int = Query(default=50, ge=1, le=1000), ledger: Ledger = Depends(get_ledger),
              contract: Contract = Depends(get_contract),
              _: Token = Depends(any_role)) -> RunsOut:
    """Recent crawls and spot-checks, newest first, and when the scheduled ones run next."""
    upcoming = next_runs(contract, datetime.now(timezone.utc), ledger)
    return RunsOut(runs=[RunOut.of(r) for r in ledger.runs(limit)],
                   next_runs=[NextRunOut(**n) for n in upcoming])
