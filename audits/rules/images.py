"""Image rules: the contract's "no infringing images".

Every listing image's perceptual hash (phash, 64 bits) is compared with the registry of known
infringing images; a picture resized, recompressed or lightly edited keeps a phash within a few
bits of the original, an unrelated picture is far away.
"""

from __future__ import annotations

from collections.abc import Iterator

import imagehash
from pydantic import Field

from .base import Draft, RuleSettings, rule
from .context import AuditContext


class InfringingSettings(RuleSettings):
    max_distance: int = Field(
        default=8, ge=0, le=32,
        description="How many of the 64 phash bits may differ for a listing image to count as "
                    "a copy of a registered image (0: only identical hashes).",
    )


@rule("images.infringing", "A listing image matches a known infringing image.", "critical",
      InfringingSettings)
def infringing(ctx: AuditContext, settings: InfringingSettings) -> Iterator[Draft]:
    registry = [(entry, imagehash.hex_to_hash(entry.phash))
                for entry in ctx.registry if entry.phash]
    if not registry:
        return
    # A simple loop over every (image, registry entry) pair; a later issue indexes it.
    for state in ctx.listings:
        urls = list(dict.fromkeys(state.snap.image_urls))  # an image listed twice is one image
        images = ctx.images(urls)
        for position, url in enumerate(urls, start=1):
            info = images.get(url)
            if info is None or info.error or not info.phash:
                continue
            seen = imagehash.hex_to_hash(info.phash)
            for entry, known in registry:
                distance = int(seen - known)
                if distance > settings.max_distance:
                    continue
                yield Draft(
                    state.id, f"registry:{entry.id}:{url}",
                    f"Image {position} matches the known infringing image '{entry.label}' "
                    f"(phash distance {distance} of 64)",
                    {
                        "listing_url": state.snap.url,
                        "sku": state.sku,
                        "image_position": position,
                        "image_url": url,
                        "image_sha256": info.sha256,
                        "image_phash": info.phash,
                        "registry_id": entry.id,
                        "registry_label": entry.label,
                        "registry_source": entry.source,
                        "registry_phash": entry.phash,
                        "hash": "phash",
                        "distance": distance,
                        "max_distance": settings.max_distance,
                        "snapshot_id": state.snap.id,
                        "run_id": ctx.run.id,
                    },
                )
