"""The nightly audit email and the critical alerts.

    digest.py      what an email says, worked out from the ledger (plain data)
    render.py      HTML + text from the Jinja templates in audits/templates/email/, as a MIME
                   message with the thumbnails inline
    thumbnails.py  the infringing listing image beside its registry original, shrunk
    delivery.py    keeping each email in the outbox, sending it over SMTP with retries, and
                   recording it in the ledger's `emails` table
"""

from __future__ import annotations

from .delivery import (MailError, create_email, deliver, deliver_pending, notify_critical,
                       outbox_dir, send_digest)
from .digest import Digest, build_critical, build_digest
from .render import render

__all__ = ["Digest", "MailError", "build_critical", "build_digest", "create_email", "deliver",
           "deliver_pending", "notify_critical", "outbox_dir", "render", "send_digest"]
