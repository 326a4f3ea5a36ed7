"""API tokens: `token create`, `token list`, `token revoke` and `token rotate`."""

from __future__ import annotations

from pathlib import Path

import typer

from audits.ledger import Ledger
from .common import USER_ERRORS, DbOption, fail, app, console

token_app = typer.Typer(help="API tokens for the extension, the dashboard and scripts.",
                        no_args_is_help=True)
app.add_typer(token_app, name="token")


def _show_once(secret: str, token, what: str = "Token") -> None:
    console.print(f"{what} #{token.id} for {token.name} ({token.role}) — keep it safe, it is "
                  "not shown again:", highlight=False)
    print(secret)


def _known(ledger: Ledger, token_id: int):
    """The token with this number, or a clear error (never a traceback)."""
    found = next((t for t in ledger.tokens() if t.id == token_id), None)
    if found is None:
        fail(f"there is no token #{token_id}; `storeaudit token list` shows them")
    return found


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
        fail(str(e))
    _show_once(secret, token)


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
    """Revoke a token: it stops working at once (the API and the dashboard refuse it, and a
    dashboard session logged in with it ends)."""
    ledger = Ledger(db)
    known = _known(ledger, token_id)
    if known.revoked:
        console.print(f"#{known.id} {known.name} was already revoked on {known.revoked[:10]}.",
                      highlight=False)
        return
    t = ledger.revoke_token(token_id)
    console.print(f"#{t.id} {t.name} revoked.", highlight=False)


@token_app.command("rotate")
def token_rotate(token_id: int = typer.Argument(..., help="The token's number (#)."),
                 db: Path = DbOption) -> None:
    """Replace a token: a new one for the same holder and role is created and shown once,
    and the old one is revoked at once. Use it when a token may have been seen by someone
    else, or when the holder changes."""
    ledger = Ledger(db)
    old = _known(ledger, token_id)
    if old.revoked:
        fail(f"token #{old.id} was revoked on {old.revoked[:10]}; create a new one with "
              "`storeaudit token create`")
    secret, new = ledger.create_token(old.name, old.role)
    ledger.revoke_token(old.id)
    _show_once(secret, new, "New token")
    console.print(f"#{old.id} {old.name} revoked.", highlight=False)
