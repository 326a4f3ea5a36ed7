"""The review as a person reads it: an HTML document (the email's body and the PDF's pages),
the same content as a fragment for the dashboard, and plain text for the email's text part.

One Jinja environment, autoescaping everything, with `shown` as its finalize and `clip` for
store text in tables (audits/shown_text.py, audits/clipped_text.py): a store's title or a
finding's message is only ever text here.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment
from markupsafe import Markup

from .. import clipped_text
from .build import Review

TEMPLATES = Path(__file__).parent / "templates"
# The review's stylesheet: inline in the document, a file of its own for the dashboard
# (whose Content-Security-Policy allows no inline style).
STYLE_PATH = TEMPLATES / "_style.css"


def _hours(value) -> str:
    if value is None:
        return "—"
    if value < 1:
        return f"{round(value * 60)} min"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} days"


def _share(value) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def _environment() -> Environment:
    env = clipped_text.text_environment(TEMPLATES)
    env.filters["hours"] = _hours
    env.filters["share"] = _share
    return env


ENV = _environment()


def review_body(review: Review, *, links: bool = True) -> Markup:
    """The review's content, for the dashboard to place in its page (already escaped).
    `links`: findings link to their dashboard pages."""
    return Markup(ENV.get_template("_body.html").render(r=review, links=links))


def review_document(review: Review) -> str:
    """The review as one HTML document: the email's body, the PDF's source."""
    return ENV.get_template("document.html").render(r=review, body=review_body(review))


def review_text(review: Review) -> str:
    """The email's plain-text part."""
    return ENV.get_template("review.txt").render(r=review)
