"""The API fuzzed from its own OpenAPI schema (schemathesis), with each role and with no token.

Every operation the schema lists is called with generated requests, valid and invalid
(schemathesis' positive and negative modes), as the merchant, as the agency and with no token:

* no answer is a 5xx (in-process, an unhandled exception fails the test too);
* with no token, every operation but /healthz answers 401, says nothing but why, and changes
  nothing;
* with the agency's token, every merchant-only write answers 403 and changes nothing;
* every answer conforms to the schema, as schemathesis' conformance checks judge it: its
  status code is one the operation declares, its content type and headers are the declared
  ones, its body matches the declared model (refusals included: `{"detail": "why"}`, a 422
  FastAPI's list of errors), and a request the schema says is invalid is refused (4xx).

Not checked: that every schema-valid request is accepted (schemathesis'
`positive_data_acceptance`). A well-formed request can still be refused for what it means
(a URL off the store, an unknown SKU, an approval that approves nothing); those are declared
422s with the standard shape.

Bounded: derandomized, at most EXAMPLES cases per operation, mode and role. The number of
cases run is printed (run pytest with -s to see it) and checked against a floor.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import schemathesis
from schemathesis import checks
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from api.app import create_app
from api.settings import ApiSettings
from audits.catalog import parse_catalog
from audits.clock import ManualClock
from audits.contract import parse_contract
from audits.engine import audit_run
from audits.ledger import Ledger
from audits.audit_lock import AUDIT_LOCK
from tests.aio import run
from tests.history import History, listing

EXAMPLES = 25
PUBLIC = {("GET", "/healthz")}
MERCHANT_ONLY = {
    ("POST", "/api/findings/{finding_id}/waive"),
    ("POST", "/api/approvals"),
    ("POST", "/api/registry"),
    ("POST", "/api/registry/images"),
    ("DELETE", "/api/registry/{entry_id}"),
}
MODES = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
CONFORMANCE = [checks.not_a_server_error, checks.status_code_conformance,
               checks.content_type_conformance, checks.response_headers_conformance,
               checks.response_schema_conformance, checks.negative_data_rejection]


@dataclass
class World:
    schema: object
    ledger: object
    tokens: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A ledger with listings and findings (the fuzzed merchant adds approvals and registry
    entries), both roles' tokens, and the app's schema loaded in-process. Spot-checks are kept
    from starting (AUDIT_LOCK held: they answer 409), so no request crawls in the background."""
    tmp = tmp_path_factory.mktemp("fuzz")
    (tmp / "catalog.csv").write_text("sku,cost,reference_price,promoted\n"
                                     "A,100,130,yes\nB,100,299,no\nC,10,20,no\n")
    text = ('[store]\nname = "Shop"\nbase_url = "http://127.0.0.1:9"\ncatalog = "catalog.csv"\n'
            '[rules.titles.keywords]\nkeywords = ["山禾"]\n')
    (tmp / "contract.toml").write_text(text)
    contract = parse_contract(text, tmp / "contract.toml")
    catalog = parse_catalog((tmp / "catalog.csv").read_text())
    clock = ManualClock(datetime.now(timezone.utc) - timedelta(days=3))
    ledger = Ledger(tmp / "ledger.db", clock)
    h = History(ledger, clock)
    for price in ("120", "118"):
        run = h.night(listing("A", price=price, promoted=True), listing("B", price="150"),
                      listing("C", title="<script>alert(1)</script>", price="19"))
        audit_run(ledger, contract, catalog, run, full=True)
    merchant, _ = ledger.create_token("Merchant Li", "merchant")
    agency, _ = ledger.create_token("Agency ops", "agency")
    app = create_app(ApiSettings(db_path=ledger.path, contract_path=tmp / "contract.toml"),
                     contract=contract)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    with AUDIT_LOCK:
        yield World(schema, ledger, {"merchant": merchant, "agency": agency})
    ledger.close()


def _state(ledger) -> tuple:
    """What a refused write must leave as it was: runs, findings, events, approvals (the
    ledger's change marker) and the registry."""
    return ledger.change_marker(), tuple(e.id for e in ledger.registry())


def _fuzz(world: World, role: str | None, check) -> int:
    """Run every operation, positive and negative, as `role`; `check(key, case, response,
    before, after)` judges each answer (key: method and path; before/after: `_state`).
    Returns the number of cases run."""
    headers = {"Authorization": f"Bearer {world.tokens[role]}"} if role else {}
    total = 0
    for result in world.schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        for mode in MODES:
            ran = []

            @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                before = _state(world.ledger)
                response = case.call(headers=headers)
                after = _state(world.ledger)
                ran.append(1)
                check(key, case, response, before, after)
                case.validate_response(response, checks=CONFORMANCE, headers=headers)

            try:
                run()
            except Unsatisfiable:
                pass  # nothing negative to generate for an operation without input
            total += len(ran)
    return total


def _describe(key, case, response) -> str:
    return (f"{key[0]} {key[1]} -> {response.status_code}: {response.text[:300]!r}\n"
            f"path={case.path_parameters} query={case.query} body={str(case.body)[:300]!r}")


def _json(response):
    try:
        return json.loads(response.text)
    except ValueError:
        return None


def _no_server_error(key, case, response):
    assert response.status_code < 500, _describe(key, case, response)
    if response.status_code != 204:
        assert _json(response) is not None, _describe(key, case, response)


def _only_why(key, case, response):
    """A refusal says why and nothing else: no listing, finding or store data."""
    body = _json(response)
    assert isinstance(body, dict) and set(body) == {"detail"}, _describe(key, case, response)


def _report(world, role, n, capsys):
    world.counts[role or "no token"] = n
    with capsys.disabled():
        print(f"\nfuzzed {n} requests as {role or 'no token'} "
              f"(total so far: {sum(world.counts.values())})")


@pytest.mark.timeout(180)
def test_fuzz_with_no_token_every_operation_but_health_is_401(world, capsys):
    def check(key, case, response, before, after):
        _no_server_error(key, case, response)
        if key in PUBLIC:
            return
        assert response.status_code == 401, _describe(key, case, response)
        _only_why(key, case, response)
        assert after == before, _describe(key, case, response)

    n = _fuzz(world, None, check)
    _report(world, None, n, capsys)
    assert n >= 300


@pytest.mark.timeout(180)
def test_fuzz_as_the_agency_merchant_writes_are_403_and_change_nothing(world, capsys):
    def check(key, case, response, before, after):
        _no_server_error(key, case, response)
        assert response.status_code != 401, _describe(key, case, response)
        if key in MERCHANT_ONLY:
            assert response.status_code == 403, _describe(key, case, response)
            _only_why(key, case, response)
            assert after == before, _describe(key, case, response)

    n = _fuzz(world, "agency", check)
    _report(world, "agency", n, capsys)
    assert n >= 300


@pytest.mark.timeout(180)
def test_fuzz_as_the_merchant_nothing_is_a_server_error(world, capsys):
    def check(key, case, response, before, after):
        _no_server_error(key, case, response)
        assert response.status_code not in (401, 403), _describe(key, case, response)

    n = _fuzz(world, "merchant", check)
    _report(world, "merchant", n, capsys)
    assert n >= 300


def _asgi(world: World, requests: list[tuple[str, str, dict]]) -> list:
    """Send (method, url, json-or-None) requests as the merchant to the app in-process."""
    headers = {"Authorization": f"Bearer {world.tokens['merchant']}"}

    async def go():
        transport = httpx.ASGITransport(app=world.schema.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return [await client.request(method, url, json=body, headers=headers)
                    for method, url, body in requests]
    return run(go())


def test_a_405_names_every_method_the_path_has(world):
    """A method a path does not have is a 405 whose Allow lists exactly the methods the
    schema declares for that URL (Starlette named only those of the first route it matched:
    `Allow: GET` on /api/registry, which takes POST too)."""
    paths = world.schema.raw_schema["paths"]
    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")

    def declared(url: str) -> set[str]:  # of every schema path the URL fits
        fits = [item for path, item in paths.items()
                if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", path), url)]
        return {m.upper() for item in fits for m in item if m.upper() in methods}

    urls = [re.sub(r"\{[^}]+\}", "1", path) for path in paths]
    tried = [(url, method) for url in urls for method in methods if method not in declared(url)]
    assert len(tried) >= 30
    for (url, method), answer in zip(tried, _asgi(world, [(m, u, None) for u, m in tried])):
        assert answer.status_code == 405, (method, url, answer.status_code)
        assert set(answer.headers["allow"].split(", ")) == declared(url), (method, url)
        assert answer.json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize("since", ["0.5", "1700000000", "2026-11-20", "2026-11-20T00:00:00",
                                   "yesterday"])
def test_a_time_that_is_not_iso_8601_with_a_zone_is_refused(world, since):
    """`since=0.5` was read as a Unix timestamp (1970) and answered 200."""
    [answer] = _asgi(world, [("GET", f"/api/findings?since={since}", None)])
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == ["query", "since"] and error["msg"]
    [approval] = _asgi(world, [("POST", "/api/approvals",
                                {"sku": "B", "max_discount": "0.5", "valid_until": 1900000000})])
    assert approval.status_code == 422
    assert approval.json()["detail"][0]["loc"] == ["body", "valid_until"]


def test_refusals_a_route_finds_itself_have_the_standard_422_shape(world):
    """A 422 the route decides (a spot-check that names nothing, a waiver with only spaces)
    is FastAPI's list of errors too, not a string: a client reads one shape."""
    spot, waive = _asgi(world, [("POST", "/api/spot-checks", {}),
                                ("POST", "/api/findings/1/waive", {"reason": "   "})])
    assert spot.status_code == waive.status_code == 422
    assert spot.json()["detail"][0]["loc"] == ["body"]
    assert "exactly one of" in spot.json()["detail"][0]["msg"]
    assert waive.json()["detail"][0]["loc"] == ["body", "reason"]
    assert "reason" in waive.json()["detail"][0]["msg"]
