"""The cases both verifiers run: honest proofs from a real node, and the tamper matrix.

Each case is JSON: ``{name, kind, input, expect}``, ``expect`` being ``{"ok": facts}`` or
``{"error": {kind, part, problem}}``. Honest cases expect what the node itself says
(``eth_getStorageAt``, the receipt's logs, the block's fields), never what our own
producer claims; each tampered case names the part and problem a verifier must report.
``run_case`` is the Python side; ``js/harness.mjs`` is the same for the browser module.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import rlp
from eth_utils import event_abi_to_log_topic

from ledger.errors import ProofError, ProofStale
from ledger.proofs import (
    Anchor,
    ReceiptProof,
    StorageProof,
    TrustFile,
    anchor,
    fetch_header,
    mapping_slot,
    prove_receipt,
    prove_storage,
    read_header,
    verify_anchor,
    verify_event,
    verify_receipt,
    verify_storage,
)
from ledger.proofs.headers import FIELDS
from tests.proofs.conftest import REVOKED, World

Case = dict[str, Any]
HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
N = 2 * HALF_N + 1


def h(b: bytes) -> str:
    return "0x" + b.hex()


def invalid(part: str, problem: str) -> dict[str, Any]:
    return {"error": {"kind": "invalid", "part": part, "problem": problem}}


def stale(problem: str) -> dict[str, Any]:
    return {"error": {"kind": "stale", "part": "checkpoint", "problem": problem}}


# ---------------------------------------------------------------------- the Python side


def run_case(case: Case) -> dict[str, Any]:
    """What the Python verifier makes of ``case``: ``{"ok": facts}`` or ``{"error": ...}``."""
    try:
        return {"ok": RUNNERS[case["kind"]](case["input"])}
    except ProofError as exc:
        kind = "stale" if isinstance(exc, ProofStale) else "invalid"
        return {"error": {"kind": kind, "part": exc.part, "problem": exc.problem}}


def _trusted_header(i: dict[str, Any]) -> Any:
    from ledger.proofs import expect_hash

    header = read_header(i["header"])
    expect_hash(header, bytes.fromhex(i["trustedHash"][2:]), "the test")
    return header


def _run_header(i: dict[str, Any]) -> dict[str, Any]:
    header = _trusted_header(i)
    return {
        "number": header.number,
        "timestamp": header.timestamp,
        "stateRoot": h(header.state_root),
        "receiptsRoot": h(header.receipts_root),
    }


def _run_anchor(i: dict[str, Any]) -> dict[str, Any]:
    trust = TrustFile.from_json(i["trust"])
    block = verify_anchor(Anchor.from_json(i["anchor"]), trust, i["now"], i["fresh"])
    return {
        "number": block.header.number,
        "checkpointBlock": block.checkpoint.block_number,
        "age": block.checkpoint.age,
        "signers": sorted(block.checkpoint.signers),
        "unknownSigners": sorted(h(a) for a in block.checkpoint.unknown_signers),
    }


def _run_receipt(i: dict[str, Any]) -> dict[str, Any]:
    receipt = verify_receipt(ReceiptProof.from_json(i["receipt"]), _trusted_header(i))
    return {"logs": [_log(log) for log in receipt.logs]}


def _run_event(i: dict[str, Any]) -> dict[str, Any]:
    topics = [None if t is None else bytes.fromhex(t[2:]) for t in i["topics"]]
    log = verify_event(
        ReceiptProof.from_json(i["receipt"]),
        _trusted_header(i),
        bytes.fromhex(i["address"][2:]),
        topics,
    )
    return _log(log)


def _run_storage(i: dict[str, Any]) -> dict[str, Any]:
    slots = [int(s, 16) for s in i["slots"]]
    values = verify_storage(
        StorageProof.from_json(i["storage"]),
        _trusted_header(i),
        bytes.fromhex(i["address"][2:]),
        slots,
    )
    return {"values": {h(s.to_bytes(32, "big")): hex(v) for s, v in values.items()}}


def _log(log: Any) -> dict[str, Any]:
    return {"address": h(log.address), "topics": [h(t) for t in log.topics], "data": h(log.data)}


RUNNERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "header": _run_header,
    "anchor": _run_anchor,
    "receipt": _run_receipt,
    "event": _run_event,
    "storage": _run_storage,
}


# ---------------------------------------------------------------------- tampering


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def unb64(blob: str) -> bytes:
    return base64.b64decode(blob)


def alter(node: str) -> str:
    """A node with one byte in its middle changed."""
    raw = bytearray(unb64(node))
    raw[len(raw) // 2] ^= 0x01
    return b64(bytes(raw))


def node_tampers(nodes: list[str]) -> Iterator[tuple[str, list[str], str]]:
    """(what, tampered nodes, expected problem) for every node altered, dropped or swapped."""
    for i in range(len(nodes)):
        yield f"node {i} altered", [*nodes[:i], alter(nodes[i]), *nodes[i + 1 :]], "node_mismatch"
        dropped = nodes[:i] + nodes[i + 1 :]
        yield f"node {i} dropped", dropped, "incomplete" if i == len(nodes) - 1 else "node_mismatch"
        if i + 1 < len(nodes):
            swapped = [*nodes[:i], nodes[i + 1], nodes[i], *nodes[i + 2 :]]
            yield f"nodes {i} and {i + 1} swapped", swapped, "node_mismatch"


def changed_field(header_rlp: str, index: int) -> str:
    """The header's RLP with field ``index`` changed (an integer incremented, bytes flipped)."""
    fields = rlp.decode(unb64(header_rlp))
    value = fields[index]
    if FIELDS[index][1] == "int":
        fields[index] = (int.from_bytes(value, "big") + 1).to_bytes(32, "big").lstrip(b"\x00")
    elif FIELDS[index][1] == "bytes":
        fields[index] = value + b"\x01"
    else:
        fields[index] = value[:-1] + bytes([value[-1] ^ 1])
    return b64(rlp.encode(fields))


def reclaimed(header: dict[str, Any], new_rlp: str) -> dict[str, Any]:
    """A header object for ``new_rlp`` whose claims match it (the attacker recomputes them)."""
    from ledger.proofs import decode_header

    decoded = decode_header(unb64(new_rlp))
    return {**header, "rlp": new_rlp, "number": decoded.number, "hash": h(decoded.hash)}


# ---------------------------------------------------------------------- the cases


def all_cases(world: World) -> list[Case]:
    return [
        *header_cases(world),
        *anchor_cases(world),
        *receipt_cases(world),
        *storage_cases(world),
    ]


def _case(name: str, kind: str, input: dict[str, Any], expect: dict[str, Any]) -> Case:
    return {"name": name, "kind": kind, "input": input, "expect": expect}


def header_cases(world: World) -> list[Case]:
    cases = []
    for number in (0, world.big_block, world.head):
        block = world.call("eth_getBlockByNumber", hex(number), False)
        header = fetch_header(world.rpc, number).to_json()
        facts = {
            "number": number,
            "timestamp": int(block["timestamp"], 16),
            "stateRoot": block["stateRoot"],
            "receiptsRoot": block["receiptsRoot"],
        }
        cases.append(
            _case(
                f"header {number}",
                "header",
                {"header": header, "trustedHash": block["hash"]},
                {"ok": facts},
            )
        )
    block = world.call("eth_getBlockByNumber", hex(world.big_block), False)
    header = fetch_header(world.rpc, world.big_block).to_json()
    base = {"header": header, "trustedHash": block["hash"]}
    count = len(rlp.decode(unb64(header["rlp"])))
    for index in range(count):
        tampered = reclaimed(header, changed_field(header["rlp"], index))
        cases.append(
            _case(
                f"header field {index} changed",
                "header",
                {**base, "header": tampered},
                invalid("header", "hash_mismatch"),
            )
        )
    fields = rlp.decode(unb64(header["rlp"]))
    shorter = reclaimed(header, b64(rlp.encode(fields[:-1])))
    cases += [
        _case(
            "header with its last field left out",
            "header",
            {**base, "header": shorter},
            invalid("header", "hash_mismatch"),
        ),
        _case(
            "header claiming another number",
            "header",
            {**base, "header": {**header, "number": header["number"] + 1}},
            invalid("header", "claim_mismatch"),
        ),
        _case(
            "header claiming another hash",
            "header",
            {**base, "header": {**header, "hash": block["parentHash"]}},
            invalid("header", "hash_mismatch"),
        ),
        _case(
            "header cut short",
            "header",
            {**base, "header": {**header, "rlp": b64(unb64(header["rlp"])[:-6])}},
            invalid("header", "malformed"),
        ),
        _case(
            "header of 14 fields",
            "header",
            {**base, "header": {**header, "rlp": b64(rlp.encode(fields[:14]))}},
            invalid("header", "malformed"),
        ),
        _case(
            "header that is not base64",
            "header",
            {**base, "header": {**header, "rlp": "0x" + unb64(header["rlp"]).hex() + "!"}},
            invalid("header", "malformed"),
        ),
    ]
    return cases


def anchor_cases(world: World) -> list[Case]:
    trust = world.trust.to_json()
    now = world.now()
    block = world.big_block
    cp = world.checkpoint(block)
    one = anchor(world.rpc, block, cp).to_json()
    signers = [f"Consortium member {i}" for i in (1, 2)]

    def case(name: str, anchored: dict[str, Any], expect: dict[str, Any], **extra: Any) -> Case:
        input = {"anchor": anchored, "trust": trust, "now": now, "fresh": True, **extra}
        return _case(name, "anchor", input, expect)

    def signed(keys: list[Any], **changes: Any) -> dict[str, Any]:
        statement = dataclasses.replace(cp, signatures=(), **changes)
        for key in keys:
            statement = statement.sign(bytes(key.key))
        return {**one, "checkpoint": statement.to_json()}

    def facts(
        number: int,
        checkpoint_block: int,
        names: list[str],
        unknown: tuple[str, ...] = (),
        at: int = now,
    ) -> dict[str, Any]:
        age = at - int(
            world.call("eth_getBlockByNumber", hex(checkpoint_block), False)["timestamp"], 16
        )
        return {
            "ok": {
                "number": number,
                "checkpointBlock": checkpoint_block,
                "age": age,
                "signers": sorted(names),
                "unknownSigners": sorted(unknown),
            }
        }

    s0, s1, s2 = world.signers
    outsider = h(bytes.fromhex(world.outsider.address[2:]))
    sig = cp.signatures[0]
    high_s = (
        sig[:32]
        + (N - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big")
        + bytes([55 - sig[64]])
    )

    def with_sig(raw: bytes) -> dict[str, Any]:
        """The checkpoint with its first signature replaced by ``raw``."""
        signatures = [h(raw), one["checkpoint"]["signatures"][1]]
        return {**one, "checkpoint": {**one["checkpoint"], "signatures": signatures}}

    cases = [
        case("checkpoint signed by two of three", one, facts(block, block, signers)),
        case(
            "checkpoint signed by all three",
            signed([s0, s1, s2]),
            facts(block, block, [*signers, "Consortium member 3"]),
        ),
        case(
            "checkpoint with an outsider's signature beside two",
            signed([s0, world.outsider, s1]),
            facts(block, block, signers, (outsider,)),
        ),
        case(
            "checkpoint signed by one member and an outsider",
            signed([s0, world.outsider]),
            invalid("checkpoint", "unknown_signer"),
        ),
        case(
            "checkpoint signed by outsiders only",
            signed([world.outsider]),
            invalid("checkpoint", "unknown_signer"),
        ),
        case(
            "checkpoint below the threshold", signed([s0]), invalid("checkpoint", "below_threshold")
        ),
        case(
            "checkpoint signed twice by one key",
            signed([s0, s0]),
            invalid("checkpoint", "below_threshold"),
        ),
        case("checkpoint without signatures", signed([]), invalid("checkpoint", "below_threshold")),
        case(
            "checkpoint of another chain",
            signed([s0, s1], chain_id=cp.chain_id + 1),
            invalid("checkpoint", "wrong_chain"),
        ),
        case(
            "checkpoint of another contract",
            signed([s0, s1], contract=bytes(20)),
            invalid("checkpoint", "wrong_contract"),
        ),
        case(
            "checkpoint of another chain relabelled",
            {
                **one,
                "checkpoint": {
                    **signed([s0, s1], chain_id=cp.chain_id + 1)["checkpoint"],
                    "chainId": cp.chain_id,
                },
            },
            invalid("checkpoint", "unknown_signer"),
        ),
        case(
            "checkpoint of another block",
            signed([s0, s1], block_hash=bytes.fromhex(one["headers"][0]["hash"][2:])[::-1]),
            invalid("header", "hash_mismatch"),
        ),
        case(
            "checkpoint with another time",
            signed([s0, s1], timestamp=cp.timestamp + 1),
            invalid("checkpoint", "block_mismatch"),
        ),
        case(
            "checkpoint with a truncated signature",
            with_sig(sig[:64]),
            invalid("checkpoint", "bad_signature"),
        ),
        case(
            "checkpoint with a high-s signature",
            with_sig(high_s),
            invalid("checkpoint", "bad_signature"),
        ),
        case(
            "checkpoint with a bad v",
            with_sig(sig[:64] + b"\x1d"),
            invalid("checkpoint", "bad_signature"),
        ),
        case(
            "checkpoint with a signature of no key",
            with_sig(bytes(64) + b"\x1b"),
            invalid("checkpoint", "bad_signature"),
        ),
        case(
            "checkpoint older than the trust file allows",
            one,
            stale("too_old"),
            now=cp.timestamp + world.trust.max_age + 1,
        ),
        case(
            "old checkpoint of a past fact",
            one,
            facts(block, block, signers, at=cp.timestamp + world.trust.max_age + 1),
            now=cp.timestamp + world.trust.max_age + 1,
            fresh=False,
        ),
        case("checkpoint from the future", one, stale("in_future"), now=cp.timestamp - 301),
        case(
            "checkpoint of a trust file for another chain",
            one,
            invalid("checkpoint", "wrong_chain"),
            trust={**trust, "chainId": trust["chainId"] + 1},
        ),
        case(
            "anchor without a checkpoint",
            {"headers": one["headers"]},
            invalid("checkpoint", "malformed"),
        ),
        case(
            "anchor without headers", {**one, "headers": []}, invalid("header chain", "malformed")
        ),
    ]
    # A registration's block linked to a later checkpoint by the headers in between.
    later = world.checkpoint(world.head)
    linked = anchor(world.rpc, block, later).to_json()
    headers = linked["headers"]
    assert len(headers) >= 4
    middle = reclaimed(headers[1], changed_field(headers[1]["rlp"], 3))
    first = reclaimed(headers[0], changed_field(headers[0]["rlp"], 5))
    last = reclaimed(headers[-1], changed_field(headers[-1]["rlp"], 4))
    cases += [
        case("headers linked to a later checkpoint", linked, facts(block, world.head, signers)),
        case(
            "linked headers with one dropped",
            {**linked, "headers": [headers[0], *headers[2:]]},
            invalid("header chain", "broken_link"),
        ),
        case(
            "linked headers reordered",
            {**linked, "headers": [headers[0], headers[2], headers[1], *headers[3:]]},
            invalid("header chain", "broken_link"),
        ),
        case(
            "linked headers with a middle one changed",
            {**linked, "headers": [headers[0], middle, *headers[2:]]},
            invalid("header chain", "broken_link"),
        ),
        case(
            "linked headers with the first one changed",
            {**linked, "headers": [first, *headers[1:]]},
            invalid("header chain", "broken_link"),
        ),
        case(
            "linked headers with the checkpoint's one changed",
            {**linked, "headers": [*headers[:-1], last]},
            invalid("header", "hash_mismatch"),
        ),
        case(
            "linked headers that stop short of the checkpoint",
            {**linked, "headers": headers[:-1]},
            invalid("header", "hash_mismatch"),
        ),
    ]
    return cases


def receipt_cases(world: World) -> list[Case]:
    abi = {e["name"]: e for e in world.registry.contract.abi if e.get("type") == "event"}
    registered = h(event_abi_to_log_topic(abi["DocumentRegistered"]))
    metadata = h(event_abi_to_log_topic(abi["DocumentMetadataAnchored"]))
    contract = world.registry.address.lower()
    cases: list[Case] = []
    proofs: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    for index in (0, 1, 3, 16, 20, 127, 128, 129):
        header, proof = prove_receipt(world.rpc, world.tx_hashes[index])
        proofs[index] = header.to_json(), proof.to_json()
        node = world.call("eth_getTransactionReceipt", world.tx_hashes[index])
        fp = h(world.fingerprints[index])
        base = {"header": header.to_json(), "trustedHash": h(header.hash), "address": contract}
        for position, topic in ((0, registered), (1, metadata)):
            log = node["logs"][position]
            expected = {
                "ok": {
                    "address": log["address"].lower(),
                    "topics": log["topics"],
                    "data": log["data"],
                }
            }
            pointed = {**proof.to_json(), "logPosition": position}
            cases.append(
                _case(
                    f"event {position} of transaction {index}",
                    "event",
                    {**base, "receipt": pointed, "topics": [topic, fp]},
                    expected,
                )
            )
    header_json, legacy = _legacy_proof(world)
    cases.append(
        _case(
            "receipt of a legacy transfer",
            "receipt",
            {"header": header_json, "trustedHash": header_json["hash"], "receipt": legacy},
            {"ok": {"logs": []}},
        )
    )

    header_json, proof = proofs[3]
    fp = h(world.fingerprints[3])
    base = {
        "header": header_json,
        "trustedHash": header_json["hash"],
        "address": contract,
        "topics": [registered, fp],
        "receipt": proof,
    }
    for what, nodes, problem in node_tampers(proof["nodes"]):
        cases.append(
            _case(
                f"receipt proof with {what}",
                "event",
                {**base, "receipt": {**proof, "nodes": nodes}},
                invalid("receipt", problem),
            )
        )
    _, other = proofs[20]
    deep_header, deep = proofs[128]
    for what, nodes, problem in node_tampers(deep["nodes"]):
        cases.append(
            _case(
                f"receipt proof of transaction 128 with {what}",
                "event",
                {
                    **base,
                    "header": deep_header,
                    "trustedHash": deep_header["hash"],
                    "topics": [registered, h(world.fingerprints[128])],
                    "receipt": {**deep, "nodes": nodes},
                },
                invalid("receipt", problem),
            )
        )
    later = fetch_header(world.rpc, world.big_block + 1).to_json()
    cases += [
        _case(
            "receipt proof with a node of another proof added",
            "event",
            {**base, "receipt": {**proof, "nodes": [*proof["nodes"], other["nodes"][-1]]}},
            invalid("receipt", "extra_nodes"),
        ),
        _case(
            "receipt proof of another transaction's index",
            "event",
            {**base, "receipt": {**proof, "txIndex": 20}},
            invalid("receipt", "node_mismatch"),
        ),
        _case(
            "receipt of another transaction",
            "event",
            {**base, "receipt": other},
            invalid("event", "unexpected_event"),
        ),
        _case(
            "log index of another event",
            "event",
            {**base, "receipt": {**proof, "logPosition": 1}},
            invalid("event", "unexpected_event"),
        ),
        _case(
            "log index past the receipt's logs",
            "event",
            {**base, "receipt": {**proof, "logPosition": 2}},
            invalid("event", "no_such_log"),
        ),
        _case(
            "event of another contract",
            "event",
            {**base, "address": "0x" + "11" * 20},
            invalid("event", "unexpected_event"),
        ),
        _case(
            "receipt proof against another block",
            "event",
            {**base, "header": later, "trustedHash": later["hash"]},
            invalid("receipt", "node_mismatch"),
        ),
        _case(
            "receipt proof of a transaction the block lacks",
            "event",
            {
                **base,
                "header": deep_header,
                "trustedHash": deep_header["hash"],
                "receipt": {**deep, "txIndex": 131, "nodes": deep["nodes"][:-1]},
            },
            invalid("receipt", "absent"),
        ),
        _case(
            "receipt proof without nodes",
            "event",
            {**base, "receipt": {**proof, "nodes": []}},
            invalid("receipt", "incomplete"),
        ),
        _case(
            "receipt proof with a node that is not base64",
            "event",
            {**base, "receipt": {**proof, "nodes": [proof["nodes"][0][:-2]]}},
            invalid("receipt", "malformed"),
        ),
    ]
    return cases


def _legacy_proof(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    receipt = world.call("eth_getTransactionReceipt", world.tx_hashes[-1])
    assert receipt["type"] == "0x0" and not receipt["logs"]
    header, proof = prove_receipt(world.rpc, world.tx_hashes[-1])
    return header.to_json(), proof.to_json()


def storage_cases(world: World) -> list[Case]:
    contract = world.registry.address
    key_slot = mapping_slot(world.key_slot, world.exporter.address)
    cases: list[Case] = []

    def proven(
        block: int, document: bytes, *more: int
    ) -> tuple[dict[str, Any], dict[str, Any], list[int]]:
        slots = [mapping_slot(world.doc_slot, document), key_slot, *more]
        proof = prove_storage(world.rpc, contract, slots, block)
        return fetch_header(world.rpc, block).to_json(), proof.to_json(), slots

    def honest(
        name: str, block: int, document: bytes, *more: int
    ) -> tuple[dict[str, Any], dict[str, Any], list[int]]:
        header, proof, slots = proven(block, document, *more)
        values = {h(s.to_bytes(32, "big")): hex(world.storage_at(s, block)) for s in slots}
        input = {
            "header": header,
            "trustedHash": header["hash"],
            "storage": proof,
            "address": contract.lower(),
            "slots": [hex(s) for s in slots],
        }
        cases.append(_case(name, "storage", input, {"ok": {"values": values}}))
        return header, proof, slots

    revoked = world.fingerprints[REVOKED]
    header, proof, slots = honest(
        "a document and its issuer's key", world.big_block, world.fingerprints[0]
    )
    honest("a document revoked later, as of before", world.big_block, revoked)
    honest("a revoked document, as of after", world.revoked_block, revoked)
    honest("an unregistered document (absent slot)", world.head, b"\x42" * 32)
    honest(
        "a plain slot and an empty neighbour", world.head, world.fingerprints[1], 0, key_slot + 1
    )

    base = {
        "header": header,
        "trustedHash": header["hash"],
        "address": contract.lower(),
        "slots": [hex(s) for s in slots],
        "storage": proof,
    }
    for what, nodes, problem in node_tampers(proof["accountNodes"]):
        cases.append(
            _case(
                f"account proof with {what}",
                "storage",
                {**base, "storage": {**proof, "accountNodes": nodes}},
                invalid("account", problem),
            )
        )
    for what, nodes, problem in node_tampers(proof["storageNodes"]):
        cases.append(
            _case(
                f"storage proof with {what}",
                "storage",
                {**base, "storage": {**proof, "storageNodes": nodes}},
                invalid("storage", problem),
            )
        )
    other = _other_slot(world, slots[0])
    _, other_proof, _ = proven(world.big_block, other)
    later_header, later_proof, _ = proven(world.revoked_block, world.fingerprints[0])
    cases += [
        _case(
            "storage proof of another slot",
            "storage",
            {**base, "storage": {**proof, "storageNodes": other_proof["storageNodes"]}},
            invalid("storage", "node_mismatch"),
        ),
        _case(
            "storage proof lacking a wanted slot",
            "storage",
            {**base, "storage": {**proof, "slots": proof["slots"][1:]}},
            invalid("storage", "missing_slot"),
        ),
        _case(
            "storage proof with a node of another proof added",
            "storage",
            {
                **base,
                "storage": {
                    **proof,
                    "storageNodes": [*proof["storageNodes"], other_proof["storageNodes"][1]],
                },
            },
            invalid("storage", "extra_nodes"),
        ),
        _case(
            "storage proof of another block",
            "storage",
            {**base, "storage": later_proof},
            invalid("account", "node_mismatch"),
        ),
        _case(
            "storage proof against another block's header",
            "storage",
            {**base, "header": later_header, "trustedHash": later_header["hash"]},
            invalid("account", "node_mismatch"),
        ),
        _case(
            "storage proof of another account",
            "storage",
            {**base, "storage": {**proof, "address": world.exporter.address.lower()}},
            invalid("account", "wrong_account"),
        ),
        _case(
            "storage proof with a slot listed twice",
            "storage",
            {**base, "storage": {**proof, "slots": [proof["slots"][0], *proof["slots"]]}},
            invalid("storage", "malformed"),
        ),
    ]
    return cases


def _other_slot(world: World, slot: int) -> bytes:
    """A registered document whose slot's path leaves ``slot``'s at the storage trie's root."""
    from ledger.proofs.codec import keccak

    first = keccak(slot.to_bytes(32, "big"))[0] >> 4
    for fp in world.fingerprints[1:]:
        if keccak(mapping_slot(world.doc_slot, fp).to_bytes(32, "big"))[0] >> 4 != first:
            return fp
    raise AssertionError("every document's slot starts with the same nibble")
