"""The notifiers: who is told what after an audit (see `base` for what a notifier is).

Every module or package here besides `base` is a notifier and registers itself when
imported; this file imports them all, so adding one is adding its module."""

from __future__ import annotations

import importlib
import pkgutil

from .base import (NOTIFIERS, AuditNews, Notifier, record_failed_try, register, retry_pending,
                   tell, tick_notifiers, unregister)

for _found in pkgutil.iter_modules(__path__):
    if _found.name != "base":
        importlib.import_module(f"{__name__}.{_found.name}")

__all__ = ["NOTIFIERS", "AuditNews", "Notifier", "record_failed_try", "register",
           "retry_pending", "tell", "tick_notifiers", "unregister"]
