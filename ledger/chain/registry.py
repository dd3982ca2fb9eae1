"""The Trade Document Ledger contract from Python: typed calls, records and events.

``Registry`` wraps one deployed ``TradeDocumentLedger``. Writes take the ``Sender`` of the
key that acts (an exporter's, a customs office's, the admin's); reads return the plain
records of ``ledger.types``. Reverts arrive as the typed errors of ``ledger.chain.reverts``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eth_abi import encode
from eth_abi.exceptions import EncodingError
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import (
    abi_to_signature,
    event_abi_to_log_topic,
    function_abi_to_4byte_selector,
    get_abi_input_types,
)
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.types import EventData, TxReceipt

from ledger.chain.compile import load_artifact
from ledger.chain.merkle import BatchMember
from ledger.chain.relay import RegisterRequest
from ledger.chain.reverts import ErrorDecoder
from ledger.chain.sender import FIXED_GAS, Sender, Sent
from ledger.cid import split_cid
from ledger.types import (
    AttestationRecord,
    BatchRecord,
    DocStatus,
    DocumentRecord,
    KeyInfo,
    Organisation,
    OrgKind,
    Verdict,
)

CONTRACT_NAME = "TradeDocumentLedger"
CONTRACT_VERSION = "1.1.0"
"""The ``version()`` of the contract this package's ABI speaks (docs/migration.md)."""


def contract_factory(w3: Web3) -> type[Contract]:
    artifact = load_artifact(CONTRACT_NAME)
    return w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])


class Registry:
    """One deployed ledger contract."""

    def __init__(
        self,
        w3: Web3,
        address: str,
        poll_interval: float = 0.002,
        timeout: float = 120.0,
        chain_id: int | None = None,
        send_w3: Web3 | None = None,
    ) -> None:
        """``w3`` reads; ``send_w3`` (default ``w3``), perhaps with a longer timeout, sends."""
        self.w3 = w3
        self.send_w3 = send_w3 or w3
        self.address: ChecksumAddress = Web3.to_checksum_address(address)
        self.contract = w3.eth.contract(
            address=self.address, abi=load_artifact(CONTRACT_NAME)["abi"]
        )
        self.decoder = ErrorDecoder(self.contract.abi)
        self._encoders = _encoders(self.contract.abi)
        self._topics = {
            e["name"]: event_abi_to_log_topic(e) for e in self.contract.abi if e["type"] == "event"
        }
        self.chain_id = chain_id if chain_id is not None else w3.eth.chain_id
        self._poll_interval = poll_interval
        self._timeout = timeout
        self._senders: dict[str, Sender] = {}
        self._senders_lock = threading.Lock()

    @classmethod
    def deploy(cls, sender: Sender, admin: str, **kwargs: Any) -> tuple[Registry, Sent]:
        factory = contract_factory(sender.w3)
        sent = sender.send(
            factory.constructor(Web3.to_checksum_address(admin)).build_transaction(
                # no nonce here: the gas estimate must see the real one; send() assigns it
                {"from": sender.address, "chainId": sender.w3.eth.chain_id}
            )
        )
        address = sent.receipt["contractAddress"]
        assert address is not None
        return cls(sender.w3, address, **kwargs), sent

    def sender(self, account: LocalAccount) -> Sender:
        """The sender of ``account`` (one per key, so its nonces never collide)."""
        with self._senders_lock:  # two threads must never make two senders of one key
            if account.address not in self._senders:
                self._senders[account.address] = Sender(
                    self.send_w3, account, self.decoder, self._poll_interval, self._timeout
                )
            return self._senders[account.address]

    def resync_senders(self) -> None:
        """Make every sender read its nonce from the chain again (the chain lost blocks)."""
        with self._senders_lock:
            senders = list(self._senders.values())
        for sender in senders:
            sender.resync()

    def close(self) -> None:
        """Close the senders' idle connections to the node."""
        with self._senders_lock:
            for sender in self._senders.values():
                sender.close()

    def _send(self, sender: Sender, function: str, *args: Any, gas: int | None = None) -> Sent:
        """Call ``function``: encoded here with eth-abi (50x cheaper than web3's contract
        machinery); arguments eth-abi refuses go through web3, which explains the mistake."""
        encoder = self._encoders.get(function)
        if encoder is not None:
            selector, types, signature = encoder
            try:
                data = selector + encode(types, args)
            except (EncodingError, TypeError, ValueError, OverflowError):
                pass
            else:
                return sender.transact_data(self.address, data, gas or FIXED_GAS.get(signature))
        return sender.transact(self.contract.functions[function](*args), gas=gas)

    # ------------------------------------------------------------ organisations and keys

    def admit_organisation(
        self, sender: Sender, name: str, country: str, kind: OrgKind
    ) -> tuple[int, Sent]:
        sent = self._send(sender, "admitOrganisation", name, country.encode(), int(kind))
        (event,) = self.events(sent.receipt, "OrganisationAdmitted")
        return int(event["args"]["orgId"]), sent

    def add_key(
        self, sender: Sender, org_id: int, key: str, valid_from: int, valid_until: int
    ) -> Sent:
        return self._send(
            sender, "addKey", org_id, Web3.to_checksum_address(key), valid_from, valid_until
        )

    def retire_key(self, sender: Sender, key: str) -> Sent:
        return self._send(sender, "retireKey", Web3.to_checksum_address(key))

    def organisation(self, org_id: int) -> Organisation:
        name, country, kind = self._call("getOrganisation", org_id)
        return Organisation(org_id, name, country.decode(), OrgKind(kind))

    def organisation_count(self) -> int:
        return int(self._call("organisationCount"))

    def key_info(self, key: str) -> KeyInfo:
        org_id, kind, valid_from, valid_until, nonce, retired = self._call(
            "getKey", Web3.to_checksum_address(key)
        )
        return KeyInfo(key, org_id, OrgKind(kind), valid_from, valid_until, nonce, retired)

    def increase_nonce(self, sender: Sender, new_nonce: int) -> Sent:
        """Raise the sender key's relay nonce, cancelling its signed requests below it."""
        return self._send(sender, "increaseNonce", new_nonce)

    def admin(self) -> str:
        """The consortium admin (the one holder of DEFAULT_ADMIN_ROLE)."""
        return str(self._call("defaultAdmin"))

    def key_valid_at(self, key: str, at: int) -> bool:
        return bool(self._call("keyValidAt", Web3.to_checksum_address(key), at))

    # ------------------------------------------------------------ documents

    def register(
        self,
        sender: Sender,
        fingerprint: bytes,
        doc_type: int,
        cid: bytes,
        consignment_ref: str,
        metadata_cid: bytes = b"",
    ) -> Sent:
        parts = split_cid(cid)
        if metadata_cid:
            return self._send(
                sender,
                "registerWithMetadata",
                fingerprint,
                doc_type,
                *parts,
                consignment_ref,
                metadata_cid,
            )
        return self._send(sender, "register", fingerprint, doc_type, *parts, consignment_ref)

    def register_with_signature(
        self, sender: Sender, request: RegisterRequest, signature: bytes
    ) -> Sent:
        return self._send(sender, "registerWithSignature", request.as_tuple(), signature)

    def request_digest(self, request: RegisterRequest) -> bytes:
        return bytes(self._call("registerRequestDigest", request.as_tuple()))

    def anchor_batch(self, sender: Sender, root: bytes, size: int, manifest_cid: bytes) -> Sent:
        return self._send(sender, "anchorBatch", root, size, manifest_cid)

    def verify_batch_member(self, root: bytes, member: BatchMember, proof: Sequence[bytes]) -> bool:
        return bool(self._call("verifyBatchMember", root, member.as_tuple(), list(proof)))

    def record_batch_member(
        self, sender: Sender, root: bytes, member: BatchMember, proof: Sequence[bytes]
    ) -> Sent:
        return self._send(sender, "recordBatchMember", root, member.as_tuple(), list(proof))

    def revoke(self, sender: Sender, fingerprint: bytes, reason: int) -> Sent:
        return self._send(sender, "revoke", fingerprint, reason)

    def supersede(
        self,
        sender: Sender,
        old: bytes,
        new: bytes,
        doc_type: int,
        cid: bytes,
        consignment_ref: str,
        metadata_cid: bytes = b"",
    ) -> Sent:
        return self._send(
            sender, "supersede", old, new, doc_type, *split_cid(cid), consignment_ref, metadata_cid
        )

    def document(self, fingerprint: bytes) -> DocumentRecord | None:
        issuer, registered_at, doc_type, status = self._call("getDocument", fingerprint)
        if status == DocStatus.NONE:
            return None
        return DocumentRecord(fingerprint, issuer, registered_at, doc_type, DocStatus(status))

    def batch(self, root: bytes) -> BatchRecord | None:
        issuer, anchored_at, size, revoked = self._call("getBatch", root)
        if int(issuer, 16) == 0:
            return None
        return BatchRecord(root, issuer, anchored_at, size, revoked)

    def revoke_batch(self, sender: Sender, root: bytes, reason: int) -> Sent:
        """Revoke every member of the batch under ``root``."""
        return self._send(sender, "revokeBatch", root, reason)

    def superseded_by(self, fingerprint: bytes) -> bytes | None:
        value = bytes(self._call("supersededBy", fingerprint))
        return value if any(value) else None

    def supersedes(self, fingerprint: bytes) -> bytes | None:
        value = bytes(self._call("supersedes", fingerprint))
        return value if any(value) else None

    # ------------------------------------------------------------ attestations

    def attest(
        self, sender: Sender, fingerprint: bytes, verdict: Verdict, customs_ref: str = ""
    ) -> tuple[bytes, Sent]:
        sent = self._send(sender, "attest", fingerprint, int(verdict), customs_ref)
        (event,) = self.events(sent.receipt, "AttestationRecorded")
        return bytes(event["args"]["id"]), sent

    def revoke_attestation(self, sender: Sender, attestation_id: bytes) -> Sent:
        return self._send(sender, "revokeAttestation", attestation_id)

    def attestation(self, attestation_id: bytes) -> AttestationRecord | None:
        attester, attested_at, verdict, revoked = self._call("getAttestation", attestation_id)
        if int(attester, 16) == 0:
            return None
        return AttestationRecord(attestation_id, attester, attested_at, Verdict(verdict), revoked)

    def version(self) -> str:
        return str(self._call("version"))

    # ------------------------------------------------------------ events

    def events(self, receipt: TxReceipt, name: str) -> list[EventData]:
        """The ``name`` events this contract emitted in ``receipt``."""
        event = self.contract.events[name]()
        return [
            event.process_log(log)
            for log in receipt["logs"]
            if log["address"] == self.address and log["topics"][0] == _topic(event)
        ]

    def log_indexes(self, sent: Sent, name: str) -> list[int]:
        """The log indexes of the ``name`` events this contract emitted in ``sent``."""
        return sent.log_indexes(self.address, self._topics[name])

    def _call(self, function: str, *args: Any) -> Any:
        try:
            return self.contract.functions[function](*args).call()
        except Exception as exc:
            typed = self.decoder.typed(exc)
            if typed is None:
                raise
            raise typed from exc


def _encoders(abi: Sequence[Any]) -> dict[str, tuple[bytes, list[str], str]]:
    """Selector, input types and signature of each function whose name is not overloaded."""
    functions = [f for f in abi if f["type"] == "function"]
    names = [f["name"] for f in functions]
    return {
        f["name"]: (function_abi_to_4byte_selector(f), get_abi_input_types(f), abi_to_signature(f))
        for f in functions
        if names.count(f["name"]) == 1
    }


def _topic(event: Any) -> HexBytes:
    return HexBytes(event.topic)
