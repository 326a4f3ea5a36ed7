"""`python -m storeaudit.cli`: the same as the `storeaudit` command."""

from . import app

app()
