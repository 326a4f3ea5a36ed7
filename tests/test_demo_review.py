"""What the demo's fortnight leaves for the contract's consequences: the weekly review of its
first week (emailed with its PDF), the escalations the sample agency's slow answers caused,
and a month-to-date penalty statement whose every line traces to a finding and its days.

The replay is run once (the `demo_fortnight` fixture in conftest.py); what is checked is read
back from its ledger and outbox, as a merchant would find them.
"""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from audits.clock import ManualClock
from audits.ledger import Ledger
from audits.penalties import penalty_statement
from storeaudit.sample_store import demo_contract

ZONE = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 11, 21, 23, 0, tzinfo=ZONE)   # after day 12's last random check
pytestmark = pytest.mark.e2e


@pytest.fixture
def demo_ledger(demo_fortnight):
    with Ledger(demo_fortnight / "demo.db", ManualClock(END)) as ledger:
        yield ledger


def test_the_first_week_is_reviewed_by_email_with_its_pdf_after_the_monday_nightly(
        demo_fortnight):
    (eml,) = (demo_fortnight / "outbox").glob("2026-11-16_0200_weekly_2026-W46_*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["Subject"].endswith("Weekly review: week of 2026-11-09 – 2026-11-15")
    text = message.get_body(("plain",)).get_content()
    assert "How fast the agency answered" in text
    (pdf,) = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert pdf.get_content()[:5] == b"%PDF-"
    assert "weekly review (2026-W46) written" in (demo_fortnight / "demo.log").read_text()


def test_the_month_to_date_review_is_written_with_its_penalties(demo_fortnight):
    outbox = demo_fortnight / "outbox"
    html = (outbox / "month-to-date_2026-11.html").read_text(encoding="utf-8")
    assert "Monthly review: November 2026 (to date)" in html
    assert "Penalty statement (month to date)" in html
    assert (outbox / "month-to-date_2026-11.pdf").read_bytes()[:5] == b"%PDF-"
    assert "Penalties so far this month:" in (demo_fortnight / "demo.log").read_text()


def test_every_penalty_line_traces_to_a_finding_and_the_days_it_was_late(demo_ledger):
    contract = demo_contract()
    statement = penalty_statement(contract, demo_ledger, 2026, 11, END)
    fee = Decimal(30000)
    by_clause = {c.clause: c for c in statement.clauses}
    unfixed = by_clause["overdue.critical"].lines
    assert unfixed, "the infringing image nobody answered is charged"
    spells = demo_ledger.spells()
    for line in unfixed:
        days = [datetime.fromisoformat(d).date() for d in line.charged]
        assert days == [days[0] + timedelta(days=i) for i in range(len(days))]
        # The spell of the finding (a reopened one has several) whose fix-by day starts them,
        # and that stayed unfixed one started day per day charged.
        (spell,) = [s for s in spells if s.finding_id == line.finding_id and
                    (datetime.fromisoformat(s.opened_at) + timedelta(hours=24))
                    .astimezone(ZONE).date() == days[0]]
        assert spell.severity == "critical"
        fix_by = datetime.fromisoformat(spell.opened_at) + timedelta(hours=24)
        # Late until a look saw it fixed; still open, as far as the last look that saw it.
        ended = datetime.fromisoformat(spell.resolved_at or spell.last_seen)
        assert len(days) == -(-(ended - fix_by) // timedelta(days=1))  # each day begun
        assert line.amount == fee / 100 * line.units
    unanswered = by_clause["overdue.major"].lines
    assert unanswered
    for line in unanswered:
        f = demo_ledger.finding(line.finding_id)
        assert f.severity == "major" and f.deadline
        assert line.amount == Decimal(500) * line.units
    assert by_clause["overdue.major"].charged <= Decimal(3000)
    (quota,) = by_clause["title_quota"].lines
    assert quota.charged == ["week of 2026-11-09"]
    assert quota.units == 5 and quota.amount == fee * 5 * 5 / 100   # 6 of 12: 50 % short
    assert by_clause["title_quota"].charged == fee * 20 / 100        # the clause's cap
    assert statement.subtotal == sum(c.charged for c in statement.clauses)
    assert statement.total == min(statement.subtotal, fee * 30 / 100)


def test_the_ladder_told_the_slow_answers_once_each(demo_ledger):
    told = demo_ledger.escalations()
    keys = [(e["finding_id"], e["step"], e["opened_at"]) for e in told]
    assert len(keys) == len(set(keys))
    (image,) = demo_ledger.findings(rule_id="images.infringing")
    steps = {e["step"] for e in told if e["finding_id"] == image.id}
    assert steps == {"unanswered", "unfixed"}   # nobody answered it, nor fixed it in 24 h
    unanswered = [d for d in demo_ledger.deliveries(notifier="escalation", limit=200)
                  if d.kind == "unanswered"]
    assert unanswered and all(d.status == "written" for d in unanswered)


def test_the_demo_says_what_the_ladder_told_each_why(demo_fortnight, demo_ledger):
    """The end of the replay counts every message the ladder sent, new findings included."""
    told = demo_ledger.deliveries(notifier="escalation", limit=10_000)
    counts = {k: sum(d.kind == k for d in told) for k in ("raised", "unanswered", "unfixed")}
    assert all(counts.values()), counts
    line = (f"Escalation ladder: {counts['raised']} raised, {counts['unanswered']} unanswered, "
            f"{counts['unfixed']} unfixed message(s), kept in {demo_fortnight / 'outbox' / 'escalations'}")
    assert line in (demo_fortnight / "demo.log").read_text()


def test_storeaudit_review_prints_the_month_and_writes_its_pdf(demo_fortnight, tmp_path):
    from typer.testing import CliRunner

    from storeaudit.cli import app
    from storeaudit.sample_store import demostore_dir

    result = CliRunner().invoke(app, [
        "review", "2026-11", "-c", str(demostore_dir() / "contract.toml"),
        "--db", str(demo_fortnight / "demo.db"), "--pdf", str(tmp_path / "november.pdf")],
        terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Monthly review: November 2026 — 山禾生活旗舰店 (sample store)" in result.output
    # The month is over: the infringing image stayed unfixed to its end, and the month's cap
    # (30 % of ¥30,000) holds the total.
    assert "Penalties: ¥9,000.00 of a ¥30,000.00 fee" in result.output
    assert "Met: no response for 3 days: the merchant may suspend payment" in result.output
    assert (tmp_path / "november.pdf").read_bytes()[:5] == b"%PDF-"
    bad = CliRunner().invoke(app, ["review", "2026-W99", "-c",
                                   str(demostore_dir() / "contract.toml"),
                                   "--db", str(demo_fortnight / "demo.db")])
    assert bad.exit_code != 0 and "is not a week like 2026-W46" in bad.output
