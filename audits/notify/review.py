"""The weekly and monthly review by email: after the first nightly audit of a week, the review
of the week before; after the first of a month, the month before's (with its penalty
statement). Each is an email like the digest (kept in the outbox, sent by SMTP when the
contract has a server, retried the same way) with the review as a PDF attached.

A review goes once per period: the ledger's deliveries say which periods were sent (their
`period`); a period storeaudit did not watch at all gets none.
"""

from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from ..contract import Contract
from ..ledger import Delivery, Ledger
from ..review.build import Review, review_of
from ..review.pdf import PdfError, html_to_pdf
from ..periods import Period, period_of
from ..review.render import review_document, review_text
from .base import AuditNews, Notifier, register
from .email.delivery import deliver, outbox_dir
from .email.render import new_message

log = logging.getLogger(__name__)
NAME = "review"


def _due(contract: Contract, ledger: Ledger, kind: str, now: datetime) -> Period | None:
    """The finished period whose review is owed now, or None."""
    wanted = contract.review.weekly_email if kind == "weekly" else contract.review.monthly_email
    first = ledger.first_full_run()
    if not wanted or first is None:
        return None
    zone = ZoneInfo(contract.store.timezone)
    period = period_of("week" if kind == "weekly" else "month", now.astimezone(zone)).before()
    if datetime.fromisoformat(first.started) >= period.end:
        return None   # storeaudit was not watching yet
    if any(d.period == period.key and d.status != "failed"
           for d in ledger.deliveries(notifier=NAME, kind=kind, limit=20)):
        return None
    return period


def _message(contract: Contract, review: Review, html: str, pdf: bytes | None,
             now: datetime) -> EmailMessage:
    msg = new_message(subject=review.subject, sender=contract.email.sender,
                      to=list(contract.email.to), date=now, kind=review.kind,
                      text=review_text(review), html=html)
    if pdf is not None:
        msg.add_attachment(pdf, maintype="application", subtype="pdf",
                           filename=f"storeaudit-{review.kind}-{review.period.key}.pdf")
    return msg


def write_review_files(contract: Contract, review: Review, stem: str, *,
                       now: datetime | None = None) -> tuple[Path, Path | None]:
    """The review as `<stem>.html` and (with `[review] pdf`) `<stem>.pdf` in the outbox, and
    with `now` its email as `<stem>.eml`. Returns the HTML's and the PDF's paths (the PDF None
    when it could not be made: the review goes without it, and the log says why)."""
    html = review_document(review)
    pdf = None
    if contract.review.pdf:
        try:
            pdf = html_to_pdf(html, title=review.title)
        except PdfError as e:
            log.error("%s", e)
    folder = outbox_dir(contract)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.html").write_text(html, encoding="utf-8")
    if pdf is not None:
        (folder / f"{stem}.pdf").write_bytes(pdf)
    if now is not None:
        (folder / f"{stem}.eml").write_bytes(_message(contract, review, html, pdf, now).as_bytes())
    return folder / f"{stem}.html", (folder / f"{stem}.pdf" if pdf is not None else None)


def send_review(contract: Contract, ledger: Ledger, period: Period, *,
                now: datetime | None = None) -> Delivery:
    """Make the review of `period`, keep it in the outbox (.eml, .html, .pdf) and deliver it
    (a delivery of kind "weekly" or "monthly")."""
    now = now or ledger.clock.now()
    review = review_of(contract, ledger, period, now=now)
    kind = review.kind
    settings = contract.email
    record = ledger.add_delivery(NAME, kind, subject=review.subject, recipients=list(settings.to),
                                 finding_ids={"open": [i.finding_id for i in review.open_items]},
                                 transport="smtp" if settings.smtp else "outbox",
                                 period=period.key)
    local = now.astimezone(ZoneInfo(contract.store.timezone))
    stem = f"{local:%Y-%m-%d_%H%M}_{kind}_{period.key}_{record.id}"
    try:
        html, _ = write_review_files(contract, review, stem, now=now)
    except OSError as e:
        log.error("review #%s could not be written to the outbox: %s", record.id, e)
        return ledger.delivery_failed_try(record.id, f"could not write to the outbox: {e}",
                                          max_attempts=1, retry_at=None)
    record = ledger.set_delivery_files(record.id, str(html.with_suffix(".eml")), str(html))
    return deliver(contract, ledger, record, now=now)


class ReviewNotifier(Notifier):
    name = NAME

    def after_nightly(self, news: AuditNews) -> list[Delivery]:
        now = news.ledger.clock.now()
        done = []
        for kind in ("weekly", "monthly"):
            period = _due(news.contract, news.ledger, kind, now)
            if period is not None:
                done.append(send_review(news.contract, news.ledger, period, now=now))
        return done

    def deliver(self, contract: Contract, ledger: Ledger, record: Delivery,
                now: datetime) -> Delivery:
        return deliver(contract, ledger, record, now=now)


register(ReviewNotifier())
