"""Decoding the ledger contract's logs fast, without web3's per-log machinery.

``EventDecoder`` maps each event's topic hash to its ABI once, then turns a raw
``eth_getLogs`` entry (hex strings, as the node sends them) into an ``Event`` whose
arguments are JSON-ready: bytes as ``0x``-hex, addresses checksummed, enums and integers
as ``int``. The same form is stored in the index's ``events`` table, so stored events can
be applied again (as ``ledger.index.indexer`` does after a reorganisation) without the chain.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from ledger.cid import Cid
from ledger.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Event:
    """One decoded log of the contract."""

    name: str
    block_number: int
    log_index: int
    block_hash: str
    tx_hash: str
    block_time: int
    args: dict[str, Any]

    @property
    def subject(self) -> str | None:
        return subject_of(self.name, self.args)

    def origin(self) -> dict[str, Any]:
        """The origin columns every indexed row carries."""
        return {
            "tx_hash": self.tx_hash,
            "block_number": self.block_number,
            "block_hash": self.block_hash,
            "log_index": self.log_index,
        }


# The argument an event is about, as the index's tables spell their keys.
_SUBJECT_ARG = {
    "OrganisationAdmitted": "orgId",
    "KeyAdded": "key",
    "KeyRetired": "key",
    "NonceIncreased": "key",
    "DocumentRegistered": "fingerprint",
    "DocumentMetadataAnchored": "fingerprint",
    "RegistrationRelayed": "fingerprint",
    "BatchAnchored": "root",
    "BatchMemberRecorded": "fingerprint",
    "DocumentRevoked": "fingerprint",
    "DocumentSuperseded": "oldFingerprint",
    "AttestationRecorded": "id",
    "AttestationRevoked": "id",
    "RoleGranted": "account",
    "RoleRevoked": "account",
    "RoleAdminChanged": "role",
    "DefaultAdminTransferScheduled": "newAdmin",
}
# Fingerprints are keyed as bare lower-case hex (the documents table's form).
_FINGERPRINT_ARGS = {"fingerprint", "oldFingerprint", "newFingerprint"}


def subject_of(name: str, args: dict[str, Any]) -> str | None:
    arg = _SUBJECT_ARG.get(name)
    if arg is None:
        return None
    value = args[arg]
    if arg in _FINGERPRINT_ARGS:
        return fp_key(value)
    return str(value)


def fp_key(hex0x: str) -> str:
    """A fingerprint as the documents table keys it: lower-case hex without ``0x``."""
    return hex0x[2:].lower()


def cid_text(raw: bytes) -> str:
    """Base32 multibase text of a binary CIDv1 (what ``str(Cid)`` prints), for any codec."""
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def parse_cid_or_none(hex0x: str) -> str | None:
    """Base32 text of a binary CID given as ``0x``-hex; None if empty or not a CID we know."""
    raw = bytes.fromhex(hex0x[2:])
    if not raw:
        return None
    try:
        return str(Cid.parse(raw))
    except InvalidInput:
        return None


@dataclass(frozen=True)
class _Spec:
    name: str
    indexed: list[tuple[str, str]]  # (name, type)
    data_names: list[str]
    data_types: list[str]
    flat: bool  # only elementary types: decoded by _decode_flat


class EventDecoder:
    """Decodes the logs of one contract's ABI."""

    def __init__(self, abi: Sequence[Any]) -> None:
        self._specs: dict[str, _Spec] = {}
        self._addresses: dict[str, str] = {}
        for item in abi:
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            inputs = item["inputs"]
            signature = f"{item['name']}({','.join(_canonical(i) for i in inputs)})"
            topic = "0x" + keccak(text=signature).hex()
            self._specs[topic] = _Spec(
                item["name"],
                [(i["name"], i["type"]) for i in inputs if i["indexed"]],
                [i["name"] for i in inputs if not i["indexed"]],
                [_canonical(i) for i in inputs if not i["indexed"]],
                all(_FLAT.match(_canonical(i)) for i in inputs if not i["indexed"]),
            )

    @property
    def names(self) -> set[str]:
        return {s.name for s in self._specs.values()}

    def _address(self, raw: str) -> str:
        cached = self._addresses.get(raw)
        if cached is None:
            cached = self._addresses[raw] = to_checksum_address(raw)
        return cached

    def _json(self, typ: str, value: Any) -> Any:
        if isinstance(value, bytes):
            return "0x" + value.hex()
        if typ == "address":
            return self._address(value)
        if isinstance(value, list | tuple):
            return [self._json(typ.rstrip("[]"), v) for v in value]
        return value

    def decode(self, log: dict[str, Any], block_time: int) -> Event | None:
        """The event of a raw log, or None if the topic is not one of this ABI's events."""
        topics = log["topics"]
        if not topics:
            return None
        spec = self._specs.get(topics[0].lower())
        if spec is None:
            return None
        args: dict[str, Any] = {}
        for (name, typ), topic in zip(spec.indexed, topics[1:], strict=True):
            args[name] = self._topic_value(typ, topic)
        if spec.data_types:
            data = bytes.fromhex(log["data"][2:])
            values = _decode_flat(spec.data_types, data) if spec.flat else None
            if values is None:
                values = list(decode(spec.data_types, data))
            for name, typ, value in zip(spec.data_names, spec.data_types, values, strict=True):
                args[name] = self._json(typ, value)
        return Event(
            name=spec.name,
            block_number=int(log["blockNumber"], 16),
            log_index=int(log["logIndex"], 16),
            block_hash=log["blockHash"].lower(),
            tx_hash=log["transactionHash"].lower(),
            block_time=block_time,
            args=args,
        )

    def _topic_value(self, typ: str, topic: str) -> Any:
        if typ == "address":
            return self._address("0x" + topic[-40:])
        if typ.startswith("uint") or typ == "bool":
            return int(topic, 16)
        if typ.startswith("int"):
            return decode([typ], bytes.fromhex(topic[2:]))[0]
        return topic.lower()  # bytes32, bytesN padded, or the hash of a dynamic value


_RECORD_SIGNATURE = "recordBatchMember(bytes32,(bytes32,uint16,bytes4,bytes32,string),bytes32[])"
RECORD_SELECTOR = "0x" + keccak(text=_RECORD_SIGNATURE)[:4].hex()
_RECORD_TYPES = ["bytes32", "(bytes32,uint16,bytes4,bytes32,string)", "bytes32[]"]


@dataclass(frozen=True)
class RecordedMember:
    """The batch member a ``recordBatchMember`` call carried (from its calldata)."""

    root: str
    fingerprint: str  # documents-table form
    doc_type: int
    cid: str
    consignment_ref: str
    proof: list[str]


def decode_record_call(calldata: str) -> RecordedMember | None:
    """The member of a direct ``recordBatchMember`` call, or None for any other calldata."""
    if not calldata.lower().startswith(RECORD_SELECTOR):
        return None
    try:
        root, member, proof = decode(_RECORD_TYPES, bytes.fromhex(calldata[10:]))
    except Exception:
        return None
    fp, doc_type, prefix, digest, ref = member
    return RecordedMember(
        "0x" + root.hex(),
        fp.hex(),
        doc_type,
        cid_text(prefix + digest),
        ref,
        ["0x" + p.hex() for p in proof],
    )


_FLAT = re.compile(r"^(u?int\d*|bytes\d*|string|address|bool)$")


def _decode_flat(types: list[str], data: bytes) -> list[Any] | None:
    """ABI-decode a flat list of elementary types (no tuples or arrays), fast.

    Returns None when the data is malformed, so that eth_abi can raise its precise error.
    """
    out: list[Any] = []
    size = len(data)
    if size < 32 * len(types):
        return None
    for i, typ in enumerate(types):
        word = data[32 * i : 32 * i + 32]
        if typ in ("string", "bytes"):
            offset = int.from_bytes(word, "big")
            if offset + 32 > size:
                return None
            length = int.from_bytes(data[offset : offset + 32], "big")
            if offset + 32 + length > size:
                return None
            raw = data[offset + 32 : offset + 32 + length]
            if typ == "string":
                try:
                    out.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    return None
            else:
                out.append(raw)
        elif typ.startswith("uint"):
            out.append(int.from_bytes(word, "big"))
        elif typ.startswith("int"):
            out.append(int.from_bytes(word, "big", signed=True))
        elif typ == "address":
            out.append("0x" + word[12:].hex())
        elif typ == "bool":
            out.append(word[31] == 1)
        else:  # bytesN
            out.append(word[: int(typ[5:])])
    return out


def _canonical(param: dict[str, Any]) -> str:
    """The canonical ABI type of a parameter (enums arrive as uint8 in the ABI already)."""
    typ = str(param["type"])
    if typ.startswith("tuple"):
        inner = ",".join(_canonical(c) for c in param["components"])
        return f"({inner}){typ[5:]}"
    return typ
