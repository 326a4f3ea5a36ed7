"""images.infringing over hand-built histories, with real perceptual hashes of pictures drawn
here: the same picture resized and recompressed matches, an unrelated picture does not."""

from __future__ import annotations

from functools import cache

import imagehash
import pytest
from PIL import Image, ImageDraw, ImageEnhance
from pydantic import ValidationError

from audits.rules.images import InfringingSettings, infringing
from imaging import hash_image_bytes, hash_registry_bytes
from crawler.snapshot import ImageInfo
from tests.pictures import encode, picture
from tests.history import History, failed, listing


def resized_copy(img: Image.Image) -> bytes:
    """What a thief does: 90 % size, JPEG quality 60."""
    w, h = img.size
    return encode(img.resize((int(w * 0.9), int(h * 0.9))), "JPEG", quality=60)


def edited_copy(img: Image.Image) -> bytes:
    """A copy worked on harder: cropped, resized, brightened, watermarked, recompressed."""
    w, h = img.size
    img = img.crop((int(w * 0.04), int(h * 0.04), w, h)).resize((int(w * 0.9), int(h * 0.9)))
    img = ImageEnhance.Brightness(img).enhance(1.1)
    ImageDraw.Draw(img).text((10, 10), "SHOP", fill=(255, 255, 255))
    return encode(img, "JPEG", quality=50)


def hashes_of(data: bytes) -> dict:
    """What the crawl keeps in an ImageInfo (its local features go to the ledger apart)."""
    hashed = hash_image_bytes(data)
    hashed.pop("features")
    return hashed


@cache
def hashed(kind: str, seed: str) -> dict:
    img = picture(seed)
    data = {"original": encode, "resized": resized_copy, "edited": edited_copy}[kind](img)
    return hashes_of(data)


def info(url: str, kind: str = "original", seed: str = "sunset") -> ImageInfo:
    return ImageInfo(url=url, **hashed(kind, seed))


@cache
def registry_hashes(seed: str) -> dict:
    return hash_registry_bytes(encode(picture(seed)))


def register(ledger, seed: str = "sunset", label: str = "sunset_lake"):
    h = registry_hashes(seed)
    return ledger.add_registry_entry(label=label, source="https://photos.example/sunset",
                                     path=f"registry/{label}.png", sha256=h["sha256"],
                                     phash=h["phash"], dhash=h["dhash"],
                                     core_phash=h["core_phash"], core_dhash=h["core_dhash"],
                                     colour=h["colour"], variants=h["variants"])


def distance(a: str, b: str) -> int:
    return int(imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b))


IMG = "http://shop.test/img/sh-1-{}.jpg"


@pytest.fixture
def h(ledger, clock) -> History:
    return History(ledger, clock)


def night_with(h, *images: ImageInfo, sku="SH-1"):
    h.night(listing(sku, images=[i.url for i in images]), images={i.url: i for i in images})


def test_the_drawn_pictures_behave_like_photos():
    """The premise of the tests below: copies stay close, unrelated pictures are far."""
    original = hashed("original", "sunset")["core_phash"]
    assert distance(original, hashed("resized", "sunset")["core_phash"]) <= 8
    assert 0 < distance(original, hashed("edited", "sunset")["core_phash"]) <= 8
    assert distance(original, hashed("original", "harbour")["core_phash"]) > 16


def test_resized_recompressed_copy_is_raised(h):
    entry = register(h.ledger)
    night_with(h, info(IMG.format(1), seed="harbour"), info(IMG.format(2), "resized"))
    [draft] = infringing(h.context(), InfringingSettings())
    assert draft.fingerprint == f"registry:{entry.id}:{IMG.format(2)}"
    assert draft.message.startswith("Image 2 matches the known infringing image 'sunset_lake' "
                                    "(phash distance ")
    assert draft.message.endswith(" of 64)")


def test_unrelated_picture_is_not_raised(h):
    register(h.ledger)
    night_with(h, info(IMG.format(1), seed="harbour"), info(IMG.format(2), seed="forest"))
    assert list(infringing(h.context(), InfringingSettings())) == []


def forms(entry) -> list[tuple[str, str]]:
    """(phash, dhash) of every form a registry entry is matched by: itself, mirror, crops."""
    return [(entry.core_phash, entry.core_dhash)] + [tuple(v.split(":")) for v in entry.variants]


def test_infringing_evidence_names_both_images_the_hash_and_the_distance(h):
    entry = register(h.ledger)
    copy = info(IMG.format(1), "edited")
    night_with(h, copy)
    [draft] = infringing(h.context(), InfringingSettings())
    snap = h.ledger.run_snapshots(h.last_run.id)[0]
    ev = draft.evidence
    # the edited copy is cropped: the nearest form of the registered image is one of its crops
    matched = next(f for f in forms(entry) if f[0] == ev["registry_phash"])
    d = distance(copy.core_phash, matched[0])
    assert draft.message == (f"Image 1 matches the known infringing image 'sunset_lake' "
                             f"(phash distance {d} of 64, cropped)")
    assert draft.listing_id == snap.listing_id
    assert ev == {
        "listing_url": "http://shop.test/p/sh-1", "sku": "SH-1",
        "image_position": 1, "image_url": copy.url, "image_sha256": copy.sha256,
        "image_phash": copy.core_phash, "registry_id": entry.id, "registry_label": "sunset_lake",
        "registry_source": "https://photos.example/sunset", "registry_phash": matched[0],
        "hash": "phash", "distance": d, "max_distance": 10,
        "dhash_distance": distance(copy.core_dhash, matched[1]),
        "colour_distance": ev["colour_distance"], "matched_form": "cropped",
        "hashed": "core", "snapshot_id": snap.id, "run_id": h.last_run.id,
        # registered without local features (as before schema 7): the hashes alone
        "inliers": None, "agreement": None, "rotation": None, "scale": None,
        "registry_box": None, "listing_box": None, "leaned": False,
    }
    assert 0 <= ev["colour_distance"] <= 7.5


def test_unaltered_copy_matches_the_registered_image_itself(h):
    entry = register(h.ledger)
    night_with(h, info(IMG.format(1), "resized"))
    [draft] = infringing(h.context(), InfringingSettings())
    assert draft.evidence["matched_form"] == "as registered"
    assert draft.evidence["registry_phash"] == entry.core_phash


@pytest.mark.parametrize("slack, raised", [(0, True), (-1, False), (1, True)])
def test_distance_exactly_at_the_limit_is_raised(h, slack, raised):
    entry = register(h.ledger)
    copy = info(IMG.format(1), "edited")
    night_with(h, copy)
    limit = min(distance(copy.core_phash, p) for p, _ in forms(entry)) + slack
    # the dhash route closed, so the phash limit alone decides
    found = list(infringing(h.context(), InfringingSettings(max_distance=limit,
                                                            max_dhash_distance=0)))
    assert bool(found) is raised


@pytest.mark.parametrize("slack, raised", [(0, True), (-1, False)])
def test_combined_distance_exactly_at_the_limit_is_raised(h, slack, raised):
    entry = register(h.ledger)
    copy = info(IMG.format(1), "edited")
    night_with(h, copy)
    total = min(distance(copy.core_phash, p) + distance(copy.core_dhash, d)
                for p, d in forms(entry))
    found = list(infringing(h.context(), InfringingSettings(max_combined_distance=total + slack)))
    assert bool(found) is raised


def test_identical_hash_matches_with_limit_zero(h):
    register(h.ledger)
    night_with(h, info(IMG.format(1)))
    [draft] = infringing(h.context(), InfringingSettings(max_distance=0))
    assert draft.evidence["distance"] == 0


def test_same_picture_in_other_colours_is_not_raised(h):
    """Grey-level hashes cannot tell colours apart; the colour signature can."""
    register(h.ledger)
    recoloured = picture("sunset").convert("RGB")
    r, g, b = recoloured.split()
    data = encode(Image.merge("RGB", (b, r, g)), "JPEG", quality=90)
    other = ImageInfo(url=IMG.format(1), **hashes_of(data))
    night_with(h, other)
    assert list(infringing(h.context(), InfringingSettings())) == []
    assert list(infringing(h.context(), InfringingSettings(max_colour_distance=255)))


def test_mirrored_copy_is_raised_and_says_so(h):
    register(h.ledger)
    data = encode(picture("sunset").transpose(Image.FLIP_LEFT_RIGHT), "JPEG", quality=80)
    night_with(h, ImageInfo(url=IMG.format(1), **hashes_of(data)))
    [draft] = infringing(h.context(), InfringingSettings())
    assert draft.evidence["matched_form"] == "mirrored"
    assert draft.message.endswith(" of 64, mirrored)")


def test_copy_on_a_white_canvas_is_raised(h):
    register(h.ledger)
    canvas = Image.new("RGB", (600, 600), "white")
    canvas.paste(picture("sunset").resize((400, 300)), (120, 170))
    night_with(h, ImageInfo(url=IMG.format(1), **hashes_of(encode(canvas, "JPEG"))))
    [draft] = infringing(h.context(), InfringingSettings())
    assert draft.evidence["hashed"] == "core"


def test_image_hashed_by_an_older_storeaudit_is_still_matched(h):
    """Images in a ledger from before the core hashes: the whole-image hashes are used."""
    register(h.ledger)
    # An older storeaudit kept the whole picture's hashes, as a registry image still has.
    old = hash_registry_bytes(resized_copy(picture("sunset")))
    night_with(h, ImageInfo(url=IMG.format(1), sha256=old["sha256"], phash=old["phash"],
                            dhash=old["dhash"]))
    [draft] = infringing(h.context(), InfringingSettings())
    assert draft.evidence["hashed"] == "whole image" and draft.evidence["colour_distance"] is None


@pytest.mark.parametrize("broken", [
    ImageInfo(url=IMG.format(1), error="HTTP 404"),
    ImageInfo(url=IMG.format(1), error="too many pixels: 9000x9000", phash="0" * 16),
    ImageInfo(url=IMG.format(1), sha256="ab" * 32),  # downloaded, no phash
])
def test_image_that_could_not_be_hashed_is_skipped(h, broken):
    register(h.ledger)
    night_with(h, broken)
    assert list(infringing(h.context(), InfringingSettings())) == []


def test_image_never_downloaded_is_skipped(h):
    register(h.ledger)
    h.night(listing("SH-1", images=[IMG.format(1)]))  # no ImageInfo recorded
    assert list(infringing(h.context(), InfringingSettings())) == []


def test_registry_entry_without_phash_is_skipped(h):
    h.ledger.add_registry_entry(label="sha only", source=None, path=None,
                                sha256=hashed("original", "sunset")["sha256"], phash=None,
                                dhash=None)
    night_with(h, info(IMG.format(1)))
    assert list(infringing(h.context(), InfringingSettings())) == []


def test_empty_registry_raises_nothing(h):
    night_with(h, info(IMG.format(1)))
    assert list(infringing(h.context(), InfringingSettings())) == []


def test_each_matched_registry_image_is_its_own_finding(h):
    first = register(h.ledger, label="sunset_lake")
    second = register(h.ledger, label="sunset_lake_2020")
    night_with(h, info(IMG.format(1), "resized"))
    found = list(infringing(h.context(), InfringingSettings()))
    assert [d.fingerprint for d in found] == [f"registry:{first.id}:{IMG.format(1)}",
                                              f"registry:{second.id}:{IMG.format(1)}"]


def test_each_listing_with_the_copy_is_raised(h):
    register(h.ledger)
    shared = info("http://shop.test/img/shared.jpg", "resized")
    h.night(listing("SH-1", images=[shared.url]), listing("SH-2", images=[shared.url]),
            images={shared.url: shared})
    found = list(infringing(h.context(), InfringingSettings()))
    assert sorted(d.evidence["sku"] for d in found) == ["SH-1", "SH-2"]


def test_image_listed_twice_on_a_page_is_one_finding(h):
    register(h.ledger)
    copy = info(IMG.format(1), "resized")
    h.night(listing("SH-1", images=[copy.url, copy.url]), images={copy.url: copy})
    assert len(list(infringing(h.context(), InfringingSettings()))) == 1


def test_failed_page_raises_nothing(h):
    register(h.ledger)
    night_with(h, info(IMG.format(1), "resized"))
    h.night(failed("SH-1"))
    assert list(infringing(h.context(), InfringingSettings())) == []


def test_image_removed_tonight_is_not_raised(h):
    register(h.ledger)
    night_with(h, info(IMG.format(1), "resized"))
    night_with(h, info(IMG.format(9), seed="forest"))
    assert list(infringing(h.context(), InfringingSettings())) == []


@pytest.mark.parametrize("bad", [{"max_distance": -1}, {"max_distance": 33},
                                 {"max_distance": 17}, {"max_colour_distance": -1},
                                 {"max_distance": "near"}, {"hash": "dhash"}])
def test_bad_image_settings_are_refused(bad):
    with pytest.raises(ValidationError):
        InfringingSettings(**bad)
