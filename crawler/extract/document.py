"""The page as a document: parsing HTML safely, absolute URLs, and text as a reader sees it
(and whether a shopper sees an element at all: `is_shown`).

Shared by every source reader and by `listing_pages`. Nothing here raises on odd input.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any, Iterable
from urllib.parse import urljoin, urlsplit

import lxml.html

log = logging.getLogger(__name__)

MAX_IMAGES = 200
_MAX_TEXT = 2000


def parse_html(html: str | bytes | None) -> Any:
    """An lxml document, or None for empty or unreadable input. Never raises."""
    if html is None:
        return None
    try:
        if isinstance(html, bytes):
            data = html.replace(b"\x00", b"")
            parser = lxml.html.HTMLParser(huge_tree=True)  # let the page's meta charset decide
        else:
            data = str(html).replace("\x00", "").encode("utf-8", errors="replace")
            parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True)
        if not data.strip():
            return None
        return lxml.html.document_fromstring(data, parser=parser)
    except Exception as exc:  # lxml.etree.ParserError "Document is empty", etc.
        log.debug("unreadable html: %s", exc)
        return None


def base_url(tree: Any, url: str) -> str:
    try:
        for href in tree.xpath("//base/@href"):
            href = str(href).strip()
            if href:
                joined = urljoin(url, href)
                if urlsplit(joined).scheme in {"http", "https"}:
                    return joined
    except Exception:
        pass
    return url


def absolute_url(base: str, ref: Any) -> str | None:
    """An absolute http(s) URL for `ref`, or None (data:, javascript:, empty, malformed)."""
    if not isinstance(ref, str):
        return None
    ref = ref.strip()
    if not ref or ref.startswith("#") or len(ref) > 4096:
        return None
    low = ref[:11].lower()
    if low.startswith(("data:", "javascript:", "blob:", "mailto:", "tel:", "about:")):
        return None
    try:
        joined = urljoin(base, ref)
        parts = urlsplit(joined)
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return joined


def dedupe_urls(urls: Iterable[str | None]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for u in urls:
        if u and u not in seen:
            seen.add(u)
            out.append(u)
            if len(out) >= MAX_IMAGES:
                break
    return out


# Control characters (NUL, BEL, ESC, DEL, C1 ...) that are not whitespace: a reader never sees
# them, and a terminal obeys them (ESC sequences in `storeaudit audit`'s table). Dropped from all
# page text, whatever the page style (HTML parsing already drops NUL; JSON-LD keeps it).
# Zero-width and direction marks are kept: they are text, shown as such.
_CONTROL = dict.fromkeys([*range(0x00, 0x09), *range(0x0E, 0x1C), *range(0x7F, 0x85),
                          *range(0x86, 0xA0)])


def collapse_text(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    text = " ".join(text[: _MAX_TEXT * 4].translate(_CONTROL).split())
    return text or None


def element_text(el: Any, skip: tuple[str, ...] = ()) -> str:
    """The text of an element as a reader sees it: <br> is a space, `skip` tags are left out."""
    try:
        if skip or el.find(".//br") is not None:
            el = _copy(el)
            for tag in skip:
                for sub in el.findall(f".//{tag}"):
                    sub.drop_tree()
            for br in el.iter("br"):
                br.tail = " " + (br.tail or "")
        return str(el.xpath("string()"))
    except Exception:
        return ""


_HIDDEN_STYLE = re.compile(r"(display\s*:\s*none|visibility\s*:\s*hidden)", re.IGNORECASE)


def is_shown(el: Any) -> bool:
    """False for an element a shopper cannot see: `hidden`, or display:none inline."""
    for node in (el, *el.iterancestors()):
        if node.get("hidden") is not None or _HIDDEN_STYLE.search(node.get("style") or ""):
            return False
    return True


def _copy(el: Any) -> Any:
    return copy.deepcopy(el)
