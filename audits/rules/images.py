"""Image rules: the contract's "no infringing images".

Every listing image is looked up in the registry of known infringing images through
`audits.image_match`, in two stages. First an index of the registry's perceptual hashes (each
image's own, its mirror image's and its crops'), then a decision on the candidates — near on
phash and dhash together, and the same colours. Then local features verified in place
(`audits.local_stage`): a copy rotated, cropped to half, put small on a canvas or recoloured
still shares corners with the original, in the same arrangement, and the match says which part
of the registry picture it shows. The same product photographed again in another colour, on
another backdrop, is not a copy (measured: `python -m bench images` and `python -m bench
photos`).

A picture the crawl found on many listings (crawler.shared_images) is not any listing's image,
but it is still looked up, once: a match is one store-level finding naming how many listings
show it.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from crawler.snapshot import ImageInfo

from ..image_match import (COLOUR_LIMIT, DHASH_RADIUS, PHASH_RADIUS, SUM_LIMIT, Match,
                           Probe, RegistryImage, RegistryIndex)
from imaging.features import index_prefix

from ..feature_index import INDEXED
from .base import Draft, RuleSettings, rule
from .context import AuditContext


class InfringingSettings(RuleSettings):
    max_distance: int = Field(
        default=PHASH_RADIUS, ge=0, le=16,
        description="How many of the 64 phash bits may differ for a listing image to be "
                    "compared further with a registered image (0: only identical hashes).",
    )
    max_dhash_distance: int = Field(
        default=DHASH_RADIUS, ge=0, le=16,
        description="The same for the dhash: an image near on either hash is compared further.",
    )
    max_combined_distance: int = Field(
        default=SUM_LIMIT, ge=0, le=64,
        description="A copy: phash and dhash distances added up are at most this.",
    )
    max_colour_distance: float = Field(
        default=COLOUR_LIMIT, ge=0, le=255,
        description="A copy also has the same colours: mean chroma difference at most this "
                    "(the same product in another colour is not a copy).",
    )


@rule("images.infringing", "Infringing image", "critical", InfringingSettings)
def infringing(ctx: AuditContext, settings: InfringingSettings) -> Iterator[Draft]:
    """A listing image matches a known infringing image.

    The contract says no infringing images. Every listing image is compared with the registry
    of known infringing images (`storeaudit registry add`): a copy resized, recompressed,
    cropped (even to half), rotated, framed, put small on a canvas, watermarked, captioned,
    mirrored, turned grey or recoloured is still a copy; the same product photographed in
    another colour is not. The finding shows both pictures, with the part of each that
    agrees boxed, the distances and how it matched.

    Example: a rights holder's photo, mirrored and with a price tag added, as a listing's
    third image: "Image 3 matches the known infringing image 'sunset_lake' (phash distance 4
    of 64, mirrored)"; the same photo turned 10° and cropped to its left half: "Image 1
    matches the known infringing image 'sunset_lake' (48 corners agree in place, turned 10°,
    about 52% of it shown)"."""
    entries = {e.id: e for e in ctx.registry}
    # The feature index reads each registry image's first descriptors; the whole features
    # of those a listing image is verified against are read then.
    local = ctx.registry_index_features(index_prefix(INDEXED))
    images = [img for e in entries.values() if (img := RegistryImage.of(
        e.id, phash=e.phash, dhash=e.dhash, core_phash=e.core_phash, core_dhash=e.core_dhash,
        colour=e.colour, variants=e.variants, features=local.get(e.id, (None, None))[0],
        mirror_features=local.get(e.id, (None, None))[1]))]
    if not images:
        return
    index = RegistryIndex(images, phash_radius=settings.max_distance,
                          dhash_radius=settings.max_dhash_distance,
                          sum_limit=settings.max_combined_distance,
                          colour_limit=settings.max_colour_distance,
                          load_features=ctx.registry_features)
    seen = []  # (listing state or None for a shared picture, position, info, shared)

    def probe(state, position: int, info: ImageInfo | None, shared: dict | None) -> None:
        if info is not None and not info.error:
            seen.append((state, position, info, shared))

    for state in ctx.listings:
        urls = list(dict.fromkeys(state.snap.image_urls))  # an image listed twice is one image
        infos = ctx.images(urls)
        for position, url in enumerate(urls, start=1):
            probe(state, position, infos.get(url), None)
    # A picture on many listings is left out of each one's images (the store's placeholder,
    # its logo), so a stolen photo put on a fifth of the store must be looked up here, once:
    # it is one store-level finding, not one per listing and not none.
    for shared in ctx.shared_images:
        infos = ctx.images(shared["urls"][:1])
        probe(None, 0, infos.get(shared["urls"][0]) if shared["urls"] else None, shared)
    features = ctx.image_features([info.sha256 for _, _, info, _ in seen]) if index.local else {}
    kept, probes = [], []
    for found in seen:
        info = found[2]
        p = Probe.of(len(probes), phash=info.phash, dhash=info.dhash,
                     core_phash=info.core_phash, core_dhash=info.core_dhash,
                     colour=info.colour, features=features.get(info.sha256))
        if p is not None:
            kept.append(found)
            probes.append(p)
    for (state, position, info, shared), matches in zip(kept, index.match(probes)):
        for m in sorted(matches, key=lambda m: m.registry_id):
            entry = entries[m.registry_id]
            how = match_words(m)
            evidence = {
                "image_url": info.url,
                "image_sha256": info.sha256,
                "image_phash": m.listing_phash,
                "registry_id": entry.id,
                "registry_label": entry.label,
                "registry_source": entry.source,
                "registry_phash": m.matched_phash,
                "hash": "phash",
                "distance": m.phash_distance,
                "max_distance": settings.max_distance,
                "dhash_distance": m.dhash_distance,
                "colour_distance": m.colour_distance,
                "matched_form": m.variant,
                "hashed": m.hashed,
                # the local features' word: corners agreeing on one placement, and where
                "inliers": m.inliers,
                "agreement": m.agreement,
                "rotation": m.rotation,
                "scale": m.scale,
                "registry_box": list(m.registry_box) if m.registry_box else None,
                "listing_box": list(m.listing_box) if m.listing_box else None,
                "leaned": m.leaned,
                "run_id": ctx.run.id,
            }
            if shared is not None:
                yield Draft(
                    None, f"registry:{entry.id}:shared:{shared['key']}",
                    f"A picture shown on {shared['listings']} of {shared['of_listings']} "
                    f"listings matches the known infringing image '{entry.label}' ({how})",
                    {**evidence, "shared_on_listings": shared["listings"],
                     "of_listings": shared["of_listings"], "image_urls": shared["urls"]},
                )
                continue
            yield Draft(
                state.id, f"registry:{entry.id}:{info.url}",
                f"Image {position} matches the known infringing image '{entry.label}' "
                f"({how})",
                {"listing_url": state.snap.url, "sku": state.sku, "image_position": position,
                 **evidence, "snapshot_id": state.snap.id},
            )


def match_words(m: Match) -> str:
    """How a match was made, in a few words for its message: the hash distance when the
    hashes found it, the local features' agreement when they alone did, and what was done to
    the copy (mirrored, recoloured, leaned, turned, cropped)."""
    parts = []
    if m.phash_distance is not None:
        parts.append(f"phash distance {m.phash_distance} of 64")
    else:
        parts.append(f"{m.inliers} corners agree in place")
    if m.variant not in ("as registered", "found by local features"):
        parts.append(m.variant.removeprefix("found by local features, "))
    if m.leaned:
        parts.append("leaned in perspective")
    if m.rotation is not None and abs(m.rotation) >= 2:
        parts.append(f"turned {abs(m.rotation):.0f}°")
    if m.registry_box is not None:
        left, top, right, bottom = m.registry_box
        shown = (right - left) * (bottom - top)
        if shown < 0.7:
            parts.append(f"about {shown:.0%} of it shown")
    return ", ".join(parts)
