"""A hostile store cannot stall the audit nor reach past it (the sample store's faults): a page
or an image sent a byte at a time, a script that spins for ever after load, a gzip-bomb
sitemap, WebRTC to a loopback listener. The audit keeps its deadlines, records the good
listings, records the bad ones as errors, and frees the audit slot.

Every crawl here runs on a thread the test waits for with a limit, so a crawl that stalls
fails the test instead of hanging it.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.settings import ApiSettings
from audits.contract import parse_contract
from audits.ledger import Ledger
from audits.runner import run_audit
from crawler.crawl import CrawlFailed, crawl_sync
from crawler.fetch import MAX_PAGE_BYTES, PageTooLarge, get_capped
from demostore.faults import GZIP_BOMB_INFLATED, gzip_bomb
from servers import serve
from tests.aio import run
from storeaudit.sample_store import demo_contract, demostore_dir

pytestmark = pytest.mark.e2e

CONTRACT = demo_contract()
ROOT = Path(__file__).resolve().parents[1]


class UdpCanary:
    """A UDP listener on a loopback port of its own: what a STUN request would reach."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.stun_url = f"stun:127.0.0.1:{self.sock.getsockname()[1]}"
        self.packets: list[bytes] = []
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        while True:
            try:
                self.packets.append(self.sock.recvfrom(2048)[0])
            except socket.timeout:
                continue
            except OSError:
                return


@pytest.fixture
def udp_canary():
    canary = UdpCanary()
    yield canary
    canary.sock.close()


def within(seconds: float, work, *args, **kwargs):
    """`work(*args, **kwargs)` on a thread, failing the test if it has not returned in time."""
    done: dict = {}

    def run() -> None:
        try:
            done["value"] = work(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            done["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds:g} s: the store stalled it"
    if "error" in done:
        raise done["error"]
    return done["value"], time.monotonic() - started


def path_of(product) -> str:
    return f"/p/{product.slug}"


def test_slow_pages_images_and_spinning_scripts_cost_only_their_own_listings(store, udp_canary):
    plain = [p for p in store.live_products() if p.page_style != "jsprice"]
    scripted = [p for p in store.live_products() if p.page_style == "jsprice"]
    dribbled, slow_image, good = plain[0], plain[1], plain[2:6]
    spinning, calling_out = scripted[0], scripted[1]
    store.dribble_seconds = 0.05  # a byte every 50 ms: no read waits long, no page arrives
    store.stun_url = udp_canary.stun_url
    store.faults.update({path_of(dribbled): "dribble", slow_image.images[0]: "dribble",
                         path_of(spinning): "spinscript", path_of(calling_out): "webrtc"})
    # One browser page: the page rendered after the spinning one uses its replacement.
    pages = [dribbled, slow_image, spinning, calling_out, *good]
    config = replace(CONTRACT.with_base_url(store.url).crawl_config(), concurrency=1,
                     urls=[store.url + path_of(p) for p in pages], page_timeout_s=2, retries=0)

    result, took = within(90, crawl_sync, config)

    by_url = {s.url: s for s in result.snapshots}
    snap = {p.sku: by_url[store.url + path_of(p)] for p in pages}
    assert snap[dribbled.sku].error == "timed out after 2 s"
    assert snap[spinning.sku].error.startswith("the page's scripts kept it busy")
    assert result.stats["stuck_pages"] == 1
    for p in (slow_image, calling_out, *good):
        assert snap[p.sku].ok and snap[p.sku].price is not None, p.sku
    slow = result.images[store.url + slow_image.images[0]]
    assert slow.error == "download timed out after 2 s"
    assert all(result.images[store.url + u].sha256 for u in slow_image.images[1:])
    time.sleep(0.5)  # a STUN packet, had one been sent, is on loopback well within this
    assert udp_canary.packets == [], "WebRTC sent UDP past the crawler's proxy"
    assert took < 60


def test_a_page_that_keeps_its_browser_busy_is_closed_and_the_next_one_read(store):
    """The spinning page first, then a good scripted page on the same (only) browser page."""
    spinning, fine = [p for p in store.live_products() if p.page_style == "jsprice"][:2]
    store.faults[path_of(spinning)] = "spinscript"
    config = replace(CONTRACT.with_base_url(store.url).crawl_config(), concurrency=1,
                     render="always", page_timeout_s=2, retries=0,
                     urls=[store.url + path_of(spinning), store.url + path_of(fine)])
    result, _ = within(60, crawl_sync, config)
    first, second = result.snapshots
    assert first.error.startswith("the page's scripts kept it busy") and second.ok
    assert second.price is not None


def test_the_whole_crawl_keeps_its_deadline_and_records_what_it_read(store):
    """Pages that would each take far longer than the crawl's deadline (a byte every 50 ms,
    well within the page timeout of each read): the good pages are recorded, the others are
    "not read", and the crawl ends on time."""
    plain = [p for p in store.live_products() if p.page_style != "jsprice"]
    slow, good = plain[:2], plain[2:5]
    store.dribble_seconds = 0.05
    for p in slow:
        store.faults[path_of(p)] = "dribble"
    config = replace(CONTRACT.with_base_url(store.url).crawl_config(), page_timeout_s=120,
                     retries=0, deadline_s=6, urls=[store.url + path_of(p) for p in slow + good])
    result, took = within(60, crawl_sync, config)
    errors = {s.url.removeprefix(store.url): s.error for s in result.snapshots}
    assert all(errors[path_of(p)].startswith("not read: the crawl's deadline") for p in slow)
    assert all(errors[path_of(p)] is None for p in good)
    assert took < 20


def test_a_gzip_bomb_is_refused_once_decompressed_past_the_cap(store):
    store.faults["/sitemap.xml"] = "gzipbomb"
    assert len(gzip_bomb()) < 1024 * 1024 < MAX_PAGE_BYTES < GZIP_BOMB_INFLATED

    async def read():
        async with httpx.AsyncClient(headers={"Accept-Encoding": "gzip"}) as client:
            return await get_capped(client, store.url + "/sitemap.xml", deadline_s=30)

    with pytest.raises(PageTooLarge, match="once decompressed"):
        run(read())


CRAWL_CHILD = """
import json, resource, sys
from dataclasses import replace
from storeaudit.sample_store import demo_contract
from crawler.crawl import CrawlFailed, crawl_sync
config = replace(demo_contract().with_base_url(sys.argv[1]).crawl_config(), max_pages=4)
known = json.loads(sys.argv[2])
try:
    result = crawl_sync(config, known_pages=known or None)
    outcome = {"listings": len(result.snapshots), "ok": result.pages_ok}
except CrawlFailed as e:
    outcome = {"failed": str(e)}
outcome["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(outcome))
"""


def crawl_in_a_process(store_url: str) -> dict:
    """A crawl of the store in a process of its own, with that process's peak memory."""
    out = subprocess.run([sys.executable, "-c", CRAWL_CHILD, store_url, "{}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_gzip_bomb_sitemap_costs_no_memory_and_the_categories_still_find_the_listings(store):
    normal = crawl_in_a_process(store.url)
    store.faults["/sitemap.xml"] = "gzipbomb"
    bombed = crawl_in_a_process(store.url)
    assert normal["ok"] == bombed["ok"] == 4, (normal, bombed)
    assert bombed["peak_mb"] < normal["peak_mb"] + 100, (normal, bombed)


def test_a_discovery_that_finds_nothing_where_listings_were_known_is_a_failed_audit(
        store, ledger, tmp_path):
    contract = CONTRACT.with_base_url(store.url)

    def audit():
        with Ledger(ledger.path) as own:  # the audit's thread has a connection of its own
            return run_audit(contract, own)

    first = within(120, audit)[0]
    assert ledger.run(first.run.id).status == "complete"
    open_before = len(ledger.findings(status="open"))
    assert open_before > 0
    for path in ("/sitemap.xml", "/"):
        store.faults[path] = "gzipbomb"
    with pytest.raises(CrawlFailed, match="no listing found"):
        within(60, audit)
    [failed] = [r for r in ledger.runs(limit=5) if r.status == "failed"]
    assert "no listing found" in failed.error and "decompressed" in failed.error
    assert len(ledger.findings(status="open")) == open_before, "nothing resolved by a failure"


def _contract_with(store_url: str, tmp_path, crawl: str):
    """The sample store's contract with other [crawl] settings, written where it is read."""
    text = (demostore_dir() / "contract.toml").read_text()
    text = text.replace("[crawl]\n", "[crawl]\n" + crawl, 1)
    path = tmp_path / "contract.toml"
    path.write_text(text)
    shutil.copy(demostore_dir() / "catalog.csv", tmp_path / "catalog.csv")
    return parse_contract(text, path).with_base_url(store_url)


def test_a_spot_check_of_a_page_that_never_ends_frees_the_slot_within_its_deadline(
        store, ledger, tmp_path):
    slow = [p for p in store.live_products() if p.page_style != "jsprice"][0]
    store.faults[path_of(slow)] = "dribble"
    store.dribble_seconds = 0.05
    contract = _contract_with(store.url, tmp_path, "deadline_minutes = 0.1\n")
    token, _ = ledger.create_token("Agency Wang", "agency")
    settings = ApiSettings(db_path=ledger.path, contract_path=contract.path)
    headers = {"Authorization": f"Bearer {token}"}
    with serve(create_app(settings, contract=contract)) as api:
        started = time.monotonic()
        answer = httpx.post(api + "/api/spot-checks", headers=headers,
                            json={"url": store.url + path_of(slow)})
        assert answer.status_code == 202, answer.text
        run_id = answer.json()["run"]["id"]
        while (state := httpx.get(f"{api}/api/spot-checks/{run_id}", headers=headers).json()
               )["run"]["status"] == "running":
            assert time.monotonic() - started < 40, "the spot-check held the slot past its deadline"
            time.sleep(0.2)
        assert state["run"]["status"] == "complete"
        [snap] = ledger.run_snapshots(run_id)
        assert snap.error.startswith("not read: the crawl's deadline (6 s)")
        assert (state["run"]["pages_ok"], state["run"]["pages_failed"]) == (0, 1)
        again = httpx.post(api + "/api/spot-checks", headers=headers,
                           json={"url": store.url + path_of(slow)})
        assert again.status_code == 202, "the slot is free again"
