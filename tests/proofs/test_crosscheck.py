"""The proofs the project produces hold for implementations no one here wrote.

Every receipt, account and storage proof of the cases is checked by npm ``@ethereumjs/mpt``
(in Node) and by PyPI ``trie``'s ``HexaryTrie.get_from_proof``: both find the value our
verifier finds, or prove the same absence; a proof with a node altered or dropped yields
neither of them the honest value. (Both look nodes up by hash, so to them a reordered
proof is still a proof; ours walks the nodes in path order and names reordering.) Each
header re-hashes to the node's block hash on every block of both chains.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rlp
from rlp.exceptions import DecodingError
from trie import HexaryTrie
from trie.exceptions import BadTrieProof, ValidationError

from ledger.errors import ProofInvalid
from ledger.proofs import decode_header, fetch_header, walk
from ledger.proofs.codec import keccak
from ledger.proofs.mpt import Nodes
from tests.proofs.cases import Case, unb64
from tests.proofs.conftest import World
from tests.proofs.test_browser import JS, node


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def trie_checks(case: Case) -> list[dict[str, Any]]:
    """The (root, key, nodes) walks a case's proof consists of, each with what our verifier
    found on that walk (``ours``: the value, None, or the error it raised there). A storage
    proof's slots share its merged nodes, so they are walked together, in order, up to the
    first that fails; the reference libraries get all the merged nodes for each slot."""
    i = case["input"]
    if case["kind"] not in ("event", "receipt", "storage"):
        return []
    header = decode_header(unb64(i["header"]["rlp"]))
    if case["kind"] in ("event", "receipt"):
        root, key, nodes = (
            header.receipts_root,
            rlp.encode(i["receipt"]["txIndex"]),
            i["receipt"]["nodes"],
        )
        return [_check(root, key, nodes, lambda: walk(root, key, [unb64(n) for n in nodes], "x"))]
    storage = i["storage"]
    root, key, nodes = (
        header.state_root,
        keccak(_bytes(storage["address"])),
        storage["accountNodes"],
    )
    account = _check(root, key, nodes, lambda: walk(root, key, [unb64(n) for n in nodes], "x"))
    if not isinstance(account["ours"], bytes):
        return [account]
    storage_root = rlp.decode(account["ours"])[2]
    pool = Nodes([unb64(n) for n in storage["storageNodes"]], "x")
    checks = [account]
    for slot in storage["slots"]:
        key = keccak(_bytes(slot))
        check = _check(
            storage_root, key, storage["storageNodes"], lambda k=key: pool.walk(storage_root, k)
        )
        checks.append(check)
        if isinstance(check["ours"], ProofInvalid):
            break
    return checks


def _check(root: bytes, key: bytes, nodes: list[str], ours: Callable[[], Any]) -> dict[str, Any]:
    try:
        found = ours()
    except ProofInvalid as exc:
        found = exc
    return {"root": root, "key": key, "nodes": nodes, "ours": found}


def py_trie(check: dict[str, Any]) -> bytes | str | None:
    """The value py-trie finds, or its complaint (it wants nodes decoded, so an altered node
    may already fail to decode)."""
    try:
        nodes = [rlp.decode(unb64(n)) for n in check["nodes"]]
        return HexaryTrie.get_from_proof(check["root"], check["key"], nodes) or None
    except (BadTrieProof, DecodingError, ValidationError, KeyError, ValueError) as exc:
        return f"error: {exc!r}"


def ethereumjs(checks: list[dict[str, Any]], tmp_path: Path) -> list[Any]:
    path = tmp_path / "checks.json"
    wire = [
        {
            "root": "0x" + c["root"].hex(),
            "key": "0x" + c["key"].hex(),
            "nodes": [unb64(n).hex() for n in c["nodes"]],
        }
        for c in checks
    ]
    path.write_text(json.dumps(wire))
    run = node(str(JS / "ethereumjs.mjs"), str(path))
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(run.stdout)
    return [r if r is None or isinstance(r, dict) else bytes.fromhex(r[2:]) for r in results]


def test_honest_proofs_hold_for_ethereumjs_and_py_trie(cases: list[Case], tmp_path: Path) -> None:
    checks = [c for case in cases if "ok" in case["expect"] for c in trie_checks(case)]
    assert len(checks) >= 30
    from_ethereumjs = ethereumjs(checks, tmp_path)
    for check, theirs in zip(checks, from_ethereumjs, strict=True):
        value = check["ours"]
        assert not isinstance(value, ProofInvalid), (check, value)
        assert theirs == value, (check, theirs, value)
        assert py_trie(check) == value
    assert any(v is None for v in from_ethereumjs), "no proof of absence was cross-checked"


def test_tampered_proofs_fail_for_ethereumjs_and_py_trie(cases: list[Case], tmp_path: Path) -> None:
    honest = {}
    for case in cases:
        if "ok" in case["expect"]:
            for c in trie_checks(case):
                honest[(c["root"], c["key"])] = c["ours"]
    tampered = [
        c
        for case in cases
        if "altered" in case["name"] or "dropped" in case["name"]
        for c in trie_checks(case)
        if (c["root"], c["key"]) in honest and isinstance(c["ours"], ProofInvalid)
    ]
    assert len(tampered) >= 20
    for check, theirs in zip(tampered, ethereumjs(tampered, tmp_path), strict=True):
        assert theirs != honest[(check["root"], check["key"])], check
        assert py_trie(check) != honest[(check["root"], check["key"])], check


def test_every_header_rehashes_to_the_nodes_block_hash(world: World) -> None:
    for number in range(world.head + 1):
        block = world.call("eth_getBlockByNumber", hex(number), False)
        header = fetch_header(world.rpc, number)
        assert "0x" + header.hash.hex() == block["hash"]
        assert header.number == number and header.parent_hash.hex() == block["parentHash"][2:]
