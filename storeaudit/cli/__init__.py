"""The `storeaudit` command. Every verb's --help says what it does and what it needs.

The Typer `app` and what the verbs share are in `common`; the verbs live in one module per
group and register themselves on `app` when imported here, in this order.
"""

from __future__ import annotations

# The verbs, in the order --help lists them.
from . import store, findings, running, reviews, tokens, registry, rules  # noqa: F401,I001
from .common import CATALOG_HEADER, USER_ERRORS, app

__all__ = ["CATALOG_HEADER", "USER_ERRORS", "app"]
