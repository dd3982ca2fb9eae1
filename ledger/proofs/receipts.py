"""Receipt proofs: one transaction's receipt, and so its events, proven in a block's receiptsRoot.

A block's receipts trie maps ``RLP(transaction index)`` to the receipt's consensus encoding:
for a typed transaction (EIP-2718) the type byte followed by
``RLP([status, cumulativeGasUsed, logsBloom, logs])``, for a legacy one the RLP alone; each
log is ``[address, [topics...], data]``. ``prove_receipt`` fetches every receipt of the
block, rebuilds that trie, checks its root against the header's ``receiptsRoot`` and keeps
the proof of the one receipt (with the position of one of its logs).

Offline, ``verify_event`` walks the proof from the trusted header's ``receiptsRoot`` to the
receipt, decodes its logs and returns the log at the proof's position, after checking it
is the event the caller expects (contract address, topics): a proof of another
transaction, or the position of another log, is named, never read as the wanted event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic, get_abi_input_names, get_abi_input_types

from ledger.chain import Rpc, RpcError
from ledger.errors import ProofInvalid
from ledger.proofs import mpt
from ledger.proofs.codec import (
    blob_list,
    checksummed,
    decode_rlp,
    hex_of,
    parse_hex,
    quantity,
    read_int,
    read_nodes,
    to_int,
)
from ledger.proofs.headers import Header, fetch_header

PART = "receipt"


@dataclass(frozen=True)
class Log:
    address: bytes
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True)
class Receipt:
    status: int
    cumulative_gas_used: int
    logs: tuple[Log, ...]


@dataclass(frozen=True)
class ReceiptProof:
    """The proof of receipt ``tx_index`` of a block, pointing at its log ``log_position``
    (the place in this receipt's logs, not the block-wide ``logIndex`` of eth_getLogs)."""

    tx_index: int
    log_position: int
    nodes: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "txIndex": self.tx_index,
            "logPosition": self.log_position,
            "nodes": blob_list(self.nodes),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ReceiptProof:
        return cls(
            read_int(obj, "txIndex", PART),
            read_int(obj, "logPosition", PART),
            read_nodes(obj, "nodes", PART),
        )


# ------------------------------------------------------------------------ producing


def encode_receipt(receipt: Mapping[str, Any]) -> bytes:
    """The consensus encoding of a JSON-RPC receipt (the receipts trie's value)."""
    logs = [
        [
            parse_hex(log["address"], "address", PART, 20),
            [parse_hex(t, "topic", PART, 32) for t in log["topics"]],
            parse_hex(log["data"], "data", PART),
        ]
        for log in receipt["logs"]
    ]
    body = rlp.encode(
        [
            quantity(receipt["status"], "status", PART),
            quantity(receipt["cumulativeGasUsed"], "cumulativeGasUsed", PART),
            parse_hex(receipt["logsBloom"], "logsBloom", PART, 256),
            logs,
        ]
    )
    kind = quantity(receipt.get("type", "0x0"), "type", PART)
    return body if kind == 0 else bytes([kind]) + body


def block_receipts(rpc: Rpc, block_hash: str) -> list[dict[str, Any]]:
    """Every receipt of a block, in transaction order (``eth_getBlockReceipts`` where the node
    has it, else one ``eth_getTransactionReceipt`` per transaction in one batch)."""
    try:
        receipts = rpc.call("eth_getBlockReceipts", [{"blockHash": block_hash}])
    except RpcError:
        receipts = None
    if receipts is None:
        block = rpc.call("eth_getBlockByHash", [block_hash, False])
        answers = rpc.batch([("eth_getTransactionReceipt", [h]) for h in block["transactions"]])
        for answer in answers:
            if isinstance(answer, RpcError):
                raise answer
        receipts = answers
    return sorted(receipts, key=lambda r: quantity(r["transactionIndex"], "index", PART))


def prove_receipt(
    rpc: Rpc, tx_hash: str, log_index: int | None = None
) -> tuple[Header, ReceiptProof]:
    """The header of the block of ``tx_hash`` and the proof of its receipt, pointing at the log
    whose block-wide ``logIndex`` is ``log_index`` (default: the receipt's first place)."""
    receipt = rpc.call("eth_getTransactionReceipt", [tx_hash])
    if receipt is None:
        raise ProofInvalid(PART, "unknown_transaction", f"the node has no receipt of {tx_hash}")
    positions = [quantity(log["logIndex"], "logIndex", PART) for log in receipt["logs"]]
    position = 0 if log_index is None else _position(positions, log_index, tx_hash)
    header = fetch_header(rpc, quantity(receipt["blockNumber"], "blockNumber", PART))
    receipts = block_receipts(rpc, hex_of(header.hash))
    items = {rlp.encode(i): encode_receipt(r) for i, r in enumerate(receipts)}
    index = quantity(receipt["transactionIndex"], "transactionIndex", PART)
    root, nodes = mpt.prove(items, rlp.encode(index))
    if root != header.receipts_root:
        raise ProofInvalid(
            PART,
            "node_mismatch",
            f"the node's receipts of block {header.number} do not rebuild its receiptsRoot: "
            "a receipt shape this code does not encode",
        )
    return header, ReceiptProof(index, position, nodes)


def _position(positions: Sequence[int], log_index: int, tx_hash: str) -> int:
    if log_index not in positions:
        raise ProofInvalid("event", "no_such_log", f"log {log_index} is not from {tx_hash}")
    return positions.index(log_index)


# ------------------------------------------------------------------------ verifying


def verify_receipt(proof: ReceiptProof, header: Header) -> Receipt:
    """The receipt ``proof`` proves in ``header``'s receiptsRoot (a failed transaction: invalid)."""
    value = mpt.walk(header.receipts_root, rlp.encode(proof.tx_index), proof.nodes, PART)
    if value is None:
        raise ProofInvalid(
            PART, "absent", f"block {header.number} has no transaction {proof.tx_index}"
        )
    receipt = decode_receipt(value)
    if receipt.status != 1:
        raise ProofInvalid(PART, "failed_transaction", f"transaction {proof.tx_index} reverted")
    return receipt


def decode_receipt(value: bytes) -> Receipt:
    body = value[1:] if value[0] < 0x80 else value  # typed: a type byte before the RLP
    item = decode_rlp(body, PART, "the receipt")
    if not isinstance(item, list) or len(item) != 4 or not isinstance(item[3], list):
        raise ProofInvalid(PART, "malformed", "a receipt is [status, gas, bloom, logs]")
    logs = []
    for i, log in enumerate(item[3]):
        if (
            not isinstance(log, list)
            or len(log) != 3
            or not isinstance(log[0], bytes)
            or len(log[0]) != 20
            or not isinstance(log[1], list)
            or not all(isinstance(t, bytes) and len(t) == 32 for t in log[1])
            or not isinstance(log[2], bytes)
        ):
            raise ProofInvalid(PART, "malformed", f"log {i} is not [address, topics, data]")
        logs.append(Log(log[0], tuple(log[1]), log[2]))
    status = to_int(item[0], PART, "status")
    return Receipt(status, to_int(item[1], PART, "cumulativeGasUsed"), tuple(logs))


def verify_event(
    proof: ReceiptProof, header: Header, address: bytes, topics: Sequence[bytes | None]
) -> Log:
    """The log the proof points at, which must come from ``address`` and begin with ``topics``
    (``None`` matches any topic at its place)."""
    logs = verify_receipt(proof, header).logs
    if proof.log_position >= len(logs):
        raise ProofInvalid(
            "event",
            "no_such_log",
            f"transaction {proof.tx_index} has {len(logs)} logs, none at {proof.log_position}",
        )
    log = logs[proof.log_position]
    if log.address != address:
        raise ProofInvalid(
            "event",
            "unexpected_event",
            f"log {proof.log_position} comes from {hex_of(log.address)}, not {hex_of(address)}",
        )
    for i, wanted in enumerate(topics):
        if wanted is not None and (i >= len(log.topics) or log.topics[i] != wanted):
            raise ProofInvalid(
                "event",
                "unexpected_event",
                f"log {proof.log_position} is not the expected event (topic {i} differs)",
            )
    return log


def decode_event(abi: Mapping[str, Any], log: Log) -> dict[str, Any]:
    """The arguments of ``log`` as event ``abi`` (a JSON ABI fragment) declares them."""
    if not log.topics or log.topics[0] != event_abi_to_log_topic(dict(abi)):  # type: ignore[arg-type]
        raise ProofInvalid("event", "unexpected_event", f"the log is not a {abi['name']} event")
    indexed = [i for i in abi["inputs"] if i["indexed"]]
    plain = {**abi, "inputs": [i for i in abi["inputs"] if not i["indexed"]]}
    args: dict[str, Any] = {}
    if len(log.topics) != len(indexed) + 1:
        raise ProofInvalid("event", "malformed", f"a {abi['name']} event has {len(indexed)} topics")
    for item, topic in zip(indexed, log.topics[1:], strict=True):
        kind = item["type"]
        hashed = kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("tuple")
        args[item["name"]] = topic if hashed else abi_decode([kind], topic)[0]
    names = [n or f"arg{i}" for i, n in enumerate(get_abi_input_names(plain))]  # type: ignore[arg-type]
    try:
        values = abi_decode(get_abi_input_types(plain), log.data)  # type: ignore[arg-type]
    except Exception as exc:  # eth-abi raises several unrelated types for bad data
        raise ProofInvalid("event", "malformed", f"the {abi['name']} data does not decode") from exc
    args.update(zip(names, values, strict=True))
    for item in abi["inputs"]:  # addresses as web3 gives them: EIP-55 mixed case
        if item["type"] == "address" and isinstance(args.get(item["name"]), str):
            args[item["name"]] = checksummed(bytes.fromhex(args[item["name"]][2:]))
    return args
