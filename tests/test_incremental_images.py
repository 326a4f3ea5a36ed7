"""Images cost almost nothing when nothing changed: an image the store called fresh is not
asked for again the same day, bytes seen before are not hashed again, and a big crawl hashes
in worker processes with the same results as in a thread."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from storeaudit.sample_store import demo_contract
from audits.runner import run_crawl
from audits.spot_check import run_spot_check
from crawler.crawl import crawl_sync
from crawler.hash_workers import HashWorkers
from crawler.images import ImageHasher, max_age
from crawler.hashing import hash_and_thumbnail
from imaging import ImageRefused, hash_image_bytes
from pictures import encode, picture
from aio import run
from servers import serve

pytestmark = pytest.mark.e2e


def contract_for(store):
    """The sample store's contract, checking none of its 304s (crawler.not_modified): these
    tests count what the 304s themselves spare."""
    contract = demo_contract().with_base_url(store.url)
    return contract.model_copy(update={"crawl": contract.crawl.model_copy(
        update={"check_not_modified_share": 0})})


def image_count(ledger, run_id) -> int:
    return len({u for s in ledger.run_snapshots(run_id) for u in s.image_urls})


# ------------------------------------------------------------------ fresh images, by the clock
def test_a_second_audit_the_same_day_asks_for_no_image_the_store_called_fresh(store, ledger,
                                                                               clock):
    contract = contract_for(store)  # the sample store's photos say max-age=86400
    first = run_crawl(contract, ledger)
    store.reset_counters()
    clock.advance(timedelta(hours=2))

    second = run_crawl(contract, ledger)

    assert store.hits["/img"] == 0
    assert second.image_downloads == 0
    assert second.pages_ok == first.pages_ok
    # The images are still on record with their hashes, for the rules to read.
    urls = {u for s in ledger.run_snapshots(second.id) for u in s.image_urls}
    assert all(info.sha256 for info in ledger.images(sorted(urls)).values())


def test_the_next_nights_audit_asks_for_every_image_again(store, ledger, clock):
    contract = contract_for(store)
    first = run_crawl(contract, ledger)
    store.reset_counters()
    clock.advance(timedelta(hours=24))

    run_crawl(contract, ledger)

    images = image_count(ledger, first.id)
    assert store.hits["/img"] == store.hits["/img:304"] == images > 0


def test_past_the_contracts_window_images_are_asked_for_again(store, ledger, clock):
    contract = contract_for(store)
    assert contract.crawl.reuse_fresh_images_hours == 6
    first = run_crawl(contract, ledger)
    store.reset_counters()
    clock.advance(timedelta(hours=6, minutes=1))

    run_crawl(contract, ledger)

    assert store.hits["/img:304"] == image_count(ledger, first.id)


def test_with_reuse_turned_off_every_image_is_asked_for(store, ledger, clock):
    contract = contract_for(store)
    config = replace(contract.crawl_config(), reuse_fresh_images_s=0)
    first = run_crawl(contract, ledger, config=config)
    store.reset_counters()
    clock.advance(timedelta(minutes=5))

    run_crawl(contract, ledger, config=config)

    assert store.hits["/img:304"] == image_count(ledger, first.id)


def test_a_spot_check_asks_for_its_images_even_when_fresh(store, ledger, clock):
    contract = contract_for(store)
    run_crawl(contract, ledger)
    product = store.live_products()[0]
    url = f"{store.url}/p/{product.slug}"
    store.reset_counters()
    clock.advance(timedelta(minutes=10))

    outcome = run_spot_check(contract, ledger, [url])

    snap = ledger.run_snapshots(outcome.run.id)[0]
    assert snap.image_urls and store.hits["/img"] == len(snap.image_urls)


@pytest.mark.parametrize("header, seconds", [
    ("public, max-age=86400", 86400),
    ("max-age=60", 60),
    ('max-age="300"', 300),
    ("public, max-age=86400, no-cache", None),
    ("no-store", None),
    ("private", None),
    ("max-age=-5", None),
    ("max-age=abc", None),
    ("", None),
])
def test_max_age_is_read_from_cache_control(header, seconds):
    headers = httpx.Headers({"Cache-Control": header} if header else {})
    assert max_age(headers) == seconds


# ------------------------------------------------------------------ a store of our own making
class PhotoServer:
    """Photos on loopback, with or without Cache-Control, counting requests per path."""

    def __init__(self):
        self.photos: dict[str, bytes] = {}
        self.cache_control: str | None = None
        self.requests: dict[str, int] = {}
        self.app = Starlette(routes=[Route("/{name}", self.photo)])

    async def photo(self, request):
        name = request.path_params["name"]
        self.requests[name] = self.requests.get(name, 0) + 1
        headers = {"ETag": f'"{hash(self.photos[name])}"'}
        if self.cache_control:
            headers["Cache-Control"] = self.cache_control
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        return Response(self.photos[name], media_type="image/jpeg", headers=headers)


def fetch_all(urls, known=None, *, reuse_fresh_s=0.0, hash_with=None):
    async def go():
        async with httpx.AsyncClient() as client:
            hasher = ImageHasher(client, known, reuse_fresh_s=reuse_fresh_s,
                                 hash_with=hash_with)
            results = {u: await hasher.fetch(u) for u in urls}
            return results, hasher
    return run(go())


def test_an_image_without_max_age_is_asked_for_every_time():
    photos = PhotoServer()
    photos.photos["a.jpg"] = jpeg_bytes(seed=1)
    with serve(photos.app) as base:
        first, _ = fetch_all([f"{base}/a.jpg"])
        second, hasher = fetch_all([f"{base}/a.jpg"], first, reuse_fresh_s=3600)
    assert photos.requests["a.jpg"] == 2
    assert hasher.reused_fresh == 0
    assert second[f"{base}/a.jpg"].sha256 == first[f"{base}/a.jpg"].sha256


def test_the_same_bytes_at_two_urls_are_hashed_once():
    photos = PhotoServer()
    photos.photos["a.jpg"] = photos.photos["copy-of-a.jpg"] = jpeg_bytes(seed=2)
    hashed = []

    async def counting(data):
        hashed.append(len(data))
        return hash_image_bytes(data)

    with serve(photos.app) as base:
        results, hasher = fetch_all([f"{base}/a.jpg", f"{base}/copy-of-a.jpg"],
                                    hash_with=counting)
    a, copy = results.values()
    assert len(hashed) == 1 and hasher.downloads == 2
    assert copy.url.endswith("/copy-of-a.jpg") and copy.core_phash == a.core_phash
    assert copy.sha256 == a.sha256


# ------------------------------------------------------------------ hashing in worker processes
def test_worker_processes_hash_exactly_as_a_thread_does(store):
    config = replace(contract_for(store).crawl_config(), recheck_share=0)
    in_thread = crawl_sync(replace(config, hash_processes=0))
    in_processes = crawl_sync(replace(config, hash_processes=2))

    assert in_processes.images.keys() == in_thread.images.keys()
    for url, info in in_processes.images.items():
        assert replace(info, checked_at=None) == replace(in_thread.images[url], checked_at=None)
    assert all(info.sha256 for info in in_processes.images.values())


def test_a_refused_image_comes_back_as_a_refusal_from_a_worker():
    async def go():
        async with HashWorkers(1) as workers:
            with pytest.raises(ImageRefused, match="not an image"):
                await workers.hash(b"<html>Access denied</html>")
            return await workers.hash(jpeg_bytes(seed=3))  # the worker is still there
    assert run(go()) == hash_and_thumbnail(jpeg_bytes(seed=3))


def test_a_worker_that_dies_refuses_that_image_and_is_replaced():
    async def go():
        async with HashWorkers(1) as workers:
            await workers.hash(jpeg_bytes(seed=4))
            (worker,) = workers._all
            worker.process.kill()  # as the kernel would on an out-of-memory decode
            worker.process.wait()
            with pytest.raises(ImageRefused, match="hashing process stopped"):
                await workers.hash(jpeg_bytes(seed=5))
            return await workers.hash(jpeg_bytes(seed=5))
    assert run(go()) == hash_and_thumbnail(jpeg_bytes(seed=5))


def jpeg_bytes(seed: int) -> bytes:
    return encode(picture(f"photo-{seed}"), "JPEG", quality=85)
