"""Bad input of every kind (issue #9), the store's images: corrupt and enormous ones, through
crawler.images and through a crawl of the sample store. Each is refused saying why (a
decompression bomb before its pixels are decoded, a 50 MB body at the size limit) and recorded
as that image's error, never taking the crawl down or holding more than the size cap.

The basic kinds (empty, a truncated JPEG, an HTML page, a 12,000 x 12,000 PNG) are in
tests/test_image_matching.py; the table here adds the other kinds. The other bad input: the
merchant's files in tests/test_bad_input_files.py, hostile listing titles in
tests/test_bad_input_titles.py.
"""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from PIL import Image

from crawler.images import ImageHasher
from imaging import MAX_IMAGE_BYTES, ImageRefused, hash_image_bytes
from demostore.images import decompression_bomb_png, oversized_body
from tests.aio import run
from tests.pictures import encode, picture

MB = 1024 * 1024


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header (SOF0) is rewritten to claim width x height."""
    data = bytearray(encode(picture("claim", (160, 120)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


# (id, bytes, words the refusal must hold). The basic kinds (empty, a truncated JPEG, an HTML
# page, a 12,000 x 12,000 PNG) are in tests/test_image_matching.py.
BAD_IMAGES = [
    ("PNG bomb 20,000 x 20,000", lambda: decompression_bomb_png(20_000, 20_000),
     ["decompression bomb"]),
    ("PNG just over the pixel limit", lambda: decompression_bomb_png(7_000, 7_000),
     ["too many pixels: 7000x7000"]),
    ("PNG of one row, 50 M wide", lambda: decompression_bomb_png(50_000_000, 1),
     ["too many pixels"]),
    ("JPEG claiming 65,000 x 65,000", lambda: _jpeg_claiming(65_000, 65_000),
     ["decompression bomb"]),
    ("JPEG cut in half", lambda: (lambda j: j[: len(j) // 2])(encode(picture("half"), "JPEG")),
     ["corrupt or truncated"]),
    ("PNG cut inside its pixels", lambda: (lambda p: p[: len(p) // 2])(encode(picture("png"))),
     ["corrupt or truncated"]),
    ("PNG header only", lambda: encode(picture("hdr"))[:33], ["corrupt or truncated"]),
    ("JSON error as image/jpeg", lambda: b'{"error": "forbidden", "code": 403}',
     ["not an image file"]),
    ("SVG with a script", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
                                  b'<script>alert(2)</script></svg>', ["not an image", "HTML or XML"]),
    ("a ZIP file", lambda: b"PK\x03\x04" + bytes(200), ["not an image file"]),
    ("21 MB of bytes", lambda: b"\xff\xd8\xff" + bytes(21 * MB), ["too large"]),
]


@pytest.mark.parametrize("make,words", [b[1:] for b in BAD_IMAGES], ids=[b[0] for b in BAD_IMAGES])
def test_a_bad_image_is_refused_saying_why(make, words):
    with pytest.raises(ImageRefused) as caught:
        hash_image_bytes(make())
    for word in words:
        assert word in str(caught.value)


_MEASURE = """
import resource, sys
from imaging import ImageRefused, hash_image_bytes
from demostore.images import decompression_bomb_png
from tests.test_bad_input_images import BAD_IMAGES
data = {name: make for name, make, _ in BAD_IMAGES}[sys.argv[1]]()
hash_image_bytes(decompression_bomb_png(64, 64))  # everything imported and warmed up
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    hash_image_bytes(data)
    print("decoded")
except ImageRefused as e:
    print("refused:", e)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


@pytest.mark.parametrize("name", ["PNG bomb 20,000 x 20,000", "JPEG claiming 65,000 x 65,000",
                                  "PNG of one row, 50 M wide"])
def test_a_decompression_bomb_is_refused_before_its_pixels_are_decoded(name):
    """Measured in a fresh process (peak resident memory): decoding the 20,000 x 20,000 PNG
    would take 400 MB to 1.6 GB; refusing it takes next to nothing."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, name], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    verdict, grown_mb = done.stdout.strip().splitlines()[-2:]
    assert verdict.startswith("refused:"), verdict
    assert int(grown_mb) < 50, f"{name}: peak memory grew {grown_mb} MB"


def _fetch(handler, url: str = "http://shop.test/img/x.jpg"):
    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            hasher = ImageHasher(client)
            return await hasher.fetch(url), hasher
    return run(go())


class _Body(httpx.AsyncByteStream):
    """A response body served piece by piece, counting how much of it was read."""

    def __init__(self, pieces):
        self.pieces, self.read = pieces, 0

    async def __aiter__(self):
        for piece in self.pieces:
            self.read += len(piece)
            yield piece


def test_a_50_mb_image_with_its_length_declared_is_refused_unread():
    body = _Body(oversized_body())
    info, hasher = _fetch(lambda request: httpx.Response(
        200, headers={"content-type": "image/jpeg", "content-length": str(50 * MB)}, stream=body))
    assert info.error == f"too large: {50 * MB} bytes (limit {MAX_IMAGE_BYTES})"
    assert info.sha256 is None and hasher.downloads == 0
    assert body.read <= 1 * MB


def test_a_50_mb_image_streamed_without_a_length_is_cut_off_at_the_limit():
    body = _Body(oversized_body())
    info, hasher = _fetch(lambda request: httpx.Response(
        200, headers={"content-type": "image/jpeg"}, stream=body))
    assert info.error == f"too large: over {MAX_IMAGE_BYTES} bytes"
    assert body.read <= MAX_IMAGE_BYTES + 1 * MB  # stopped reading; the rest never came
    assert hasher.downloads == 0


def test_a_gzip_bomb_is_capped_on_its_unpacked_size():
    """50 MB of zeros is 50 KB gzipped; the limit holds for what it unpacks to."""
    packed = gzip.compress(bytes(50 * MB), compresslevel=9)
    assert len(packed) < 100 * 1024
    info, _ = _fetch(lambda request: httpx.Response(
        200, headers={"content-type": "image/jpeg", "content-encoding": "gzip",
                      "content-length": str(len(packed))}, content=packed))
    assert info.error and info.error.startswith("too large: over")


@pytest.mark.parametrize("make,words", [b[1:] for b in BAD_IMAGES[:6]], ids=[b[0] for b in BAD_IMAGES[:6]])
def test_a_downloaded_bad_image_is_an_image_error_not_a_crash(make, words):
    data = make()
    info, _ = _fetch(lambda request: httpx.Response(
        200, headers={"content-type": "image/jpeg"}, content=data))
    assert info.error and all(word in info.error for word in words), info.error
    assert info.sha256 is None and info.phash is None
    assert info.bytes == len(data)


def test_a_good_image_after_bad_ones_is_hashed():
    good = encode(picture("good"), "JPEG")
    info, _ = _fetch(lambda request: httpx.Response(200, content=good))
    assert info.error is None and info.core_phash and info.width == 480
    assert Image.open(io.BytesIO(good)).size == (480, 360)


@pytest.mark.parametrize("hash_processes", [0, 2], ids=["hashed on threads", "in processes"])
def test_a_crawl_of_the_sample_store_meets_a_bomb_a_huge_image_and_junk_and_goes_on(
        store, ledger, hash_processes):
    """Through the whole crawl: the sample store serves a 20,000 x 20,000 PNG bomb, 50 MB with
    no length, an error page and a cut-off JPEG as one listing's pictures. Each is recorded
    in the ledger as that image's error, with its reason; the page, its good picture and
    the next listing are recorded as usual; the crawl holds no more than the size cap."""
    import tracemalloc
    from dataclasses import replace as changed

    from storeaudit.sample_store import demo_contract
    from audits.runner import run_crawl

    products = [p for p in store.products() if not p.removed and p.page_style != "jsprice"]
    target = next(p for p in products if len(p.images) >= 5)
    other = next(p for p in products if p.sku != target.sku)
    faults = dict(zip(target.images, ["bomb", "hugeimage", "notimage", "truncatedimage"]))
    store.faults.update(faults)
    contract = demo_contract().with_base_url(store.url)
    config = changed(contract.crawl_config(), urls=[target.url_path, other.url_path],
                     recheck_share=0, hash_processes=hash_processes)
    tracemalloc.start()
    try:
        run = run_crawl(contract, ledger, config=config)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert run.pages_ok == 2 and run.pages_failed == 0
    images = ledger.images([store.url + path for path in target.images + other.images])
    reasons = {path: images[store.url + path].error for path in target.images}
    expected = {"bomb": "decompression bomb", "hugeimage": f"too large: over {MAX_IMAGE_BYTES}",
                "notimage": "not an image: the file is HTML", "truncatedimage": "corrupt or truncated"}
    for path, fault in faults.items():
        assert reasons[path] and expected[fault] in reasons[path], (fault, reasons[path])
    good = [store.url + path for path in target.images[4:] + other.images]
    assert all(images[url].error is None and images[url].core_phash for url in good)
    assert peak < MAX_IMAGE_BYTES + 25 * MB, f"the crawl held {peak // MB} MB at its peak"
