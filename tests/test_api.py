"""The HTTP API, served for real on 127.0.0.1: every endpoint, every role, and the spot-check
that crawls the sample store in real Chromium."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from decimal import Decimal

import httpx
import pytest

from api.app import create_app
from api.settings import ApiSettings
from audits.catalog import parse_catalog
from audits.contract import parse_contract
from audits.engine import audit_run
from audits.audit_lock import AUDIT_LOCK
from history import History, listing
from servers import serve

HOSTILE = '<img src=x onerror=alert(1)> <script>alert(2)</script>'
EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


def contract_for(base_url: str, tmp_path):
    (tmp_path / "catalog.csv").write_text(
        "sku,cost,reference_price,promoted\nA,100,130,yes\nB,100,299,no\nC,10,20,no\n")
    text = f'[store]\nname = "Shop"\nbase_url = "{base_url}"\ncatalog = "catalog.csv"\n'
    path = tmp_path / "contract.toml"
    path.write_text(text)
    return parse_contract(text, path), path


@pytest.fixture
def api(tmp_path, ledger, clock):
    """A ledger with findings, both roles' tokens, and the API serving it."""
    contract, path = contract_for("http://shop.test", tmp_path)
    catalog = parse_catalog((tmp_path / "catalog.csv").read_text())
    h = History(ledger, clock)
    for price in ("120", "118"):
        run = h.night(listing("A", price=price, promoted=True), listing("B", price="150"),
                      listing("C", title=HOSTILE, price="19"))
        audit_run(ledger, contract, catalog, run, full=True)
    merchant, _ = ledger.create_token("Merchant Li", "merchant")
    agency, _ = ledger.create_token("Agency ops", "agency")
    settings = ApiSettings(db_path=ledger.path, contract_path=path, extension_origins=[EXTENSION])
    with serve(create_app(settings, contract=contract)) as url:
        yield {"url": url, "merchant": merchant, "agency": agency, "ledger": ledger}


def call(api, method, path, role=None, **kw):
    headers = {"Authorization": f"Bearer {api[role]}"} if role else {}
    return httpx.request(method, api["url"] + path, headers=headers, timeout=30, **kw)


def finding_id(api, rule):
    return next(f["id"] for f in call(api, "GET", "/api/findings", "merchant").json()
                if f["rule_id"] == rule)


READS = ["/api/findings", "/api/listings", "/api/runs", "/api/approvals",
         "/api/overlay?url=http://shop.test/p/a", "/api/listings/1", "/api/findings/1"]


@pytest.mark.parametrize("path", READS)
def test_no_token_no_data(api, path):
    response = call(api, "GET", path)
    assert response.status_code == 401
    assert "token" in response.json()["detail"]


@pytest.mark.parametrize("path", READS)
def test_both_roles_may_read(api, path):
    for role in ("merchant", "agency"):
        assert call(api, "GET", path, role).status_code == 200, (role, path)


def test_a_wrong_or_revoked_token_is_refused(api):
    bad = httpx.get(api["url"] + "/api/findings", headers={"Authorization": "Bearer sa_nope"})
    assert bad.status_code == 401
    ledger = api["ledger"]
    ledger.revoke_token(2)
    assert call(api, "GET", "/api/findings", "agency").status_code == 401


@pytest.mark.parametrize("role, name", [("merchant", "Merchant Li"), ("agency", "Agency ops")])
def test_me_says_who_the_token_is(api, role, name):
    assert call(api, "GET", "/api/me", role).json() == {"name": name, "role": role, "store": "Shop"}
    assert call(api, "GET", "/api/me").status_code == 401


def test_health_answers_without_a_token(api):
    assert httpx.get(api["url"] + "/healthz").json() == {"status": "ok"}


def test_findings_come_worst_first_with_deadline_and_ladder(api):
    found = call(api, "GET", "/api/findings", "agency").json()
    assert [f["severity"] for f in found] == sorted(
        (f["severity"] for f in found), key=["critical", "major", "minor"].index)
    floor = next(f for f in found if f["rule_id"] == "prices.below_floor")
    assert floor["sku"] == "A" and floor["deadline"] and "1 h" in floor["response"]
    assert "¥118.00" in floor["message"]


@pytest.mark.parametrize("query, expected", [
    ("?severity=critical", {"prices.below_floor"}),
    ("?rule=prices.unapproved_discount", {"prices.unapproved_discount"}),
    ("?sku=A", {"prices.below_floor"}),
    ("?status=resolved", set()),
    ("?since=2030-01-01T00:00:00%2B08:00", set()),
])
def test_findings_can_be_filtered(api, query, expected):
    found = call(api, "GET", "/api/findings" + query, "merchant").json()
    assert {f["rule_id"] for f in found} == expected


def test_an_unknown_finding_is_404(api):
    assert call(api, "GET", "/api/findings/999", "merchant").status_code == 404


def test_the_agency_may_acknowledge_and_it_is_recorded(api):
    fid = finding_id(api, "prices.below_floor")
    response = call(api, "POST", f"/api/findings/{fid}/acknowledge", "agency",
                    json={"note": "repricing tonight"})
    assert response.status_code == 200 and response.json()["status"] == "acknowledged"
    [event] = api["ledger"].events(finding_id=fid)
    assert (event["actor"], event["action"]) == ("Agency ops (agency)", "acknowledge")


def test_the_agency_may_not_waive_or_approve(api):
    fid = finding_id(api, "prices.unapproved_discount")
    assert call(api, "POST", f"/api/findings/{fid}/waive", "agency",
                json={"reason": "fine"}).status_code == 403
    approval = {"sku": "B", "max_discount": "0.6", "valid_until": "2030-01-01T00:00:00+08:00"}
    assert call(api, "POST", "/api/approvals", "agency", json=approval).status_code == 403
    assert api["ledger"].events() == []


def test_the_merchant_waives_with_a_reason(api):
    fid = finding_id(api, "prices.unapproved_discount")
    assert call(api, "POST", f"/api/findings/{fid}/waive", "merchant",
                json={"reason": ""}).status_code == 422
    response = call(api, "POST", f"/api/findings/{fid}/waive", "merchant",
                    json={"reason": "clearance agreed"})
    assert response.json()["status"] == "waived"
    assert api["ledger"].events(finding_id=fid)[0]["actor"] == "Merchant Li (merchant)"


def test_the_merchant_records_an_approval(api):
    approval = {"sku": "B", "max_discount": "0.6", "valid_until": "2030-01-01T00:00:00+08:00",
                "note": "email of 3 Nov"}
    created = call(api, "POST", "/api/approvals", "merchant", json=approval)
    assert created.status_code == 201
    listed = call(api, "GET", "/api/approvals", "agency").json()
    assert [a["sku"] for a in listed] == ["B"] and listed[0]["created_by"] == "Merchant Li (merchant)"
    naive = dict(approval, valid_until="2030-01-01T00:00:00")
    assert call(api, "POST", "/api/approvals", "merchant", json=naive).status_code == 422


def test_a_listing_comes_with_its_history(api):
    listings = call(api, "GET", "/api/listings", "agency").json()
    a = next(l for l in listings if l["sku"] == "A")
    detail = call(api, "GET", f"/api/listings/{a['id']}", "agency").json()
    assert [s["price"] for s in detail["history"]] == ["120", "118"]
    assert detail["current"]["price"] == "118"
    assert call(api, "GET", "/api/listings/999", "agency").status_code == 404


def test_a_hostile_title_comes_back_as_data(api):
    listings = call(api, "GET", "/api/listings", "merchant").json()
    assert any(l["current"]["title"] == HOSTILE for l in listings)


def test_runs_are_listed_newest_first_with_the_next_scheduled_ones(api):
    body = call(api, "GET", "/api/runs", "agency").json()
    assert [r["id"] for r in body["runs"]] == [2, 1]
    [nightly] = [n for n in body["next_runs"] if n["kind"] == "nightly"]
    assert nightly["at"] == "02:00" and nightly["next_run_local"][11:16] == "02:00"
    assert nightly["next_run"] > datetime.now(timezone.utc).isoformat()


def test_the_overlay_for_a_listing_page(api):
    body = call(api, "GET", "/api/overlay?url=http://shop.test/p/a?spm=123#top", "agency").json()
    assert body["page"] == "listing"
    view = body["listing"]
    assert view["listing"]["sku"] == "A"
    assert Decimal(view["floor"]) == Decimal("150")  # cost 100 x 1.5
    assert [f["rule_id"] for f in view["findings"]] == ["prices.below_floor"]
    assert [s["price"] for s in view["history"]] == ["120", "118"]


def test_the_overlay_gives_no_floor_where_the_floor_rule_does_not_apply(api):
    body = call(api, "GET", "/api/overlay?url=http://shop.test/p/b", "agency").json()
    assert body["listing"]["floor"] is None  # B is not promoted: the floor is for promoted ones
    assert Decimal(body["listing"]["reference_price"]) == Decimal("299")


def test_the_overlay_for_a_category_page_badges_cards(api):
    body = call(api, "GET", "/api/overlay?url=http://shop.test/c/apparel", "agency").json()
    assert body["page"] == "other" and body["listing"] is None
    cards = {c["sku"]: c for c in body["cards"]}
    assert cards["A"]["worst"] == "critical" and cards["A"]["path"] == "/p/a"
    assert [f["severity"] for f in cards["B"]["findings"]] == ["major"]
    assert body["open_counts"]["critical"] == 1


def test_a_page_asked_again_is_answered_from_the_last_answer_until_the_ledger_changes(
        api, monkeypatch):
    from api.routes import overlay

    built = []
    answer = overlay._answer
    monkeypatch.setattr(overlay, "_answer", lambda *a: built.append(a[2]) or answer(*a))
    page = "/api/overlay?url=http://shop.test/p/a"
    first = call(api, "GET", page, "merchant").json()
    assert call(api, "GET", page, "agency").json() == first
    call(api, "GET", "/api/overlay?url=http://shop.test/c/apparel", "agency")
    assert built == ["http://shop.test/p/a", "http://shop.test/c/apparel"]

    fid = first["listing"]["findings"][0]["id"]
    assert call(api, "POST", f"/api/findings/{fid}/acknowledge", "agency",
                json={"note": "fixing"}).status_code == 200
    after = call(api, "GET", page, "merchant").json()
    assert after["listing"]["findings"][0]["status"] == "acknowledged"
    assert len(built) == 3


def test_the_answers_kept_are_bounded_in_bytes_oldest_dropped_first(monkeypatch):
    from api.routes import overlay

    monkeypatch.setattr(overlay, "MAX_ANSWER_BYTES", 1000)
    cache = overlay._StoreWide()
    cache.value = value = ("store-wide",)
    for n in range(50):  # a caller asking for page after made-up page
        cache.remember(value, (f"http://shop.test/c/{n}", "base"), b"x" * 300)
    assert cache.answer_bytes == sum(w for _, w in cache.answers.values()) <= 1000
    assert cache.recall(value, ("http://shop.test/c/49", "base")) == b"x" * 300
    assert cache.recall(value, ("http://shop.test/c/0", "base")) is None
    cache.remember(("an older value",), ("http://shop.test/c/x", "base"), b"y")
    assert cache.recall(value, ("http://shop.test/c/x", "base")) is None


def test_a_token_known_to_the_api_and_revoked_by_another_process_is_refused_at_once(api):
    """Who a token is, is kept while the ledger does not change; whether it changed is asked
    at every check, so a revocation from the command line counts from the next request."""
    page = "/api/overlay?url=http://shop.test/p/a"
    assert call(api, "GET", "/api/findings", "agency").status_code == 200   # now known
    assert call(api, "GET", page, "agency").status_code == 200              # and its answer
    api["ledger"].revoke_token(2)        # another connection, as the command line's would be
    assert call(api, "GET", "/api/findings", "agency").status_code == 401
    assert call(api, "GET", page, "agency").status_code == 401


def test_cors_allows_the_extension_and_no_one_else(api):
    def preflight(origin):
        return httpx.options(api["url"] + "/api/findings", headers={
            "Origin": origin, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
    assert preflight(EXTENSION).headers.get("access-control-allow-origin") == EXTENSION
    assert "access-control-allow-origin" not in preflight("https://evil.example").headers


def test_the_openapi_schema_documents_the_overlay(api):
    schema = httpx.get(api["url"] + "/openapi.json").json()
    assert "/api/overlay" in schema["paths"]
    assert "OverlayOut" in schema["components"]["schemas"]


# --- spot-checks against the real sample store ---------------------------------------------


@pytest.fixture
def spot_api(tmp_path, ledger, store):
    from storeaudit.sample_store import demo_contract

    store.day = 2  # the promoted jacket is at ¥199, under its floor
    contract = demo_contract().with_base_url(store.url)
    merchant, _ = ledger.create_token("Merchant Li", "merchant")
    settings = ApiSettings(db_path=ledger.path, contract_path=contract.path,
                           spot_checks_per_minute=3)
    with serve(create_app(settings, contract=contract)) as url:
        yield {"url": url, "merchant": merchant, "ledger": ledger, "store": store}


@pytest.mark.e2e
def test_a_spot_check_of_one_page_crawls_it_and_reports_findings(spot_api):
    store = spot_api["store"]
    page = f"{store.url}/p/{store.product('SH-0001').slug}"
    started = time.monotonic()
    response = call(spot_api, "POST", "/api/spot-checks", "merchant", json={"url": page})
    assert response.status_code == 202
    run_id = response.json()["run"]["id"]
    while True:
        state = call(spot_api, "GET", f"/api/spot-checks/{run_id}", "merchant").json()
        if state["run"]["status"] != "running":
            break
        assert time.monotonic() - started < 30, "a one-page spot-check must come back quickly"
        time.sleep(0.2)
    assert state["run"]["status"] == "complete" and state["urls"] == [page]
    assert {f["rule_id"] for f in state["findings"]} >= {"prices.below_floor"}


@pytest.mark.e2e
def test_whoever_waited_for_a_spot_check_sees_what_it_found_on_the_overlay_at_once(spot_api):
    """The extension waits for its look to end and asks for the page's overlay at once: the
    answer kept from before the look must not be the one it gets, even when the API's watch
    of the ledger saw the look's writes before the waiting request did."""
    store = spot_api["store"]
    page = f"{store.url}/p/{store.product('SH-0001').slug}"
    overlay = f"/api/overlay?url={page}"
    assert call(spot_api, "GET", overlay, "merchant").json()["listing"] is None  # now kept
    with AUDIT_LOCK:   # an earlier test's look may still hold this process's audit slot
        pass
    run_id = call(spot_api, "POST", "/api/spot-checks", "merchant",
                  json={"url": page}).json()["run"]["id"]
    assert call(spot_api, "GET", overlay, "merchant").json()["listing"] is None  # kept again
    deadline = time.monotonic() + 30
    while call(spot_api, "GET", f"/api/spot-checks/{run_id}", "merchant").json()[
            "run"]["status"] == "running":
        assert time.monotonic() < deadline, "the spot-check never ended"
        time.sleep(0.2)   # long past the watch's 50 ms: it has seen the look's writes
    listing = call(spot_api, "GET", overlay, "merchant").json()["listing"]
    assert listing is not None
    assert "prices.below_floor" in {f["rule_id"] for f in listing["findings"]}


@pytest.mark.parametrize("url", [
    "https://evil.example/p/x",
    "http://127.0.0.1:1/admin",           # another loopback service
    "file:///etc/passwd",
    "http://user:pw@127.0.0.1/p/x",
    "javascript:alert(1)",
])
def test_a_spot_check_refuses_anything_off_the_store(spot_api, url):
    response = call(spot_api, "POST", "/api/spot-checks", "merchant", json={"url": url})
    assert response.status_code == 422
    assert spot_api["ledger"].runs() == []


def test_a_spot_check_needs_exactly_one_target(spot_api):
    response = call(spot_api, "POST", "/api/spot-checks", "merchant", json={})
    assert response.status_code == 422


def test_a_spot_check_is_refused_while_another_audit_runs(spot_api):
    store = spot_api["store"]
    with AUDIT_LOCK:
        response = call(spot_api, "POST", "/api/spot-checks", "merchant",
                        json={"url": f"{store.url}/p/{store.product('SH-0002').slug}"})
    assert response.status_code == 409 and "another audit" in response.json()["detail"]


def test_spot_checks_are_rate_limited(spot_api):
    body = {"skus": ["SH-404"]}  # refused before the limit counts
    assert call(spot_api, "POST", "/api/spot-checks", "merchant", json=body).status_code == 422
    with AUDIT_LOCK:  # keep them from running: the limit is counted before the slot
        codes = [call(spot_api, "POST", "/api/spot-checks", "merchant",
                      json={"url": spot_api["store"].url + "/p/x"}).status_code for _ in range(4)]
    assert codes == [409, 409, 409, 429]


# --- the overlay's store-wide part: kept per ledger state, built off the request path --------
def test_the_overlay_answers_the_last_value_while_a_change_is_built(
        tmp_path, ledger, clock, monkeypatch):
    from api.deps import Services
    from api.routes import overlay

    contract, path = contract_for("http://shop.test", tmp_path)
    History(ledger, clock).night(listing("A", price="120"))
    svc = Services(ApiSettings(db_path=ledger.path, contract_path=path), contract=contract)
    computed, release = [], threading.Event()

    def compute(svc, ledger, now):
        computed.append(now)
        if len(computed) == 2:  # the change's value takes its time
            release.wait(10)
        return (f"value {len(computed)}",)

    monkeypatch.setattr(overlay, "_compute", compute)
    cache = overlay._StoreWide()
    try:
        now = datetime(2026, 11, 2, 18, 0, 5, tzinfo=timezone.utc)
        assert cache.current(svc, overlay._key(svc, now)) is None   # nothing yet: build it
        assert cache.rebuild(svc) == ("value 1",)
        # A minute's roll changes nothing: answers are kept by the ledger's state and the day.
        assert overlay._key(svc, now) == overlay._key(svc, now.replace(minute=59))
        assert overlay._key(svc, now) != overlay._key(svc, now.replace(day=3))
        key = overlay._key(svc, datetime.now(timezone.utc))
        assert cache.current(svc, key) == ("value 1",) and len(computed) == 1

        History(ledger, clock).night(listing("A", price="99"))   # another connection writes
        deadline = time.monotonic() + 5
        while overlay._key(svc, datetime.now(timezone.utc)) == key:
            assert time.monotonic() < deadline, "the change was never seen"
            time.sleep(0.01)
        changed = overlay._key(svc, datetime.now(timezone.utc))
        for _ in range(20):   # at once, while the new value is being built
            assert cache.current(svc, changed) == ("value 1",)
        release.set()
        while cache.current(svc, changed) != ("value 2",):
            assert time.monotonic() < deadline, "the new value never arrived"
            time.sleep(0.01)
        assert len(computed) == 2  # one build, however many requests asked meanwhile
    finally:
        release.set()
        svc.close()


def test_answers_to_build_past_the_few_at_once_and_the_few_waiting_are_refused_at_once(
        api, monkeypatch):
    """Building an answer holds the interpreter: past MAX_BUILDS building and
    MAX_WAITING_BUILDS waiting, a request for a page not kept is refused with 503 and
    Retry-After at once instead of queueing for threads."""
    from concurrent.futures import ThreadPoolExecutor

    from api.routes import overlay

    release, started = threading.Event(), []
    build = overlay._build_answer

    def slow_build(*args):
        started.append(args[1])
        release.wait(10)
        return build(*args)

    call(api, "GET", "/api/overlay?url=http://shop.test/", "merchant")   # the store-wide part
    monkeypatch.setattr(overlay, "_build_answer", slow_build)
    extra = 3
    n = overlay.MAX_BUILDS + overlay.MAX_WAITING_BUILDS + extra
    with ThreadPoolExecutor(n) as pool:
        pending = [pool.submit(call, api, "GET", f"/api/overlay?url=http://shop.test/c/{i}",
                               "merchant") for i in range(n)]
        deadline = time.monotonic() + 10
        while sum(f.done() for f in pending) < extra:
            assert time.monotonic() < deadline, "the extra requests were not refused at once"
            time.sleep(0.01)
        refused = [f.result() for f in pending if f.done()]
        assert len(started) == overlay.MAX_BUILDS   # the rest wait without a thread
        release.set()
        answers = [f.result() for f in pending]
    assert [r.status_code for r in refused] == [503] * extra
    assert all(r.headers["retry-after"] for r in refused)
    assert sorted(r.status_code for r in answers) == [200] * (n - extra) + [503] * extra


def test_every_page_that_is_not_a_listing_shares_one_answer_built_once(api, monkeypatch):
    """A category, the home page, every search: the same cards; built once per state of the
    ledger, not once per URL (a store has endless such URLs)."""
    from api.routes import overlay

    built = []
    answer = overlay._answer
    monkeypatch.setattr(overlay, "_answer", lambda *a: built.append(a[2]) or answer(*a))
    bodies = [call(api, "GET", f"/api/overlay?url=http://shop.test/search?q={n}", "agency").json()
              for n in range(20)]
    assert all(b == bodies[0] for b in bodies) and bodies[0]["page"] == "other"
    assert [c["sku"] for c in bodies[0]["cards"]] and len(built) == 1
    listing = call(api, "GET", "/api/overlay?url=http://shop.test/p/a", "agency").json()
    assert listing["page"] == "listing" and len(built) == 2
