"""Files the dashboard serves: its stylesheet, the thumbnails the crawl kept of the store's
images, the screenshots kept as a finding's evidence, and registry images for side-by-side
checks.

The store's pictures are shown only as the thumbnails storeaudit made of the bytes it
downloaded (`/images/<sha256>.jpg`, from the ledger): no page ever points a browser at an
address the store chose, which could be anything the merchant's browser can reach (a service
on loopback, a cloud metadata address).

A registry image is served only when the ledger's registry names it (the id picks the entry,
the entry's recorded path picks the file: no path ever comes from the request), only when it
is small enough, and only as the image type its first bytes say it is.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from imaging import MAX_IMAGE_BYTES, image_type

from .common import STATIC, DashboardRoute, Session, logged_in, render

router = APIRouter(route_class=DashboardRoute)

_STATIC_TYPES = {".css": "text/css; charset=utf-8"}
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _missing(request: Request, message: str) -> Response:
    return render(request, "message.html", status_code=404, title="Image not available",
                  message=message)


@router.get("/images/{sha256}.jpg")
def kept_thumbnail(sha256: str, request: Request,
                   session: Session = Depends(logged_in)) -> Response:
    """The thumbnail kept of the image whose bytes have this sha256 (a name that never
    changes what it names: cached for a day)."""
    thumbnail = session.ledger.thumbnail(sha256) if _SHA256.fullmatch(sha256) else None
    if thumbnail is None:
        return _missing(request, "No picture of this image is kept.")
    return _kept_jpeg(thumbnail.jpeg)


@router.get("/screenshots/{screenshot_id}.jpg")
def kept_screenshot(screenshot_id: int, request: Request,
                    session: Session = Depends(logged_in)) -> Response:
    """A screenshot kept as a finding's evidence (a JPEG storeaudit's browser made)."""
    jpeg = session.ledger.screenshot_jpeg(screenshot_id)
    if jpeg is None:
        return _missing(request, "This screenshot is no longer kept (see [evidence] in the "
                                 "contract for how long screenshots are kept).")
    return _kept_jpeg(jpeg)


def _kept_jpeg(jpeg: bytes) -> Response:
    """A JPEG the ledger keeps, which never changes under its address: cached for a day."""
    return Response(jpeg, media_type="image/jpeg", headers={
        "Content-Disposition": "inline",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=86400, immutable",
    })


@router.get("/registry/{entry_id}/image")
def registry_image(entry_id: int, request: Request,
                   session: Session = Depends(logged_in)) -> Response:
    entry = next((e for e in session.ledger.registry() if e.id == entry_id), None)
    if entry is None:
        return _missing(request, f"There is no registry entry #{entry_id}.")
    if not entry.path:
        return _missing(request, f"Registry entry #{entry_id} was recorded without a file.")
    path = Path(entry.path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise FileNotFoundError(path)
        if size > MAX_IMAGE_BYTES:
            return _missing(request, f"The registry file of entry #{entry_id} is too large to "
                                     f"show ({size} bytes).")
        with path.open("rb") as fh:
            data = fh.read(MAX_IMAGE_BYTES + 1)
    except OSError:
        return _missing(request, f"The registry file of entry #{entry_id} is no longer where it "
                                 "was recorded.")
    kind = image_type(data[:16])
    if kind is None or len(data) > MAX_IMAGE_BYTES:
        return _missing(request, f"The registry file of entry #{entry_id} is not an image the "
                                 "dashboard shows (PNG, JPEG, GIF, WebP, BMP or TIFF).")
    return Response(data, media_type=kind, headers={
        "Content-Disposition": "inline",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=300",
    })


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    """The dashboard's own assets: only files that sit in static/, by their plain name."""
    path = STATIC / name
    kind = _STATIC_TYPES.get(path.suffix)
    if kind is None or path.name != name or not path.is_file():
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(path.read_bytes(), media_type=kind,
                    headers={"Cache-Control": "no-cache"})
