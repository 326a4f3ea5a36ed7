"""The rules described for people, from the registry itself: the README's rule table
(`storeaudit rules --markdown`) and the `[rules.*]` sections of `storeaudit init`'s contract
template. A rule's name, description, severity and settings (with their defaults and help
texts) are written once, on the rule; this module only lays them out."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from typing import Any

from pydantic.fields import FieldInfo

from .base import RULES, SEVERITIES, Rule, RuleSettings

WIDTH = 92  # the template's comment lines


def own_settings(rule: Rule) -> list[tuple[str, FieldInfo]]:
    """The settings a rule adds to the ones every rule has (enabled, severity)."""
    common = set(RuleSettings.model_fields)
    return [(name, f) for name, f in rule.settings.model_fields.items() if name not in common]


def default_of(field: FieldInfo) -> Any:
    return field.get_default(call_default_factory=True)


def toml_value(value: Any) -> str:
    """A default as TOML writes it (None has no TOML form: the caller leaves the key out)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(str(k), ensure_ascii=False)} = {toml_value(v)}"
                          for k, v in value.items())
        return "{" + (f" {inner} " if inner else "") + "}"
    raise TypeError(f"no TOML form for {value!r}")


def _is_empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def markdown_table() -> str:
    """The README's table of rules: one row per registered rule."""
    rows = ["| rule | default severity | checks | settings (defaults) |",
            "|---|---|---|---|"]
    for rule in RULES:
        settings = []
        for name, field in own_settings(rule):
            value = default_of(field)
            settings.append(f"`{name}`" if _is_empty(value) else f"`{name}` {toml_value(value)}")
        rows.append(f"| `{rule.id}` | {rule.severity} | {rule.description} | "
                    f"{', '.join(settings) or '—'} |")
    return "\n".join(rows) + "\n"


def _comment(text: str) -> list[str]:
    lines = []
    for paragraph in text.split("\n\n"):
        wrapped = textwrap.wrap(" ".join(paragraph.split()), WIDTH - 2) or [""]
        lines += [f"# {line}".rstrip() for line in wrapped]
        lines.append("#")
    return lines[:-1]


def contract_section(rule: Rule) -> str:
    """A rule's `[rules.<family>.<name>]` section: what it checks and why, then every setting
    with its help text and its default (left commented where it has no value to write)."""
    lines = [f"[rules.{rule.id}]   # {rule.label}, default severity {rule.severity}",
             *_comment(rule.description)]
    if rule.details:
        lines += ["#", *_comment(rule.details)]
    lines += ["#", "# enabled = true            # false: this rule judges nothing",
              f"# severity = \"{rule.severity}\"" + " " * max(1, 14 - len(rule.severity))
              + f"# {', '.join(SEVERITIES)}: where its findings sit on the escalation ladder"]
    for name, field in own_settings(rule):
        value = default_of(field)
        lines += ["", *_comment(field.description or name)]
        if value is None:
            lines.append(f"# {name} = ...")
        else:
            lines.append(f"{name} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def contract_sections() -> str:
    """Every rule's section, in the registry's order."""
    return "\n".join(contract_section(rule) for rule in RULES)
