"""Gasless registration: EIP-712 requests an exporter signs and anyone may relay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

from ledger.cid import split_cid

DOMAIN_NAME = "TradeDocumentLedger"
DOMAIN_VERSION = "1"

REGISTER_REQUEST_TYPES = {
    "RegisterRequest": [
        {"name": "issuer", "type": "address"},
        {"name": "fingerprint", "type": "bytes32"},
        {"name": "docType", "type": "uint16"},
        {"name": "cidPrefix", "type": "bytes4"},
        {"name": "cidDigest", "type": "bytes32"},
        {"name": "consignmentRef", "type": "string"},
        {"name": "metadataCid", "type": "bytes"},
        {"name": "nonce", "type": "uint64"},
        {"name": "deadline", "type": "uint40"},
    ]
}


@dataclass(frozen=True)
class RegisterRequest:
    issuer: str
    fingerprint: bytes
    doc_type: int
    cid: bytes
    consignment_ref: str
    metadata_cid: bytes
    nonce: int
    deadline: int

    def message(self) -> dict[str, Any]:
        prefix, digest = split_cid(self.cid)
        return {
            "issuer": self.issuer,
            "fingerprint": self.fingerprint,
            "docType": self.doc_type,
            "cidPrefix": prefix,
            "cidDigest": digest,
            "consignmentRef": self.consignment_ref,
            "metadataCid": self.metadata_cid,
            "nonce": self.nonce,
            "deadline": self.deadline,
        }

    def as_tuple(self) -> tuple[Any, ...]:
        """The request as the contract's ``RegisterRequest`` struct argument."""
        return tuple(self.message().values())


def domain(chain_id: int, contract: str) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": contract,
    }


def sign_request(
    account: LocalAccount, request: RegisterRequest, chain_id: int, contract: str
) -> bytes:
    """The issuer's 65-byte signature over ``request`` for this chain and contract."""
    signable = encode_typed_data(
        domain(chain_id, contract), REGISTER_REQUEST_TYPES, request.message()
    )
    return bytes(account.sign_message(signable).signature)


def recover_signer(request: RegisterRequest, signature: bytes, chain_id: int, contract: str) -> str:
    signable = encode_typed_data(
        domain(chain_id, contract), REGISTER_REQUEST_TYPES, request.message()
    )
    return str(Account.recover_message(signable, signature=signature))
