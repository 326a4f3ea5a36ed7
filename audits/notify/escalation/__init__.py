"""The escalation notifier: the contract's `[escalation]` ladder, told to the people it names.

* After any audit, the findings it raised (new or back) are told to their level's agency
  contact: one message per contact, listing each finding with what is owed and by when.
* At each of the scheduler's ticks, and after any audit, the sweep (`escalate`):
  - a finding past its answer-by time without an acknowledgement is told again to its level's
    agency contact and to the next level's (above critical: the critical level's merchant
    contact), once per spell ("unanswered");
  - a finding of a level with `fix_within_hours`, open or acknowledged that long after it was
    raised, is told to its level's merchant contact, once per spell ("unfixed").
  Each is claimed in the ledger first (`ledger.claim_escalation`), even when the level names
  no one: neither a later sweep nor another process's sweep at the same moment tells it again.

A contact's channels are Apprise URLs (`wecombot://${WECOM_BOT_KEY}`, `json://host/path`): one
delivery per contact and channel, recorded in the ledger with the channel as written. A
`${NAME}` is replaced from the environment only when the message is sent; its value never
reaches the ledger, a log or an error. A contact without channels has the message written to
`<email outbox>/escalations/` instead. Failed tries are retried with the contract's
`escalation.attempts` and `retry_minutes` (`record_failed_try`), the message sent again as it
was kept (`body`). Sending to a channel, secrets kept out of what is said: `channels.py`.

Store text (a finding's message, a SKU) is only ever plain text here, without control
characters or direction overrides.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ...clipped_text import SKU, clip
from ...clock import store_time
from ...contract import Contract
from ...contract_terms import Contact
from ...ledger import Delivery, Finding, Ledger
from ...rules import SEVERITIES, rule_label
from ...shown_text import BIDI_CONTROLS
from ..base import AuditNews, Notifier, record_failed_try, register
from ..email.delivery import outbox_dir
from .channels import SendError, expand, scrub, send

log = logging.getLogger(__name__)

NOTIFIER = "escalation"
MESSAGE_CHARS = 160     # a finding's message, as a chat line shows it
LISTED = 20             # findings listed in one message; the rest are counted
_CHANNEL = "apprise"    # a delivery's transport when it goes to a channel ("outbox" otherwise)


# ---------------------------------------------------------------- plain text
_BREAKS = re.compile(r"\s+")


def plain(text: str | None) -> str:
    """Store text as one plain line: no control characters (a line break is a space), no
    direction overrides, runs of spaces as one."""
    if not text:
        return ""
    text = BIDI_CONTROLS.sub("", text)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    return _BREAKS.sub(" ", text).strip()


# ---------------------------------------------------------------- what a message says
_TITLES = {
    "raised": "{n} new finding{s} to answer",
    "unanswered": "{n} finding{s} not answered in time",
    "unfixed": "{n} finding{s} not fixed in time",
}
_OPENINGS = {
    "raised": "the audit of {store} raised {these}. The contract asks the agency to answer "
              "each one in time.",
    "unanswered": "{these} of {store} passed {their} answer-by time without an "
                  "acknowledgement.",
    "unfixed": "{these} of {store} passed {their} fix-by time and {are} not fixed.",
}


def _item(contract: Contract, f: Finding, kind: str, zone: ZoneInfo) -> str:
    level = contract.escalation.level(f.severity)
    where = f"SKU {clip(plain(f.sku), SKU)}" if f.sku else "the whole store"
    if kind == "raised":
        due = f"{level.answer} by {store_time(f.deadline, zone, '?')}"
    elif kind == "unanswered":
        due = f"{level.answer} was due {store_time(f.deadline, zone, '?')}, not acknowledged"
    else:
        due = f"fix was due {store_time(contract.escalation.fix_by(f.severity, f.opened), zone, '?')}"
    link = f"{contract.email.dashboard_url.rstrip('/')}/findings/{f.id}"
    return "\n".join([
        f"- {f.severity.upper()} · {rule_label(f.rule_id)} · {where}",
        f"  {clip(plain(f.message), MESSAGE_CHARS)}",
        f"  {due}",
        f"  {link}",
    ])


def compose(contract: Contract, contact: Contact, kind: str,
            findings: list[Finding]) -> tuple[str, str]:
    """The title and plain-text body of one message to `contact` about `findings`."""
    zone = ZoneInfo(contract.store.timezone)
    store = plain(contract.store.name)
    n = len(findings)
    s = "" if n == 1 else "s"
    title = f"{store}: " + _TITLES[kind].format(n=n, s=s)
    these = "a finding" if n == 1 else f"{n} findings"
    opening = _OPENINGS[kind].format(
        store=store, these=these if kind == "raised" else these[0].upper() + these[1:],
        their="its" if n == 1 else "their", are="is" if n == 1 else "are")
    lines = [f"{plain(contact.name)}: {opening}",
             f"Times are {contract.store.timezone}.", ""]
    order = {sev: i for i, sev in enumerate(SEVERITIES)}
    ranked = sorted(findings, key=lambda f: (order.get(f.severity, 9), f.deadline or "", f.id))
    lines += [_item(contract, f, kind, zone) for f in ranked[:LISTED]]
    if n > LISTED:
        lines.append(f"… and {n - LISTED} more: "
                     f"{contract.email.dashboard_url.rstrip('/')}/findings")
    ladder = "; ".join(f"{sev}: {text}" for sev, text in contract.escalation.ladder_text().items())
    lines += ["", f"The contract's ladder: {ladder}."]
    return title, "\n".join(lines) + "\n"


# ---------------------------------------------------------------- messages and deliveries
def recipient(contact: Contact, channel: str | None) -> str:
    """How a delivery names who it goes to: "李娜 (operations) <wecombot://${WECOM_KEY}>"
    (the channel as the contract writes it, never with a secret in it)."""
    return f"{contact.name} <{channel}>" if channel else contact.name


def _channel_of(record: Delivery) -> str | None:
    if not record.recipients:
        return None
    said = record.recipients[0]
    if not said.endswith(">") or " <" not in said:
        return None
    return said[:-1].rpartition(" <")[2]


@dataclass
class _Message:
    contact: Contact
    kind: str
    findings: list[Finding] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    def add(self, f: Finding) -> None:
        if all(f.id != g.id for g in self.findings):
            self.findings.append(f)


class _Messages:
    """The messages of one sweep: one per kind and contact, in the order first asked for."""

    def __init__(self) -> None:
        self.by_key: dict[tuple, _Message] = {}

    def tell(self, contact: Contact | None, kind: str, f: Finding) -> _Message | None:
        if contact is None:
            return None
        key = (kind, contact.name, tuple(contact.channels))
        message = self.by_key.setdefault(key, _Message(contact, kind))
        message.add(f)
        return message

    def __iter__(self) -> Iterator[_Message]:
        return iter(self.by_key.values())


def _create(contract: Contract, ledger: Ledger, message: _Message,
            run_id: int | None) -> list[Delivery]:
    """The message's deliveries, pending: one per channel, or one for the outbox."""
    title, body = compose(contract, message.contact, message.kind, message.findings)
    ids = {message.kind: [f.id for f in message.findings]}
    channels = message.contact.channels or [None]
    message.deliveries = [
        ledger.add_delivery(NOTIFIER, message.kind, subject=title,
                            recipients=[recipient(message.contact, channel)], finding_ids=ids,
                            transport=_CHANNEL if channel else "outbox", run_id=run_id,
                            body=body)
        for channel in channels]
    return message.deliveries


def _send_all(contract: Contract, ledger: Ledger, messages: Iterable[_Message],
              now: datetime) -> list[Delivery]:
    return [deliver(contract, ledger, d, now=now) for m in messages for d in m.deliveries]


def tell_raised(contract: Contract, ledger: Ledger, finding_ids: list[int], *,
                run_id: int | None = None, now: datetime | None = None) -> list[Delivery]:
    """The findings among `finding_ids` still open, told to their level's agency contact (one
    message per contact), each delivery tried once."""
    now = now or ledger.clock.now()
    messages = _Messages()
    findings = ledger.findings(ids=list(finding_ids), status=["open"]) if finding_ids else []
    for f in findings:
        messages.tell(contract.escalation.level(f.severity).agency, "raised", f)
    for m in messages:
        _create(contract, ledger, m, run_id)
    return _send_all(contract, ledger, messages, now)


def escalate(contract: Contract, ledger: Ledger, now: datetime) -> list[Delivery]:
    """The sweep: findings past their answer-by time without an acknowledgement told one level
    up, findings past their fix-by time told to the merchant, each once per spell (written
    down, even when the level names no one); one message per contact and step. Returns the
    deliveries after their first try."""
    ladder = contract.escalation
    messages = _Messages()
    told: list[tuple[Finding, str, list[_Message]]] = []
    # Each claimed (written down) before anything is composed: a step another sweep claimed
    # first is not told twice, and a message that does not go is retried from the ledger,
    # never composed and sent again by the next sweep.
    for f in ledger.unanswered_past(now):
        up = ladder.above(f.severity)
        if not ledger.claim_escalation(f, "unanswered", up or f.severity):
            continue
        second = ladder.level(up).agency if up else ladder.level(f.severity).merchant
        went = [messages.tell(ladder.level(f.severity).agency, "unanswered", f),
                messages.tell(second, "unanswered", f)]
        told.append((f, "unanswered", [m for m in went if m]))
    for severity in SEVERITIES:
        level = ladder.level(severity)
        if level.fix_within is None:
            continue
        for f in ledger.unfixed_opened_by(severity, now - level.fix_within):
            if not ledger.claim_escalation(f, "unfixed", severity):
                continue
            went = messages.tell(level.merchant, "unfixed", f)
            told.append((f, "unfixed", [went] if went else []))
    for m in messages:
        _create(contract, ledger, m, None)
    for f, step, went in told:
        ids = sorted({d.id for m in went for d in m.deliveries})
        if ids:
            ledger.note_escalation_deliveries(f, step, ids)
    return _send_all(contract, ledger, messages, now)


def _write(contract: Contract, record: Delivery, now: datetime) -> Path:
    folder = outbox_dir(contract) / "escalations"
    folder.mkdir(parents=True, exist_ok=True)
    when = now.astimezone(ZoneInfo(contract.store.timezone)).strftime("%Y-%m-%d_%H%M")
    path = folder / f"{when}_{record.kind}_{record.id}.txt"
    path.write_text(f"To: {', '.join(record.recipients)}\nSubject: {record.subject}\n\n"
                    f"{record.body or ''}", encoding="utf-8")
    return path


def deliver(contract: Contract, ledger: Ledger, record: Delivery, *,
            now: datetime | None = None) -> Delivery:
    """One try at a pending escalation delivery: written to the outbox (a contact without
    channels) or sent to its channel; the ledger says how it went."""
    if record.status != "pending":
        return record
    now = now or ledger.clock.now()
    settings = contract.escalation

    def failed(error: str) -> Delivery:
        return record_failed_try(ledger, record, error, attempts=settings.attempts,
                                 retry_minutes=settings.retry_minutes, now=now)

    if record.transport == "outbox":
        try:
            path = _write(contract, record, now)
        except OSError as e:
            return failed(f"could not write to {outbox_dir(contract) / 'escalations'}: {e}")
        ledger.set_delivery_files(record.id, str(path), None)
        done = ledger.delivery_done(record.id, status="written")
        log.info("escalation #%s (%s) for %s written to %s", record.id, record.kind,
                 ", ".join(record.recipients), path)
        return done
    channel = _channel_of(record)
    if channel is None:
        return failed(f"no channel in its recipients {record.recipients}")
    try:
        send(channel, record.subject or "", record.body or "",
             timeout_seconds=settings.timeout_seconds)
    except SendError as e:
        return failed(str(e))
    done = ledger.delivery_done(record.id, status="sent")
    log.info("escalation #%s (%s) sent to %s", record.id, record.kind,
             ", ".join(record.recipients))
    return done


class EscalationNotifier(Notifier):
    name = NOTIFIER

    def after_audit(self, news: AuditNews) -> list[Delivery]:
        now = news.ledger.clock.now()
        done = tell_raised(news.contract, news.ledger, news.raised, run_id=news.run_id,
                           now=now)
        return done + escalate(news.contract, news.ledger, now)

    def on_tick(self, contract: Contract, ledger: Ledger, now: datetime) -> list[Delivery]:
        return escalate(contract, ledger, now)

    def deliver(self, contract: Contract, ledger: Ledger, record: Delivery,
                now: datetime) -> Delivery:
        return deliver(contract, ledger, record, now=now)


register(EscalationNotifier())

__all__ = ["NOTIFIER", "EscalationNotifier", "SendError", "compose", "deliver", "escalate",
           "expand", "plain", "recipient", "scrub", "send", "tell_raised"]
