"""API tokens: `token create`, `token list` and `token revoke`."""

from __future__ import annotations

from pathlib import Path

import typer

from ..ledger import Ledger
from . import USER_ERRORS, DbOption, _fail, app, console


token_app = typer.Typer(help="API tokens for the extension, the dashboard and scripts.",
                        no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    role: str = typer.Option(..., help="merchant (everything) or agency (read and acknowledge)."),
    name: str = typer.Option(..., help="Who holds it, e.g. 'Merchant Li' or 'Agency ops'."),
    db: Path = DbOption,
) -> None:
    """Create a token. It is shown once: only its hash is stored."""
    try:
        secret, token = Ledger(db).create_token(name, role)
    except (ValueError, *USER_ERRORS) as e:
        _fail(str(e))
    console.print(f"Token #{token.id} for {token.name} ({token.role}) — keep it safe, it is "
                  "not shown again:", highlight=False)
    print(secret)


@token_app.command("list")
def token_list(db: Path = DbOption) -> None:
    """List tokens (names and roles; the secrets are not stored)."""
    for t in Ledger(db).tokens():
        state = f"revoked {t.revoked[:10]}" if t.revoked else "active"
        console.print(f"#{t.id} {t.name} ({t.role}) created {t.created[:10]}, {state}",
                      highlight=False)


@token_app.command("revoke")
def token_revoke(token_id: int = typer.Argument(..., help="The token's number (#)."),
                 db: Path = DbOption) -> None:
    """Revoke a token: it stops working at once."""
    try:
        t = Ledger(db).revoke_token(token_id)
    except KeyError as e:
        _fail(str(e))
    console.print(f"#{t.id} {t.name} revoked.")
