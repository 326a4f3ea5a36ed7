"""Store text as a person is shown it, in the dashboard and the email: as the text it is.

Direction overrides, embeddings and isolates (U+202A-U+202E, U+2066-U+2069) in a store's title
would make the rest of its line read backwards ("¥199" as "991¥"), so they are shown as what
they are ("[U+202E]") instead of obeyed. Marks and zero-width characters stay: they reorder
nothing beyond themselves. The extension does the same in extension/shared.js (`plain`).
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup

BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def shown(value: Any) -> Any:
    """Jinja's `finalize`: every {{ value }} passes here before it is escaped."""
    if isinstance(value, str) and not isinstance(value, Markup) and BIDI_CONTROLS.search(value):
        return BIDI_CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", value)
    return value
