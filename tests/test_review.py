"""The weekly and monthly review: the dashboard's pages (store text only ever text), the PDF
(its first page drawn and looked at), and the review emails after the first nightly of a week.

The tea shop of tests/test_dashboard.py, with a [penalties] section: its eight nights give
findings, answers missing, title changes and a week boundary to review.
"""

from __future__ import annotations

import email
import email.policy
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from PIL import ImageStat

from audits.contract import parse_contract
from audits.notify import AuditNews
from audits.notify.review import ReviewNotifier
from audits.review.build import monthly_review, weekly_review
from audits.periods import parse_period, period_of
from audits.review.render import review_document
from tests.test_dashboard import (IMG_TITLE, SCRIPT_TITLE, api_server, image_host,  # noqa: F401
                                  log_in, shop)

ZONE = ZoneInfo("Asia/Shanghai")
PENALTIES = """
[penalties]
monthly_fee = 20000
max_percent_of_fee = 25

[penalties.overdue.critical]
percent_of_fee = 1

[penalties.overdue.major]
late = "unanswered"
amount = 300

[penalties.title_quota]
percent_of_fee = 2
"""


@pytest.fixture
def priced_shop(shop):
    """The tea shop's contract with penalties (the API reads the file on each request)."""
    text = shop.contract_path.read_text(encoding="utf-8") + PENALTIES
    shop.contract_path.write_text(text, encoding="utf-8")
    shop.contract = parse_contract(text, shop.contract_path)
    return shop


@pytest.fixture
def review_api(priced_shop, api_server):  # noqa: F811
    return api_server


def month_key(ledger) -> str:
    return period_of("month", ledger.clock.now().astimezone(ZONE)).key


def test_the_weekly_review_page_compares_every_clause_and_shows_store_text_as_text(
        page, review_api, artifacts):
    log_in(page, review_api, review_api.agency)   # the agency reads its own review too
    page.goto(f"{review_api.url}/reviews")
    assert "/reviews/week/" in page.url
    assert page.locator("h1.rv-title").inner_text().startswith("Weekly review: week of ")
    clauses = page.locator("table.rv-table").first
    assert "Price under the floor" in clauses.inner_text()
    assert "Banned claim in title" in clauses.inner_text()
    # The titles that are markup stay words on the page: nothing of them runs or loads.
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".rv script, .rv img").count() == 0
    page.screenshot(path=str(artifacts / "review-week.png"), full_page=True)
    # The week before, by the page's own link.
    page.get_by_role("link", name="← week of").click()
    assert page.locator("h1.rv-title").inner_text().startswith("Weekly review: week of ")


def test_the_monthly_review_page_has_the_penalty_statement_tracing_to_findings(
        page, review_api, priced_shop, artifacts):
    log_in(page, review_api, review_api.merchant)
    page.goto(f"{review_api.url}/")
    page.get_by_role("link", name="Monthly review and penalties").click()
    assert page.locator("h1.rv-title").inner_text().startswith("Monthly review:")
    statement = monthly_review(priced_shop.contract, review_api.ledger).penalties
    assert statement is not None and statement.total > 0
    shown = page.locator(".rv").inner_text()
    assert "Penalty statement" in shown
    assert f"¥{statement.total:,.2f}" in shown
    # Every charged line links to the finding that caused it.
    lines = [line for c in statement.clauses for line in c.lines if line.finding_id]
    assert lines
    for line in lines:
        link = page.locator(f".rv-penalty a[href$='/findings/{line.finding_id}']").first
        assert link.is_visible()
    assert "Renewal conditions" in shown
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".rv script, .rv img").count() == 0
    page.screenshot(path=str(artifacts / "review-month.png"), full_page=True)


def test_the_review_pdf_prints_and_its_first_page_reads(page, review_api, priced_shop,
                                                         artifacts):
    log_in(page, review_api, review_api.merchant)
    answer = page.request.get(f"{review_api.url}/reviews/month/{month_key(review_api.ledger)}.pdf")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert "attachment" in answer.headers["content-disposition"]
    pdf = pypdfium2.PdfDocument(answer.body())
    first = pdf[0]
    text = first.get_textpage().get_text_range()
    assert "Monthly review" in text and "山禾茶铺 Shanhe Tea" in text
    picture = first.render(scale=1.5).to_pil().convert("L")
    picture.save(artifacts / "review-month-pdf-page1.png")
    assert ImageStat.Stat(picture).stddev[0] > 10, "the first page is not blank"
    assert len(pdf) >= 2


@pytest.mark.parametrize("path", ["/reviews/week/2026-13", "/reviews/month/2026-W46",
                                  "/reviews/year/2026", "/reviews/week/..%2F..%2Fetc",
                                  "/reviews/month/2026-00.pdf"])
def test_a_period_that_is_not_one_is_not_found(page, review_api, path):
    log_in(page, review_api, review_api.merchant)
    answer = page.request.get(f"{review_api.url}{path}")
    assert answer.status == 404
    # A path that is not even a period's shape is refused before any review route.
    assert "%2F" in path or "A week is written like 2026-W46" in answer.text()


def test_store_text_in_the_review_document_is_escaped(priced_shop, ledger):
    review = weekly_review(priced_shop.contract, ledger)
    html = review_document(review)
    assert SCRIPT_TITLE not in html and IMG_TITLE not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html


def test_the_weekly_review_goes_once_after_the_first_nightly_of_a_week(priced_shop, ledger,
                                                                       tmp_path):
    contract = priced_shop.contract.model_copy(update={
        "email": priced_shop.contract.email.model_copy(update={"outbox": str(tmp_path / "out")})})
    news = AuditNews(contract, ledger, "nightly", None)
    notifier = ReviewNotifier()
    now = ledger.clock.now().astimezone(ZONE)
    sent = notifier.after_nightly(news)
    week_before = period_of("week", now).before()
    weekly = [d for d in sent if d.kind == "weekly"]
    assert [d.period for d in weekly] == [week_before.key]
    assert weekly[0].status == "written"
    message = email.message_from_bytes(open(weekly[0].path, "rb").read(),
                                       policy=email.policy.default)
    assert "Weekly review: week of" in message["Subject"]
    attached = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    assert len(attached) == 1
    assert pypdfium2.PdfDocument(io.BytesIO(attached[0].get_payload(decode=True)))[0] is not None
    # The next nightly of the same week sends it no more.
    assert [d for d in notifier.after_nightly(news) if d.kind == "weekly"] == []


def test_periods_are_read_from_their_keys():
    assert parse_period("2026-W46", ZONE).start == datetime(2026, 11, 9, tzinfo=ZONE)
    assert parse_period("2026-11", ZONE).end == datetime(2026, 12, 1, tzinfo=ZONE)
    assert parse_period("2026-12", ZONE).before().key == "2026-11"
    for bad in ("2026-W54", "2026-13", "26-11", "2026-11-01", ""):
        with pytest.raises(ValueError):
            parse_period(bad, ZONE)


def test_the_monthly_review_is_sent_by_smtp_with_its_pdf(priced_shop, ledger, tmp_path,
                                                         monkeypatch):
    from servers import smtp_sections
    from test_email import PASSWORD, PASSWORD_ENV, SmtpServer

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    server = SmtpServer()
    server.start()
    try:
        text = priced_shop.contract_path.read_text(encoding="utf-8") + smtp_sections(
            tmp_path / "out", server.port, user="audit", password_env=PASSWORD_ENV)
        contract = parse_contract(text)
        # The first nightly of the next month.
        month = period_of("month", ledger.clock.now().astimezone(ZONE))
        ledger.clock.set(month.end.replace(hour=2))
        sent = ReviewNotifier().after_nightly(AuditNews(contract, ledger, "nightly", None))
        (monthly,) = [d for d in sent if d.kind == "monthly"]
        assert monthly.status == "sent" and monthly.period == month.key
        got = [email.message_from_bytes(m.as_bytes(), policy=email.policy.default)
               for m in server.inbox.messages]
        (message,) = [m for m in got if m["X-Storeaudit-Kind"] == "monthly"]
        assert message["Subject"].endswith(f"Monthly review: {month.label}")
        assert message["To"] == "merchant@shop.test"
        (pdf,) = [p for p in message.iter_attachments()
                  if p.get_content_type() == "application/pdf"]
        pages = pypdfium2.PdfDocument(pdf.get_content())
        printed = " ".join(page.get_textpage().get_text_range() for page in pages)
        assert "Penalty statement" in printed and "Renewal conditions" in printed
    finally:
        server.stop()


def test_one_review_is_printed_at_a_time(page, review_api, priced_shop):
    """Each PDF starts a Chromium: a second asked for while one prints waits, then is refused
    with a page that says so, never a pile of browsers."""
    from audits.review import pdf

    log_in(page, review_api, review_api.agency)
    url = f"{review_api.url}/reviews/month/{month_key(review_api.ledger)}.pdf"
    assert pdf.PRINTING.acquire(timeout=5)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(pdf, "PRINT_WAIT_S", 0.2)
            answer = page.request.get(url)
    finally:
        pdf.PRINTING.release()
    assert answer.status == 503 and answer.headers["retry-after"] == "60"
    assert "another review is being printed" in answer.text()
    assert page.request.get(url).status == 200
