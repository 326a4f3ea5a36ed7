"""What a rule is: an id, a name a person reads, a default severity, a settings model and a
check over the ledger's history that yields findings a person can verify; its description is
the check function's docstring (the first line says what it checks; the rest why, and an
example), so the README's rule table, `storeaudit init`'s template, `storeaudit rules` and the
dashboard's help are all written from the rule itself.

Adding a rule is one new decorated function (in the module of its family) plus its test;
the contract section, the registry and the engine pick it up from here. A rule that judges
with a number the API, the dashboard or the email also show (a floor, a quota) exports that
judgment as a function of its module, and they call it: nobody re-derives it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from .context import AuditContext

Severity = Literal["critical", "major", "minor"]
SEVERITIES: tuple[Severity, ...] = ("critical", "major", "minor")

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
    # This finding's own severity when the rule grades its findings (crawl.removed: major
    # when the listing had open findings); None: the rule's (or the contract's) severity.
    severity: Severity | None = None


CheckFn = Callable[["AuditContext", Any], Iterable[Draft]]


@dataclass(frozen=True)
class Rule:
    id: str
    label: str             # its name for a person: "Price under the floor"
    description: str       # one line: what it checks
    details: str           # why, and an example (paragraphs of plain text)
    severity: Severity
    settings: type[RuleSettings]
    check: CheckFn
    scope: Literal["listing", "store"] = "listing"
    # Judges only crawls of the whole store: a spot-check neither raises nor resolves it
    # (store-level rules are always so).
    whole_store: bool = False

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.id.split(".", 1)[1]


RULES: list[Rule] = []


def rule(id: str, label: str, severity: Severity, settings: type[RuleSettings] = RuleSettings,
         scope: Literal["listing", "store"] = "listing",
         whole_store: bool = False) -> Callable[[CheckFn], CheckFn]:
    """Register a check function as a rule; its docstring is the rule's description."""
    if id.count(".") != 1:
        raise ValueError(f"rule id {id!r} must be family.name")

    def register(check: CheckFn) -> CheckFn:
        if any(r.id == id for r in RULES):
            raise ValueError(f"rule {id} registered twice")
        description, details = describe(check)
        RULES.append(Rule(id, label, description, details, severity, settings, check, scope,
                          whole_store or scope == "store"))
        return check

    return register


def describe(check: CheckFn) -> tuple[str, str]:
    """(first paragraph, the rest) of a check function's docstring, which every rule must
    have: it is what people read about the rule."""
    doc = inspect.getdoc(check)
    if not doc:
        raise ValueError(f"rule check {check.__name__} needs a docstring: its first line says "
                         "what it checks, the rest why, with an example")
    first, _, rest = doc.partition("\n\n")
    return " ".join(first.split()), rest.strip()
