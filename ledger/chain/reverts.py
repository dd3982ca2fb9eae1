"""Turning a contract's revert data into typed Python exceptions that say what to do.

Each custom error of the contracts (and of the OpenZeppelin parts they inherit) maps to a
category of the ``ledger.errors`` tree and to a hint. ``decode_revert`` reads the 4-byte
selector and the ABI-encoded arguments from the revert data.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector

from ledger import errors

_CATEGORY_AND_HINT: dict[str, tuple[type[errors.LedgerError], str]] = {
    "UnknownKey": (
        errors.Forbidden,
        "key {key} was never admitted: ask the consortium admin to add it to your organisation",
    ),
    "KeyNotValid": (
        errors.Forbidden,
        "key {key} is outside its validity window [{validFrom}, {validUntil}): use a current key of your organisation",
    ),
    "WrongOrganisationKind": (
        errors.Forbidden,
        "key {key} belongs to an organisation of kind {kind}, which may not do this",
    ),
    "NotOwningOrganisation": (
        errors.Forbidden,
        "key {key} is not of organisation {orgId}, which owns this record: use one of its keys, or ask the admin",
    ),
    "AccessControlUnauthorizedAccount": (
        errors.Forbidden,
        "account {account} lacks role {neededRole}: only the consortium admin may do this",
    ),
    "AccessControlEnforcedDefaultAdminRules": (
        errors.Forbidden,
        "the admin role is handed over in two steps only: the admin schedules a transfer "
        "(beginDefaultAdminTransfer), the new admin accepts it after the delay",
    ),
    "AccessControlEnforcedDefaultAdminDelay": (
        errors.Conflict,
        "the admin transfer or delay change waits until {schedule}: try again after that time",
    ),
    "AccessControlInvalidDefaultAdmin": (
        errors.Forbidden,
        "{defaultAdmin} is not the pending admin: only the account the transfer names may accept it",
    ),
    "SafeCastOverflowedUintDowncast": (
        errors.InvalidInput,
        "{value} does not fit in {bits} bits: give a shorter admin delay",
    ),
    "AccessControlBadConfirmation": (
        errors.InvalidInput,
        "renouncing a role needs the caller's own address as confirmation",
    ),
    "KeyAlreadyAdmitted": (
        errors.Conflict,
        "key {key} is already admitted (keys are never reassigned): generate a new key",
    ),
    "InvalidValidityWindow": (
        errors.InvalidInput,
        "validity window [{validFrom}, {validUntil}) starts at zero, is empty or is already over: give a start (not 0) and an end in the future, after the start",
    ),
    "UnknownOrganisation": (
        errors.NotFound,
        "no organisation has id {orgId}: list the organisations and use an existing id",
    ),
    "InvalidOrganisation": (
        errors.InvalidInput,
        "an organisation needs a non-empty name and a kind (exporter, issuing body, customs, auditor)",
    ),
    "InvalidCountry": (
        errors.InvalidInput,
        "country {country} is not an ISO 3166-1 alpha-2 code: use two capital letters such as KZ or AF",
    ),
    "InvalidDocument": (
        errors.InvalidInput,
        "document {fingerprint} needs a non-zero fingerprint, a document type code and a CID",
    ),
    "DocumentAlreadyRegistered": (
        errors.Conflict,
        "document {fingerprint} is already registered by {issuer} at {registeredAt}: verify it instead, or supersede it with an amended file",
    ),
    "UnknownDocument": (
        errors.NotFound,
        "no document has fingerprint {fingerprint}: check the hash, or register the document first",
    ),
    "DocumentNotActive": (
        errors.Conflict,
        "document {fingerprint} is already {status}: it cannot be revoked, superseded or attested any more",
    ),
    "InvalidBatch": (
        errors.InvalidInput,
        "batch root {root} is zero, empty or already anchored: build a new batch",
    ),
    "UnknownBatch": (errors.NotFound, "no batch is anchored under root {root}"),
    "BatchIsRevoked": (
        errors.Conflict,
        "batch {root} is revoked, and every member with it: register an amended batch instead",
    ),
    "InvalidMerkleProof": (
        errors.InvalidInput,
        "the proof does not place {fingerprint} in batch {root}: use the proof returned when the batch was anchored",
    ),
    "RequestExpired": (
        errors.InvalidInput,
        "the signed request expired at {deadline}: sign a new request with a later deadline",
    ),
    "InvalidNonce": (
        errors.Conflict,
        "the signed request of {issuer} has nonce {given} but the next is {expected} (a replay or a gap): sign a new request with nonce {expected}",
    ),
    "NonceNotIncreased": (
        errors.InvalidInput,
        "the nonce of {key} is {current} already: give a higher one than that (not {given})",
    ),
    "InvalidSignature": (
        errors.InvalidInput,
        "the request was not signed by its issuer {issuer} (recovered {recovered}): sign it with the issuer's key and this chain's domain",
    ),
    "InvalidVerdict": (errors.InvalidInput, "give a verdict: verified, cleared, held or rejected"),
    "AttestationAlreadyRecorded": (
        errors.Conflict,
        "the same attestation {id} was recorded in this second already",
    ),
    "UnknownAttestation": (errors.NotFound, "no attestation has id {id}"),
    "AttestationAlreadyRevoked": (errors.Conflict, "attestation {id} is already revoked"),
}

_ENUMS = {
    "status": ("none", "registered", "revoked", "superseded"),
    "kind": ("none", "exporter", "issuing body", "customs", "auditor"),
}

_CLASSES: dict[str, type[errors.ContractError]] = {
    name: type(name, (errors.ContractError, category), {})
    for name, (category, _) in _CATEGORY_AND_HINT.items()
}


class ErrorDecoder:
    """Decodes revert data of one contract ABI into ``ContractError`` subclasses."""

    def __init__(self, abi: Sequence[Any]) -> None:
        self._by_selector: dict[bytes, tuple[str, list[str], list[str]]] = {}
        for item in abi:
            if item.get("type") != "error":
                continue
            types = [i["type"] for i in item["inputs"]]
            names = [i["name"] for i in item["inputs"]]
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            self._by_selector[selector] = (item["name"], types, names)

    def decode(self, data: bytes) -> errors.LedgerError | None:
        """The typed error for revert ``data``, or None if it is not a known custom error."""
        entry = self._by_selector.get(bytes(data[:4]))
        if entry is None:
            return None
        name, types, names = entry
        values = decode(types, bytes(data[4:]))
        params = {n: _display(v) for n, v in zip(names, values, strict=True)}
        shown = {
            n: _ENUMS[n][v] if n in _ENUMS and isinstance(v, int) else v for n, v in params.items()
        }
        hint = _CATEGORY_AND_HINT[name][1] if name in _CATEGORY_AND_HINT else "contract error"
        cls = _CLASSES.get(name) or type(name, (errors.ContractError,), {})
        return cls(name, params, f"{name}: {hint.format(**shown)}")

    def typed(self, exc: BaseException) -> errors.LedgerError | None:
        """The typed error behind a web3 revert exception, if it carries a known custom error."""
        data = revert_data(exc)
        return self.decode(data) if data else None


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert data carried by a web3 (or in-process eth-tester) revert exception."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):  # Hardhat: {"message": ..., "data": "0x..."}
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    # eth-tester (py-evm) raises TransactionFailed("execution reverted: b'...'")
    text = str(exc.args[0]) if exc.args else ""
    marker = "execution reverted: "
    if text.startswith(marker + "b"):
        try:
            value = ast.literal_eval(text[len(marker) :])
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, bytes) else None
    return None


def _display(value: object) -> object:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value
