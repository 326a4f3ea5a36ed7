"""The rule registry. Each family module registers its rules with the `rule` decorator when
imported; `RULES` then lists them all, and the contract's `[rules.*]` sections follow."""

from __future__ import annotations

from .base import RULES, SEVERITIES, Draft, Rule, RuleSettings, Severity, rule

# Importing a family registers its rules. Keep this list in one place.
from . import titles, prices, stock, images, crawl  # noqa: E402,F401

__all__ = ["RULES", "SEVERITIES", "Draft", "Rule", "RuleSettings", "Severity",
           "rule", "rule_by_id", "rule_label"]


def rule_label(rule_id: str) -> str:
    """A rule's name for a person; the id of a rule since renamed or removed (a ledger keeps
    its findings), which still says what it was."""
    try:
        return rule_by_id(rule_id).label
    except KeyError:
        return rule_id


def rule_by_id(rule_id: str) -> Rule:
    for r in RULES:
        if r.id == rule_id:
            return r
    raise KeyError(f"no rule {rule_id!r}; known: {', '.join(r.id for r in RULES)}")
