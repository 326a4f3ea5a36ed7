"""The weekly and monthly reviews on the dashboard: the page, and the same review as a PDF.

The review is computed from the ledger on each request (audits.review) and rendered by the
audits' own templates, so the page, the email and the PDF say the same; this module only
picks the period from the URL and wraps the review in the dashboard's page.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from audits.review.build import review_of
from audits.review.pdf import PdfError, html_to_pdf
from audits.periods import Period, parse_period, period_of
from audits.review.render import STYLE_PATH, review_body, review_document

from .common import DashboardRoute, Session, logged_in, render

router = APIRouter(route_class=DashboardRoute)
KINDS = ("week", "month")


def _period(session: Session, kind: str, key: str) -> Period | None:
    if kind not in KINDS:
        return None
    try:
        period = parse_period(key, session.zone)
    except ValueError:
        return None
    return period if period.kind == kind else None


def _not_found(request: Request, what: str) -> HTMLResponse:
    return render(request, "message.html", status_code=404, title="Not found",
                  message=f"There is no {what}. A week is written like 2026-W46, a month "
                          "like 2026-11.")


def latest(session: Session, kind: str) -> Period:
    """The week or month of the latest audit (now, if none yet): the one under way for a
    store audited every night, and the replay's own for the demo's ledger."""
    runs = session.ledger.runs(1)
    when = min(session.now(), datetime.fromisoformat(runs[0].started)) if runs else session.now()
    return period_of(kind, when.astimezone(session.zone))


@router.get("/reviews", response_class=HTMLResponse)
def reviews(request: Request, session: Session = Depends(logged_in)):
    """The review of the latest audit's week (to date); the page links the others."""
    return RedirectResponse(f"/reviews/week/{latest(session, 'week').key}", status_code=303)


@router.get("/review.css")
def review_style() -> Response:
    return Response(STYLE_PATH.read_bytes(), media_type="text/css",
                    headers={"Cache-Control": "no-cache"})


@router.get("/reviews/{kind}/{key}", response_class=HTMLResponse)
def review_page(kind: str, key: str, request: Request,
                session: Session = Depends(logged_in)) -> Response:
    pdf = key.endswith(".pdf")
    period = _period(session, kind, key.removesuffix(".pdf"))
    if period is None:
        return _not_found(request, f"review {kind}/{key}")
    now = session.now()
    review = review_of(session.contract, session.ledger, period, now=now)
    if pdf:
        try:
            data = html_to_pdf(review_document(review), title=review.title)
        except PdfError as e:
            response = render(request, "message.html", status_code=503,
                              title="The PDF could not be made", message=str(e))
            response.headers["Retry-After"] = "60"
            return response
        name = f"storeaudit-{kind}-{period.key}.pdf"
        return Response(data, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store"})
    current = period_of(kind, now.astimezone(session.zone))
    week, month = (period_of(k, (period.end if period.end <= now else now)
                             .astimezone(session.zone)) for k in ("week", "month"))
    return render(request, "review.html", review=review, body=review_body(review),
                  kind=kind, period=period, earlier=period.before(),
                  later=period.after() if period.after().start <= current.start else None,
                  week=week, month=month)
