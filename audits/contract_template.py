"""The commented contract template `storeaudit init` writes: the hand-written sections (the
store, the crawl, the schedule, the email) from `templates/contract_head.toml`, then one
section per registered rule with its description and defaults, written from the rule."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .rules.docs import contract_sections

HEAD = Path(__file__).resolve().parent / "templates" / "contract_head.toml"
# The [store] keys a set-up may fill in (`storeaudit init --from`), each on its own line.
FILLED_KEYS = ("name", "base_url", "sitemap", "listing_pattern", "currency", "timezone",
               "platform")


def _filled(head: str, store: dict) -> str:
    """The head with these [store] values in place of the examples (JSON strings are TOML
    basic strings: the escapes are the same)."""
    for key in FILLED_KEYS:
        value = store.get(key)
        if value is not None:
            line = f"{key} = {json.dumps(value, ensure_ascii=False)}"
            head = re.sub(rf'^{key} = "[^"\n]*"', lambda _, line=line: line, head, count=1,
                          flags=re.MULTILINE)
    return head


def contract_template(store: dict | None = None) -> str:
    """The template; `store`: values for its [store] keys (FILLED_KEYS)."""
    head = HEAD.read_text(encoding="utf-8")
    if store:
        head = _filled(head, store)
    return (head.rstrip("\n") + "\n\n"
            "# ------------------------------------------------------------------------------------------\n"
            "# The rules: what the agency agreed to. Each section's values are the defaults; change them\n"
            "# to what your contract says, or turn a rule off with enabled = false.\n\n"
            + contract_sections())
