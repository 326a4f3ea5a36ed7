"""The findings lifecycle: one finding per problem across nights, resolved only by a
successful look, acknowledged and waived by people, every action written down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from audits.catalog import parse_catalog
from storeaudit.cli import app
from audits.contract import parse_contract
from audits.engine import audit_run
from audits.ledger import FindingError
from history import History, failed, listing, not_there

CONTRACT = parse_contract("""
[store]
name = "Shop"
base_url = "http://shop.test"

[rules.titles.weekly_quota]
enabled = false
""")
CATALOG = parse_catalog("sku,cost,reference_price,promoted\nA,100,130,yes\nB,100,299,no\n"
                        "C,100,100,no\n")


def audit(h: History, *snaps, full=True):
    run = h.night(*snaps, full=full)
    return audit_run(h.ledger, CONTRACT, CATALOG, run, full=full)


def open_findings(ledger):
    return {(f.rule_id, f.sku) for f in ledger.findings(status=["open", "acknowledged"])}


@pytest.fixture
def h(ledger, clock):
    return History(ledger, clock)


def test_the_same_problem_on_consecutive_nights_is_one_finding(h):
    first = audit(h, listing("A", price="120"))
    second = audit(h, listing("A", price="125"))
    assert len(first.update.new) == 1 and second.update.new == []
    [finding] = h.ledger.findings(rule_id="prices.below_floor")
    assert finding.first_seen < finding.last_seen
    assert "¥125.00" in finding.message  # the message follows the latest evidence


def test_a_finding_is_resolved_when_a_successful_crawl_shows_the_problem_gone(h):
    audit(h, listing("A", price="120"))
    outcome = audit(h, listing("A", price="299"))
    [finding] = h.ledger.findings(rule_id="prices.below_floor")
    assert finding.status == "resolved" and outcome.update.resolved == [finding.id]


def test_a_failed_page_neither_raises_nor_resolves(h):
    audit(h, listing("A", price="120"))
    audit(h, failed("A"))
    assert ("prices.below_floor", "A") in open_findings(h.ledger)
    audit(h, listing("A", price="299"), failed("B"))
    # A's good page resolves A's finding; B's failed page raises nothing about B.
    assert open_findings(h.ledger) == {("crawl.incomplete", None)}


def test_a_spot_check_resolves_only_what_it_looked_at(h):
    audit(h, listing("A", price="120"), listing("B", price="150"))  # A below floor, B 50% off
    audit(h, listing("A", price="299"), full=False)
    assert open_findings(h.ledger) == {("prices.unapproved_discount", "B")}


def test_a_problem_that_comes_back_reopens_its_finding(h):
    audit(h, listing("A", price="120"))
    audit(h, listing("A", price="299"))
    outcome = audit(h, listing("A", price="120"))
    [finding] = h.ledger.findings(rule_id="prices.below_floor")
    assert finding.status == "open" and outcome.update.reopened == [finding.id]


def test_a_removed_listing_takes_its_findings_with_it_and_the_removal_is_a_finding(h):
    """Issue #16: a deleted listing left no trace, and its findings counted as fixed."""
    audit(h, listing("A", price="120"), listing("B"), listing("C"))
    audit(h, not_there("A"), listing("B"), listing("C"))  # one 404 is not a removal
    [floor] = h.ledger.findings(rule_id="prices.below_floor")
    assert floor.status == "open" and h.ledger.findings(rule_id="crawl.removed") == []

    outcome = audit(h, not_there("A", 410), listing("B"), not_there("C"))
    floor = h.ledger.finding(floor.id)
    assert (floor.status, floor.note) == ("gone", "its listing was removed from the store")
    assert outcome.update.gone == [floor.id] and outcome.update.resolved == []
    [removal] = h.ledger.findings(rule_id="crawl.removed")
    assert removal.sku == "A" and removal.severity == "major"  # promoted, a finding open
    assert removal.message == ("A (山禾 标题) was removed from the store: its page answered "
                               "HTTP 410 two looks running; 1 open finding went with it")
    assert removal.evidence["findings_gone"] == [floor.id]

    audit(h, not_there("A"), listing("B"), not_there("C"))
    removals = {f.sku: f for f in h.ledger.findings(rule_id="crawl.removed")}
    assert removals["C"].severity == "minor"  # not promoted, nothing open
    assert removals["A"].status == "open", "a removal stays until someone answers it"

    # A comes back, under its floor again: the removal is over, the price finding reopens.
    audit(h, listing("A", price="120"), listing("B"))
    assert h.ledger.finding(removals["A"].id).status == "resolved"
    assert h.ledger.finding(floor.id).status == "open"
    assert h.ledger.finding(removals["C"].id).status == "open"


def test_a_listing_the_crawl_did_not_look_at_keeps_its_findings(h):
    """Issue #16: before, a listing missing from a full crawl was marked gone and its
    findings resolved: an agency had only to drop it from the sitemap."""
    audit(h, listing("A", price="120"), listing("B"))
    audit(h, listing("B"))
    [finding] = h.ledger.findings(rule_id="prices.below_floor")
    assert finding.status == "open"


def test_the_deadline_follows_the_escalation_ladder(h):
    audit(h, listing("A", price="120", promoted=True))
    [critical] = h.ledger.findings(rule_id="prices.below_floor")
    seen = h.clock.now()
    assert critical.deadline == (seen + timedelta(hours=1)).astimezone(
        __import__("datetime").timezone.utc).isoformat()


def test_an_acknowledged_finding_stays_acknowledged_while_the_problem_lasts(h):
    audit(h, listing("A", price="120"))
    [f] = h.ledger.findings()
    h.ledger.acknowledge(f.id, "agency-ops", "fixing the price tonight")
    audit(h, listing("A", price="120"))
    assert h.ledger.finding(f.id).status == "acknowledged"
    [event] = h.ledger.events(finding_id=f.id)
    assert (event["actor"], event["action"]) == ("agency-ops", "acknowledge")


def test_a_waiver_needs_a_reason_and_is_recorded(h):
    audit(h, listing("B", price="150"))
    [f] = h.ledger.findings()
    with pytest.raises(FindingError, match="reason"):
        h.ledger.waive(f.id, "merchant", "  ")
    h.ledger.waive(f.id, "merchant", "clearance agreed by phone")
    assert h.ledger.finding(f.id).status == "waived"
    assert h.ledger.events(finding_id=f.id)[0]["detail"] == "clearance agreed by phone"


def test_an_approval_silences_the_discount_until_it_expires(h, ledger, clock):
    ledger.add_approval("B", valid_until=clock.now() + timedelta(days=1, hours=12),
                        max_discount=__import__("decimal").Decimal("0.5"))
    audit(h, listing("B", price="150"))
    assert open_findings(ledger) == set()
    audit(h, listing("B", price="150"))
    assert open_findings(ledger) == {("prices.unapproved_discount", "B")}


runner = CliRunner()


def test_cli_waive_and_approve_write_events(tmp_path, h, ledger):
    audit(h, listing("B", price="150"))
    [f] = ledger.findings()
    db = str(ledger.path)
    result = runner.invoke(app, ["waive", str(f.id), "--reason", "end of season", "--db", db])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["approve", "B", "--max-discount", "0.4", "--until", "2027-01-31",
                                 "--db", db, "-c", str(tmp_path / "none.toml")])
    assert result.exit_code == 0, result.output
    actions = [e["action"] for e in ledger.events()]
    assert actions == ["waive", "approve"]


def test_cli_refuses_to_acknowledge_a_finding_that_does_not_exist(ledger):
    result = runner.invoke(app, ["acknowledge", "999", "--db", str(ledger.path)])
    assert result.exit_code == 1 and "no finding #999" in result.output


def test_registry_add_hashes_images_and_refuses_non_images(tmp_path, ledger):
    from PIL import Image

    Image.new("RGB", (64, 64), (200, 30, 30)).save(tmp_path / "logo.png")
    (tmp_path / "notes.jpg").write_text("not an image")
    result = runner.invoke(app, ["registry", "add", str(tmp_path), "--source", "brand notice",
                                 "--db", str(ledger.path)])
    assert result.exit_code == 0, result.output
    assert "notes.jpg" in result.output and "refused" in result.output
    [entry] = ledger.registry()
    assert (entry.label, entry.source) == ("logo", "brand notice") and entry.phash
    listed = runner.invoke(app, ["registry", "list", "--db", str(ledger.path)])
    assert "logo" in listed.output


def test_a_finding_names_the_change_that_raised_it_with_both_values_and_times(h):
    """Issue #16: evidence that holds in a dispute: the value before and after, and when each
    was seen; kept from the first sighting while the finding stays open."""
    audit(h, listing("A", price="160", promoted=True))
    first_look = h.clock.now()
    audit(h, listing("A", price="120", promoted=True))
    raised_at = h.clock.now()
    [floor] = h.ledger.findings(rule_id="prices.below_floor")
    [change] = floor.evidence["changed"]
    assert (change["field"], change["before"], change["after"]) == ("price", "160", "120")
    assert change["before_at"] == first_look.isoformat() == floor.evidence["compared_with"]
    assert change["after_at"] == raised_at.isoformat()
    audit(h, listing("A", price="125", promoted=True))  # still under: the same finding
    again = h.ledger.finding(floor.id)
    assert again.evidence["changed"] == floor.evidence["changed"]
    assert "125" in again.message
    # A listing first seen with the problem: nothing to compare with, and it says so.
    audit(h, listing("A", price="125", promoted=True), listing("B", price="99"))
    [discount] = h.ledger.findings(rule_id="prices.unapproved_discount", sku="B")
    assert discount.evidence["changed"] == [] and discount.evidence["compared_with"] is None
