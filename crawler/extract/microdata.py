"""The microdata (itemscope/itemprop) of a page as schema.org items, via extruct.

`schema_org` reads the product out of the items, as for JSON-LD.
"""

from __future__ import annotations

from typing import Any

try:
    import extruct
except Exception:  # pragma: no cover - extruct is a declared dependency
    extruct = None

_MAX_ITEMSCOPES = 2000
_MAX_ITEMSCOPE_DEPTH = 16


def microdata_items(tree: Any, base: str, problems: list[str]) -> list[Any]:
    if extruct is None:
        return []
    # extruct's microdata reader is cubic in nested itemscopes: a hostile page with
    # thousands of them would hang the crawl. Real product pages have a few dozen at most.
    try:
        scopes = tree.xpath("//*[@itemscope]")
        if not scopes:
            return []
        if len(scopes) > _MAX_ITEMSCOPES or max(
            int(s.xpath("count(ancestor::*[@itemscope])")) for s in scopes
        ) > _MAX_ITEMSCOPE_DEPTH:
            problems.append(f"microdata: {len(scopes)} itemscopes or nested too deep; skipped")
            return []
    except Exception:
        return []
    try:
        out = extruct.extract(tree, base_url=base, syntaxes=["microdata"], uniform=True, errors="strict")
        return list(out.get("microdata") or [])
    except Exception as exc:
        problems.append(f"microdata: unreadable ({type(exc).__name__})")
        return []
