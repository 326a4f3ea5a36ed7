"""Issue #17: a picture shown on many listings (the store's placeholder, a logo, a badge) is
not a listing's own: it is left out of their images, never matched against the registry for
each of them, and `storeaudit crawl` warns about it."""

from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from typer.testing import CliRunner

from audits.ledger import Ledger
from crawler.shared_images import find_shared, leave_out
from crawler.snapshot import ImageInfo, Snapshot
from pictures import encode, picture
from servers import serve
from storeaudit.cli import app

LISTINGS = 10
PLACEHOLDER = encode(picture("the store's 暂无图片 placeholder"))


def _store() -> Starlette:
    """Ten listings, each with two photos of its own; four of them (40 %) also show the
    store's placeholder picture, at one URL on two and another URL on the other two."""
    shows = {0: "/static/nophoto.png", 3: "/static/nophoto.png", 5: "/img/blank.png",
             8: "/img/blank.png"}

    def product(request):
        i = int(request.path_params["i"])
        images = [f"/img/{i}-a.png", f"/img/{i}-b.png"] + ([shows[i]] if i in shows else [])
        data = {"@context": "https://schema.org", "@type": "Product", "name": f"Lamp {i}",
                "sku": f"L-{i}", "image": images,
                "offers": {"@type": "Offer", "price": f"{100 + i}.00", "priceCurrency": "CNY",
                           "availability": "https://schema.org/InStock"}}
        return HTMLResponse(f'<html><head><script type="application/ld+json">{json.dumps(data)}'
                            f'</script></head><body><h1>Lamp {i}</h1></body></html>')

    def image(request):
        name = request.path_params["name"]
        body = PLACEHOLDER if name in ("nophoto.png", "blank.png") else \
            encode(picture(f"photo {name}"))
        return Response(body, media_type="image/png")

    def sitemap(request):
        urls = "".join(f"<url><loc>{request.base_url}p/{i}</loc></url>" for i in range(LISTINGS))
        return Response(f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                        f'sitemap/0.9">{urls}</urlset>', media_type="application/xml")

    return Starlette(routes=[Route("/p/{i}", product), Route("/img/{name}", image),
                             Route("/static/{name}", image), Route("/sitemap.xml", sitemap)])


def test_a_picture_on_more_than_a_fifth_of_the_listings_is_the_stores_not_theirs():
    def snap(i, urls):
        return Snapshot(url=f"http://s/p/{i}", title="t", image_urls=list(urls))
    images = {f"http://s/{i}.png": ImageInfo(f"http://s/{i}.png", sha256=f"own{i}")
              for i in range(10)}
    images |= {"http://s/logo-a.png": ImageInfo("http://s/logo-a.png", sha256="logo"),
               "http://s/logo-b.png": ImageInfo("http://s/logo-b.png", sha256="logo")}
    snaps = [snap(i, [f"http://s/{i}.png"] + (["http://s/logo-a.png" if i % 2 else
                                                "http://s/logo-b.png"] if i < 3 else []))
             for i in range(10)]
    shared = find_shared(snaps, images)
    assert list(shared) == ["logo"] and shared["logo"].listings == 3 and shared["logo"].of == 10
    leave_out(snaps, images, shared)
    assert [s.image_urls for s in snaps] == [[f"http://s/{i}.png"] for i in range(10)]
    # Two of ten is a fifth, not more: two listings may well share a photo.
    again = [snap(i, [f"http://s/{i}.png"] + (["http://s/logo-a.png"] if i < 2 else []))
             for i in range(10)]
    assert find_shared(again, images) == {}


@pytest.mark.e2e
def test_a_placeholder_on_40_percent_of_listings_is_not_counted_and_the_crawl_warns(tmp_path):
    with serve(_store()) as url:
        contract = tmp_path / "contract.toml"
        contract.write_text(f'[store]\nname = "Lamps"\nbase_url = "{url}"\n'
                            f'timezone = "Asia/Shanghai"\n', encoding="utf-8")
        result = CliRunner().invoke(app, ["crawl", "-c", str(contract),
                                          "--db", str(tmp_path / "l.db")],
                                    terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "warning: the same picture is on 4 of 10 listings" in result.output
    assert "placeholder" in result.output and "[store.selectors] images" in result.output
    with Ledger(tmp_path / "l.db") as ledger:
        counts = {s.sku: len(s.image_urls) for s in ledger.latest_snapshots()}
        assert counts == {f"L-{i}": 2 for i in range(LISTINGS)}
        [shared] = ledger.shared_images()
        assert shared["listings"] == 4 and len(shared["urls"]) == 2


def test_a_thumbnail_and_the_full_size_copy_of_one_photo_count_once():
    from imaging import hash_image_bytes

    from crawler.same_photo import one_per_photo

    def info(url, img):
        return ImageInfo(url, **{k: v for k, v in hash_image_bytes(encode(img, "JPEG")).items()
                                 if k in ImageInfo.__dataclass_fields__})

    photo, other = picture("the lamp, front", (800, 600)), picture("the lamp, side", (800, 600))
    images = {"http://s/thumb.jpg": info("http://s/thumb.jpg", photo.resize((200, 150))),
              "http://s/full.jpg": info("http://s/full.jpg", photo),
              "http://s/side.jpg": info("http://s/side.jpg", other),
              "http://s/broken.jpg": ImageInfo("http://s/broken.jpg", error="HTTP 404")}
    snap = Snapshot(url="http://s/p/1", title="Lamp",
                    image_urls=["http://s/thumb.jpg", "http://s/side.jpg", "http://s/full.jpg",
                                "http://s/broken.jpg"])
    assert one_per_photo([snap], images) == 1
    # The full-size copy, at the thumbnail's place; the other photo and the unread one stay.
    assert snap.image_urls == ["http://s/full.jpg", "http://s/side.jpg", "http://s/broken.jpg"]


@pytest.mark.e2e
def test_a_stolen_photo_used_as_the_placeholder_is_still_one_finding(tmp_path):
    """The agency's way round the registry: put the stolen photo on so many listings that it
    reads as the store's own placeholder. It stays out of each listing's images, and is looked
    up once: one store-level finding that says how many listings show it."""
    stolen = tmp_path / "stolen.png"
    stolen.write_bytes(PLACEHOLDER)  # the rights holder's photo, served as the "placeholder"
    db = str(tmp_path / "l.db")
    runner = CliRunner()
    added = runner.invoke(app, ["registry", "add", str(stolen), "--label", "rights_holder_lamp",
                                "--db", db])
    assert added.exit_code == 0, added.output
    with serve(_store()) as url:
        contract = tmp_path / "contract.toml"
        contract.write_text(f'[store]\nname = "Lamps"\nbase_url = "{url}"\n'
                            f'timezone = "Asia/Shanghai"\n', encoding="utf-8")
        (tmp_path / "catalog.csv").write_text("sku,cost,reference_price,promoted\n",
                                              encoding="utf-8")
        result = runner.invoke(app, ["audit", "-c", str(contract), "--db", db],
                               terminal_width=200)
    with Ledger(db) as ledger:
        found = [f for f in ledger.findings() if f.rule_id == "images.infringing"]
    assert len(found) == 1, result.output
    [finding] = found
    assert finding.listing_id is None
    assert finding.message.startswith("A picture shown on 4 of 10 listings matches the known "
                                      "infringing image 'rights_holder_lamp'")
    assert finding.evidence["image_urls"][0].endswith(("/nophoto.png", "/blank.png"))
    shown = " ".join(result.output.split())
    assert "still checked against the registry" in shown
    assert "1 new" in shown and "critical" in shown and "A picture" in shown


def test_the_only_picture_of_three_listings_in_thirty_is_the_stores_no_image_picture():
    """Oscar-style stores show one 'image not found' picture on the few listings without a
    photo: three of thirty is not a fifth, but it is their only picture."""
    images = {f"http://s/{i}.jpg": ImageInfo(f"http://s/{i}.jpg", sha256=f"own{i}")
              for i in range(30)}
    images["http://s/cache/6d/30/x.jpg"] = ImageInfo("http://s/cache/6d/30/x.jpg", sha256="none")
    snaps = [Snapshot(url=f"http://s/p/{i}", title="t",
                      image_urls=["http://s/cache/6d/30/x.jpg"] if i < 3
                      else [f"http://s/{i}.jpg", f"http://s/{i + 1}.jpg"]) for i in range(30)]
    assert list(find_shared(snaps, images)) == ["none"]
    # The same picture beside other photos on three listings is theirs (a shared photo).
    beside = [Snapshot(url=f"http://s/p/{i}", title="t",
                       image_urls=[f"http://s/{i}.jpg"] + (["http://s/cache/6d/30/x.jpg"]
                                                          if i < 3 else [])) for i in range(30)]
    assert find_shared(beside, images) == {}
