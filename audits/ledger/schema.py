"""The ledger's tables, created on first use. Only the ledger package reads this.

Prices are TEXT holding exact decimals; times are ISO 8601 strings from the injected clock.
"""

from __future__ import annotations

import sqlite_utils

# 2: snapshots.unchanged, the pages table; 3: emails became deliveries; 4: the thumbnails
# table (a ledger before it has none: its images show "no picture kept" until recrawled);
# 5: snapshots.absent and snapshots.undiscovered (empty before: a listing then counts as seen);
# 6: the secrets, observations, screenshots and shared_images tables; 7: local features
# (image_features, registry.features and .mirror_features; empty before: an image gets them
# when next downloaded, a registry entry with `storeaudit registry refresh`); 8: findings.opened_at
# (empty before: its first_seen stands in), the escalations table, deliveries.body and .period;
# 9: the weekly quota finding's retitled listings moved from evidence "changed" to "retitled";
# runs.false_not_modified (empty before: no 304 was checked then).
SCHEMA_VERSION = 9

TABLES: dict[str, dict] = {
    "runs": dict(columns={
        "id": int, "kind": str, "status": str, "started": str, "finished": str,
        "pages_ok": int, "pages_failed": int, "image_downloads": int, "error": str,
        "full": int, "listings_not_read": int,
        # the pages and images that answered a false 304 (crawler.not_modified), JSON
        "false_not_modified": str,
    }, pk="id", not_null={"kind", "status", "started"}),
    "listings": dict(columns={
        "id": int, "key": str, "sku": str, "url": str, "first_seen": str, "last_seen": str,
        "gone_since": str,
    }, pk="id", not_null={"key", "url", "first_seen", "last_seen"}),
    "snapshots": dict(columns={
        "id": int, "run_id": int, "listing_id": int, "fetched_at": str, "url": str, "sku": str,
        "title": str, "price": str, "list_price": str, "currency": str, "availability": str,
        "stock_count": int, "promoted": int, "image_urls": str, "price_note": str,
        "source": str, "fetched_with": str, "http_status": int, "error": str,
        "content_hash": str, "unchanged": int,
        # The store said the listing is not there (404/410, redirected to no listing); the
        # page was read through its own URL, not listed by the sitemap or categories.
        "absent": int, "undiscovered": int,
    }, pk="id", not_null={"run_id", "listing_id", "url"},
        foreign_keys=[("run_id", "runs", "id"), ("listing_id", "listings", "id")]),
    "images": dict(columns={
        "url": str, "sha256": str, "phash": str, "dhash": str, "width": int, "height": int,
        "bytes": int, "etag": str, "last_modified": str, "error": str, "first_seen": str,
        "last_checked": str, "core_phash": str, "core_dhash": str, "colour": str,
        # when the store last confirmed the bytes, and the max-age it gave them (seconds)
        "checked_at": str, "max_age": int,
    }, pk="url"),
    # The small JPEG the crawl made of each image it hashed (crawler.hashing), by the sha256 of
    # the image's bytes (images.sha256 says which URL showed which): the only picture of the
    # store's the dashboard and the email show. Identical images at many URLs are kept once.
    "thumbnails": dict(columns={
        "sha256": str, "jpeg": bytes, "width": int, "height": int, "kept": str,
    }, pk="sha256", not_null={"jpeg", "width", "height"}),
    # The local features (imaging.features, packed, ~9 KB) of each image the crawl hashed, by
    # sha256 like the thumbnails: the second stage of the infringing-image match reads them.
    "image_features": dict(columns={"sha256": str, "features": bytes}, pk="sha256",
                           not_null={"features"}),
    # What the crawler remembers of each listing page, to ask for it conditionally next time:
    # validators, the hash of the HTML, for a rendered page the hashes of the scripts and
    # data it used (JSON), and the snapshot those belong to.
    "pages": dict(columns={
        "url": str, "fetched_with": str, "body_sha256": str, "etag": str, "last_modified": str,
        "resources": str, "snapshot_id": int, "checked": str,
    }, pk="url"),
    "registry": dict(columns={
        "id": int, "label": str, "source": str, "path": str, "sha256": str, "phash": str,
        "dhash": str, "added": str,
        # what images.infringing matches by (imaging): the core hashes, the colour
        # signature, and the variants (JSON list of "phash:dhash" of the mirror and crops)
        "core_phash": str, "core_dhash": str, "colour": str, "variants": str, "added_by": str,
        # and its local features and its mirror image's (imaging.features, packed)
        "features": bytes, "mirror_features": bytes,
    }, pk="id"),
    "approvals": dict(columns={
        "id": int, "sku": str, "max_discount": str, "min_price": str, "valid_until": str,
        "note": str, "created_by": str, "created": str,
    }, pk="id"),
    "findings": dict(columns={
        "id": int, "rule_id": str, "severity": str, "listing_id": int, "fingerprint": str,
        "status": str, "first_seen": str, "last_seen": str, "resolved_at": str,
        "message": str, "evidence": str, "run_id": int, "deadline": str, "note": str,
        "acknowledged_at": str, "acknowledged_by": str, "waive_reason": str,
        # when this spell of the problem began: first_seen, or the audit that reopened it
        # (the spell before is kept in a "reopen" event: the response times read both)
        "opened_at": str,
    }, pk="id"),
    # Each time a finding's lateness was told (audits/notify/escalation.py): once per finding, step
    # and spell (`opened_at`), so a reminder or a step up the ladder is never sent twice.
    "escalations": dict(columns={
        "id": int, "finding_id": int, "step": str, "opened_at": str, "severity": str,
        "told_level": str, "at": str, "deliveries": str,
    }, pk="id", not_null={"finding_id", "step", "at"}),
    "tokens": dict(columns={
        "id": int, "name": str, "role": str, "token_hash": str, "created": str, "revoked": str,
    }, pk="id"),
    "events": dict(columns={
        "id": int, "at": str, "actor": str, "action": str, "finding_id": int, "approval_id": int,
        "detail": str,
    }, pk="id"),
    # Everything a notifier sent (the emails first): what it reported (finding ids by section,
    # JSON), where its copy is, and whether it went. Only a sent or written one counts as
    # delivered. Called `emails` before schema 3 (renamed, its rows the email notifier's).
    "deliveries": dict(columns={
        "id": int, "notifier": str, "kind": str, "created": str, "status": str, "attempts": int,
        "last_error": str, "next_attempt": str, "sent_at": str, "transport": str,
        "subject": str, "recipients": str, "finding_ids": str, "run_id": int, "path": str,
        "html_path": str,
        # a chat message's text, kept to send it again; a review's period ("2026-W46")
        "body": str, "period": str,
    }, pk="id", not_null={"kind", "created", "status"}),
    # Values only this ledger knows (the random checks' seed): made on first use, never
    # shown by the API, and not in the contract, which the agency may read.
    "secrets": dict(columns={"name": str, "value": str, "created": str}, pk="name",
                    not_null={"value"}),
    # What the merchant's own browser read on a listing page (the extension): the second
    # witness beside the crawler's snapshots, a kind of snapshot of its own.
    "observations": dict(columns={
        "id": int, "listing_id": int, "url": str, "observed_at": str, "title": str,
        "price": str, "currency": str, "availability": str, "stock_count": int,
        "promoted": int, "reported_by": str,
    }, pk="id", not_null={"listing_id", "url", "observed_at"},
        foreign_keys=[("listing_id", "listings", "id")]),
    # The listing's page as the crawler's browser rendered it when a finding was first seen
    # and when it was resolved (moment): a JPEG, kept within the contract's [evidence] limits.
    "screenshots": dict(columns={
        "id": int, "finding_id": int, "moment": str, "run_id": int, "url": str,
        "taken_at": str, "jpeg": bytes, "bytes": int, "width": int, "height": int,
    }, pk="id", not_null={"finding_id", "moment", "taken_at", "jpeg", "bytes"}),
    # Pictures the last whole-store crawl found on many listings (the store's placeholder, a
    # logo): left out of every listing's images, by sha256 (or URL), until the next one.
    "shared_images": dict(columns={
        "key": str, "urls": str, "listings": int, "of_listings": int, "run_id": int,
    }, pk="key"),
}
RENAMED = {"emails": "deliveries"}  # an older ledger's table -> its name now

INDEXES = [
    ("snapshots", ["listing_id", "fetched_at"]),
    ("snapshots", ["listing_id", "run_id"]),
    ("snapshots", ["run_id"]),
    ("listings", ["sku"]),
    ("listings", ["url"]),
    ("findings", ["status", "severity"]),
    ("findings", ["rule_id", "listing_id", "fingerprint"]),
    ("tokens", ["token_hash"]),
    ("deliveries", ["notifier", "kind", "status"]),
    ("runs", ["kind", "started"]),
    ("observations", ["listing_id", "observed_at"]),
    ("screenshots", ["finding_id", "moment"]),
    ("screenshots", ["taken_at"]),
    ("escalations", ["finding_id", "step"]),
]
# A finding's step is told once per spell, even by two processes sweeping at once (the
# scheduler's, and the API's after a spot-check): the second one's claim finds the row there.
UNIQUE_INDEXES = [("escalations", ["finding_id", "step", "opened_at"])]


def _missing(db: sqlite_utils.Database) -> bool:
    """Whether anything needs creating, asked with reads only: every web request opens the
    ledger, and a write here would queue each one behind the others for the write lock."""
    if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
        return True
    for name, spec in TABLES.items():
        if not db[name].exists() or set(spec["columns"]) - set(db[name].columns_dict):
            return True
    for table, columns in INDEXES + UNIQUE_INDEXES:
        if not any(index.columns == columns for index in db[table].indexes):
            return True
    return False


def ensure_schema(db: sqlite_utils.Database) -> None:
    if not _missing(db):
        return
    with db.atomic():
        for old, new in RENAMED.items():
            if db[old].exists() and not db[new].exists():
                db.execute(f"ALTER TABLE [{old}] RENAME TO [{new}]")
        for name, spec in TABLES.items():
            if not db[name].exists():
                db[name].create(**spec)
                continue
            # A ledger written by an older storeaudit: add the columns it lacks (empty).
            have = db[name].columns_dict
            for column, kind in spec["columns"].items():
                if column not in have:
                    db[name].add_column(column, kind)
        # Every delivery before schema 3 was an email.
        db.execute("UPDATE deliveries SET notifier = 'email' WHERE notifier IS NULL")
        # Before schema 9 the weekly quota's retitled listings were under "changed", the key
        # of what changed on a listing: they were read as that, and frozen at first sighting.
        db.execute("""UPDATE findings SET evidence = json_set(json_remove(evidence, '$.changed'),
                          '$.retitled', json(json_extract(evidence, '$.changed')))
                      WHERE rule_id = 'titles.weekly_quota' AND json_valid(evidence)
                        AND json_type(evidence, '$.changed') = 'array'
                        AND json_type(evidence, '$.retitled') IS NULL""")
        for table, columns in INDEXES:
            db[table].create_index(columns, if_not_exists=True)
        for table, columns in UNIQUE_INDEXES:
            db[table].create_index(columns, unique=True, if_not_exists=True)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
