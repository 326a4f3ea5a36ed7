"""A rule's numbers are the rule's: the overlay, the dashboard and the finding show the same floor
and the same weekly quota, because all of them ask the rule's own judgment.

The case that used to split them: `promoted_source = "catalog"` for the floor, and a listing
with a promotion badge on its page that is not on the merchant's promoted list. The rule does
not judge that listing's price, so nobody may show it a floor."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from api.app import create_app
from api.deps import SESSION_COOKIE
from api.settings import ApiSettings
from audits.catalog import parse_catalog
from audits.clock import ManualClock
from audits.contract import parse_contract
from audits.engine import audit_run
from audits.ledger import Ledger
from audits.notify.email.digest import build_digest
from audits.notify.email.render import render
from history import History, listing
from servers import serve

CATALOG = "sku,cost,reference_price,promoted\nA,100,299,no\nB,100,299,yes\n"
CONTRACT = """
[store]
name = "Shop"
base_url = "http://shop.test"
catalog = "catalog.csv"

[rules.prices.below_floor]
promoted_source = "catalog"

[rules.titles.weekly_quota]
per_week = 3
scale_to_store = false
"""


@pytest.fixture(params=[0, 10], ids=["history ends now", "history ended 10 days ago"])
def world(tmp_path, request):
    """Nine days of history ending now, or ten days ago as a replay's does (the API reads the
    real clock): A wears a badge but is not on the promoted list, B is on the list without a
    badge; both at 120, under 1.5 × 100. A's title changed once in the week to the last
    audit."""
    (tmp_path / "catalog.csv").write_text(CATALOG)
    path = tmp_path / "contract.toml"
    path.write_text(CONTRACT)
    contract = parse_contract(CONTRACT, path)
    catalog = parse_catalog(CATALOG)
    clock = ManualClock(datetime.now(timezone.utc) - timedelta(days=9 + request.param))
    ledger = Ledger(tmp_path / "ledger.db", clock)
    h = History(ledger, clock)
    for days, title in ((0, "A first"), (5, "A first"), (3.9, "A second")):
        run = h.night(listing("A", title=title, price="120", promoted=True),
                      listing("B", title="B", price="120", promoted=False), days=days)
        audit_run(ledger, contract, catalog, run, full=True)
    merchant, _ = ledger.create_token("Merchant Li", "merchant")
    settings = ApiSettings(db_path=ledger.path, contract_path=path)
    with serve(create_app(settings, contract=contract)) as url:
        yield ledger, url, merchant
    ledger.close()


def _get(url: str, token: str, path: str, **kw) -> httpx.Response:
    response = httpx.get(url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30,
                         **kw)
    assert response.status_code == 200, response.text
    return response


def _page(url: str, token: str, path: str) -> str:
    """A dashboard page's text as a person reads it (tags dropped, entities decoded)."""
    response = httpx.get(url + path, cookies={SESSION_COOKIE: token}, timeout=30)
    assert response.status_code == 200, response.text
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)))


def test_the_floor_is_shown_exactly_where_the_rule_judges_it(world):
    ledger, url, token = world
    [finding] = ledger.findings(rule_id="prices.below_floor")
    assert finding.sku == "B" and "under the floor ¥150.00" in finding.message

    overlay_a = _get(url, token, "/api/overlay", params={"url": "http://shop.test/p/a"}).json()
    overlay_b = _get(url, token, "/api/overlay", params={"url": "http://shop.test/p/b"}).json()
    assert overlay_a["listing"]["floor"] is None
    assert overlay_b["listing"]["floor"] == "150.0"

    ids = {l.sku: l.id for l in ledger.listings()}
    page_a = _page(url, token, f"/listings/{ids['A']}")
    page_b = _page(url, token, f"/listings/{ids['B']}")
    assert "floor (1.5 × cost)" not in page_a
    assert ('No floor drawn: the floor applies to promoted listings (promoted by your promoted '
            'list, promoted_source = "catalog"), and this one is not.') in page_a
    assert "floor (1.5 × cost) ¥150.00" in page_b


def test_the_weekly_quota_reads_the_same_in_the_finding_the_overlay_and_the_dashboard(world):
    """As of the last full audit, when the rule judged it: a replay ten days old shows the
    count of its own last week, not of a week with no audit in it."""
    ledger, url, token = world
    [finding] = ledger.findings(rule_id="titles.weekly_quota")
    assert finding.message.startswith("1 of 3 titles optimised in the last 7 days")

    quota = _get(url, token, "/api/overlay", params={"url": "http://shop.test/"}).json()["quota"]
    assert (quota["changed"], quota["quota"], quota["met"]) == (1, 3, False)
    assert "1 of 3 titles optimised in the last 7 days" in _page(url, token, "/")


def test_the_quota_findings_page_and_email_list_the_retitled_listings_not_a_what_changed(world):
    """The retitled listings are shown as such; nothing reads them as what changed on a
    listing ("changed: ? … → …" lines, "What changed" rows of "?")."""
    ledger, url, token = world
    [finding] = ledger.findings(rule_id="titles.weekly_quota")
    page = _page(url, token, f"/findings/{finding.id}")
    assert "Titles optimised in the window SKU title before title after when A A first A second" in page
    assert "What changed" not in page and "retitled" not in page.split("Evidence", 1)[1]

    contract = parse_contract(CONTRACT, ledger.path.parent / "contract.toml")
    email = render(build_digest(contract, ledger, run_id=finding.run_id))
    assert "changed:" not in email.text and "→" not in email.text, email.text
