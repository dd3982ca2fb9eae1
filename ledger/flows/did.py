"""Organisations as did:web: the DID document of each admitted organisation.

Organisation ``N`` of the ledger this service indexes is ``did:web:<host>:orgs:N`` (W3C
did:web: the host of ``Settings.base_url``, a port percent-encoded as ``%3A``, path segments
joined by ``:``), which a resolver reads from ``<base url>/orgs/N/did.json``.

The document binds the DID to the organisation's on-chain identity, both ways: it lists
every key the consortium admitted for the organisation (from the index, with its window) as
a verification method whose ``blockchainAccountId`` is the key's CAIP-10 account
(``eip155:<chain id>:<address>``, type ``EcdsaSecp256k1RecoveryMethod2020``: a signature
proves the key by recovering its address), and the contract's record of that key names the
organisation (``getKey``). Where this gateway holds the key, the method also carries its
public key as a JWK (secp256k1, for ES256K), so that a JOSE verifier needs nothing else.
Keys inside their window now are the ``assertionMethod``s: key rotation follows the chain's
key windows, and a retired or expired key stays listed (what it signed before stays
checkable) but asserts nothing new.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import Engine, select

from ledger.db import keys, organisations
from ledger.errors import InvalidInput, NotFound

CONTEXTS = [
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/suites/secp256k1recovery-2020/v2",
    "https://w3id.org/security/suites/jws-2020/v1",
]


def did_of(base_url: str, org_id: int) -> str:
    """The did:web identifier of organisation ``org_id`` served under ``base_url``."""
    parts = urlsplit(base_url)
    if not parts.hostname:
        raise InvalidInput(f"{base_url!r} has no host: set TRADELEDGER_PUBLIC_URL")
    host = parts.hostname + (f"%3A{parts.port}" if parts.port else "")
    path = [quote(p, safe="") for p in parts.path.split("/") if p]
    return ":".join(["did:web", host, *path, "orgs", str(org_id)])


def did_url(did: str) -> str:
    """Where a did:web resolver fetches ``did``'s document (the method's own rule; a
    resolver outside this project applies it too): https, unless the host is loopback."""
    method, host, *path = did.removeprefix("did:").split(":")
    if method != "web" or not host:
        raise InvalidInput(f"{did!r} is not a did:web identifier")
    host = host.replace("%3A", ":")
    scheme = "http" if host.split(":")[0] in ("127.0.0.1", "localhost") else "https"
    return f"{scheme}://{host}/{'/'.join(path) or '.well-known'}/did.json"


def public_jwk(public_key: bytes) -> dict[str, str]:
    """A secp256k1 public key (64 bytes, x | y) as a JWK."""
    if len(public_key) != 64:
        raise InvalidInput("a secp256k1 public key is 64 bytes (x and y)")

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {"kty": "EC", "crv": "secp256k1", "x": b64(public_key[:32]), "y": b64(public_key[32:])}


def did_document(
    engine: Engine,
    base_url: str,
    chain_id: int,
    org_id: int,
    public_keys: Mapping[str, bytes],
    now: float | None = None,
) -> dict[str, Any]:
    """The DID document of organisation ``org_id`` as the index knows it; ``public_keys``
    maps the checksummed address of each key this gateway holds to its public key."""
    with engine.connect() as conn:
        org = conn.execute(
            select(organisations.c.name).where(organisations.c.org_id == org_id)
        ).first()
        rows = conn.execute(
            select(keys.c.address, keys.c.valid_from, keys.c.valid_until, keys.c.retired_at)
            .where(keys.c.org_id == org_id)
            .order_by(keys.c.valid_from, keys.c.address)
        ).all()
    if org is None:
        raise NotFound(f"no organisation {org_id} on this ledger (GET /v1/audit/organisations)")
    did = did_of(base_url, org_id)
    at = time.time() if now is None else now
    methods: list[dict[str, Any]] = []
    asserting: list[str] = []
    for address, valid_from, valid_until, retired_at in rows:
        method: dict[str, Any] = {
            "id": f"{did}#{address}",
            "type": "EcdsaSecp256k1RecoveryMethod2020",
            "controller": did,
            "blockchainAccountId": f"eip155:{chain_id}:{address}",
        }
        methods.append(method)
        if address in public_keys:
            methods.append(
                {
                    "id": f"{did}#{address}-jwk",
                    "type": "JsonWebKey2020",
                    "controller": did,
                    "publicKeyJwk": public_jwk(public_keys[address]),
                }
            )
        if retired_at is None and valid_from <= at < valid_until:  # a retired key acts no more
            asserting += [m["id"] for m in methods if m["id"].startswith(method["id"])]
    return {
        "@context": CONTEXTS,
        "id": did,
        "controller": did,
        "verificationMethod": methods,
        "assertionMethod": asserting,
        "authentication": asserting,
    }
