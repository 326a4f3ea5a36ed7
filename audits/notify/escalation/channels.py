"""Sending one message to one channel through Apprise, with the channel's secrets kept out of
everything said: `${NAME}` in a channel URL is filled in from the environment only here, and its
value is scrubbed from Apprise's and urllib3's logs while the message goes, and from any error.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

import apprise

from ...contract_terms import PLACEHOLDER


# ---------------------------------------------------------------- keeping secrets out of logs
class _Hidden(logging.Filter):
    """Takes the values being sent out of every record of the loggers it sits on (Apprise logs
    a URL it cannot read whole, urllib3 the path it posts to)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: Counter[str] = Counter()
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        with self.lock:
            values = [v for v, n in self.values.items() if n > 0]
        if not values:
            return True
        text = record.getMessage()
        clean = scrub(text, values)
        if clean != text:
            record.msg, record.args = clean, ()
        if record.exc_info:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info), values)
        return True

    @contextmanager
    def hiding(self, values: list[str]) -> Iterator[None]:
        with self.lock:
            self.values.update(values)
        try:
            yield
        finally:
            with self.lock:
                self.values.subtract(values)
                self.values += Counter()  # drop the zeros


_HIDDEN = _Hidden()
for _name in ("apprise", "urllib3.connectionpool"):
    logging.getLogger(_name).addFilter(_HIDDEN)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with each of `secrets` (as written, or URL-quoted as a request shows it) put as
    "***"."""
    forms = {form for s in secrets if s
             for form in (s, quote(s), quote(s, safe=""), quote_plus(s))}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


# ---------------------------------------------------------------- sending one delivery
class SendError(RuntimeError):
    """A message did not go; the text says why, without any secret in it."""


_NOTIFY_TAKES_TIMEOUT = "timeout" in inspect.signature(apprise.Apprise.notify).parameters


def _with_timeouts(url: str, seconds: float) -> str:
    """`url` with Apprise's connect and read timeouts (`cto`, `rto`) set to `seconds`."""
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&")
            if p and p.split("=", 1)[0].lower() not in ("cto", "rto")]
    return base + "?" + "&".join(kept + [f"cto={seconds:g}", f"rto={seconds:g}"])


def expand(channel: str, environ: dict | None = None) -> tuple[str, list[str]]:
    """The channel URL with each `${NAME}` replaced from the environment, and the values put
    in (to be kept out of anything said). SendError names a variable that is not set."""
    environ = os.environ if environ is None else environ
    values: list[str] = []
    for name in PLACEHOLDER.findall(channel):
        value = environ.get(name)
        if value is None:
            raise SendError(f"environment variable {name} is not set")
        if not value:
            raise SendError(f"environment variable {name} is empty")
        values.append(value)
    return PLACEHOLDER.sub(lambda m: environ[m.group(1)], channel), values


def send(channel: str, title: str, body: str, *, timeout_seconds: float) -> None:
    """One try at sending the message to the channel (as the contract writes it); SendError
    when it did not go."""
    scheme = channel.partition("://")[0]
    url, secrets = expand(channel)
    url = _with_timeouts(url, timeout_seconds)
    with _HIDDEN.hiding(secrets):
        try:
            notifier = apprise.Apprise()
            with apprise.LogCapture(level=logging.WARNING,
                                    fmt="%(levelname)s: %(message)s") as captured:
                if not notifier.add(url):
                    said = scrub(captured.getvalue(), secrets)
                    raise SendError(f"Apprise cannot use this {scheme}:// URL (an unknown "
                                    f"scheme, or not in the form a {scheme}:// channel takes)"
                                    + _quoted(said))
                extra = {"timeout": timeout_seconds * 2} if _NOTIFY_TAKES_TIMEOUT else {}
                went = notifier.notify(title=title, body=body,
                                       body_format=apprise.NotifyFormat.TEXT, **extra)
            said = scrub(captured.getvalue(), secrets)
        except SendError:
            raise
        except Exception as e:  # a plugin that breaks: its words, without the secret
            raise SendError(scrub(f"{scheme}:// {type(e).__name__}: {e}", secrets)) from None
    if not went:
        raise SendError(f"the {scheme}:// channel did not take the message" + _quoted(said))


def _quoted(said: str) -> str:
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    return f": {' / '.join(lines)[-500:]}" if lines else ""
