"""/v1/admin: the consortium admin admits organisations, gives them keys, issues API keys."""

from __future__ import annotations

import time
from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import select
from web3 import Web3

from api.deps import ActorDep, DocumentsDep, RuntimeDep
from api.errors import documented
from api.schemas import ApiKeyIn, ApiKeyOut, EncryptionKeyIn, KeyIn, OrganisationIn
from ledger import times
from ledger.chain import create_key, fund_from_dev_account
from ledger.db import keys, organisations
from ledger.errors import ContractError, InvalidInput, Unavailable
from ledger.flows import Action, Role, authorise, check_public_key, refuse_other
from ledger.types import MAX_ORG_ID, OrgKind

router = APIRouter(
    prefix="/v1/admin", tags=["admin"], responses=documented(401, 403, 404, 409, 422, 503)
)
TEN_YEARS = 10 * 365 * 24 * 3600


@router.get("/organisations")
def list_organisations(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, object]]:
    """Every admitted organisation with its keys (from the index)."""
    authorise(actor, Action.ADMINISTER)
    with suppress(Unavailable):  # else: what the index holds
        rt.catch_up()
    with rt.engine.connect() as conn:
        orgs = conn.execute(select(organisations).order_by(organisations.c.org_id)).all()
        all_keys = conn.execute(select(keys)).all()
    return [
        {
            "org_id": o.org_id,
            "name": o.name,
            "country": o.country,
            "kind": o.kind,
            "keys": [
                {
                    "address": k.address,
                    "valid_from": times.iso(k.valid_from),
                    "valid_until": times.iso(k.valid_until),
                }
                for k in all_keys
                if k.org_id == o.org_id
            ],
        }
        for o in orgs
    ]


@router.post("/organisations", status_code=201)
def admit_organisation(body: OrganisationIn, rt: RuntimeDep, actor: ActorDep) -> dict[str, object]:
    """Admit an organisation on chain (name, ISO 3166 country, kind)."""
    authorise(actor, Action.ADMINISTER)
    try:
        kind = OrgKind[body.kind.upper()]
    except KeyError:
        raise InvalidInput("kind must be exporter, issuing_body, customs or auditor") from None
    if kind == OrgKind.NONE:
        raise InvalidInput("kind must be exporter, issuing_body, customs or auditor")
    rt.require_chain()
    org_id, sent = rt.registry.admit_organisation(
        rt.sender("deployer"), body.name, body.country, kind
    )
    return {"org_id": org_id, "tx_hash": sent.tx_hash.to_0x_hex()}


@router.post("/organisations/{org_id}/keys", status_code=201)
def add_key(
    org_id: Annotated[int, Path(ge=1, le=MAX_ORG_ID, description="Organisation id")],
    body: KeyIn,
    rt: RuntimeDep,
    actor: ActorDep,
) -> dict[str, object]:
    """Admit a key for the organisation: the exporter's own (``address``, e.g. from
    `tradeledger keygen`, for gasless registrations), or else one generated here and kept in
    an encrypted keystore (``signing_key``, to bind to an API key)."""
    authorise(actor, Action.ADMINISTER)
    if body.address is not None and not Web3.is_address(body.address):
        raise InvalidInput(
            f"{body.address!r} is not a key address: give 0x and 40 hexadecimal digits"
        )
    rt.require_chain()
    rt.registry.organisation(org_id)  # UnknownOrganisation -> 404
    now = int(time.time())
    keystore: str | None = None
    if body.address is not None:
        address = Web3.to_checksum_address(body.address)
    else:
        refuse_other(rt.settings.organisation, org_id, "generate and hold signing keys")
        keystore, account = create_key(rt.settings, f"org-{org_id}")
        rt.keep(keystore, account)
        address = account.address
        if rt.settings.chain != "rpc":
            fund_from_dev_account(rt.w3, address)
    valid_from = now - 60 if body.valid_from is None else int(body.valid_from)
    valid_until = now + TEN_YEARS if body.valid_until is None else int(body.valid_until)
    try:
        sent = rt.registry.add_key(rt.sender("deployer"), org_id, address, valid_from, valid_until)
    except ContractError as exc:
        if exc.name != "KeyAlreadyAdmitted":
            raise
        owner = rt.registry.organisation(rt.registry.key_info(address).org_id)
        raise _reworded(
            exc,
            f"key {address} is already admitted for organisation {owner.org_id} ({owner.name}); "
            "a key belongs to one organisation for good: have the organisation generate a new "
            "key (`tradeledger keygen`) and admit that address",
        ) from None
    return {
        "address": address,
        "signing_key": keystore,
        "valid_from": times.iso(valid_from),
        "valid_until": times.iso(valid_until),
        "tx_hash": sent.tx_hash.to_0x_hex(),
    }


@router.post("/organisations/{org_id}/encryption-keys", status_code=201)
def add_encryption_key(
    org_id: Annotated[int, Path(ge=1, le=MAX_ORG_ID, description="Organisation id")],
    body: EncryptionKeyIn,
    docs: DocumentsDep,
    actor: ActorDep,
) -> dict[str, object]:
    """Admit the organisation's X25519 encryption public key (``public_key``, 64 hex digits,
    from `tradeledger admin encryption-key create` on its own gateway), or else generate one
    here, kept in the encrypted keystore ``org-<id>``. It becomes the current key: documents
    registered from now on are wrapped for it; the earlier key is retired (no new wraps)."""
    authorise(actor, Action.ADMINISTER)
    sealing = docs.confidential
    if body.public_key is None:
        refuse_other(docs.rt.settings.organisation, org_id, "generate and hold encryption keys")
        public = sealing.ensure_own_key(org_id)
    else:
        public = check_public_key(body.public_key)
        sealing.admit_key(org_id, public)
    return {"org_id": org_id, "public_key": public.hex(), "generated_here": body.public_key is None}


@router.get("/organisations/{org_id}/encryption-keys")
def list_encryption_keys(
    org_id: Annotated[int, Path(ge=1, le=MAX_ORG_ID, description="Organisation id")],
    docs: DocumentsDep,
    actor: ActorDep,
) -> list[dict[str, object]]:
    """The organisation's encryption keys, oldest first; the one not retired is current."""
    authorise(actor, Action.ADMINISTER)
    return [
        {
            "public_key": k.public_key,
            "added_at": times.iso(k.added_at),
            "retired_at": None if k.retired_at is None else times.iso(k.retired_at),
        }
        for k in docs.confidential.keys_of(org_id)
    ]


@router.post("/keys/{address}/retire")
def retire_key(address: str, rt: RuntimeDep, actor: ActorDep) -> dict[str, object]:
    """Retire a key: it stops at once; what it signed before, in this block too, stays valid."""
    authorise(actor, Action.ADMINISTER)
    if not Web3.is_address(address):
        raise InvalidInput(f"{address!r} is not a key address: give 0x and 40 hexadecimal digits")
    rt.require_chain()
    address = Web3.to_checksum_address(address)
    try:
        sent = rt.registry.retire_key(rt.sender("deployer"), address)
    except ContractError as exc:  # said to the admin, not to the key's holder
        if exc.name == "UnknownKey":
            raise _reworded(
                exc,
                f"key {address} was never admitted, so there is nothing to retire: "
                "GET /v1/admin/organisations (`tradeledger admin key list`) lists the keys",
            ) from None
        if exc.name == "KeyNotValid":
            raise _reworded(
                exc,
                f"key {address} is retired already or outside its window (from "
                f"{times.iso(int(str(exc.params['validFrom'])))} until "
                f"{times.iso(int(str(exc.params['validUntil'])))}): there is nothing to retire",
            ) from None
        raise
    return {"address": address, "tx_hash": sent.tx_hash.to_0x_hex()}


def _reworded(exc: ContractError, message: str) -> ContractError:
    """The same refusal (same class, so the same status and error name), worded for the admin."""
    return type(exc)(exc.name, exc.params, message)


@router.get("/api-keys", response_model=list[ApiKeyOut])
def list_api_keys(rt: RuntimeDep, actor: ActorDep) -> list[ApiKeyOut]:
    authorise(actor, Action.ADMINISTER)
    return [
        ApiKeyOut(
            key_id=a.key_id,
            label=a.label,
            role=a.role.value,
            organisation_id=a.org_id,
            signing_key=a.signing_key,
        )
        for a in rt.api_keys.list()
    ]


@router.post("/api-keys", status_code=201, response_model=ApiKeyOut)
def create_api_key(body: ApiKeyIn, rt: RuntimeDep, actor: ActorDep) -> ApiKeyOut:
    """Issue an API key bound to an organisation, a role and a signing key; the token is shown once."""
    authorise(actor, Action.ADMINISTER)
    try:
        role = Role(body.role)
    except ValueError:
        raise InvalidInput("role must be exporter, issuer, customs, auditor or admin") from None
    if body.organisation_id is not None:
        rt.require_chain()
        rt.registry.organisation(body.organisation_id)  # UnknownOrganisation -> 404
    if body.signing_key is not None:
        account = rt.account(body.signing_key)  # the service must hold it
        if body.organisation_id is not None:
            rt.require_chain()
            owner = rt.registry.key_info(account.address).org_id
            if owner != body.organisation_id:
                raise InvalidInput(
                    f"signing key {body.signing_key} ({account.address}) belongs to organisation "
                    f"{owner or 'none'}, not {body.organisation_id}: bind a key of that organisation"
                )
    created, token = rt.api_keys.create(body.label, role, body.organisation_id, body.signing_key)
    return ApiKeyOut(
        key_id=created.key_id,
        label=created.label,
        role=role.value,
        organisation_id=created.org_id,
        signing_key=created.signing_key,
        token=token,
    )


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_api_key(key_id: str, rt: RuntimeDep, actor: ActorDep) -> None:
    authorise(actor, Action.ADMINISTER)
    rt.api_keys.revoke(key_id)
