"""An email from a Digest: HTML and plain text from Jinja2 templates, put together as a
multipart message with the thumbnails inline (Content-ID).

The HTML is made for mail clients: tables for layout, inline CSS, no scripts, nothing loaded
from elsewhere; and nothing is fetched to make it (the listing's picture is the thumbnail the
crawl kept in the ledger). Store text (titles, messages) is autoescaped in the HTML and left as it is in
the text part. The same HTML is also kept as a file, with the thumbnails as data: URLs so that
it shows in a browser.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from crawler.snapshot import Thumbnail as KeptThumbnail

from ... import clipped_text
from ...shown_text import shown
from .digest import Digest
from .thumbnails import Thumbnail, boxed, listing_thumbnail, registry_thumbnail

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_IMAGE_PAIRS = 12  # thumbnails for at most this many infringing-image findings per email

SEVERITY_COLOURS = {
    "critical": {"fg": "#9f1c13", "bg": "#fde8e6", "bar": "#d92d20"},
    "major": {"fg": "#8a4b06", "bg": "#fef3d6", "bar": "#f0a01b"},
    "minor": {"fg": "#3d4a5c", "bg": "#eef1f5", "bar": "#98a2b3"},
}


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, finalize=shown,
    )
    env.filters["http_url"] = http_url
    clipped_text.register(env)  # `| clip`, `| wbr`: a 10,000-character title stays 600 px wide
    return env


def http_url(value: str | None) -> str:
    """The URL if it is http(s), else "" (a store could put javascript: in a link)."""
    value = (value or "").strip()
    return value if value.lower().startswith(("http://", "https://")) else ""


ENV = _environment()


def new_message(*, subject: str, sender: str, to: list[str], date: datetime, kind: str,
                text: str, html: str) -> EmailMessage:
    """An email of ours: its headers (X-Storeaudit-Kind says which: "digest", "weekly", …),
    the text part and the HTML part. The digest adds its pictures, a review its PDF."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to) if to else "undisclosed-recipients:;"
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = make_msgid(domain="storeaudit.local")
    msg["X-Storeaudit-Kind"] = kind
    msg.set_content(text, cte="base64")
    msg.add_alternative(html, subtype="html", cte="base64")
    return msg


@dataclass
class RenderedEmail:
    subject: str
    text: str
    html: str                       # images as cid: references
    html_file: str                  # the same, images as data: URLs (for a browser)
    images: dict[str, Thumbnail] = field(default_factory=dict)   # content id -> thumbnail

    def message(self, *, sender: str, to: list[str], digest: Digest) -> EmailMessage:
        msg = new_message(subject=self.subject, sender=sender, to=to, date=digest.now,
                          kind=digest.kind, text=self.text, html=self.html)
        html_part = msg.get_payload()[1]
        for cid, thumb in self.images.items():
            if thumb.ok:
                html_part.add_related(thumb.data, "image", "jpeg", cid=f"<{cid}>",
                                      filename=f"{cid.split('@')[0]}.jpg",
                                      disposition="inline")
        return msg


KeptThumbnails = Callable[[str], KeptThumbnail | None]  # sha256 -> kept (Ledger.thumbnail)


def _thumbnails(digest: Digest, kept: KeptThumbnails) -> dict[str, Thumbnail]:
    """Content id -> thumbnail, for each infringing-image finding shown (keys `l<id>`/`r<id>`):
    the listing's as the ledger kept it, the registry's from its file; nothing fetched."""
    out: dict[str, Thumbnail] = {}
    pairs = [i for i in digest.items() if i.image and i.finding.status != "resolved"]
    for item in pairs[:MAX_IMAGE_PAIRS]:
        fid, sha = item.finding.id, item.image.listing_image_sha256
        out[f"listing-{fid}@storeaudit"] = boxed(listing_thumbnail(kept(sha) if sha else None),
                                                 item.image.listing_box)
        out[f"registry-{fid}@storeaudit"] = boxed(registry_thumbnail(item.image.registry_path),
                                                  item.image.registry_box)
    return out


def render(digest: Digest, kept: KeptThumbnails = lambda sha: None) -> RenderedEmail:
    """The email of `digest`; `kept` gives the thumbnail the ledger kept of an image by its
    sha256 (`Ledger.thumbnail`)."""
    images = _thumbnails(digest, kept)

    def thumb(kind: str, finding_id: int) -> Thumbnail | None:
        return images.get(f"{kind}-{finding_id}@storeaudit")

    def cid_src(kind: str, finding_id: int) -> str:
        return f"cid:{kind}-{finding_id}@storeaudit"

    def data_src(kind: str, finding_id: int) -> str:
        t = thumb(kind, finding_id)
        return "data:image/jpeg;base64," + base64.b64encode(t.data).decode() if t and t.ok else ""

    common = dict(d=digest, colours=SEVERITY_COLOURS, ladder=digest.ladder, thumb=thumb)
    html = ENV.get_template("digest.html").render(**common, img_src=cid_src)
    html_file = ENV.get_template("digest.html").render(**common, img_src=data_src)
    text = ENV.get_template("digest.txt").render(**common)
    return RenderedEmail(digest.subject, text, html, html_file, images)
