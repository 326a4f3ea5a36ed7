"""What a rule is: an id, a one-line description, a default severity, a settings model and a
check over the ledger's history that yields findings a person can verify.

Adding a rule is one new decorated function (in the module of its family) plus its test;
the contract section, the registry and the engine pick it up from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from .context import AuditContext

Severity = Literal["critical", "major", "minor"]
SEVERITIES: tuple[Severity, ...] = ("critical", "major", "minor")

# The contract's escalation ladder: how soon the agency must answer a finding.
RESPONSE_TIME: dict[str, timedelta] = {
    "critical": timedelta(hours=1),   # major incident: answer within 1 h, fix within 24 h
    "major": timedelta(hours=4),      # important: a plan within 4 h
    "minor": timedelta(hours=2),      # daily: answer within 2 h
}
LADDER_TEXT: dict[str, str] = {
    "critical": "answer within 1 h, fix within 24 h",
    "major": "a plan within 4 h",
    "minor": "answer within 2 h",
}


class RuleSettings(BaseModel):
    """Settings every rule has; a rule's own settings model extends this."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    severity: Severity | None = None  # None: the rule's default


@dataclass
class Draft:
    """A finding as one rule sees it in this run.

    `fingerprint` tells problems of the same rule on the same listing apart (which term,
    which image), so the same problem is one finding across nights.
    """

    listing_id: int | None  # None for store-level findings
    fingerprint: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


CheckFn = Callable[["AuditContext", Any], Iterable[Draft]]


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    severity: Severity
    settings: type[RuleSettings]
    check: CheckFn
    scope: Literal["listing", "store"] = "listing"

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.id.split(".", 1)[1]


RULES: list[Rule] = []


def rule(id: str, description: str, severity: Severity, settings: type[RuleSettings] = RuleSettings,
         scope: Literal["listing", "store"] = "listing") -> Callable[[CheckFn], CheckFn]:
    """Register a check function as a rule."""
    if id.count(".") != 1:
        raise ValueError(f"rule id {id!r} must be family.name")

    def register(check: CheckFn) -> CheckFn:
        if any(r.id == id for r in RULES):
            raise ValueError(f"rule {id} registered twice")
        RULES.append(Rule(id, description, severity, settings, check, scope))
        return check

    return register
