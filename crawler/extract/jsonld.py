"""The JSON-LD blocks of a page (`<script type="application/ld+json">`) as schema.org items.

Read with extruct one block at a time, so a broken block loses only itself; a block extruct
refuses gets one lenient retry (CDATA, HTML comments, trailing commas). `schema_org` reads
the product out of the items.
"""

from __future__ import annotations

import json
import re
from typing import Any

try:
    from extruct.jsonld import JsonLdExtractor
except Exception:  # pragma: no cover - extruct is a declared dependency
    JsonLdExtractor = None


def jsonld_items(tree: Any, problems: list[str]) -> list[Any]:
    items: list[Any] = []
    scripts = [
        s
        for s in tree.iter("script")
        if (s.get("type") or "").split(";")[0].strip().lower() == "application/ld+json"
    ]
    for n, script in enumerate(scripts, 1):
        # extruct matches the exact type only: "application/ld+json; charset=utf-8" is common.
        script.set("type", "application/ld+json")
        try:
            if JsonLdExtractor is None:
                raise ValueError("extruct missing")
            items.extend(JsonLdExtractor().extract_items(script))
            continue
        except Exception:
            pass
        data = _lenient_json(script.xpath("string()"))
        if data is None:
            problems.append(f"jsonld: block {n} is not valid JSON; skipped")
        elif isinstance(data, list):
            items.extend(data)
        else:
            items.append(data)
    return items


def _lenient_json(text: str) -> Any:
    """Last try at a JSON-LD block extruct refused: CDATA, HTML comments, trailing commas."""
    text = text.strip()
    text = re.sub(r"^\s*(<!--|<!\[CDATA\[)", "", text)
    text = re.sub(r"(-->|\]\]>)\s*$", "", text)
    text = re.sub(r",\s*([}\]])", r"\1", text).strip().rstrip(";")
    try:
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return None
