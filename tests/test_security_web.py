"""Security, as an attacker would try it, from the browser's side: CORS (only the extension's
origin, only the methods and headers it needs), the session cookie (HttpOnly, SameSite=Strict,
Secure over https), dashboard forms posted from another site or another port, and the
extension's permissions and markup (no permission its code does not use, no text turned into
markup or code). SECURITY.md says what each test proves.

The API is served for real (uvicorn on 127.0.0.1, in a thread); the cross-site form test drives
real Chromium. The world attacked is tests/security_world.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from typer.testing import CliRunner

from api.deps import SESSION_COOKIE
from api.settings import SHIPPED_EXTENSION_ORIGIN, ApiSettings
from storeaudit.cli import app as cli
from security_world import CATALOG, EXTENSION, bearer
from servers import serve

ROOT = Path(__file__).resolve().parent.parent
EXTENSION_DIR = ROOT / "extension"

runner = CliRunner()


# ------------------------------------------------------------------ CORS, the cookie, cross-site forms


def preflight(url: str, origin: str, method: str = "GET", headers: str = "authorization"):
    return httpx.options(url + "/api/findings", headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers})


def test_cors_lets_the_extension_use_only_what_it_needs(running):
    answer = preflight(running.url, EXTENSION, "POST", "authorization,content-type")
    assert answer.status_code == 200
    h = answer.headers
    assert h["access-control-allow-origin"] == EXTENSION
    assert {m.strip() for m in h["access-control-allow-methods"].split(",")} == {"GET", "POST"}
    allowed = {x.strip().lower() for x in h["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert allowed <= {"authorization", "content-type",  # and CORS's always-safe ones:
                       "accept", "accept-language", "content-language"}
    assert "access-control-allow-credentials" not in h, "tokens travel in a header, not cookies"
    for method, headers in (("DELETE", "authorization"), ("PUT", "authorization"),
                            ("GET", "authorization,x-anything")):
        assert preflight(running.url, EXTENSION, method, headers).status_code == 400
    real = httpx.get(running.url + "/api/me", headers={"Origin": EXTENSION, **bearer(running.merchant)})
    assert real.headers["access-control-allow-origin"] == EXTENSION
    assert "origin" in real.headers.get("vary", "").lower()


@pytest.mark.parametrize("origin", [
    "chrome-extension://bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",  # another extension
    SHIPPED_EXTENSION_ORIGIN,                              # not given to this server
    "http://evil.example",
    "https://evil.example",
    "null",                                                # sandboxed frames, file: pages
    "http://127.0.0.1",                                    # a page on this machine
    EXTENSION + ".evil.example",
    EXTENSION.upper(),
])
def test_cors_admits_no_other_origin(running, origin):
    for answer in (preflight(running.url, origin),
                   httpx.get(running.url + "/api/me", headers={"Origin": origin, **bearer(running.merchant)}),
                   httpx.get(running.url + "/healthz", headers={"Origin": origin})):
        assert "access-control-allow-origin" not in answer.headers, (origin, answer.headers)
        assert "access-control-allow-credentials" not in answer.headers


@pytest.mark.parametrize("origin", ["*", "null", "https://evil.example", "http://127.0.0.1:8600",
                                    "chrome-extension://short", "chrome-extension://*",
                                    "moz-extension://not-a-uuid", ""])
def test_only_extension_origins_can_be_allowed_by_cors(tmp_path, origin):
    with pytest.raises(ValueError, match="not a browser extension's origin"):
        ApiSettings(extension_origins=[origin])
    contract = tmp_path / "contract.toml"
    contract.write_text('[store]\nname = "S"\nbase_url = "http://shop.test"\n')
    (tmp_path / "catalog.csv").write_text(CATALOG)
    result = runner.invoke(cli, ["serve", "-c", str(contract), "--db", str(tmp_path / "l.db"),
                                 "--no-schedule", "--extension-origin", origin])
    assert result.exit_code == 1 and "not a browser extension's origin" in result.output


def _cookie(response: httpx.Response) -> dict[str, str]:
    """The session cookie's Set-Cookie attributes, lower-case names (value under "value")."""
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "=")]
    first, *attrs = [part.strip() for part in header.split(";")]
    out = {"value": first.split("=", 1)[1].strip('"')}
    for attr in attrs:
        name, _, value = attr.partition("=")
        out[name.lower()] = value
    return out


def test_the_session_cookie_is_httponly_strict_and_secure_over_https(running):
    plain = httpx.post(running.url + "/login", data={"token": running.merchant})
    cookie = _cookie(plain)
    assert cookie["value"] == running.merchant
    assert "httponly" in cookie and cookie["samesite"].lower() == "strict" and cookie["path"] == "/"
    assert "secure" not in cookie, "plain http on loopback: Secure would lose the cookie"
    assert "domain" not in cookie, "host-only: no other host of the domain receives it"

    # Behind a TLS proxy on this machine (uvicorn trusts X-Forwarded-Proto from 127.0.0.1).
    https = httpx.post(running.url + "/login", data={"token": running.merchant},
                       headers={"X-Forwarded-Proto": "https"})
    assert "secure" in _cookie(https)
    out = httpx.post(running.url + "/logout", cookies={SESSION_COOKIE: running.merchant},
                     headers={"X-Forwarded-Proto": "https"})
    gone = _cookie(out)
    assert out.status_code == 303 and gone["value"] == "" and gone["max-age"] == "0"
    assert "secure" in gone and "httponly" in gone and gone["path"] == "/"


def test_secure_cookies_setting_forces_secure(secured):
    secured.settings = secured.settings.model_copy(update={"secure_cookies": True})
    with serve(secured.app()) as url:
        assert "secure" in _cookie(httpx.post(url + "/login", data={"token": secured.merchant}))


CROSS_SITE = [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},                                     # a sandboxed frame, a data: page
    {"Origin": "http://127.0.0.1:1"},                        # the same host, another port
    {"Origin": "http://localhost"},
    {"Origin": "chrome-extension://bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},                          # another port, or a subdomain
    {"Sec-Fetch-Site": "cross-site", "Origin": "{self}"},    # the browser's word wins
]


@pytest.mark.parametrize("headers", CROSS_SITE, ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items()))
def test_dashboard_forms_sent_from_elsewhere_change_nothing(running, headers):
    fid = running.finding()
    waivable = running.finding("prices.unapproved_discount")
    headers = {k: v.replace("{self}", running.url) for k, v in headers.items()}
    session = {SESSION_COOKIE: running.merchant}
    posts = [
        (f"/findings/{fid}/acknowledge", {"note": "forged"}),
        (f"/findings/{waivable}/waive", {"reason": "forged"}),
        ("/approvals", {"finding_id": str(waivable), "max_discount_percent": "90",
                        "valid_until": "2099-12-31"}),
        ("/logout", {}),
        ("/login", {"token": running.agency}),  # logging someone in as another
    ]
    for path, form in posts:
        answer = httpx.post(running.url + path, data=form, cookies=session, headers=headers)
        assert answer.status_code == 403, (path, answer.status_code)
        assert "not sent from the dashboard" in answer.text
        assert "set-cookie" not in answer.headers
    assert running.ledger.events() == []
    assert running.ledger.approvals() == []
    assert running.ledger.finding(fid).status == "open"


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "{self}"}, {}],
                         ids=["fetch-metadata", "origin", "no-browser"])
def test_dashboard_forms_from_its_own_pages_still_work(running, headers):
    headers = {k: v.replace("{self}", running.url) for k, v in headers.items()}
    fid = running.finding()
    answer = httpx.post(running.url + f"/findings/{fid}/acknowledge", data={"note": "ok"},
                        cookies={SESSION_COOKIE: running.merchant}, headers=headers)
    assert answer.status_code == 303, answer.text
    assert running.ledger.finding(fid).status == "acknowledged"


ATTACK = """<!doctype html><title>Great deals</title>
<form id="f" method="post" action="{action}"><input name="note" value="forged by another page"></form>
<script>document.getElementById('f').submit()</script>"""


@pytest.mark.e2e
def test_a_page_on_another_port_or_site_cannot_post_a_dashboard_form(page, running):
    """Real Chromium, logged in to the dashboard. A page on another port of the same host is
    the same *site*, so the SameSite=Strict cookie goes with its form: the Origin /
    Sec-Fetch-Site check is what refuses it. A page of another site does not even get the
    cookie sent."""
    fid = running.finding()
    action = f"{running.url}/findings/{fid}/acknowledge"
    page.goto(running.url + "/login")
    page.fill("#token", running.merchant)
    page.click("button[type=submit]")
    page.wait_for_url(running.url + "/")

    attack = Starlette(routes=[Route("/", lambda r: HTMLResponse(ATTACK.format(action=action)))])
    with serve(attack) as other:
        assert other.split(":")[1] == running.url.split(":")[1], "same host, another port"
        with page.expect_response(lambda r: r.url == action) as answer:
            page.goto(other + "/")
        assert answer.value.status == 403
        assert "not sent from the dashboard" in answer.value.text()

    page.route("http://evil.example/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body=ATTACK.format(action=action)))
    with page.expect_response(lambda r: r.url.startswith(running.url) and
                              r.request.method == "POST") as answer:
        page.goto("http://evil.example/")
    assert answer.value.status in (303, 403)  # no cookie: to the login page
    assert running.ledger.events() == [] and running.ledger.finding(fid).status == "open"

    page.goto(running.url + f"/findings/{fid}")  # still logged in; its own form works
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(f"{running.url}/findings/{fid}?done=acknowledged")


# ------------------------------------------------------------------ the extension's permissions and markup


def _code(path: Path) -> str:
    """A script without its comments (which may name what the code must not do)."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return re.sub(r"(?m)(^|[\s;{}(])//.*$", r"\1", text)


def _extension_code() -> str:
    pages = "".join(p.read_text(encoding="utf-8") for p in EXTENSION_DIR.glob("*.html"))
    return "\n".join(_code(p) for p in sorted(EXTENSION_DIR.glob("*.js"))) + pages


# Each permission the extension may ask for, and the code that shows it is used.
PERMISSION_USE = {
    "storage": r"chrome\.storage\.",
    "scripting": r"chrome\.scripting\.(registerContentScripts|unregisterContentScripts)",
}
NEVER_AT_INSTALL = {"<all_urls>", "*://*/*", "http://*/*", "https://*/*", "file:///*"}


def test_the_extension_asks_only_for_permissions_its_code_uses():
    manifest = json.loads((EXTENSION_DIR / "manifest.json").read_text())
    code = _extension_code()
    assert manifest["manifest_version"] == 3
    for permission in manifest.get("permissions", []):
        assert permission in PERMISSION_USE, f"{permission!r} is asked for: say where it is used"
        assert re.search(PERMISSION_USE[permission], code), f"{permission!r} is asked for but unused"
    for unused in ("tabs", "activeTab", "webRequest", "webRequestBlocking", "cookies", "history",
                   "declarativeNetRequest", "debugger", "management", "nativeMessaging",
                   "clipboardRead", "downloads", "<all_urls>"):
        assert unused not in manifest.get("permissions", []) + manifest.get("optional_permissions", [])
    # Host access: none at install; asked for at run time, for the origins typed in options.
    assert not manifest.get("host_permissions"), "no site is readable before the user says which"
    assert "content_scripts" not in manifest, "registered at run time for the store's origins only"
    optional = manifest.get("optional_host_permissions", [])
    assert set(optional) <= {"http://*/*", "https://*/*"}
    if optional:
        assert re.search(r"chrome\.permissions\.request\(\{origins:", code)
        assert re.search(r"chrome\.permissions\.remove\(", code), "access no longer needed is given back"
    assert not NEVER_AT_INSTALL & set(manifest.get("permissions", []))
    # No page of any site can load the extension's files or talk to it.
    assert "web_accessible_resources" not in manifest
    assert "externally_connectable" not in manifest
    assert "onMessageExternal" not in code and "onConnectExternal" not in code
    csp = manifest.get("content_security_policy", {})
    assert "unsafe-eval" not in json.dumps(csp) and "unsafe-inline" not in json.dumps(csp)
    assert not re.search(r"<script[^>]*\bsrc=[\"']https?:", code), "no remote script"
    assert not re.search(r"<script>(?!</script>)", code.replace("<script></script>", "")), \
        "no inline script (MV3 would refuse it anyway)"


@pytest.mark.parametrize("name", sorted(p.name for p in EXTENSION_DIR.glob("*.js")))
def test_extension_scripts_never_turn_text_into_markup_or_code(name):
    code = _code(EXTENSION_DIR / name)
    for sink in (r"\.innerHTML\b", r"\.outerHTML\b", r"insertAdjacentHTML", r"document\.write",
                 r"\beval\s*\(", r"\bnew\s+Function\b", r"\bFunction\s*\(",
                 r"setTimeout\(\s*[\"'`]", r"setInterval\(\s*[\"'`]", r"createContextualFragment",
                 r"DOMParser", r"\.srcdoc\b", r"javascript:"):
        assert not re.search(sink, code), f"{name} uses {sink}"
    # Attributes set from data never name an event handler; links are checked http(s).
    assert not re.search(r"setAttribute\(\s*[\"']on", code)
    for match in re.finditer(r"href\s*[:=]\s*([^,;}\n]+)", code):
        value = match.group(1)
        assert "originOf" in code[max(0, match.start() - 200):match.end()] or value.strip().startswith(("\"", "'")), \
            f"{name}: a link from data must be checked to be http(s): {match.group(0)}"
