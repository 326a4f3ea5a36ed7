"""The local stage through the ledger: features kept by the crawl and the registry, read by
images.infringing, said in its findings; a ledger and a registry from before they were kept."""

from __future__ import annotations

import sqlite3

import pytest
from PIL import Image

from audits.ledger import Ledger
from audits.registry import add_to_registry, refresh_features
from audits.rules.images import InfringingSettings, infringing
from crawler.snapshot import ImageInfo
from imaging import hash_image_bytes, hash_registry_bytes
from tests.history import History, listing
from tests.pictures import encode, scene
from tests.test_local_features import crop_off_centre, turned

IMG = "http://shop.test/img/sh-1-{}.jpg"


@pytest.fixture
def h(ledger, clock) -> History:
    return History(ledger, clock)


@pytest.fixture
def registered_file(tmp_path):
    path = tmp_path / "stolen.png"
    path.write_bytes(encode(scene("stolen-photo")))
    return path


def crawl_with(h: History, data: bytes, position: int = 1) -> ImageInfo:
    hashed = hash_image_bytes(data)
    features = hashed.pop("features")
    info = ImageInfo(url=IMG.format(position), **hashed)
    h.night(listing("SH-1", images=[info.url]), images={info.url: info},
            features={info.sha256: features})
    return info


def test_a_turned_half_crop_is_found_said_and_boxed(h, registered_file):
    [entry] = add_to_registry(h.ledger, [registered_file], label="stolen").added
    copy = turned(crop_off_centre(scene("stolen-photo")), 10)
    crawl_with(h, encode(copy, "JPEG", quality=75))
    [draft] = infringing(h.context(), InfringingSettings())
    assert draft.evidence["registry_id"] == entry.id
    assert "corners agree in place" in draft.message
    assert "turned 10°" in draft.message
    assert "of it shown" in draft.message
    # the turned copy's frame, carried back: the left 60 % and a little more (its corners)
    left, top, right, bottom = draft.evidence["registry_box"]
    assert left == pytest.approx(0, abs=0.03) and 0.6 <= right <= 0.75
    assert draft.evidence["inliers"] >= 12 and draft.evidence["agreement"] >= 0.74
    assert draft.evidence["distance"] is None       # the hashes alone did not find it


def test_a_greyscale_copy_is_a_recoloured_copy(h, registered_file):
    add_to_registry(h.ledger, [registered_file], label="stolen")
    crawl_with(h, encode(scene("stolen-photo").convert("L").convert("RGB"), "JPEG"))
    [draft] = infringing(h.context(), InfringingSettings())
    assert "recoloured copy" in draft.message
    assert draft.evidence["matched_form"].startswith("recoloured copy")


def test_the_same_scene_shot_again_in_another_colour_raises_nothing(h, registered_file):
    add_to_registry(h.ledger, [registered_file], label="stolen")
    crawl_with(h, encode(scene("stolen-photo", jitter=10, hue=80), "JPEG"))
    assert list(infringing(h.context(), InfringingSettings())) == []


def test_features_kept_by_a_crawl_are_read_back_by_sha256(h):
    data = encode(scene("kept"), "JPEG")
    info = crawl_with(h, data)
    kept = h.ledger.image_features([info.sha256, "0" * 64])
    assert list(kept) == [info.sha256]
    assert kept[info.sha256] == hash_image_bytes(data)["features"]


def test_an_old_registry_entry_gets_its_features_with_registry_refresh(h, registered_file):
    hashed = hash_registry_bytes(registered_file.read_bytes())
    [entry] = h.ledger.add_registry_entries([dict(
        label="old", source=None, path=str(registered_file), sha256=hashed["sha256"],
        phash=hashed["phash"], dhash=hashed["dhash"], core_phash=hashed["core_phash"],
        core_dhash=hashed["core_dhash"], colour=hashed["colour"],
        variants=hashed["variants"])])
    entry_id = entry.id
    assert not h.ledger.registry_entry(entry_id).local_features
    crawl_with(h, encode(turned(scene("stolen-photo"), 10), "JPEG"))
    assert list(infringing(h.context(), InfringingSettings())) == []  # the hashes alone miss

    outcome = refresh_features(h.ledger)
    assert [e.id for e in outcome.refreshed] == [entry_id]
    assert h.ledger.registry_entry(entry_id).local_features
    [draft] = infringing(h.context(), InfringingSettings())
    assert "corners agree in place" in draft.message
    assert refresh_features(h.ledger).refreshed == []   # nothing left to do


def test_registry_refresh_refuses_a_file_that_changed(h, registered_file):
    [entry] = add_to_registry(h.ledger, [registered_file], label="stolen").added
    h.ledger.db.execute("UPDATE registry SET features = NULL, mirror_features = NULL")
    Image.new("RGB", (50, 50), "red").save(registered_file)
    outcome = refresh_features(h.ledger)
    [(refused, why)] = outcome.refused
    assert refused.id == entry.id and "not the file registered" in why
    assert not h.ledger.registry_entry(entry.id).local_features


def test_a_ledger_from_before_local_features_is_brought_up_to_date(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:   # a schema-6 registry: no feature columns
        conn.execute("CREATE TABLE registry (id INTEGER PRIMARY KEY, label TEXT, source TEXT, "
                     "path TEXT, sha256 TEXT, phash TEXT, dhash TEXT, added TEXT, "
                     "core_phash TEXT, core_dhash TEXT, colour TEXT, variants TEXT, "
                     "added_by TEXT)")
        conn.execute("INSERT INTO registry (label, phash) VALUES ('kept', 'ffff0000ffff0000')")
        conn.execute("PRAGMA user_version = 6")
    with Ledger(path) as led:
        assert {"features", "mirror_features"} <= set(led.db["registry"].columns_dict)
        assert led.db["image_features"].exists()
        [entry] = led.registry()
        assert entry.label == "kept" and not entry.local_features
        assert led.registry_features([entry.id]) == {entry.id: (None, None)}


def test_registry_refresh_from_the_command_line(tmp_path, registered_file):
    from typer.testing import CliRunner

    from storeaudit.cli import app

    runner = CliRunner()
    db = tmp_path / "l.db"
    added = runner.invoke(app, ["registry", "add", str(registered_file), "--db", str(db)])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["registry", "list", "--db", str(db)])
    assert "registry refresh" not in listed.output
    with Ledger(db) as led:   # as if added before schema 7
        with led.db.conn:
            led.db.execute("UPDATE registry SET features = NULL, mirror_features = NULL")
    listed = runner.invoke(app, ["registry", "list", "--db", str(db)])
    assert "1 added before local features were kept" in " ".join(listed.output.split())
    assert "Run `storeaudit registry refresh`" in " ".join(listed.output.split())
    refreshed = runner.invoke(app, ["registry", "refresh", "--db", str(db)])
    assert refreshed.exit_code == 0, refreshed.output
    assert "refreshed #1 stolen" in refreshed.output
    again = runner.invoke(app, ["registry", "refresh", "--db", str(db)])
    assert "every registry image with a file has its local features already" in again.output


@pytest.mark.e2e
def test_an_audit_gives_old_registry_images_their_features_first(tmp_path, caplog):
    """An upgraded storeaudit: the registry's images were added before local features were
    kept; the next audit reads their files once, and matches by them."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from audits.catalog import load_catalog
    from audits.clock import ManualClock
    from audits.runner import run_audit
    from demostore import scenario
    from demostore.app import DemoStore
    from demostore.infringing import export_registry
    from demostore.server import run_in_thread
    from storeaudit.sample_store import demo_contract

    contract = demo_contract()
    store = DemoStore(size=12)
    store.day = scenario.INFRINGING_DAY
    day = datetime.combine(scenario.date_of(scenario.INFRINGING_DAY), datetime.min.time(),
                           ZoneInfo("Asia/Shanghai")) + timedelta(hours=2)
    with run_in_thread(store) as running, Ledger(tmp_path / "l.db", ManualClock(day)) as led:
        folder = export_registry(tmp_path / "registry")[0].parent
        added = add_to_registry(led, [folder]).added
        (folder / "city_night.jpg").write_bytes(b"changed since")   # one file changed
        with led.db.conn:
            led.db.execute("UPDATE registry SET features = NULL, mirror_features = NULL")
        caplog.set_level("INFO", logger="audits.runner")
        run_audit(contract.with_base_url(running.url), led, kind="demo",
                  catalog=load_catalog(contract.catalog_path()))
        by_label = {e.label: e for e in led.registry()}
        assert not by_label["city_night"].local_features
        assert all(e.local_features for e in by_label.values() if e.label != "city_night")
        assert f"local features found for {len(added) - 1} registry image(s)" in caplog.text
        assert "city_night keeps matching by its hashes only" in caplog.text
        [finding] = led.findings(rule_id="images.infringing")
        assert finding.evidence["inliers"] and scenario.INFRINGING_ORIGINAL in \
            finding.evidence["registry_label"]
