"""Making, keeping and delivering the emails, each one recorded in the ledger as a delivery
of the email notifier.

Every email is rendered once and kept as an `.eml` file (with its HTML beside it) in the
outbox folder. With no SMTP server in the contract, that file *is* the delivery (status
`written`). With one, the kept copy is what is sent and re-sent: a failed try leaves the email
`pending` with the error and the time of its next try (`retry_minutes`, doubling), until
`attempts` tries have failed and it is `failed` (`audits.notify.base.record_failed_try`).
Whatever happens, the findings it carried are reported again by the next digest, which is
measured against the last email delivered.

The SMTP password is read from the environment (`password_env`) when sending, and never
written to a log, an error or the ledger.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import smtplib
import ssl
from datetime import datetime
from email.utils import getaddresses, parseaddr
from pathlib import Path

from ...contract import Contract, EmailSettings, SmtpSettings
from ...ledger import Delivery, Ledger
from ..base import record_failed_try
from .digest import NOTIFIER, Digest, build_critical, build_digest
from .render import render

log = logging.getLogger(__name__)


class MailError(RuntimeError):
    """The email could not be handed to the SMTP server; the message says why."""


def outbox_dir(contract: Contract) -> Path:
    """Where emails are kept: `email.outbox`, relative to the current directory."""
    return Path(contract.email.outbox).expanduser()


def smtp_password(smtp: SmtpSettings, environ: dict | None = None) -> str | None:
    environ = os.environ if environ is None else environ
    value = environ.get(smtp.password_env)
    if value:
        return value
    if smtp.password:
        log.warning("the SMTP password is written in the contract file; set the environment "
                    "variable %s instead and remove email.smtp.password", smtp.password_env)
        return smtp.password.get_secret_value()
    return None


def _redact(text: str, secret: str | None, user: str | None = None) -> str:
    """The text without the password, as written or as SMTP AUTH sends it (base64, alone or
    as PLAIN's "\\0user\\0password"): a server may quote the line it refused."""
    if not secret:
        return text
    forms = [secret, base64.b64encode(secret.encode()).decode()]
    for authzid in ("", user or ""):
        plain = f"{authzid}\0{user or ''}\0{secret}".encode()
        forms.append(base64.b64encode(plain).decode())
    for form in sorted(set(forms), key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def _describe(e: Exception) -> str:
    """An SMTP failure in words; the server's answer as text (not a bytes repr, whose escapes
    would hide a quoted password from _redact)."""
    if isinstance(e, smtplib.SMTPResponseException):
        said = e.smtp_error
        if isinstance(said, bytes):
            said = said.decode("utf-8", "replace")
        return f"{type(e).__name__}: {e.smtp_code} {said}"
    return f"{type(e).__name__}: {e}"


def send_smtp(settings: EmailSettings, data: bytes, recipients: list[str]) -> str | None:
    """Hand one message to the SMTP server. Returns a note when some recipients were refused;
    raises MailError when the message did not go."""
    smtp = settings.smtp
    assert smtp is not None
    password = smtp_password(smtp)
    if smtp.user and not password:
        raise MailError(f"email.smtp.user is set but there is no password: set the environment "
                        f"variable {smtp.password_env}")
    sender = parseaddr(settings.sender)[1] or settings.sender
    data = re.sub(rb"\r?\n", b"\r\n", data)  # the kept copy has LF lines; SMTP wants CRLF
    to = [address for _, address in getaddresses(recipients) if address]
    context = ssl.create_default_context()
    try:
        if smtp.security == "ssl":
            server = smtplib.SMTP_SSL(smtp.host, smtp.effective_port, timeout=smtp.timeout_seconds,
                                      context=context)
        else:
            server = smtplib.SMTP(smtp.host, smtp.effective_port, timeout=smtp.timeout_seconds)
        with server:
            if smtp.security == "starttls":
                server.starttls(context=context)
            if smtp.user:
                server.login(smtp.user, password)
            refused = server.sendmail(sender, to, data)
    except (smtplib.SMTPException, OSError) as e:
        detail = _redact(_describe(e), password, smtp.user)
        raise MailError(f"{smtp.host}:{smtp.effective_port}: {detail}") from None
    if refused:
        return "refused by the server for: " + ", ".join(sorted(refused))
    return None


def _file_stem(digest: Digest, email_id: int) -> str:
    when = digest.now.strftime("%Y-%m-%d_%H%M")
    return f"{when}_{digest.kind}_{email_id}"


def create_email(contract: Contract, ledger: Ledger, digest: Digest) -> Delivery:
    """Render the digest, record it (pending) and keep its files in the outbox."""
    settings = contract.email
    rendered = render(digest, ledger.thumbnail)
    record = ledger.add_delivery(
        NOTIFIER, digest.kind, subject=rendered.subject, recipients=list(settings.to),
        finding_ids=digest.finding_ids, run_id=digest.run_id,
        transport="smtp" if settings.smtp else "outbox")
    message = rendered.message(sender=settings.sender, to=list(settings.to), digest=digest)
    folder = outbox_dir(contract)
    stem = _file_stem(digest, record.id)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        eml, html = folder / f"{stem}.eml", folder / f"{stem}.html"
        eml.write_bytes(message.as_bytes())
        html.write_text(rendered.html_file, encoding="utf-8")
    except OSError as e:
        log.error("email #%s could not be written to %s: %s", record.id, folder, e)
        return ledger.delivery_failed_try(record.id, f"could not write to {folder}: {e}",
                                          max_attempts=1, retry_at=None)
    return ledger.set_delivery_files(record.id, str(eml), str(html))


def deliver(contract: Contract, ledger: Ledger, record: Delivery, *,
            now: datetime | None = None) -> Delivery:
    """One try at delivering a pending email; the ledger says how it went."""
    settings = contract.email
    if record.status != "pending":
        return record
    if record.transport == "outbox" or settings.smtp is None:
        note = None if record.transport == "outbox" else "no SMTP server configured now: kept in the outbox"
        done = ledger.delivery_done(record.id, status="written", note=note)
        log.info("email #%s written to %s", record.id, record.path)
        return done
    now = now or ledger.clock.now()
    try:
        if not record.path or not Path(record.path).is_file():
            raise MailError(f"its copy {record.path} is gone from the outbox")
        note = send_smtp(settings, Path(record.path).read_bytes(), record.recipients)
    except MailError as e:
        return record_failed_try(ledger, record, str(e), attempts=settings.attempts,
                                 retry_minutes=settings.retry_minutes, now=now)
    done = ledger.delivery_done(record.id, status="sent", note=note)
    log.info("email #%s (%s) sent to %s", record.id, record.kind, ", ".join(record.recipients))
    return done


def send_digest(contract: Contract, ledger: Ledger, *, now: datetime | None = None,
                run_id: int | None = None, problem: str | None = None) -> Delivery:
    """Make today's digest and deliver it (one try; a failure is retried later).
    `problem`: the audit it follows could not finish, and why (the email says so)."""
    digest = build_digest(contract, ledger, now=now, run_id=run_id, problem=problem)
    record = create_email(contract, ledger, digest)
    return deliver(contract, ledger, record, now=now)


def send_critical(contract: Contract, ledger: Ledger, finding_ids: list[int], *,
                  run_id: int | None = None) -> Delivery | None:
    """An alert for the critical findings among `finding_ids`, delivered; None when none of
    them is critical."""
    digest = build_critical(contract, ledger, finding_ids, run_id=run_id)
    if digest is None:
        return None
    return deliver(contract, ledger, create_email(contract, ledger, digest))
