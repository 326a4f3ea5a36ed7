"""`python -m audits.cli`: the same as the `storeaudit` command."""

from . import app

app()
