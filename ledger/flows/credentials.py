"""Registrations as W3C Verifiable Credentials 2.0, and their revocation as a status list.

A registration's credential is issued by its organisation's DID (``ledger.flows.did``); its
subject names the document (UN/EDIFACT 1001 type code and name, consignment reference),
its SHA-256 fingerprint and CID, and the anchor (chain id, contract, transaction, block).
It is secured as VC-JOSE-COSE: the credential itself is the payload of a compact JWS
(``application/vc+jwt``; header ``typ: vc+jwt``, ``cty: vc``), signed with ES256K by a key
of the organisation that this gateway holds, named by ``kid`` as that key's JWK method in
the DID document. Issuing asks the index only, never the chain.

Revocation: each credential carries a ``BitstringStatusListEntry`` (purpose ``revocation``)
pointing at a bit of its organisation's status list, given once per document
(``credential_status``) and never reused. The status list credential is made from the index
when asked (a document revoked or superseded on chain has its bit set), signed the same
way, valid for ``STATUS_TTL`` seconds (``validUntil``): a verifier that cannot fetch a fresh
one must answer "status unknown", never "not revoked". Its bitstring is 131,072 bits (the
W3C Bitstring Status List's minimum, for herd privacy) or more, GZIP-compressed and
base64url-encoded with the multibase prefix ``u``.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from ledger import times
from ledger.db import credential_status, documents, keys
from ledger.errors import Conflict, NotFound
from ledger.flows.did import did_of
from ledger.flows.runtime import Runtime
from ledger.index import DocumentView, records

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
MEDIA_TYPE = "application/vc+jwt"
MIN_BITS = 131_072
STATUS_TTL = 300
"""Seconds a status list credential is valid for: a verifier asks again after that."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign_jwt(payload: dict[str, Any], private_key: bytes, kid: str) -> str:
    """A compact JWS of ``payload`` (VC-JOSE-COSE), ES256K with a secp256k1 key."""
    header = {"alg": "ES256K", "typ": "vc+jwt", "cty": "vc", "kid": kid}
    signing_input = (
        _b64(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    )
    key = ec.derive_private_key(int.from_bytes(private_key, "big"), ec.SECP256K1())
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return signing_input + "." + _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def status_index(engine: Engine, fingerprint: str, org_id: int) -> int:
    """The document's bit in its organisation's status list, given on first use."""
    c = credential_status.c
    for _ in range(5):
        with engine.begin() as conn:
            found = conn.execute(select(c.list_index).where(c.fingerprint == fingerprint)).first()
            if found is not None:
                return int(found.list_index)
            nxt = conn.execute(
                select(func.coalesce(func.max(c.list_index) + 1, 0)).where(c.org_id == org_id)
            ).scalar_one()
            try:
                conn.execute(
                    insert(credential_status).values(
                        fingerprint=fingerprint, org_id=org_id, list_index=int(nxt)
                    )
                )
                return int(nxt)
            except IntegrityError:
                continue  # another request took that bit (or this document) first
    raise RuntimeError(f"could not give {fingerprint} a status list bit")


def status_list_url(base_url: str, org_id: int) -> str:
    return f"{base_url.rstrip('/')}/orgs/{org_id}/status/revocation"


def document_credential(
    doc: DocumentView,
    issuer_did: str,
    chain_id: int,
    contract: str,
    list_url: str,
    list_index: int,
) -> dict[str, Any]:
    """The unsecured credential of a registration (the JWS payload)."""
    assert doc.origin is not None and doc.registered_at is not None
    subject: dict[str, Any] = {
        "type": "TradeDocument",
        "documentType": {
            "code": str(doc.doc_type),
            "name": doc.doc_type_name,
            "codeList": "UN/EDIFACT 1001",
        },
        "consignmentReference": doc.consignment_ref,
        "sha256": doc.sha256,
        "cid": doc.cid,
        "anchor": {
            "chainId": chain_id,
            "contract": contract,
            "transaction": doc.origin.tx_hash,
            "block": doc.origin.block_number,
            "issuerKey": doc.issuer.key,
        },
    }
    if doc.batch_root:
        subject["anchor"]["batchRoot"] = doc.batch_root
    return {
        "@context": [VC_CONTEXT],
        "id": f"urn:sha256:{doc.sha256}",
        "type": ["VerifiableCredential", "TradeDocumentCredential"],
        "issuer": issuer_did,
        "validFrom": times.iso(doc.registered_at),
        "credentialSubject": subject,
        "credentialStatus": {
            "id": f"{list_url}#{list_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(list_index),
            "statusListCredential": list_url,
        },
    }


def encode_bits(set_bits: list[int], size: int) -> str:
    """The W3C encodedList: a bitstring (bit 0 is the first byte's high bit), GZIP, base64url,
    multibase ``u``."""
    raw = bytearray(size // 8)
    for i in set_bits:
        raw[i // 8] |= 0x80 >> (i % 8)
    return "u" + _b64(gzip.compress(bytes(raw), mtime=0))


def decode_bits(encoded: str) -> bytes:
    """The bitstring of an encodedList (for checks and tests)."""
    data = encoded.removeprefix("u")
    return gzip.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def status_list_credential(
    engine: Engine, org_id: int, issuer_did: str, list_url: str, now: float | None = None
) -> dict[str, Any]:
    """The organisation's revocation status list, from the index as it stands."""
    c, d = credential_status.c, documents.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.list_index, d.status)
            .select_from(credential_status.outerjoin(documents, d.fingerprint == c.fingerprint))
            .where(c.org_id == org_id)
        ).all()
    size = max(MIN_BITS, -(-(max((r.list_index for r in rows), default=0) + 1) // 8) * 8)
    revoked = [r.list_index for r in rows if r.status in ("revoked", "superseded")]
    at = int(time.time() if now is None else now)
    return {
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "validFrom": times.iso(at),
        "validUntil": times.iso(at + STATUS_TTL),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_bits(revoked, size),
        },
    }


# ---------------------------------------------------------------- issuing, on this gateway


def _signer(rt: Runtime, org_id: int) -> tuple[str, bytes]:
    """A key of organisation ``org_id`` that this gateway holds and that may sign now
    (admitted, inside its window, not retired, as the index has it)."""
    now = int(time.time())
    with rt.engine.connect() as conn:
        usable = {
            r.address
            for r in conn.execute(
                select(keys.c.address).where(
                    keys.c.org_id == org_id,
                    keys.c.retired_at.is_(None),
                    keys.c.valid_from <= now,
                    keys.c.valid_until > now,
                )
            )
        }
    for actor in rt.api_keys.list():
        if actor.org_id == org_id and actor.signing_key is not None:
            account = rt.account(actor.signing_key)
            if account.address in usable:
                return account.address, bytes(account.key)
    raise Conflict(
        f"this gateway holds no valid signing key of organisation {org_id}, so it cannot issue "
        "that organisation's credentials: ask the organisation's own gateway"
    )


def issue(rt: Runtime, sha256: str) -> str:
    """The registration's credential as ``application/vc+jwt``."""
    doc = records.document(rt.engine, sha256)
    if doc is None or doc.origin is None:
        raise NotFound(
            f"no registration of {sha256} in the index: register it, or wait until it is indexed"
        )
    org_id = doc.issuer.org_id
    if org_id is None:
        raise NotFound(f"the issuer key of {sha256} belongs to no indexed organisation")
    issuer_did = did_of(rt.settings.base_url, org_id)
    address, private_key = _signer(rt, org_id)
    list_url = status_list_url(rt.settings.base_url, org_id)
    credential = document_credential(
        doc,
        issuer_did,
        rt.registry.chain_id,
        rt.registry.address,
        list_url,
        status_index(rt.engine, sha256, org_id),
    )
    return sign_jwt(credential, private_key, f"{issuer_did}#{address}-jwk")


def status_list(rt: Runtime, org_id: int) -> str:
    """Organisation ``org_id``'s revocation status list credential as ``application/vc+jwt``."""
    issuer_did = did_of(rt.settings.base_url, org_id)
    address, private_key = _signer(rt, org_id)
    payload = status_list_credential(
        rt.engine, org_id, issuer_did, status_list_url(rt.settings.base_url, org_id)
    )
    return sign_jwt(payload, private_key, f"{issuer_did}#{address}-jwk")
