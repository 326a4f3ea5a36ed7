"""Dependencies every route uses: the ledger (one connection per worker thread), the contract,
and who is calling (a bearer token, or the dashboard's session cookie)."""

from __future__ import annotations

import hmac
import queue
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import cached_property

from fastapi import Depends, HTTPException, Request, status

from audits.catalog import CatalogEntry, load_catalog
from audits.contract import Contract, load_contract
from audits.ledger import Ledger, Token
from audits.ledger.tokens import token_hash
from audits.ledger.changes import ChangeWatch

from .ratelimit import RateLimiter
from .settings import ApiSettings

SESSION_COOKIE = "storeaudit_session"
KNOWN_TOKENS = 256   # secrets remembered (live tokens only): a few people and extensions


class Services:
    """What the app holds for its lifetime: settings, the contract, a ledger per thread."""

    def __init__(self, settings: ApiSettings, contract: Contract | None = None):
        self.settings = settings
        self._contract = contract
        self._idle: queue.SimpleQueue[Ledger] = queue.SimpleQueue()
        self._schema_checked = False
        self.spot_limiter = RateLimiter(settings.spot_checks_per_minute)
        self.observation_limiter = RateLimiter(settings.observations_per_minute)
        self._tokens: dict[str, tuple[int, str, Token]] = {}   # by the secret's hash
        # called on a worker thread after a request that may have written, before its
        # answer goes: views kept by the ledger's state catch up with the caller's own action
        self.write_hooks: list[Callable[[Services], None]] = []

    def after_write(self) -> None:
        if "changes" not in self.__dict__:
            return  # nothing keyed by the ledger's state yet
        # Every hook, changed or not as this check sees it: the watch's own thread may have
        # seen the write first, and a hook is a comparison when its view is up to date.
        self.changes.check()
        for hook in list(self.write_hooks):
            hook(self)

    @cached_property
    def changes(self) -> ChangeWatch:
        """The ledger's change counter (`audits.ledger.changes`), watched from first use."""
        return ChangeWatch(self.settings.db_path).start()

    def known_token(self, secret: str | None) -> Token | None:
        """The live token of this secret as looked up since the ledger last changed, or None:
        no token lookup for a caller seen a moment ago. Whether the ledger changed is asked at
        each check (one PRAGMA, ~4 us, no table read), so a token revoked from the command
        line is refused at once. Kept by the secret's hash, compared in constant time."""
        if not secret:
            return None
        wanted = token_hash(secret)
        kept = self._tokens.get(wanted)
        if kept is None:
            return None
        generation, kept_hash, token = kept
        if generation == self.changes.check() and hmac.compare_digest(kept_hash, wanted):
            return token
        return None

    def remember_token(self, secret: str, token: Token, generation: int) -> None:
        if len(self._tokens) >= KNOWN_TOKENS:
            self._tokens.clear()
        wanted = token_hash(secret)
        self._tokens[wanted] = (generation, wanted, token)

    def close(self) -> None:
        if "changes" in self.__dict__:
            self.changes.stop()

    @cached_property
    def contract(self) -> Contract:
        return self._contract or load_contract(self.settings.contract_path)

    @cached_property
    def catalog(self) -> dict[str, CatalogEntry]:
        return load_catalog(self.contract.catalog_path())

    def borrow(self) -> Ledger:
        """A ledger connection for one request, from the pool (opened when none is idle).

        FastAPI may run a request's dependencies and its handler on different worker threads,
        so a connection belongs to a request, not a thread; no two requests share one."""
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            # Checking the tables reads them all (milliseconds): once per process is enough,
            # and a burst of requests that grows the pool must not pay it per connection.
            ledger = Ledger(self.settings.db_path, any_thread=True,
                            check_schema=not self._schema_checked)
            self._schema_checked = True
            return ledger

    def give_back(self, ledger: Ledger) -> None:
        if ledger.db.conn.in_transaction:  # a request that failed mid-write: do not reuse
            ledger.close()
        else:
            self._idle.put(ledger)


# The dependencies below are async on purpose: each is a queue operation, an attribute or one
# indexed lookup, and FastAPI runs a plain `def` dependency on a worker thread. Under load the
# hops to and from those threads cost more than the work (the overlay is asked on every page
# view), so a request makes one hop, for its handler.

async def services(request: Request) -> Services:
    return request.app.state.services


async def get_ledger(svc: Services = Depends(services)) -> AsyncIterator[Ledger]:
    ledger = svc.borrow()
    try:
        yield ledger
    finally:
        svc.give_back(ledger)


async def get_contract(svc: Services = Depends(services)) -> Contract:
    return svc.contract


def secret_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


def token_of(request: Request, ledger: Ledger) -> Token:
    """Who is calling: the live token of the request's bearer header or session cookie, or a
    401."""
    token = ledger.token_for_secret(secret_from(request))
    if token is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "a valid token is needed (Authorization: Bearer <token>)",
                            headers={"WWW-Authenticate": "Bearer"})
    return token


async def current_token(request: Request, svc: Services = Depends(services)) -> Token:
    """Who is calling; a caller seen since the ledger last changed is not looked up again
    (the overlay is asked on every page view)."""
    secret = secret_from(request)
    token = svc.known_token(secret)
    if token is None:
        generation = svc.changes.generation   # before the lookup: a change during it counts
        ledger = svc.borrow()
        try:
            token = token_of(request, ledger)
        finally:
            svc.give_back(ledger)
        svc.remember_token(secret, token, generation)
    return token


def require_role(*roles: str) -> Callable[..., Awaitable[Token]]:
    """A dependency that lets through only tokens of these roles (401 without a token,
    403 with the wrong one)."""

    async def check(token: Token = Depends(current_token)) -> Token:
        return check_role(token, roles)

    check.roles = roles
    return check


def check_role(token: Token, roles: tuple[str, ...]) -> Token:
    if token.role not in roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"the {token.role} role may not do this "
                            f"(needs: {' or '.join(roles)})")
    return token


any_role = require_role("merchant", "agency")
merchant_only = require_role("merchant")


def actor(token: Token) -> str:
    """How events name who did something."""
    return f"{token.name} ({token.role})"
