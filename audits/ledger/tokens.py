"""API tokens: stored as SHA-256 hashes only, so a copy of the ledger gives nobody access.

Tokens are 256-bit random strings, so a plain hash (no salt, no slow KDF) is enough: there is
no password to guess. Lookup is by hash; the secret itself is shown once, when created.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from .base import LedgerBase
from .records import Token

ROLES = ("merchant", "agency")
PREFIX = "sa_"


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class TokenRecords(LedgerBase):
    def create_token(self, name: str, role: str) -> tuple[str, Token]:
        """A new token; returns (the secret, shown only now, and its record)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if not name.strip():
            raise ValueError("a token needs a name saying who holds it")
        secret = PREFIX + secrets.token_urlsafe(32)
        with self._writing("the new token"):
            pk = self.db["tokens"].insert({"name": name.strip(), "role": role,
                                           "token_hash": token_hash(secret),
                                           "created": self._now()}).last_pk
        return secret, self._token(pk)

    def token_for_secret(self, secret: str | None) -> Token | None:
        """The live token this secret belongs to, or None."""
        if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
            return None
        wanted = token_hash(secret)
        row = self._one("SELECT * FROM tokens WHERE token_hash = ? AND revoked IS NULL", [wanted])
        # The lookup is by hash; comparing again in constant time costs nothing and keeps
        # the check honest should the lookup ever become a scan.
        if row is None or not hmac.compare_digest(row["token_hash"], wanted):
            return None
        return Token(id=row["id"], name=row["name"], role=row["role"], created=row["created"],
                     revoked=row["revoked"])

    def tokens(self) -> list[Token]:
        return [Token(id=r["id"], name=r["name"], role=r["role"], created=r["created"],
                      revoked=r["revoked"])
                for r in self.db.query("SELECT * FROM tokens ORDER BY id")]

    def revoke_token(self, token_id: int) -> Token:
        with self._writing(f"the revocation of token #{token_id}"):
            self.db["tokens"].update(token_id, {"revoked": self._now()})
        return self._token(token_id)

    def _token(self, token_id: int) -> Token:
        row = self._one("SELECT * FROM tokens WHERE id = ?", [token_id])
        if row is None:
            raise KeyError(f"no token #{token_id}")
        return Token(id=row["id"], name=row["name"], role=row["role"], created=row["created"],
                     revoked=row["revoked"])
