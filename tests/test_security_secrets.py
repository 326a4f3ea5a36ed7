"""Security, as an attacker would try it: the secrets. Tokens at rest (the ledger's bytes hold
only their hashes) and in comparisons (by hash, in constant time), revoked and rotated tokens,
and no token, token hash or SMTP password in the server's log, its answers, the ledger or an
email. SECURITY.md says what each test proves.

The servers are real (uvicorn on 127.0.0.1, in a thread or, for the DEBUG log, in a process of
its own); the SMTP server is aiosmtpd with AUTH on loopback. The world attacked is
tests/security_world.py. The other security tests: tests/test_security_web.py (CORS, the
session cookie, cross-site forms, the extension) and tests/test_security_spot_check.py.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hmac
import io
import logging
import re
import secrets
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from typer.testing import CliRunner

from api.deps import SESSION_COOKIE
from audits.catalog import parse_catalog
from storeaudit.cli import app as cli
from audits.clock import ManualClock
from audits.engine import audit_run
from audits.ledger import Ledger
from audits.ledger.tokens import token_hash
from history import History, listing
from security_world import CATALOG, Secured, bearer, write_contract
from servers import free_port, serve, smtp_sections, wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent
TOKEN_SHAPE = re.compile(r"sa_[A-Za-z0-9_-]{43}")

runner = CliRunner()


def db_bytes(path: Path) -> bytes:
    """The ledger as it is on disk: the file, its write-ahead log and its shared memory."""
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
                    if p.exists())


# ------------------------------------------------------------------------------ tokens


def _cli_token(db: Path, role: str, name: str) -> str:
    result = runner.invoke(cli, ["token", "create", "--role", role, "--name", name, "--db", str(db)])
    assert result.exit_code == 0, result.output
    [secret] = TOKEN_SHAPE.findall(result.output)
    return secret


def test_the_ledger_file_holds_token_hashes_never_tokens(tmp_path, monkeypatch):
    """`storeaudit token create` and the demo's tokens: on disk (file, WAL, shm) only hashes."""
    import uvicorn
    from rich.console import Console

    from storeaudit.demo import serve_ledger
    from storeaudit.sample_store import demo_contract

    db = tmp_path / "ledger.db"
    secrets_made = [_cli_token(db, "merchant", "Merchant Li"), _cli_token(db, "agency", "Ops")]

    # The demo makes a token per role and prints them; it never runs its server here.
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, *a, **k: None)
    out = io.StringIO()
    with Ledger(db) as open_ledger:
        serve_ledger(Console(file=out, width=200), open_ledger, demo_contract(), "http://127.0.0.1:1", 0)
        demo_tokens = TOKEN_SHAPE.findall(out.getvalue())
        assert len(demo_tokens) == 2
        secrets_made += demo_tokens
        on_disk_while_open = db_bytes(db)
    on_disk_after = db_bytes(db)

    for data in (on_disk_while_open, on_disk_after):
        for secret in secrets_made:
            assert secret.encode() not in data
            assert secret.removeprefix("sa_").encode() not in data
            assert base64.b64encode(secret.encode()) not in data
        assert all(token_hash(s).encode() in data for s in secrets_made), \
            "the hashes are there: the bytes read are the ledger's"
    with Ledger(db) as led:
        assert [t.name for t in led.tokens()] == ["Merchant Li", "Ops", "Demo merchant", "Demo agency"]
        assert all(led.token_for_secret(s) for s in secrets_made)


def test_revoked_and_rotated_tokens_stop_working_in_the_api_and_the_dashboard(tmp_path, ledger,
                                                                              clock):
    world = Secured(tmp_path, ledger, clock)
    db = str(ledger.path)
    secret = _cli_token(ledger.path, "agency", "Agency ops 2")
    [token_id] = [t.id for t in ledger.tokens() if t.name == "Agency ops 2"]
    with serve(world.app()) as url:
        def api_ok(s):
            return httpx.get(url + "/api/me", headers=bearer(s)).status_code == 200

        def dashboard_ok(s):
            return httpx.get(url + "/", cookies={SESSION_COOKIE: s}).status_code == 200

        assert api_ok(secret) and dashboard_ok(secret)
        result = runner.invoke(cli, ["token", "rotate", str(token_id), "--db", db])
        assert result.exit_code == 0, result.output
        [new] = TOKEN_SHAPE.findall(result.output)
        assert not api_ok(secret) and not dashboard_ok(secret), "the old one is revoked at once"
        assert api_ok(new) and dashboard_ok(new)
        assert httpx.get(url + "/", cookies={SESSION_COOKIE: secret}).headers["location"] == "/login"

        [new_id] = [t.id for t in ledger.tokens() if t.name == "Agency ops 2" and not t.revoked]
        result = runner.invoke(cli, ["token", "revoke", str(new_id), "--db", db])
        assert result.exit_code == 0 and "revoked" in result.output
        assert not api_ok(new) and not dashboard_ok(new)
        assert api_ok(world.merchant), "other tokens keep working"

    again = runner.invoke(cli, ["token", "revoke", str(new_id), "--db", db])
    assert again.exit_code == 0 and "already revoked" in again.output
    unknown = runner.invoke(cli, ["token", "revoke", "999", "--db", db])
    assert unknown.exit_code == 1 and "no token #999" in unknown.output
    assert "Traceback" not in unknown.output


def test_a_token_is_checked_by_hash_in_constant_time(running, monkeypatch):
    """Every check of a presented token goes through hmac.compare_digest on its hash, and that
    comparison decides: a `==` in its place fails this test."""
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def recording(a, b):
        calls.append((a, b))
        return real(a, b)

    for module in (hmac, secrets):
        monkeypatch.setattr(module, "compare_digest", recording)
    url, merchant = running.url, running.merchant
    wanted = token_hash(merchant)

    assert httpx.get(url + "/api/me", headers=bearer(merchant)).status_code == 200
    assert (wanted, wanted) in calls, "the API's bearer check"
    calls.clear()
    login = httpx.post(url + "/login", data={"token": merchant})
    assert login.status_code == 303 and (wanted, wanted) in calls, "the dashboard's login"
    calls.clear()
    assert httpx.get(url + "/", cookies={SESSION_COOKIE: merchant}).status_code == 200
    assert (wanted, wanted) in calls, "the session cookie's check"
    assert all(a != merchant and b != merchant for a, b in calls), "hashes are compared, not secrets"

    for module in (hmac, secrets):
        monkeypatch.setattr(module, "compare_digest", lambda a, b: False)
    assert httpx.get(url + "/api/me", headers=bearer(merchant)).status_code == 401
    assert httpx.get(url + "/", cookies={SESSION_COOKIE: merchant}).status_code == 303


# ------------------------------------------------------------------ secrets in logs, answers, email

SERVER_AT_DEBUG = """
import logging, sys
import uvicorn
from api.app import create_app
from api.settings import ApiSettings
from audits.contract import load_contract

logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                    format="%(levelname)s %(name)s: %(message)s")
contract_path, db_path, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
settings = ApiSettings(db_path=db_path, contract_path=contract_path)
app = create_app(settings, contract=load_contract(contract_path))
uvicorn.run(app, host="127.0.0.1", port=port, log_level="trace", access_log=True)  # the most it writes
"""


@pytest.fixture
def server_process(secured, tmp_path):
    """The API in a process of its own, as verbose as it gets: our loggers at DEBUG, uvicorn's
    at TRACE (each request's ASGI scope) with the access log on, all to one file."""
    port = free_port()
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER_AT_DEBUG, str(secured.contract_path),
             str(secured.ledger.path), str(port)],
            cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, "the API process", ended=lambda: (
                None if proc.poll() is None else log_path.read_text()))
            yield url, log_path
        finally:
            proc.terminate()
            proc.wait(10)


def test_no_token_or_hash_reaches_the_server_log_or_an_answer(secured, server_process):
    url, log_path = server_process
    revoked, record = secured.ledger.create_token("Old", "agency")
    secured.ledger.revoke_token(record.id)
    wrong = "sa_" + secrets.token_urlsafe(32)
    merchant, agency = secured.merchant, secured.agency
    fid = secured.finding()
    answers: list[httpx.Response] = []

    def call(method, path, **kw):
        response = httpx.request(method, url + path, timeout=30, **kw)
        answers.append(response)
        return response

    assert call("GET", "/api/findings", headers=bearer(merchant)).status_code == 200
    assert call("GET", "/api/me", headers=bearer(agency)).status_code == 200
    assert call("POST", f"/api/findings/{fid}/acknowledge", headers=bearer(agency),
                json={"note": "on it"}).status_code == 200
    for bad in (wrong, revoked, merchant + "x", "Bearer " + merchant):
        assert call("GET", "/api/findings", headers=bearer(bad)).status_code == 401
    # A client that puts a token where it does not belong: refused, and not written down.
    assert call("GET", f"/api/findings?token={merchant}").status_code == 401
    assert call("GET", f"/login?token={agency}").status_code == 200
    assert call("POST", "/api/spot-checks", headers=bearer(wrong), json={"url": "/p/a"}).status_code == 401
    # The dashboard: a failed login, a good one, pages with the cookie, log out.
    assert call("POST", "/login", data={"token": wrong}).status_code == 401
    assert call("POST", "/login", data={"token": revoked}).status_code == 401
    good = httpx.post(url + "/login", data={"token": merchant})
    assert good.status_code == 303
    for path in ("/", f"/findings/{fid}", "/listings/1"):
        assert call("GET", path, cookies={SESSION_COOKIE: merchant}).status_code == 200
    assert call("GET", "/", cookies={SESSION_COOKIE: wrong}).status_code == 303
    assert call("POST", "/logout", cookies={SESSION_COOKIE: merchant}).status_code == 303

    log_text = log_path.read_text()
    assert "GET /api/findings" in log_text and "POST /login" in log_text, \
        "the access log is on: the test reads what a DEBUG server writes"
    assert "sa_[redacted]" in log_text
    for secret in (merchant, agency, wrong, revoked):
        for form in (secret, token_hash(secret), secret.removeprefix("sa_")):
            assert form not in log_text
            for response in answers:
                assert form not in response.text
                assert form not in str(response.headers)
    # The one place the secret goes is the cookie the login answer sets, HttpOnly.
    assert merchant in good.headers["set-cookie"] and "httponly" in good.headers["set-cookie"].lower()


PASSWORD_ENV = "STOREAUDIT_SECURITY_TEST_SMTP_PASSWORD"
SMTP_USER = "audit"


class ChattySmtp:
    """An SMTP server with AUTH that, refusing a login, quotes what it was sent: the password
    as typed, base64 as AUTH LOGIN sends it, and AUTH PLAIN's whole line, as some servers do."""

    def __init__(self, password: str):
        self.password = password
        self.messages: list[bytes] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port,
                                     authenticator=self.authenticate, auth_required=True,
                                     auth_require_tls=False)

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False)
        if auth_data.login == SMTP_USER.encode() and auth_data.password == self.password.encode():
            return AuthResult(success=True)
        sent = auth_data.password
        plain = base64.b64encode(b"\0" + auth_data.login + b"\0" + sent).decode()
        return AuthResult(success=False, handled=False, message=(
            f"535 5.7.8 refused {mechanism} {plain} / {base64.b64encode(sent).decode()} / "
            f"{sent.decode()}"))

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_no_smtp_password_or_token_reaches_a_log_the_ledger_or_an_email(tmp_path, monkeypatch,
                                                                        caplog):
    from audits.notify import retry_pending as deliver_pending
    from audits.scheduler import AuditScheduler

    caplog.set_level(logging.DEBUG)
    zone = ZoneInfo("Asia/Shanghai")
    clock = ManualClock(datetime(2026, 11, 15, 1, 59, tzinfo=zone))
    good = "pw-" + secrets.token_urlsafe(12)
    wrong = "pw-" + secrets.token_urlsafe(12)
    smtp = ChattySmtp(good)
    smtp.controller.start()
    try:
        contract, _ = write_contract(tmp_path, "http://shop.test", smtp_sections(
            tmp_path / "outbox", smtp.port, user=SMTP_USER, password_env=PASSWORD_ENV,
            extra="timeout_seconds = 5\n"))
        db = tmp_path / "ledger.db"
        with Ledger(db, clock) as led:
            tokens = [led.create_token("Merchant Li", "merchant")[0],
                      led.create_token("Agency ops", "agency")[0]]

        def audit(c, led, kind):
            run = History(led, clock).night(listing("A", price="118", promoted=True),
                                            listing("B", title="<b>hi</b>", price="150"),
                                            days=0, kind=kind)
            return audit_run(led, c, parse_catalog(CATALOG), run, full=True)

        # Night 1: the password in the environment is wrong; the server quotes it back.
        monkeypatch.setenv(PASSWORD_ENV, wrong)
        clock.set(datetime(2026, 11, 15, 2, 0, tzinfo=zone))
        AuditScheduler(contract, db, clock=clock, audit=audit, tick_seconds=3600).tick()
        with Ledger(db, clock) as led:
            [record] = led.deliveries(notifier="email")
            assert record.status == "pending" and "535" in record.last_error
            assert "refused" in record.last_error, "the server's answer is kept, redacted"
            # Fixed: the same email goes on the next try.
            monkeypatch.setenv(PASSWORD_ENV, good)
            [sent] = deliver_pending(contract, led, due_only=False)
            assert sent.status == "sent"
    finally:
        smtp.controller.stop()

    assert len(smtp.messages) == 1
    outbox = sorted((tmp_path / "outbox").iterdir())
    assert {p.suffix for p in outbox} == {".eml", ".html"}
    # The test's SMTP server logs every line it receives at DEBUG (logger "mail.log"): that is
    # the far end of the wire, not storeaudit.
    ours = "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records
                     if not r.name.startswith("mail.log"))
    assert "not sent (try 1 of 3)" in ours, "the failure was logged, so the log was looked at"
    places = {"log": ours.encode(), "ledger": db_bytes(db),
              **{p.name: p.read_bytes() for p in outbox},
              **{f"received #{i}": m for i, m in enumerate(smtp.messages)}}
    for password in (good, wrong):
        forms = [password, base64.b64encode(password.encode()).decode(),
                 base64.b64encode(f"\0{SMTP_USER}\0{password}".encode()).decode()]
        for where, data in places.items():
            for form in forms:
                assert form.encode() not in data, f"{form!r} in {where}"
    for token in tokens:
        for where, data in places.items():
            if where != "ledger":
                assert token.encode() not in data and token_hash(token).encode() not in data, where
    message = email.message_from_bytes(smtp.messages[0], policy=email.policy.default)
    assert message["Subject"].startswith("[storeaudit] Shop")
