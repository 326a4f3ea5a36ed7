"""Store text cut to a length a person takes in at a glance, where a list or an email shows it.

A store's title may be 10,000 characters (and a finding's message quotes it): a list, a table
cell or an email shows the first ~200 characters and an ellipsis, and links to the page that
shows the whole text (the dashboard's page for that finding or listing, wrapped there). The
same cut is used everywhere, as the Jinja filter `clip` and the Jinja test `clipped` (both
registered by `register`): the dashboard (api/dashboard/common.py), the email
(audits/notify/email/render.py) and the command line's tables (storeaudit/console.py).

Only the length is handled here, and (for HTML mail) chances to break a long word: showing
direction overrides as text is audits/shown_text.py (it runs after `clip`, as Jinja's
`finalize`), and wrapping is each view's CSS.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from .shown_text import shown

# The templates write these numbers as `| clip(300)` etc.; TITLE is the filter's default.
TITLE = 200     # a listing title (and most other store text) in a list or an email
MESSAGE = 300   # a finding's message: our words around the store's quoted title
SKU = 60        # a SKU: a label beside other text
ELLIPSIS = "…"


def clip(value: Any, limit: int = TITLE) -> Any:
    """`value` if it is at most `limit` characters, else its first ones and "…" (`limit` in
    all). Cut at a space near the end when there is one, so words stay whole. Anything not a
    str (None, numbers) and our own Markup come back as they are."""
    if not isinstance(value, str) or isinstance(value, Markup) or len(value) <= limit:
        return value
    keep = max(1, limit - len(ELLIPSIS))
    head = value[:keep]
    space = head.rfind(" ", keep * 4 // 5)
    if space > 0:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def is_clipped(value: Any, limit: int = TITLE) -> bool:
    """Whether `clip` would cut `value` (so the whole text is worth offering)."""
    return isinstance(value, str) and not isinstance(value, Markup) and len(value) > limit


WBR_EVERY = 20  # characters of an unbroken run of text between two chances to break it
_UNBROKEN = re.compile(rf"\S{{{WBR_EVERY + 1},}}")


def breakable(value: Any) -> Any:
    """Text for HTML, escaped, with a <wbr> every WBR_EVERY characters of any longer unbroken
    run: a mail client that ignores `overflow-wrap` still wraps a 200-character word instead
    of widening the email. Direction overrides are shown as text first (`shown`), since
    Jinja's `finalize` leaves Markup alone. None and Markup come back as they are."""
    if value is None or isinstance(value, Markup):
        return value
    text = shown(str(value))
    cuts = [k for m in _UNBROKEN.finditer(text)
            for k in range(m.start() + WBR_EVERY, m.end(), WBR_EVERY)]
    bounds = [0, *cuts, len(text)]
    return Markup("<wbr>").join(escape(text[a:b]) for a, b in zip(bounds, bounds[1:]))


def register(env) -> None:
    """Adds `| clip(limit)`, `is clipped(limit)` and `| wbr` to a Jinja environment."""
    env.filters["clip"] = clip
    env.tests["clipped"] = is_clipped
    env.filters["wbr"] = breakable


def text_environment(templates: Path) -> Environment:
    """A Jinja environment for pages that show store text: every value escaped, direction
    overrides shown as text (`shown`, as finalize), `clip` and `clipped` registered, and a
    missing name an error rather than a blank. The dashboard and the review use it."""
    env = Environment(loader=FileSystemLoader(templates), undefined=StrictUndefined,
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True, finalize=shown)
    register(env)
    return env
