"""The commented contract template `storeaudit init` writes: the hand-written sections (the
store, the crawl, the schedule, the email) from `templates/contract_head.toml`, then one
section per registered rule with its description and defaults, written from the rule."""

from __future__ import annotations

from pathlib import Path

from .rules.docs import contract_sections

HEAD = Path(__file__).resolve().parent / "templates" / "contract_head.toml"


def contract_template() -> str:
    return (HEAD.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
            "# ------------------------------------------------------------------------------------------\n"
            "# The rules: what the agency agreed to. Each section's values are the defaults; change them\n"
            "# to what your contract says, or turn a rule off with enabled = false.\n\n"
            + contract_sections())
