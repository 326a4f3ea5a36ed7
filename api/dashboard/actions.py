"""What a person does from a finding's page: acknowledge, waive, approve a discount.

Plain HTML forms, Post/Redirect/Get: a success redirects back with `?done=…`; a refusal
shows the finding's page again with the reason (never a traceback). The role rules are the
API's: anyone logged in may acknowledge; only the merchant may waive or approve.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from audits.ledger import FindingError

from ..deps import actor
from .common import DashboardRoute, Session, form_fields, logged_in, render, same_origin
from .pages import finding_page

router = APIRouter(route_class=DashboardRoute)

MAX_TEXT = 2000


def _refused(request: Request, message: str, status_code: int = 403) -> Response:
    return render(request, "message.html", status_code=status_code, title="Not allowed",
                  message=message)


def _refusal(request: Request, session: Session, *, merchant: bool = False) -> Response | None:
    """Why this form may not be acted on (another site sent it, the role may not), or None."""
    if not same_origin(request):
        return _refused(request, "This form was not sent from the dashboard.")
    if merchant and not session.is_merchant:
        return _refused(request, f"The {session.token.role} role may not do this: only the "
                                 "merchant may waive findings or approve discounts.")
    return None


def _back(finding_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/findings/{finding_id}?done={done}", status_code=303)


@router.post("/findings/{finding_id}/acknowledge")
def acknowledge(finding_id: int, request: Request,
                form: dict[str, str] = Depends(form_fields),
                session: Session = Depends(logged_in)) -> Response:
    if refused := _refusal(request, session):
        return refused
    note = form.get("note", "").strip()[:MAX_TEXT] or None
    try:
        session.ledger.acknowledge(finding_id, actor(session.token), note)
    except FindingError as e:
        return finding_page(request, session, finding_id, error=str(e), status_code=409)
    return _back(finding_id, "acknowledged")


@router.post("/findings/{finding_id}/waive")
def waive(finding_id: int, request: Request,
          form: dict[str, str] = Depends(form_fields),
          session: Session = Depends(logged_in)) -> Response:
    if refused := _refusal(request, session, merchant=True):
        return refused
    reason = form.get("reason", "").strip()
    if len(reason) > MAX_TEXT:
        return finding_page(request, session, finding_id, status_code=422, form=form,
                            error=f"Keep the reason under {MAX_TEXT} characters.")
    try:
        session.ledger.waive(finding_id, actor(session.token), reason)
    except FindingError as e:
        code = 422 if "reason" in str(e) else 409
        return finding_page(request, session, finding_id, error=str(e), status_code=code,
                            form=form)
    return _back(finding_id, "waived")


def _approval_values(session: Session, form: dict[str, str]) -> tuple[Decimal, datetime]:
    """The approval the form asks for, or ValueError with what to fix."""
    try:
        percent = Decimal(form.get("max_discount_percent", "").strip())
    except InvalidOperation:
        raise ValueError("Give the largest discount you allow as a number of percent, e.g. 40.") from None
    if not percent.is_finite() or not 0 < percent < 100:
        raise ValueError("The discount must be more than 0% and less than 100%.")
    try:
        until_day = date.fromisoformat(form.get("valid_until", "").strip())
    except ValueError:
        raise ValueError("Give the last day the approval counts, as a date (2026-12-31).") from None
    today = session.now().astimezone(session.zone).date()
    if until_day < today:
        raise ValueError(f"The last day {until_day} is already past (today is {today}).")
    # The approval counts through that whole day in the store's time zone.
    return percent / 100, datetime.combine(until_day, time(23, 59, 59), tzinfo=session.zone)


@router.post("/approvals")
def approve(request: Request, form: dict[str, str] = Depends(form_fields),
            session: Session = Depends(logged_in)) -> Response:
    if refused := _refusal(request, session, merchant=True):
        return refused
    try:
        finding_id = int(form.get("finding_id", ""))
        finding = session.ledger.finding(finding_id)
    except (ValueError, FindingError):
        return render(request, "message.html", status_code=404, title="Not found",
                      message="The approval form did not name a finding that exists.")
    if finding.rule_id != "prices.unapproved_discount" or not finding.sku:
        return finding_page(request, session, finding_id, status_code=422,
                            error="Discounts are approved from a discount finding with a SKU.")
    try:
        max_discount, until = _approval_values(session, form)
    except ValueError as e:
        return finding_page(request, session, finding_id, error=str(e), status_code=422, form=form)
    note = form.get("note", "").strip()[:MAX_TEXT] or None
    session.ledger.add_approval(finding.sku, valid_until=until, max_discount=max_discount,
                                note=note, created_by=actor(session.token))
    return _back(finding_id, "approved")
