"""Values only this ledger knows: made once, on first use, and kept in the ledger file."""

from __future__ import annotations

import secrets

from .base import LedgerBase


class SecretRecords(LedgerBase):
    def secret(self, name: str) -> str:
        """The ledger's secret called `name`, made (256 random bits) the first time it is
        asked for. Never shown by the API or written to the contract, which the agency may
        read: the random checks' times are drawn from it."""
        row = self._one("SELECT value FROM secrets WHERE name = ?", [name])
        if row is None:
            with self._writing(f"the {name} secret"):
                self.db.execute("INSERT OR IGNORE INTO secrets (name, value, created) "
                                "VALUES (?, ?, ?)", [name, secrets.token_hex(32), self._now()])
            row = self._one("SELECT value FROM secrets WHERE name = ?", [name])
        return row["value"]

    def set_secret(self, name: str, value: str) -> None:
        """Set a secret to a known value: only for a replay that must repeat (the demo)."""
        with self._writing(f"the {name} secret"):
            self.db.execute("INSERT OR REPLACE INTO secrets (name, value, created) "
                            "VALUES (?, ?, ?)", [name, value, self._now()])
