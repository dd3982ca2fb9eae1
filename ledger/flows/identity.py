"""Who is calling: API keys, roles and what each role may do.

An API key (``tdl_<key id>_<secret>``) is bound to a role, an organisation and the keystore
of the signing key the service uses on its behalf. Only a SHA-256 of the secret is stored.
``authorise`` is the service-side check of every action; the contract checks again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, func, insert, or_, select, update

from ledger.db import api_keys
from ledger.errors import Conflict, Forbidden, InvalidInput, NotFound
from ledger.flows.gateway import refuse_other


class Role(StrEnum):
    EXPORTER = "exporter"
    ISSUER = "issuer"  # an issuing body, e.g. a chamber of commerce
    CUSTOMS = "customs"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Action(StrEnum):
    REGISTER = "register documents"
    RELAY = "relay signed registrations"
    REVOKE = "revoke documents"
    SUPERSEDE = "supersede documents"
    ATTEST = "record customs attestations"
    READ_CONTENT = "read document content"
    AUDIT = "query the ledger index"
    ADMINISTER = "administer organisations, keys and API keys"


PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.EXPORTER: frozenset(
        {Action.REGISTER, Action.RELAY, Action.REVOKE, Action.SUPERSEDE, Action.READ_CONTENT}
    ),
    Role.ISSUER: frozenset(
        {Action.REGISTER, Action.RELAY, Action.REVOKE, Action.SUPERSEDE, Action.READ_CONTENT}
    ),
    Role.CUSTOMS: frozenset({Action.ATTEST, Action.READ_CONTENT}),
    Role.AUDITOR: frozenset({Action.READ_CONTENT, Action.AUDIT}),
    Role.ADMIN: frozenset({Action.REVOKE, Action.READ_CONTENT, Action.AUDIT, Action.ADMINISTER}),
}

PREFIX = "tdl"


class Unauthenticated(Forbidden):
    """No API key, or one the service does not know or has revoked (HTTP 401)."""


@dataclass(frozen=True)
class Actor:
    """An authenticated caller."""

    key_id: str
    label: str
    role: Role
    org_id: int | None
    signing_key: str | None  # keystore name

    def may(self, action: Action) -> bool:
        return action in PERMISSIONS[self.role]


def authorise(actor: Actor | None, action: Action) -> Actor:
    """``actor`` if its role may do ``action``; raises ``Forbidden`` otherwise."""
    if actor is None:
        raise Unauthenticated(
            f"to {action} you need an API key: send 'Authorization: Bearer <key>'"
        )
    if not actor.may(action):
        allowed = ", ".join(sorted(r.value for r, acts in PERMISSIONS.items() if action in acts))
        raise Forbidden(f"role {actor.role.value} may not {action}; roles that may: {allowed}")
    return actor


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeys:
    """API keys in the service database.

    A key that authenticated is remembered for ``ttl`` seconds (one database read per key
    and interval under load); a revocation made by another process, or straight in the
    database, takes effect within that time, and this process's own ``revoke`` at once."""

    def __init__(self, engine: Engine, ttl: float = 5.0, organisation: int | None = None) -> None:
        """``organisation``: the one this gateway acts for (``Settings.organisation``); its
        keys alone are issued and accepted, besides the consortium admin's."""
        self.engine = engine
        self.ttl = ttl
        self.organisation = organisation
        self._cache: dict[str, tuple[Actor, float]] = {}

    def create(
        self, label: str, role: Role, org_id: int | None, signing_key: str | None
    ) -> tuple[Actor, str]:
        """A new key; returns the actor and the full token, shown only this once."""
        if role != Role.ADMIN and org_id is None:
            raise InvalidInput(f"an API key of role {role.value} must belong to an organisation")
        if role != Role.ADMIN:
            refuse_other(self.organisation, org_id, "issue API keys")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_keys).values(
                    key_id=key_id,
                    secret_hash=_hash(secret),
                    label=label,
                    role=role.value,
                    org_id=org_id,
                    signing_key=signing_key,
                    created_at=int(time.time()),
                    revoked=False,
                )
            )
        return Actor(key_id, label, role, org_id, signing_key), f"{PREFIX}_{key_id}_{secret}"

    def authenticate(self, token: str) -> Actor:
        """The actor behind a bearer token; ``Unauthenticated`` if unknown, malformed or revoked."""
        parts = token.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX:
            raise Unauthenticated(
                "malformed API key: expected 'tdl_<id>_<secret>' as issued by an admin"
            )
        _, key_id, secret = parts
        cached = self._cache.get(token)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
        if row is None or row.revoked or not hmac.compare_digest(row.secret_hash, _hash(secret)):
            raise Unauthenticated(
                "unknown or revoked API key: ask your organisation's admin for a new one"
            )
        actor = Actor(row.key_id, row.label, Role(row.role), row.org_id, row.signing_key)
        if actor.role != Role.ADMIN:
            refuse_other(self.organisation, actor.org_id, "serve API keys")
        self._cache[token] = (actor, time.monotonic() + self.ttl)
        return actor

    def list(self) -> list[Actor]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys).where(api_keys.c.revoked.is_(False))).all()
        return [Actor(r.key_id, r.label, Role(r.role), r.org_id, r.signing_key) for r in rows]

    def revoke(self, key_id: str) -> None:
        """Revoke a key; never the last admin key (``Conflict``): nobody could then
        administer the consortium through the API (``tradeledger admin-key`` on the data
        folder is the way back if it happens all the same)."""
        other = api_keys.alias("other")
        other_admins = (
            select(func.count())
            .select_from(other)
            .where(
                other.c.role == Role.ADMIN.value,
                other.c.revoked.is_(False),
                other.c.key_id != key_id,
            )
            .scalar_subquery()
        )
        with self.engine.begin() as conn:
            # one statement, so two revocations at once cannot both take the last two admins
            done = conn.execute(
                update(api_keys)
                .where(
                    api_keys.c.key_id == key_id,
                    api_keys.c.revoked.is_(False),
                    or_(api_keys.c.role != Role.ADMIN.value, other_admins > 0),
                )
                .values(revoked=True)
            )
            if done.rowcount == 0:
                row = conn.execute(
                    select(api_keys.c.role, api_keys.c.revoked).where(api_keys.c.key_id == key_id)
                ).first()
        if done.rowcount == 0:
            if row is None or row.revoked:
                raise NotFound(f"no API key with id {key_id}")
            raise Conflict(
                f"API key {key_id} is the last admin key: issue another admin key first, then "
                "revoke this one"
            )
        self._cache = {t: c for t, c in self._cache.items() if c[0].key_id != key_id}
