"""`python -m storeaudit`: the same as the `storeaudit` command."""

from storeaudit.cli import app

app()
