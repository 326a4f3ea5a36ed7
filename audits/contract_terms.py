"""The contract's consequences, as the contract file writes them: who must answer a finding and
how fast, and who is told (`[escalation]`), what a late or missed obligation costs
(`[penalties]`), and the weekly and monthly review with the contract's renewal conditions
(`[review]`). Loaded as sections of the contract (audits/contract.py); what they lead to is
computed in audits/notify/escalation.py, audits/penalties.py and audits/review/.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .rules import SEVERITIES
from .shown_text import BIDI_CONTROLS

# `${NAME}` in a channel URL: replaced from the environment when a message is sent.
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Channels whose URL carries the secret itself (a bot's key, a webhook token): the contract
# may name the channel, never hold its key (the agency may read the contract).
SECRET_IN_URL = {"wecombot", "dingtalk", "feishu", "lark", "slack", "tgram", "discord",
                 "msteams", "workflows", "pushover", "ntfys", "ntfy", "matrix", "matrixs",
                 "gotify", "gotifys", "pbul", "signal", "signals", "bark", "barks"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def one_line(v: str, what: str) -> str:
    """`v` stripped, or ValueError: names become subjects, headings and chat lines, so each is
    one visible line (a text-direction override could make it read backwards)."""
    if not v.strip():
        raise ValueError(f"is blank (write the {what})")
    if BIDI_CONTROLS.search(v) or any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in v):
        raise ValueError("holds a control character (a line break, tab or text-direction "
                         f"override); write the {what} on one line")
    return v.strip()


def check_channel(url: str) -> str:
    """A channel URL as Apprise reads it (`json://host/path`, `wecombot://${WECOM_KEY}`), or
    ValueError saying what is wrong with it. A secret must come from the environment."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep or not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme or ""):
        raise ValueError(f"{url!r} is not a notification URL like json://host/path or "
                         "wecombot://${WECOM_BOT_KEY}")
    if any(c.isspace() for c in url.strip()):
        raise ValueError(f"{url!r} holds a space")
    userinfo = urlsplit(PLACEHOLDER.sub("x", url)).netloc.rpartition("@")[0]
    _, has_password, password = userinfo.partition(":")
    literal_password = has_password and not PLACEHOLDER.fullmatch(
        url.split("://", 1)[1].split("@", 1)[0].partition(":")[2])
    if literal_password:
        raise ValueError(f"the {scheme}:// channel holds a password: put it in an environment "
                         "variable and write ${NAME} in its place (the agency may read "
                         "this file)")
    if scheme in SECRET_IN_URL and not PLACEHOLDER.search(url):
        raise ValueError(f"a {scheme}:// channel's URL is its key: put the key in an "
                         f"environment variable and write it as {scheme}://${{NAME}} (the "
                         "agency may read this file)")
    return url.strip()


class Contact(_Strict):
    """A person the contract names, and where they are told (Apprise URLs). Without channels,
    what they would be told is written to the outbox instead."""

    name: str
    channels: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return one_line(v, "contact's name")

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: list[str]) -> list[str]:
        return [check_channel(url) for url in v]


class LevelSettings(_Strict):
    """One rung of the ladder: what the agency owes a finding of this severity and how fast,
    who at the agency must answer it, and who at the merchant hears when it is not fixed."""

    answer: str = "answer"                 # what is owed: "answer", "a plan", "respond"
    answer_within_hours: float = Field(gt=0, le=24 * 30)
    fix_within_hours: float | None = Field(default=None, gt=0, le=24 * 90)
    agency: Contact | None = None
    merchant: Contact | None = None

    @field_validator("answer")
    @classmethod
    def _answer(cls, v: str) -> str:
        return one_line(v, "word for what is owed")

    @property
    def answer_within(self) -> timedelta:
        return timedelta(hours=self.answer_within_hours)

    @property
    def fix_within(self) -> timedelta | None:
        return None if self.fix_within_hours is None else timedelta(hours=self.fix_within_hours)

    def text(self) -> str:
        """"answer within 1 h, fix within 24 h": the ladder as a person reads it."""
        said = f"{self.answer} within {_hours(self.answer_within_hours)}"
        if self.fix_within_hours is not None:
            said += f", fix within {_hours(self.fix_within_hours)}"
        return said


def _hours(h: float) -> str:
    return f"{h:g} h" if h < 1 or h % 1 else f"{int(h)} h"


class EscalationSettings(_Strict):
    """The escalation ladder. A new finding tells its level's agency contact; an answer-by
    time passed without an acknowledgement tells them again and the next level's contact
    (once); a fix-by time passed tells the level's merchant contact (once)."""

    minor: LevelSettings = Field(default_factory=lambda: LevelSettings(answer_within_hours=2))
    major: LevelSettings = Field(default_factory=lambda: LevelSettings(
        answer="a plan", answer_within_hours=4))
    critical: LevelSettings = Field(default_factory=lambda: LevelSettings(
        answer_within_hours=1, fix_within_hours=24))
    attempts: int = Field(default=3, ge=1, le=10)            # tries per message
    retry_minutes: float = Field(default=5, gt=0, le=24 * 60)
    timeout_seconds: float = Field(default=15, gt=0, le=120)  # each try, each channel

    def level(self, severity: str) -> LevelSettings:
        return getattr(self, severity)

    def above(self, severity: str) -> str | None:
        """The next rung up (None above critical): SEVERITIES runs from the top down."""
        i = SEVERITIES.index(severity)
        return SEVERITIES[i - 1] if i > 0 else None

    def fix_by(self, severity: str, opened: str) -> datetime | None:
        """When a finding of `severity` raised at `opened` (ISO) must be fixed by, if its
        level sets a time."""
        within = self.level(severity).fix_within
        return None if within is None else datetime.fromisoformat(opened) + within

    def ladder_text(self) -> dict[str, str]:
        return {s: self.level(s).text() for s in SEVERITIES}


def _money(**kw):
    return Field(default=None, ge=0, le=Decimal("1e12"), **kw)


def _percent(**kw):
    return Field(default=None, ge=0, le=100, **kw)


class _Charge(_Strict):
    """What one step of a clause costs: a share of the month's fee, or a fixed amount; and
    the most the clause may cost in one month."""

    percent_of_fee: Decimal | None = _percent()
    amount: Decimal | None = _money()
    max_percent_of_fee: Decimal | None = _percent()
    max_amount: Decimal | None = _money()

    @model_validator(mode="after")
    def _one_way(self):
        if (self.percent_of_fee is None) == (self.amount is None):
            raise ValueError("say what it costs with exactly one of percent_of_fee (a share "
                             "of the monthly fee) or amount (a fixed sum)")
        return self


class OverdueClause(_Charge):
    """"Each day overdue deducts 1 % of the month's fee": each day (or part of one) a finding
    of this severity stays late. `late = "unfixed"`: past its fix-by time and not fixed;
    "unanswered": past its answer-by time and not acknowledged (nor fixed)."""

    late: str = Field(default="unfixed", pattern="^(unfixed|unanswered)$")


class OverdueClauses(_Strict):
    critical: OverdueClause | None = None
    major: OverdueClause | None = None
    minor: OverdueClause | None = None


class QuotaClause(_Charge):
    """"Each 10 % short of the weekly target deducts 10 %": for each whole `per_percent_short`
    a finished week falls short of the weekly title quota."""

    per_percent_short: Decimal = Field(default=Decimal(10), gt=0, le=100)


class PenaltySettings(_Strict):
    """The monthly service fee and what a late or missed obligation deducts from it. Waived
    findings and days a discount was approved for never count."""

    monthly_fee: Decimal = Field(gt=0, le=Decimal("1e12"))
    max_percent_of_fee: Decimal | None = _percent()   # all clauses of one month together
    overdue: OverdueClauses = Field(default_factory=OverdueClauses)
    title_quota: QuotaClause | None = None


class ReviewSettings(_Strict):
    """The hour-a-week review and the monthly one, and the contract's conditions they judge."""

    weekly_email: bool = True      # after the first nightly of each week, for the week before
    monthly_email: bool = True     # after the first nightly of each month, for the month before
    pdf: bool = True               # attach the review as a PDF to its email
    # "2 months in a row under the title quota: the merchant may end the contract without
    # liability" (0: no such clause).
    end_after_months_under_quota: int = Field(default=2, ge=0, le=12)
    # "No response for 3 days: the merchant may suspend payment" (0: no such clause).
    suspend_after_days_unanswered: float = Field(default=3, ge=0, le=90)
