"""The email notifier: the nightly digest after the nightly audit, and (with
`email.critical_immediately`) an alert for new critical findings after any audit.

    digest.py      what an email says, worked out from the ledger (plain data)
    render.py      HTML + text from the Jinja templates in templates/, as a MIME message with
                   the thumbnails inline
    delivery.py    keeping each email in the outbox, sending it over SMTP with retries; each
                   one is a delivery of this notifier in the ledger
Its settings are the contract's `[email]` section (`audits.contract.EmailSettings`).
"""

from __future__ import annotations

from datetime import datetime

from ...contract import Contract
from ...ledger import Delivery, Ledger
from ..base import AuditNews, Notifier, register
from .delivery import (NOTIFIER, MailError, create_email, deliver, outbox_dir, send_critical,
                       send_digest)
from .digest import Digest, build_critical, build_digest
from .render import render


def digest_follows_nightly(contract: Contract) -> bool:
    """Whether the nightly audit is followed by the digest."""
    return contract.schedule.email_after_nightly and contract.email.digest


class EmailNotifier(Notifier):
    name = NOTIFIER

    def after_audit(self, news: AuditNews) -> list[Delivery]:
        if not news.contract.email.critical_immediately or not news.raised:
            return []
        alert = send_critical(news.contract, news.ledger, news.raised, run_id=news.run_id)
        return [alert] if alert is not None else []

    def after_nightly(self, news: AuditNews) -> list[Delivery]:
        if not digest_follows_nightly(news.contract):
            return []
        return [send_digest(news.contract, news.ledger, run_id=news.run_id,
                            problem=news.problem)]

    def deliver(self, contract: Contract, ledger: Ledger, record: Delivery,
                now: datetime) -> Delivery:
        return deliver(contract, ledger, record, now=now)


register(EmailNotifier())

__all__ = ["Digest", "EmailNotifier", "MailError", "build_critical", "build_digest",
           "create_email", "deliver", "digest_follows_nightly", "outbox_dir", "render",
           "send_critical", "send_digest"]
