"""The escalation ladder reaches people: the contract's contacts are told through Apprise (here
its `json://` channel, posting to a real HTTP server on 127.0.0.1), once per step, with
retries, secrets kept out of the ledger and the logs, and the outbox for a contact without
channels."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import unicodedata
from collections import defaultdict
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest

from audits.catalog import parse_catalog
from audits.clock import ManualClock
from audits.contract import parse_contract
from audits.engine import audit_run
from audits.ledger import Ledger, NewFinding
from audits.notify import AuditNews, retry_pending, tell, tick_notifiers
from audits.notify.escalation import NOTIFIER, escalate, tell_raised
from audits.rules import rule_by_id
from audits.scheduler import AuditScheduler
from history import History, listing

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)
CATALOG = parse_catalog("sku,cost,reference_price,promoted\nA,100,299,yes\nB,100,299,no\n")
SECRET = "hook-5e8f1c-not-for-the-ledger"


class Receiver:
    """A webhook on 127.0.0.1: keeps each POST's path and JSON body; answers each path with
    the statuses queued for it (then 200)."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        self.answers: dict[str, list[int]] = defaultdict(list)
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                queued = receiver.answers[self.path]
                status = queued.pop(0) if queued else 200
                with receiver.changed:
                    receiver.posts.append((self.path, json.loads(data)))
                    receiver.changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def wait_for(self, n: int, timeout: float = 10) -> list[tuple[str, dict]]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.posts) >= n, timeout), \
                f"{n} posts expected, {len(self.posts)} came: {self.posts}"
            return list(self.posts)

    def to(self, path: str) -> list[dict]:
        return [body for p, body in self.posts if p == f"/{path}"]


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def contract_for(tmp_path, receiver: Receiver, *, attempts=3, major_agency=None):
    """Critical: an agency and a merchant contact; major: an agency contact (`major_agency`:
    its channels); minor: no one. Each contact's channel posts to its own path."""
    if major_agency is None:
        major_agency = [receiver.url("major-agency")]
    listed = ", ".join(f'"{c}"' for c in major_agency)
    return parse_contract(f"""
[store]
name = "山禾 Shop"
base_url = "http://shop.test"
timezone = "Asia/Shanghai"

[email]
outbox = "{tmp_path / 'outbox'}"
dashboard_url = "http://dash.test"

[escalation]
attempts = {attempts}
retry_minutes = 5
timeout_seconds = 5

[escalation.critical]
answer_within_hours = 1
fix_within_hours = 24
agency = {{ name = "王磊 (account director)", channels = ["{receiver.url('critical-agency')}"] }}
merchant = {{ name = "陈静 (owner)", channels = ["{receiver.url('critical-merchant')}"] }}

[escalation.major]
answer = "a plan"
answer_within_hours = 4
agency = {{ name = "李娜 (operations specialist)", channels = [{listed}] }}

[escalation.minor]
answer_within_hours = 2

[schedule]
enabled = false
""")


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
def ledger(tmp_path, clock):
    with Ledger(tmp_path / "l.db", clock) as led:
        yield led


def raise_findings(ledger, clock, contract, *found: tuple[str, str, str]) -> list[int]:
    """Record a night that saw listings A and B, and these findings (rule id, SKU, message),
    each with the answer-by time its level sets; their ids."""
    run = History(ledger, clock).night(listing("A"), listing("B"), days=0)
    ids = {lst.sku: lst.id for lst in ledger.listings()}
    now = clock.now()
    seen = []
    for rule_id, sku, message in found:
        severity = rule_by_id(rule_id).severity
        deadline = now + contract.escalation.level(severity).answer_within
        seen.append(NewFinding(rule_id, severity, ids[sku], message, message, {},
                               deadline.isoformat()))
    update = ledger.reconcile_findings(run.id, seen, evaluated=set())
    return update.new


def db_bytes(path) -> bytes:
    """The ledger file and its write-ahead log, as they lie on disk."""
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal"))
                    if p.exists())


def test_a_new_critical_finding_is_told_to_the_critical_agency_contact(tmp_path, receiver,
                                                                       ledger, clock):
    contract = contract_for(tmp_path, receiver)
    run = History(ledger, clock).night(listing("A", price="120", promoted=True), days=0)
    outcome = audit_run(ledger, contract, CATALOG, run, full=True)
    [critical] = ledger.findings(rule_id="prices.below_floor")

    done = tell(AuditNews(contract, ledger, "manual", outcome))

    receiver.wait_for(1)
    [body] = receiver.to("critical-agency")
    assert body["title"] == "山禾 Shop: 1 new finding to answer"
    text = body["message"]
    assert text.startswith("王磊 (account director): the audit of 山禾 Shop raised a finding.")
    assert "- CRITICAL · Price under the floor · SKU A" in text
    assert critical.message[:40] in text
    # Answer-by time on the store's clock: raised at 10:00, to answer within 1 h.
    assert "answer by 2026-11-16 11:00" in text and "Times are Asia/Shanghai." in text
    assert f"http://dash.test/findings/{critical.id}" in text
    # The audit's major findings (the weekly quota's) go to the major level's contact.
    for other in receiver.to("major-agency"):
        assert f"/findings/{critical.id}\n" not in other["message"]
    [sent] = [d for d in done if d.notifier == NOTIFIER and "critical-agency" in d.recipients[0]]
    assert (sent.kind, sent.status, sent.transport) == ("raised", "sent", "apprise")
    assert sent.recipients == [f"王磊 (account director) <{receiver.url('critical-agency')}>"]
    assert sent.finding_ids == {"raised": [critical.id]}
    assert ledger.escalations() == [], "nothing is late yet"


def test_an_unanswered_major_finding_is_told_one_level_up_once(tmp_path, receiver, ledger,
                                                               clock):
    contract = contract_for(tmp_path, receiver)
    [major] = raise_findings(ledger, clock, contract,
                             ("prices.unapproved_discount", "B", "Discount of 45% on B"))
    clock.advance(timedelta(hours=3, minutes=59))  # a plan within 4 h: not late yet
    assert tick_notifiers(contract, ledger, clock.now()) == []
    assert receiver.posts == []

    clock.advance(timedelta(minutes=2))
    done = AuditScheduler(contract, ledger.path, clock=clock, audit=_no_audit,
                          tick_seconds=3600).tick()

    posts = receiver.wait_for(2)
    assert sorted(p for p, _ in posts) == ["/critical-agency", "/major-agency"]
    for _, body in posts:
        assert body["title"] == "山禾 Shop: 1 finding not answered in time"
        assert "A finding of 山禾 Shop passed its answer-by time without an acknowledgement" \
            in body["message"]
        assert "a plan was due 2026-11-16 14:00, not acknowledged" in body["message"]
        assert f"http://dash.test/findings/{major}" in body["message"]
    assert sum(line.startswith("escalation unanswered #") and line.endswith(": sent")
               for line in done) == 2, done
    [told] = ledger.escalations(major)
    assert (told["step"], told["told_level"], len(told["deliveries"])) == \
        ("unanswered", "critical", 2)

    clock.advance(timedelta(hours=1))  # the next sweeps: told once, not again
    assert tick_notifiers(contract, ledger, clock.now()) == []
    assert escalate(contract, ledger, clock.now()) == []
    assert len(receiver.posts) == 2
    assert len(ledger.escalations(major)) == 1


def test_two_processes_sweeping_at_once_tell_a_late_finding_once(tmp_path, receiver, ledger,
                                                                 clock, monkeypatch):
    """The scheduler's process and the API's (after a spot-check) may sweep at the same
    moment: the one that claims the step first tells it, the other tells nothing."""
    contract = contract_for(tmp_path, receiver)
    [major] = raise_findings(ledger, clock, contract,
                             ("prices.unapproved_discount", "B", "Discount of 45% on B"))
    clock.advance(timedelta(hours=5))
    other = Ledger(ledger.path, clock)   # another process's connection to the same ledger
    try:
        # Both have read the late finding; the other process claims it first.
        [late] = ledger.unanswered_past(clock.now())
        monkeypatch.setattr(ledger, "unanswered_past", lambda now: [late])
        assert other.claim_escalation(late, "unanswered", "critical")
        assert escalate(contract, ledger, clock.now()) == []
        assert not other.claim_escalation(late, "unanswered", "critical")
    finally:
        other.close()
    assert receiver.posts == []
    assert len(ledger.escalations(major)) == 1


def _no_audit(contract, ledger, kind):
    raise AssertionError("the schedule is off: no audit runs")


def test_an_acknowledged_finding_is_not_escalated(tmp_path, receiver, ledger, clock):
    contract = contract_for(tmp_path, receiver)
    answered, silent = raise_findings(
        ledger, clock, contract, ("prices.unapproved_discount", "A", "Discount on A"),
        ("prices.unapproved_discount", "B", "Discount on B"))
    clock.advance(timedelta(hours=1))
    ledger.acknowledge(answered, "agency-ops", "plan: price back tonight")
    clock.advance(timedelta(hours=4))

    escalate(contract, ledger, clock.now())

    posts = receiver.wait_for(2)
    for _, body in posts:
        assert f"/findings/{silent}" in body["message"]
        assert f"/findings/{answered}" not in body["message"]
        assert "Discount on A" not in body["message"]
    assert ledger.escalations(answered) == []
    assert [e["step"] for e in ledger.escalations(silent)] == ["unanswered"]


def test_a_critical_finding_unfixed_past_its_fix_by_time_tells_the_merchant_once(
        tmp_path, receiver, ledger, clock):
    contract = contract_for(tmp_path, receiver)
    [critical] = raise_findings(ledger, clock, contract,
                                ("prices.below_floor", "A", "¥120 is under the floor ¥150"))
    ledger.acknowledge(critical, "agency-ops", "on it")  # answered in time, not fixed
    clock.advance(timedelta(hours=23, minutes=59))
    assert escalate(contract, ledger, clock.now()) == []

    clock.advance(timedelta(minutes=2))
    [sent] = escalate(contract, ledger, clock.now())

    [(path, body)] = receiver.wait_for(1)
    assert path == "/critical-merchant" and sent.status == "sent" and sent.kind == "unfixed"
    assert body["title"] == "山禾 Shop: 1 finding not fixed in time"
    assert "fix was due 2026-11-17 10:00" in body["message"]
    assert body["message"].startswith("陈静 (owner): ")
    [told] = ledger.escalations(critical)
    assert (told["step"], told["told_level"], told["deliveries"]) == \
        ("unfixed", "critical", [sent.id])

    clock.advance(timedelta(days=2))
    assert escalate(contract, ledger, clock.now()) == []
    assert len(receiver.posts) == 1


def test_an_unanswered_critical_finding_is_told_to_the_merchant(tmp_path, receiver, ledger,
                                                                clock):
    contract = contract_for(tmp_path, receiver)
    [critical] = raise_findings(ledger, clock, contract,
                                ("prices.below_floor", "A", "¥120 is under the floor ¥150"))
    clock.advance(timedelta(hours=1, minutes=1))
    escalate(contract, ledger, clock.now())
    assert sorted(p for p, _ in receiver.wait_for(2)) == ["/critical-agency",
                                                          "/critical-merchant"]
    [told] = ledger.escalations(critical)
    assert told["step"] == "unanswered" and told["told_level"] == "critical"


def test_a_level_that_names_no_one_is_written_down_once_and_sends_nothing(
        tmp_path, receiver, ledger, clock):
    contract = contract_for(tmp_path, receiver)
    [minor] = raise_findings(ledger, clock, contract,
                             ("titles.length", "A", "Title has 80 characters"))
    clock.advance(timedelta(hours=2, minutes=1))
    # Minor names no agency contact; the major level above it does.
    [sent] = escalate(contract, ledger, clock.now())
    assert sent.recipients[0].startswith("李娜 (operations specialist) <")
    [told] = ledger.escalations(minor)
    assert told["told_level"] == "major" and told["deliveries"] == [sent.id]

    nobody = contract.model_copy(update={"escalation": contract.escalation.model_copy(
        update={"major": contract.escalation.major.model_copy(update={"agency": None})})})
    [again] = raise_findings(ledger, clock, nobody, ("titles.length", "B", "Title too long"))
    clock.advance(timedelta(hours=2, minutes=1))
    assert escalate(nobody, ledger, clock.now()) == []
    assert ledger.escalations(again)[0]["deliveries"] == []
    assert escalate(nobody, ledger, clock.now()) == []
    assert len(ledger.escalations(again)) == 1
    assert len(receiver.posts) == 1


def test_a_failed_delivery_is_retried_after_its_wait_then_sent(tmp_path, receiver, ledger,
                                                               clock):
    contract = contract_for(tmp_path, receiver)
    receiver.answers["/critical-agency"] = [500]
    found = raise_findings(ledger, clock, contract,
                           ("prices.below_floor", "A", "¥120 is under the floor ¥150"))
    [first_try] = tell_raised(contract, ledger, found)
    receiver.wait_for(1)
    [record] = ledger.deliveries(notifier=NOTIFIER)
    assert record == first_try
    assert record.status == "pending" and record.attempts == 1
    assert "500" in record.last_error and "json://" in record.last_error
    assert datetime.fromisoformat(record.next_attempt) == clock.now() + timedelta(minutes=5)

    clock.advance(timedelta(minutes=4))
    assert retry_pending(contract, ledger) == [], "its wait is not over"
    clock.advance(timedelta(minutes=1))
    [retried] = retry_pending(contract, ledger)

    assert retried.id == record.id and retried.status == "sent" and retried.attempts == 2
    first, second = [body for _, body in receiver.wait_for(2)]
    assert first == second, "the message kept in the ledger is sent again as it was"
    assert [d.id for d in ledger.deliveries(notifier=NOTIFIER)] == [record.id]


def test_a_delivery_is_failed_after_its_last_attempt(tmp_path, receiver, ledger, clock):
    contract = contract_for(tmp_path, receiver, attempts=2)
    receiver.answers["/major-agency"] = [500, 503, 200]
    raise_findings(ledger, clock, contract, ("titles.length", "A", "Title too long"))
    clock.advance(timedelta(hours=2, minutes=1))
    [record] = escalate(contract, ledger, clock.now())
    assert record.status == "pending"

    clock.advance(timedelta(minutes=5))
    [done] = retry_pending(contract, ledger)
    assert done.status == "failed" and done.attempts == 2 and "503" in done.last_error
    clock.advance(timedelta(days=1))
    assert retry_pending(contract, ledger, due_only=False) == []
    assert len(receiver.wait_for(2)) == 2


def test_a_secret_in_a_channel_comes_from_the_environment_and_never_reaches_the_ledger(
        tmp_path, receiver, clock, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)  # Apprise and urllib3 log the URL they post to
    monkeypatch.setenv("HOOK_PATH", SECRET)
    monkeypatch.setenv("TG_TOKEN", f"tg-{SECRET}")  # not a Telegram token: refused by Apprise
    written = f"json://127.0.0.1:{receiver.port}/" + "${HOOK_PATH}"
    contract = contract_for(tmp_path, receiver,
                            major_agency=[written, "tgram://${TG_TOKEN}/42"])
    receiver.answers[f"/{SECRET}"] = [500]
    db = tmp_path / "secret.db"
    with Ledger(db, clock) as ledger:
        raise_findings(ledger, clock, contract, ("titles.length", "A", "Title too long"))
        clock.advance(timedelta(hours=2, minutes=1))
        first = escalate(contract, ledger, clock.now())
        clock.advance(timedelta(minutes=5))
        retry_pending(contract, ledger)
        hook, telegram = sorted(ledger.deliveries(notifier=NOTIFIER), key=lambda d: d.id)

    assert [p for p, _ in receiver.wait_for(2)] == [f"/{SECRET}", f"/{SECRET}"]
    assert [d.status for d in first] == ["pending", "pending"]
    assert "500" in first[0].last_error and "json://" in first[0].last_error
    assert hook.status == "sent"
    assert hook.recipients == [f"李娜 (operations specialist) <{written}>"]
    assert telegram.status == "pending" and "tgram://" in telegram.last_error
    assert "Apprise cannot use this tgram:// URL" in telegram.last_error
    with sqlite3.connect(db) as con:
        rows = repr(con.execute("SELECT * FROM deliveries").fetchall())
    assert "${HOOK_PATH}" in rows and "${TG_TOKEN}" in rows
    logs = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "POST /" in logs or "JSON POST URL" in logs, "the sending was logged, and read"
    errors = " ".join(d.last_error or "" for d in [*first, hook, telegram])
    for place, data in (("ledger", db_bytes(db)), ("rows", rows.encode()),
                        ("log", logs.encode()), ("errors", errors.encode())):
        assert SECRET.encode() not in data, f"the secret reached the {place}"


def test_a_missing_environment_variable_is_a_failed_try_naming_it(tmp_path, receiver, ledger,
                                                                  clock, monkeypatch):
    monkeypatch.delenv("HOOK_PATH", raising=False)
    contract = contract_for(tmp_path, receiver, major_agency=[
        f"json://127.0.0.1:{receiver.port}/" + "${HOOK_PATH}"])
    raise_findings(ledger, clock, contract, ("titles.length", "A", "Title too long"))
    clock.advance(timedelta(hours=2, minutes=1))
    [record] = escalate(contract, ledger, clock.now())
    assert record.status == "pending"
    assert record.last_error == "environment variable HOOK_PATH is not set"
    assert receiver.posts == []

    monkeypatch.setenv("HOOK_PATH", "hooks/ops")
    clock.advance(timedelta(minutes=5))
    [sent] = retry_pending(contract, ledger)
    assert sent.status == "sent"
    assert [p for p, _ in receiver.wait_for(1)] == ["/hooks/ops"]


def test_a_contact_without_channels_has_the_message_written_to_the_outbox(
        tmp_path, receiver, ledger, clock):
    contract = contract_for(tmp_path, receiver, major_agency=[])
    [major] = raise_findings(ledger, clock, contract,
                             ("prices.unapproved_discount", "B", "Discount of 45% on B"))
    clock.advance(timedelta(hours=4, minutes=1))
    done = escalate(contract, ledger, clock.now())

    [written] = [d for d in done if d.transport == "outbox"]
    assert written.status == "written" and written.recipients == ["李娜 (operations specialist)"]
    [path] = (tmp_path / "outbox" / "escalations").iterdir()
    assert str(path) == written.path and path.name == f"2026-11-16_1401_unanswered_{written.id}.txt"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("To: 李娜 (operations specialist)\n"
                           "Subject: 山禾 Shop: 1 finding not answered in time\n\n")
    assert f"http://dash.test/findings/{major}" in text
    # The critical level's agency contact, who has a channel, is told as ever.
    assert [p for p, _ in receiver.wait_for(1)] == ["/critical-agency"]


def test_many_findings_are_one_message_per_contact_listing_twenty(tmp_path, receiver, ledger,
                                                                  clock):
    contract = contract_for(tmp_path, receiver)
    ids = []
    for i in range(23):
        ids += raise_findings(ledger, clock, contract,
                              ("titles.length", "A" if i % 2 else "B", f"Title #{i} too long"))
        clock.advance(timedelta(minutes=1))
    clock.advance(timedelta(hours=2))
    [sent] = escalate(contract, ledger, clock.now())

    [(_, body)] = receiver.wait_for(1)
    assert body["title"] == "山禾 Shop: 23 findings not answered in time"
    assert body["message"].count("http://dash.test/findings/") == 20
    assert "… and 3 more: http://dash.test/findings\n" in body["message"]
    assert sent.finding_ids == {"unanswered": ids}
    assert len(ledger.escalations()) == 23


def test_store_text_arrives_as_plain_text_without_control_characters(tmp_path, receiver,
                                                                      ledger, clock):
    contract = contract_for(tmp_path, receiver)
    hostile = ("Title \u202e991¥ <script>alert(1)</script>\x1b[31m\n"
               "- CRITICAL · forged line\u2066 end")
    [found] = raise_findings(ledger, clock, contract, ("prices.below_floor", "A", hostile))
    tell_raised(contract, ledger, [found])

    [(_, body)] = receiver.wait_for(1)
    text = body["message"]
    assert "<script>alert(1)</script>" in text, "kept as the text it is, not as markup"
    assert "Title 991¥ <script>alert(1)</script> [31m - CRITICAL · forged line end" in text
    assert not any(line.startswith("- CRITICAL · forged") for line in text.splitlines())
    bad = [c for c in text + body["title"] if c != "\n" and (
        unicodedata.category(c) in ("Cc", "Zl", "Zp") or "\u202a" <= c <= "\u202e"
        or "\u2066" <= c <= "\u2069")]
    assert bad == []
