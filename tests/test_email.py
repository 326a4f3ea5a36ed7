"""The nightly email, end to end: the scheduler fires the nightly audit on a controlled clock,
the email goes to a real SMTP server (aiosmtpd) on 127.0.0.1, and what arrives is read back.

The store is hand-built history (tests/history.py) judged by the real engine; the listing
images are served over HTTP (the email must never ask for them: it shows the thumbnails the
crawl kept in the ledger), the registry image is a real file."""

from __future__ import annotations

import email
import email.policy
import io
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from PIL import Image
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
from typer.testing import CliRunner

from audits.catalog import load_catalog, parse_catalog
from storeaudit.cli import app
from audits.clock import ManualClock
from audits.contract import parse_contract
from audits.engine import audit_run
from audits.ledger import Ledger
from audits.registry import add_to_registry
from audits.scheduler import AuditScheduler
from history import History, hashed_image, listing, not_there
from servers import free_port, serve
from test_rules_images import encode, picture, resized_copy

# Plain SMTP with AUTH on loopback, so the password really travels (and must not leak).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "pw-Zq8!never-shown"
PASSWORD_ENV = "STOREAUDIT_TEST_SMTP_PASSWORD"
HOSTILE = "<b>x</b><script>alert(1)</script> 最好的围巾"
DASHBOARD = "http://dash.test:8600"
CATALOG = parse_catalog("sku,cost,reference_price,promoted\n"
                        "A,100,160,yes\nB,50,99,no\nC,100,399,no\n")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


# ------------------------------------------------------------------ an SMTP server and a shop
class Inbox:
    """aiosmtpd handler: keeps what arrives, or refuses it with `refuse` (e.g. a 451)."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: str | None = None

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == b"audit"
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


class SmtpServer:
    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                     authenticator=_authenticator, auth_required=True,
                                     auth_require_tls=False)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pictures(tmp_path):
    """The registry's original on disk; the shop's images (one an altered copy) over HTTP,
    each request for one noted in `hits`."""
    original = picture("sunset")
    registry = tmp_path / "registry" / "sunset_lake.png"
    registry.parent.mkdir()
    registry.write_bytes(encode(original))
    served = {"/img/c-1.jpg": encode(picture("tent"), "JPEG"),
              "/img/c-4.jpg": resized_copy(original)}
    hits = []

    async def image(request):
        hits.append(request.url.path)
        data = served.get(request.url.path)
        if isinstance(data, str):  # a test sends this picture somewhere else
            return Response(status_code=302, headers={"Location": data})
        return Response(data, media_type="image/jpeg") if data else Response(status_code=404)

    with serve(Starlette(routes=[Route("/img/{name}", image)])) as base:
        yield base, registry, served, hits


class Shop:
    """What the shop shows each night; `audit` is the scheduler's audit (crawl + rules), which
    keeps the images' thumbnails as a crawl does unless `keep_thumbnails` is False (a ledger
    from before they were kept)."""

    def __init__(self, base: str, served: dict[str, bytes], clock: ManualClock):
        self.base, self.served, self.clock = base, served, clock
        self.night = 1
        self.keep_thumbnails = True

    def snapshots(self):
        img = lambda name: f"{self.base}/img/{name}"  # noqa: E731
        if self.night == 1:
            return [listing("A", title="山禾 羽绒服", price="299", promoted=True),
                    listing("B", title=HOSTILE, price="99"),
                    listing("C", title="山禾 帐篷", price="399", images=[img("c-1.jpg")])]
        return [listing("A", title="山禾 羽绒服 2026新款", price="120", promoted=True),
                listing("B", title=HOSTILE, price="99"),
                listing("C", title="山禾 帐篷", price="399",
                        images=[img("c-1.jpg"), img("c-4.jpg")])]

    def audit(self, contract, ledger, kind):
        snaps = self.snapshots()
        urls = {u for s in snaps for u in s.image_urls}
        images, thumbnails = {}, {}
        for u in urls:
            images[u], thumbnail = hashed_image(u, self.served[u.removeprefix(self.base)])
            if self.keep_thumbnails:
                thumbnails[images[u].sha256] = thumbnail
        run = History(ledger, self.clock).night(*snaps, days=0, images=images, kind=kind,
                                                thumbnails=thumbnails)
        return audit_run(ledger, contract, CATALOG, run, full=True)


def make_contract(tmp_path, base: str, port: int, extra: str = "", smtp: bool = True):
    smtp_section = f"""
[email.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
user = "audit"
password_env = "{PASSWORD_ENV}"
timeout_seconds = 5
""" if smtp else ""
    return parse_contract(f"""
[store]
name = "山禾生活旗舰店"
base_url = "{base}"

[rules.titles.weekly_quota]
per_week = 1
scale_to_store = false

[rules.titles.stale]
enabled = false

[email]
from = "storeaudit <audit@shop.test>"
to = ["merchant@shop.test"]
dashboard_url = "{DASHBOARD}"
outbox = "{tmp_path / 'outbox'}"
retry_minutes = 5
attempts = 3
{extra}

[review]
# The weekly and monthly reviews go by email too; tests/test_review.py has theirs.
weekly_email = false
monthly_email = false
{smtp_section}
""")


@pytest.fixture
def world(tmp_path, smtp, pictures, monkeypatch, caplog):
    """A ledger with the registry filled, a shop, and a scheduler on a ManualClock."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    base, registry, served, hits = pictures
    clock = ManualClock(at(15, 1, 59))
    db = tmp_path / "ledger.db"
    with Ledger(db, clock) as ledger:
        add_to_registry(ledger, [registry], source="rights holder's notice")
    shop = Shop(base, served, clock)

    class World:
        pass

    w = World()
    w.tmp, w.smtp, w.clock, w.db, w.shop, w.base = tmp_path, smtp, clock, db, shop, base
    w.image_hits = hits  # requests the store's image server had
    w.contract = make_contract(tmp_path, base, smtp.port)
    w.scheduler = lambda contract=None: AuditScheduler(contract or w.contract, db, clock=clock,
                                                       audit=shop.audit, tick_seconds=3600)
    return w


def parts(msg):
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    images = [p for p in msg.walk() if p.get_content_maintype() == "image"]
    return text, html, images


def findings_by_sku(db, clock):
    with Ledger(db, clock) as ledger:
        return {(f.rule_id, f.sku): f for f in ledger.findings()}


# ------------------------------------------------------------------ the nightly email
def test_the_nightly_email_arrives_with_new_findings_first_images_and_links(world, caplog):
    s = world.scheduler()
    assert s.tick() == []                     # 01:59: not yet
    world.clock.set(at(15, 2, 0))
    s.tick()                                  # night 1
    world.shop.night = 2
    world.clock.set(at(16, 2, 0))
    s.tick()                                  # night 2
    assert len(world.smtp.inbox.messages) == 2
    msg = world.smtp.inbox.messages[1]
    found = findings_by_sku(world.db, world.clock)
    floor = found[("prices.below_floor", "A")]
    infringing = found[("images.infringing", "C")]
    banned = found[("titles.forbidden_terms", "B")]

    assert msg["Subject"] == "[storeaudit] 山禾生活旗舰店 — 2 critical, 1 major, 0 minor open (2026-11-16)"
    assert msg["To"] == "merchant@shop.test" and "audit@shop.test" in msg["From"]
    assert msg.get_content_type() == "multipart/alternative"
    text, html, images = parts(msg)

    # New findings first, then the still-open ones, then what was resolved.
    for body in (html, text):
        new_at = body.index("New since the last email (2)")
        open_at = body.index("Still open (1)")
        resolved_at = body.index("Resolved since the last email")
        link = lambda f: body.index(f"{DASHBOARD}/findings/{f.id}")  # noqa: E731
        assert new_at < link(floor) < open_at
        assert new_at < link(infringing) < open_at
        assert open_at < link(banned) < resolved_at
    assert f'href="{DASHBOARD}/findings/{floor.id}"' in html

    # The listing's image and the registry's, side by side, inline: the listing's is the
    # thumbnail the crawl kept, nothing was fetched to make the email.
    assert len(images) == 2
    for image in images:
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
        with Image.open(io.BytesIO(image.get_content())) as thumb:
            assert max(thumb.size) <= 240
    assert "Known infringing: sunset_lake" in html
    assert listing_picture(images) == kept_thumbnail(world, infringing)
    assert "yellow boxes" not in html   # no box to draw, none spoken of
    assert world.image_hits == []

    # Store text: escaped in the HTML, as it is in the text.
    # (`<wbr>`: the chances to break a long unbroken run, so it cannot widen the email.)
    assert "&lt;b&gt;x&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt; 最好的围巾" in \
        html.replace("<wbr>", "")
    assert "<script" not in html and "<b>x" not in html
    assert HOSTILE in text

    # Each new finding says what changed when it was raised (issue #16): the floor finding,
    # the jacket's price the night before and now.
    assert "changed: price ¥299.00 → ¥120.00 (2026-11-15 02:00 → 2026-11-16 02:00)" in text
    assert "changed: price ¥299.00 → ¥120.00" in html.replace("<wbr>", "")

    # The day's changes and the quota are there too.
    assert "¥299.00" in html and "¥120.00" in html and "山禾 羽绒服 2026新款" in html
    assert "1 of 1" in html and "quota met" in html

    # Times on the store's clock.
    assert "2026-11-16 03:00" in text  # the critical finding's answer-by (02:00 + 1 h)

    with Ledger(world.db, world.clock) as ledger:
        [second, first] = ledger.deliveries(notifier="email")
    assert (first.status, second.status) == ("sent", "sent")
    assert set(second.finding_ids["new"]) == {floor.id, infringing.id}
    assert second.finding_ids["open"] == [banned.id]

    raw = b"".join(m.as_bytes() for m in world.smtp.inbox.messages)
    assert PASSWORD.encode() not in raw and PASSWORD not in caplog.text


@pytest.mark.parametrize("outage", ["451", "server stopped"])
def test_an_smtp_failure_is_retried_then_recorded_failed_and_reported_next_time(world, outage,
                                                                                 caplog):
    if outage == "451":
        world.smtp.inbox.refuse = "451 4.3.0 Try again later"
    else:
        world.smtp.stop()
    s = world.scheduler()
    world.clock.set(at(15, 2, 0))
    s.tick()
    with Ledger(world.db, world.clock) as ledger:
        [first] = ledger.deliveries(notifier="email")
        assert (first.status, first.attempts) == ("pending", 1)
        for minutes, attempts in ((4, 1), (1, 2), (10, 3)):  # retried after 5, then 10 min
            world.clock.advance(__import__("datetime").timedelta(minutes=minutes))
            s.tick()
            first = ledger.delivery(first.id)
            assert first.attempts == attempts
        assert first.status == "failed"
        assert ("451" in first.last_error) if outage == "451" else ("Connection" in first.last_error)
        assert open(first.path, "rb").read()  # its copy is still in the outbox
    assert world.smtp.inbox.messages == []

    # The server is back; the next night's email still reports night 1's findings as new.
    world.smtp.inbox.refuse = None
    if outage != "451":
        world.smtp.start()
    world.shop.night = 2
    world.clock.set(at(16, 2, 0))
    s.tick()
    [msg] = world.smtp.inbox.messages
    found = findings_by_sku(world.db, world.clock)
    text, html, _ = parts(msg)
    assert "New since the last email (3)" in text
    banned = found[("titles.forbidden_terms", "B")]
    assert f"/findings/{banned.id}" in text.split("Resolved since")[0]
    assert "Still open" not in text
    with Ledger(world.db, world.clock) as ledger:
        second = ledger.deliveries(notifier="email")[0]
        assert second.status == "sent"
        assert found[("titles.forbidden_terms", "B")].id in second.finding_ids["new"]
    assert PASSWORD not in caplog.text


def test_an_email_not_sent_while_smtp_is_down_is_kept_and_sent_when_it_is_back(world):
    """SMTP down at the nightly email: the email is kept (its copy in the outbox, pending in
    the ledger), and once the server is back the next try, even by a scheduler started anew,
    sends that very copy rather than losing it or making another."""
    from datetime import timedelta

    world.smtp.stop()
    world.clock.set(at(15, 2, 0))
    world.scheduler().tick()
    with Ledger(world.db, world.clock) as ledger:
        [kept] = ledger.deliveries(notifier="email")
    assert (kept.status, kept.attempts) == ("pending", 1) and "Connection" in kept.last_error
    copy = email.message_from_bytes(open(kept.path, "rb").read(), policy=email.policy.default)

    world.smtp.start()
    world.clock.advance(timedelta(minutes=5))  # its next try is due
    world.scheduler().tick()  # a new scheduler: the process was restarted meanwhile
    with Ledger(world.db, world.clock) as ledger:
        assert [e.id for e in ledger.deliveries(notifier="email")] == [kept.id]  # tried again, not made again
        sent = ledger.delivery(kept.id)
    assert (sent.status, sent.attempts) == ("sent", 2)
    [got] = world.smtp.inbox.messages
    assert got["Message-ID"] == copy["Message-ID"] and got["Subject"] == copy["Subject"]
    assert parts(got)[0] == copy.get_body(("plain",)).get_content()
    assert sent.finding_ids["new"] and all(f"/findings/{i}" in parts(got)[0]
                                           for i in sent.finding_ids["new"])


def test_a_wrong_password_is_recorded_without_the_password(world, monkeypatch, caplog):
    wrong = "wrong-secret-41x"
    monkeypatch.setenv(PASSWORD_ENV, wrong)
    world.clock.set(at(15, 2, 0))
    world.scheduler().tick()
    with Ledger(world.db, world.clock) as ledger:
        [record] = ledger.deliveries(notifier="email")
    assert record.status == "pending" and "535" in record.last_error
    assert wrong not in record.last_error and wrong not in caplog.text
    assert PASSWORD not in caplog.text
    eml = open(record.path, "rb").read()
    assert wrong.encode() not in eml and PASSWORD.encode() not in eml


def test_critical_findings_can_be_sent_at_once_after_any_audit(world):
    contract = make_contract(world.tmp, world.base, world.smtp.port,
                             extra="critical_immediately = true")
    s = world.scheduler(contract)
    world.clock.set(at(15, 2, 0))
    s.tick()
    [digest] = world.smtp.inbox.messages  # nothing critical on night 1: no alert
    assert digest["X-Storeaudit-Kind"] == "digest"
    world.shop.night = 2
    world.clock.set(at(16, 2, 0))
    s.tick()
    alert, digest = world.smtp.inbox.messages[-2:]
    assert alert["Subject"] == ("[storeaudit] 山禾生活旗舰店 — CRITICAL: 2 new critical findings "
                                "(2026-11-16 02:00)")
    text, html, images = parts(alert)
    assert "Still open" not in text and len(images) == 2
    assert digest["Subject"].startswith("[storeaudit] 山禾生活旗舰店 — 2 critical")
    with Ledger(world.db, world.clock) as ledger:
        assert [e.kind for e in ledger.deliveries(notifier="email")][:2] == ["digest", "critical"]


def listing_picture(images) -> bytes:
    [part] = [p for p in images if p["Content-ID"].startswith("<listing-")]
    return part.get_content()


def kept_thumbnail(world, finding) -> bytes:
    with Ledger(world.db, world.clock) as ledger:
        return ledger.thumbnail(finding.evidence["image_sha256"]).jpeg


def test_the_email_fetches_nothing_and_shows_the_kept_thumbnail(world):
    """Issue #15: the listing picture beside the registry's is the thumbnail the crawl kept of
    the bytes it hashed. Making and sending the email asks nothing of the network: not the
    store (whose image may since point anywhere, here at a loopback service), not anyone."""
    hits = []

    async def canary(request):
        hits.append(request.url.path)
        return Response(encode(picture("sunset"), "JPEG"), media_type="image/jpeg")

    with serve(Starlette(routes=[Route("/{path:path}", canary)])) as elsewhere:
        world.shop.night = 2
        world.clock.set(at(16, 2, 0))
        s = world.scheduler()
        # Hashed as the crawl saw it; after the crawl, the store sends it somewhere else.
        original_audit = world.shop.audit

        def audit_then_redirect(contract, ledger, kind):
            outcome = original_audit(contract, ledger, kind)
            world.shop.served["/img/c-4.jpg"] = f"{elsewhere}/internal/admin.jpg"
            world.shop.served["/img/c-1.jpg"] = "http://169.254.169.254/latest/meta-data/"
            return outcome

        s.audit = audit_then_redirect
        s.tick()
    assert world.image_hits == [], "the email asked the store for its picture"
    assert hits == [], "the email fetched from elsewhere"
    [msg] = world.smtp.inbox.messages
    text, html, images = parts(msg)
    assert "Known infringing: sunset_lake" in html
    assert len(images) == 2
    infringing = findings_by_sku(world.db, world.clock)[("images.infringing", "C")]
    assert listing_picture(images) == kept_thumbnail(world, infringing)
    with Image.open(io.BytesIO(listing_picture(images))) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 240
    assert "no picture kept" not in html
    assert "http://169.254.169.254" not in html and elsewhere not in html


def test_an_image_with_no_kept_thumbnail_shows_no_picture_kept(world):
    """An image hashed before thumbnails were kept (or refused) has no picture: the email says
    so, and does not go and get one."""
    world.shop.keep_thumbnails = False
    world.shop.night = 2
    world.clock.set(at(16, 2, 0))
    world.scheduler().tick()
    assert world.image_hits == []
    [msg] = world.smtp.inbox.messages
    text, html, images = parts(msg)
    assert len(images) == 1, "only the registry's own picture is shown"
    assert not [p for p in images if p["Content-ID"].startswith("<listing-")]
    assert "no picture kept" in html
    assert "Known infringing: sunset_lake" in html


def test_without_smtp_the_email_is_written_to_the_outbox(world):
    contract = make_contract(world.tmp, world.base, world.smtp.port, smtp=False)
    world.clock.set(at(15, 2, 0))
    world.scheduler(contract).tick()
    with Ledger(world.db, world.clock) as ledger:
        [record] = ledger.deliveries(notifier="email")
    assert record.status == "written" and record.transport == "outbox"
    assert record.path.endswith(".eml") and record.html_path.endswith(".html")
    msg = email.message_from_bytes(open(record.path, "rb").read(), policy=email.policy.default)
    assert msg["Subject"].startswith("[storeaudit] 山禾生活旗舰店")
    page = open(record.html_path, encoding="utf-8").read()
    assert "&lt;script&gt;" in page and "<script" not in page
    assert world.smtp.inbox.messages == []


def test_report_sends_todays_email_now_and_retries_what_is_pending(world, tmp_path):
    world.clock.set(at(15, 2, 0))
    world.smtp.inbox.refuse = "451 4.3.0 Try again later"
    world.scheduler().tick()
    world.smtp.inbox.refuse = None
    contract_file = tmp_path / "contract.toml"
    contract_file.write_text(f"""
[store]
name = "山禾生活旗舰店"
base_url = "{world.base}"

[email]
from = "audit@shop.test"
to = ["merchant@shop.test"]
outbox = "{tmp_path / 'outbox'}"

[email.smtp]
host = "127.0.0.1"
port = {world.smtp.port}
security = "none"
user = "audit"
password_env = "{PASSWORD_ENV}"
""", encoding="utf-8")
    result = CliRunner().invoke(app, ["report", "-c", str(contract_file), "--db", str(world.db)],
                                terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Email #1 sent to merchant@shop.test" in result.output   # the pending one
    assert "Email #2 sent to merchant@shop.test" in result.output   # today's
    assert len(world.smtp.inbox.messages) == 2
    assert PASSWORD not in result.output


# ------------------------------------------------------------------ the contract's [email]
STORE = '[store]\nname = "Shop"\nbase_url = "http://shop.test"\n'


@pytest.mark.parametrize("section, key, problem", [
    ('[schedule]\nnightly = "2:00"', "schedule.nightly", "is not a time of day"),
    ('[schedule]\nextra_crawls = ["14:00", "14:00"]', "schedule.extra_crawls", "listed twice"),
    ('[email]\nfromm = "a@b.c"', "email.fromm", "unknown key"),
    ('[email]\nto = ["nobody"]', "email.to", "not an email address"),
    ('[email]\ndashboard_url = "javascript:alert(1)"', "email.dashboard_url", "http(s) URL"),
    ('[email.smtp]\nhost = "smtp.test"', "email", "no one to send to"),
    ('[email]\nto = ["m@x.y"]\n[email.smtp]\nhost = "h"\nsecurity = "tls"', "email.smtp.security",
     "'starttls', 'ssl' or 'none'"),
])
def test_a_schedule_or_email_mistake_names_its_key(section, key, problem):
    from audits.contract_errors import ContractError

    with pytest.raises(ContractError) as e:
        parse_contract(STORE + section)
    assert e.value.key == key and problem in str(e.value)


def test_the_defaults_write_to_the_outbox_and_a_literal_password_stays_hidden():
    c = parse_contract(STORE)
    assert (c.email.smtp, c.email.outbox, c.email.dashboard_url) == (None, "outbox",
                                                                     "http://127.0.0.1:8600")
    assert (c.schedule.nightly, c.schedule.catch_up_hours, c.schedule.extra_crawls) == ("02:00", 12, [])
    c = parse_contract(STORE + '[email]\nto = ["m@x.y"]\n[email.smtp]\nhost = "h"\n'
                               'password = "hunter2-literal"\n')
    assert "hunter2-literal" not in repr(c) and "hunter2-literal" not in str(c.model_dump())
    assert c.email.smtp.effective_port == 587


# ------------------------------------------------------------------ the demo's email, seen
@pytest.mark.e2e
def test_the_demo_email_reads_well_in_a_browser(tmp_path, page, artifacts):
    """The email `storeaudit demo` writes each night, for the sample store's nights 5 and 6
    (the infringing copy appears on day 6, and so do two titles with HTML in them), opened in
    Chromium: the screenshot is test-artifacts/email.png."""
    from demostore import scenario
    from demostore.app import DemoStore
    from demostore.infringing import export_registry
    from demostore.server import run_in_thread

    from storeaudit.sample_store import demo_contract
    from audits.notify.email import send_digest
    from audits.runner import run_audit

    contract = demo_contract()
    contract = contract.model_copy(update={"email": contract.email.model_copy(
        update={"outbox": str(tmp_path / "outbox")})})
    catalog = load_catalog(contract.catalog_path())

    def replay():  # in a thread of its own: the page fixture's event loop runs in this one
        store = DemoStore(size=60)
        clock = ManualClock(at(9, 2, 0))
        with run_in_thread(store) as running, Ledger(tmp_path / "demo.db", clock) as ledger:
            shop = contract.with_base_url(running.url)
            add_to_registry(ledger, [export_registry(tmp_path / "registry")[0].parent])
            for day in (5, 6):
                store.day = day
                store.hostile_titles = day == 6  # the agency pastes HTML into two titles
                clock.set(datetime.combine(scenario.date_of(day), datetime.min.time(),
                                           SHANGHAI).replace(hour=2))
                outcome = run_audit(shop, ledger, kind="demo", catalog=catalog)
                record = send_digest(shop, ledger, run_id=outcome.run.id)
            return record

    with ThreadPoolExecutor(1) as pool:
        last = pool.submit(replay).result(timeout=600)
    assert last.status == "written"
    page.set_viewport_size({"width": 760, "height": 1000})
    page.goto(f"file://{last.html_path}")
    page.screenshot(path=str(artifacts / "email.png"), full_page=True)

    body = page.inner_text("body")
    assert "New since the last email" in body and "Still open" in body
    # The hostile titles are text on the page, not markup: no script, no injected image.
    assert "<script>alert(1)</script>" in body and "<img src=x onerror=alert(1)>" in body
    assert page.locator("script").count() == 0
    assert page.locator("img[src=x]").count() == 0
    # The infringing copy (day 6) and its registry original are shown side by side.
    thumbs = page.locator("img[alt^='On the listing'], img[alt^='Known infringing']")
    assert thumbs.count() == 2
    assert all(page.evaluate("i => i.complete && i.naturalWidth > 0", h)
               for h in thumbs.element_handles())


# ------------------------------------------------------------------ the size of store text
# A title may be as long as the store likes (issue #15): one of words, one unbroken word.
LONG_WORDS = ("Down jacket 山禾 " * 700)[:10_000]
LONG_WORD = "W" * 10_000
SHOWN_CHARS = 200  # about how much of a long title or message an email shows


class LongTitledShop(Shop):
    """Night 1: three listings with 10,000-character titles. Night 2: one keeps its title,
    one changes it for another unbroken 10,000 characters, one is fixed (its finding
    resolved), and a new listing comes with a long title (a new finding)."""

    def snapshots(self):
        if self.night == 1:
            return [listing("A", title=LONG_WORDS, price="299", promoted=True),
                    listing("B", title=LONG_WORD, price="99"),
                    listing("C", title="X" + LONG_WORD[1:], price="399")]
        return [listing("A", title=LONG_WORDS, price="299", promoted=True),
                listing("B", title="V" * 10_000, price="99"),
                listing("C", title="山禾 帐篷", price="399"),
                listing("D", title="山禾 " + LONG_WORD, price="120")]


def test_a_10000_character_title_keeps_the_email_600_px_wide(world, page, artifacts):
    world.shop.__class__ = LongTitledShop
    s = world.scheduler()
    world.clock.set(at(15, 2, 0))
    s.tick()
    world.shop.night = 2
    world.clock.set(at(16, 2, 0))
    s.tick()
    first, second = world.smtp.inbox.messages
    with Ledger(world.db, world.clock) as ledger:
        ids = {l.sku: l.id for l in ledger.listings()}
    found = findings_by_sku(world.db, world.clock)
    long_ones = {sku: found[("titles.length", sku)] for sku in "ABCD"}
    assert long_ones["C"].status == "resolved"

    page.set_viewport_size({"width": 600, "height": 900})
    for n, msg in enumerate((first, second), 1):
        text, html, _ = parts(msg)
        page.set_content(html)
        page.screenshot(path=str(artifacts / f"email-long-titles-{n}.png"), full_page=True)
        wide = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert wide[0] <= 700, f"email {n} is {wide[0]} px wide in a {wide[1]} px window"
        # Cut in the email itself, not only by CSS: a title's first ~200 characters, a
        # message (which quotes it) its first 300, in either part.
        for body in (html, text):
            for title in (LONG_WORDS, LONG_WORD, "V" * 10_000):
                assert title[:300] not in body
        assert max(len(line) for line in text.splitlines()) <= 320  # a message: 300
        body = page.inner_text("body")
        assert "…" in body
        for title in (LONG_WORDS, LONG_WORD, "V" * 10_000):
            assert title[:300] not in body

    # The whole title is one click away: each finding's dashboard page, each changed listing's.
    text, html, _ = parts(second)
    for sku in "ABD":
        link = f"{DASHBOARD}/findings/{long_ones[sku].id}"
        assert f'href="{link}"' in html and link in text, sku
    assert f'href="{DASHBOARD}/findings/{long_ones["C"].id}"' in html  # resolved
    assert f"{DASHBOARD}/findings/{long_ones['C'].id}" in text
    for sku in "BC":  # their titles changed: the listing's page has the whole history
        link = f"{DASHBOARD}/listings/{ids[sku]}"
        assert f'href="{link}"' in html and link in text, sku
    # What is shown of a title is its beginning, with an ellipsis.
    assert ("山禾 " + "W" * 50) in page.inner_text("body")


# ------------------------------------------------------------------ a listing taken down
class RemovingShop(Shop):
    """Night 1: A (promoted) under its floor. Nights 2 and 3: A's page answers 404."""

    def snapshots(self):
        if self.night == 1:
            return [listing("A", title="山禾 羽绒服", price="120", promoted=True),
                    listing("B", title="山禾 围巾", price="99")]
        return [not_there("A"), listing("B", title="山禾 围巾", price="99")]


def test_findings_gone_with_a_removed_listing_are_not_reported_as_fixed(world):
    """Issue #16: a deleted listing's findings were counted as resolved, and the deletion
    itself said nothing. The email says the removal is new, and lists the findings that went
    with it apart from those fixed."""
    world.shop.__class__ = RemovingShop
    s = world.scheduler()
    for night, day in ((1, 15), (2, 16), (3, 17)):
        world.shop.night = night
        world.clock.set(at(day, 2, 0))
        s.tick()
    found = findings_by_sku(world.db, world.clock)
    floor, removal = found[("prices.below_floor", "A")], found[("crawl.removed", "A")]
    assert (floor.status, removal.status, removal.severity) == ("gone", "open", "major")
    text, html, _ = parts(world.smtp.inbox.messages[-1])
    for body in (text, html):
        new_at, resolved_at = body.index("New since"), body.index("Resolved since")
        gone_at = body.index("Gone with a removed listing, not fixed (1)")
        assert new_at < body.index("was removed from the store") < resolved_at
        assert resolved_at < gone_at < body.index(f"/findings/{floor.id}", gone_at)
    assert "Resolved since the last email (0)" in text


def test_the_shared_part_is_boxed_on_the_email_thumbnails():
    """Mail clients cannot be trusted to lay a box over a picture: it is drawn into it."""
    import io

    from PIL import Image

    from audits.notify.email.thumbnails import BOX_COLOUR, Thumbnail, boxed
    from tests.pictures import encode, scene

    plain = Thumbnail(encode(scene("email-box").resize((200, 150)), "JPEG"), width=200,
                      height=150)
    drawn = boxed(plain, (0.25, 0.2, 0.75, 0.8))
    with Image.open(io.BytesIO(drawn.data)) as img:
        edge = img.convert("RGB").getpixel((100, 31))      # on the top side of the box (30-32)
        inside = img.convert("RGB").getpixel((100, 75))
    assert all(abs(a - b) < 60 for a, b in zip(edge, BOX_COLOUR))
    assert not all(abs(a - b) < 60 for a, b in zip(inside, BOX_COLOUR))
    assert (drawn.width, drawn.height) == (200, 150)
    # the whole picture, no box, a forged box: the thumbnail as it was
    assert boxed(plain, (0, 0, 1, 1)) is plain
    assert boxed(plain, None) is plain
    assert boxed(plain, ["<b>", 0, 1, 1]) is plain
    assert boxed(Thumbnail(None, "no picture kept"), (0.1, 0.1, 0.5, 0.5)).data is None
    # the email speaks of boxes only where one is drawn
    from audits.notify.email.thumbnails import drawable_box
    assert drawable_box([0.25, 0.2, 0.75, 0.8]) == (0.25, 0.2, 0.75, 0.8)
    assert drawable_box([0, 0, 1, 1]) is None and drawable_box(["<b>", 0, 1, 1]) is None
