"""Evidence bundle v2 verified with no network (issue 15): the honest bundles are VALID "as of"
the checkpoint's block, and the tamper matrix, offline: every edited field, proof node,
header field, receipt, log position, storage proof and checkpoint is INVALID naming the
broken part; a checkpoint older than the trust file allows is UNVERIFIABLE, never VALID."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_account.signers.local import LocalAccount
from jsonschema import Draft202012Validator

from ledger.chain import Rpc
from ledger.flows.bundleproofs import prove_bundle
from ledger.flows.offline import check_bundle_offline
from ledger.flows.verify import Verdict, Verification
from ledger.proofs import SCHEMA, Checkpoint, Signer, TrustFile, statement_at
from tests.api.conftest import Service, doc_bytes
from tests.api.test_bundle_tampering import _attest, _bundle

pytestmark = pytest.mark.chain

Bundle = dict[str, Any]
WEEK = 7 * 86400


@dataclass
class Offline:
    rpc: Rpc
    contract: str
    signers: list[LocalAccount]
    outsider: LocalAccount
    trust: TrustFile
    single: Bundle  # alone, two attestations, with metadata
    batched: Bundle  # a batch member, one attestation
    other: Bundle  # another document in another block
    before_revocation: Bundle  # of a document revoked after this bundle was made
    after_revocation: Bundle  # the same document, proven after the revocation

    def checkpoint(self, block: int | str = "latest", keys: list[LocalAccount] | None = None,
                   chain_id: int | None = None) -> Checkpoint:  # fmt: skip
        statement = statement_at(self.rpc, self.contract, block)
        if chain_id is not None:
            statement = Checkpoint(chain_id, statement.contract, statement.block_number,
                                   statement.block_hash, statement.timestamp)  # fmt: skip
        for key in self.signers[:2] if keys is None else keys:
            statement = statement.sign(bytes(key.key))
        return statement

    def prove(self, bundle: Bundle) -> Bundle:
        """``bundle`` made v2 with a checkpoint of the head and of each event's block, as the
        key holders would sign them."""
        blocks = {bundle["block_number"]} | {
            a["origin"]["block_number"] for a in bundle["attestations"]
        }
        return prove_bundle(
            self.rpc, bundle, [self.checkpoint()] + [self.checkpoint(b) for b in blocks]
        )

    def now(self, bundle: Bundle) -> int:
        return int(bundle["proofs"]["status"]["anchor"]["checkpoint"]["timestamp"]) + 60


@pytest.fixture(scope="module")
def made(svc: Service) -> Offline:
    _, single = svc.registered(
        "chamber", doc_type=861, ref="SMGS-OFFLINE-1",
        metadata='{"exporter": "Kostanay Flour LLP", "hs": "1101.00"}',
    )  # fmt: skip
    _attest(svc, single["sha256"], "cleared", "HRT-OFF-1")
    _attest(svc, single["sha256"], "held", "HRT-OFF-2")
    _, other = svc.registered("exporter", doc_type=380, ref="SMGS-OFFLINE-2")
    _, doomed = svc.registered("exporter", doc_type=705, ref="SMGS-OFFLINE-3")
    r = svc.http.post(
        "/v1/documents/batch",
        files=[("files", (f"m{i}.pdf", doc_bytes(f"offline-batch-{i}"))) for i in range(3)],
        data={"doc_type": ["720", "380", "851"], "consignment_ref": "SMGS-OFFLINE-B"},
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 201, r.text
    member = r.json()["documents"][2]["sha256"]
    _attest(svc, member, "verified", "HRT-OFF-3")
    for sha in (single["sha256"], other["sha256"], doomed["sha256"], member):
        svc.indexed(sha)
    signers = [Account.create() for _ in range(3)]
    registry = svc.rt.registry
    trust = TrustFile(
        registry.chain_id,
        bytes.fromhex(registry.address[2:]),
        tuple(Signer(bytes.fromhex(s.address[2:]), f"Member {i}") for i, s in enumerate(signers)),
        threshold=2,
        max_age=WEEK,
    )
    o = Offline(Rpc(svc.settings.rpc_url), registry.address, signers, Account.create(), trust,
                {}, {}, {}, {}, {})  # fmt: skip
    o.single = o.prove(_bundle(svc, single["sha256"], 2))
    o.batched = o.prove(_bundle(svc, member, 1))
    o.other = o.prove(_bundle(svc, other["sha256"], 0))
    o.before_revocation = o.prove(_bundle(svc, doomed["sha256"], 0))
    r = svc.http.post(
        f"/v1/documents/{doomed['sha256']}/revoke", json={"reason": "cancelled"},
        headers=svc.auth("exporter"),
    )  # fmt: skip
    assert r.status_code == 200, r.text
    svc.indexed(doomed["sha256"], "revoked")
    o.after_revocation = o.prove(_bundle(svc, doomed["sha256"], 0))
    return o


def check(made: Offline, bundle: Bundle, trust: TrustFile | None = None,
          now: int | None = None) -> Verification:  # fmt: skip
    return check_bundle_offline(bundle, trust or made.trust, now or made.now(bundle))


def test_bundles_fit_the_schema(made: Offline) -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = Draft202012Validator({**schema, "$ref": "#/$defs/bundle"})
    for bundle in (made.single, made.batched, made.other):
        errors = [e.message for e in validator.iter_errors(bundle)]
        assert not errors, errors
    v2_without_proofs = {k: v for k, v in made.single.items() if k != "proofs"}
    assert list(validator.iter_errors(v2_without_proofs)), "a v2 bundle must carry proofs"


def test_honest_bundles_are_valid_as_of_the_checkpoint(made: Offline) -> None:
    for bundle, attestations in ((made.single, 2), (made.batched, 1), (made.other, 0)):
        result = check(made, bundle)
        assert result.verdict == Verdict.VALID, result.reasons
        assert result.record is not None
        assert result.record.issuer.name == bundle["issuer"]["name"]
        assert result.record.cid == bundle["cid"]
        assert result.record.metadata_cid == bundle["metadata_cid"]
        assert [a.verdict for a in result.attestations] == [
            a["verdict"] for a in bundle["attestations"]
        ][:attestations]
        block = bundle["proofs"]["status"]["anchor"]["checkpoint"]["blockNumber"]
        assert result.as_of_block == block
        assert f"as of block {block}" in result.reasons[0]
    assert made.single["metadata_cid"] is not None
    assert made.batched["batch"] is not None


def test_a_revocation_after_the_checkpoint_is_valid_as_of_that_older_block(made: Offline) -> None:
    old = check(made, made.before_revocation)
    assert old.verdict == Verdict.VALID, old.reasons
    assert old.record is not None and old.record.status == "registered"
    new = check(made, made.after_revocation)
    assert new.verdict == Verdict.INVALID
    assert new.record is not None and new.record.status == "revoked"
    assert old.as_of_block is not None and new.as_of_block is not None
    assert old.as_of_block < new.as_of_block
    assert any(f"as of block {new.as_of_block}" in r for r in new.reasons)


def test_a_checkpoint_older_than_the_trust_file_allows_is_unverifiable(made: Offline) -> None:
    late = made.now(made.single) + WEEK
    result = check(made, made.single, now=late)
    assert result.verdict == Verdict.UNVERIFIABLE
    assert "checkpoint too old to rely on" in result.reasons[0], result.reasons


def test_a_version_1_bundle_is_unverifiable_offline(made: Offline) -> None:
    v1 = {k: v for k, v in made.single.items() if k != "proofs"} | {"version": 1}
    assert check(made, v1, now=made.now(made.single)).verdict == Verdict.UNVERIFIABLE


def test_another_chain_or_contract_in_the_trust_file_is_invalid(made: Offline) -> None:
    for trust in (
        TrustFile(made.trust.chain_id + 1, made.trust.contract, made.trust.signers, 2, WEEK),
        TrustFile(made.trust.chain_id, b"\x11" * 20, made.trust.signers, 2, WEEK),
    ):
        result = check(made, made.single, trust)
        assert result.verdict == Verdict.INVALID
        assert "another chain or contract" in result.reasons[0]


# ---------------------------------------------------------------------- the tamper matrix


def _blob(b64: str) -> bytes:
    return base64.b64decode(b64)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _set(path: str, value: Any) -> Callable[[Bundle, Offline], None]:
    def edit(b: Bundle, _: Offline) -> None:
        *parents, last = path.split(".")
        target: Any = b
        for p in parents:
            target = target[int(p)] if isinstance(target, list) else target[p]
        target[int(last) if isinstance(target, list) else last] = value

    return edit


def _header_field(index: int) -> Callable[[Bundle, Offline], None]:
    def edit(b: Bundle, _: Offline) -> None:
        header = b["proofs"]["registration"]["anchor"]["headers"][0]
        fields = rlp.decode(_blob(header["rlp"]))
        fields[index] = (
            bytes([fields[index][0] ^ 1]) + fields[index][1:] if fields[index] else b"\x01"
        )
        header["rlp"] = _b64(rlp.encode(fields))

    return edit


def _node(section: str, key: str, how: str) -> Callable[[Bundle, Offline], None]:
    def edit(b: Bundle, _: Offline) -> None:
        proof = b["proofs"][section][key.split(".")[0]]
        field = key.split(".")[1]
        nodes = proof[field]
        if how == "alter":
            raw = bytearray(_blob(nodes[-1]))
            raw[-1] ^= 1
            nodes[-1] = _b64(bytes(raw))
        elif how == "drop":
            del nodes[-1]
        else:
            nodes.reverse()

    return edit


def _from(other: str, path: str) -> Callable[[Bundle, Offline], None]:
    def edit(b: Bundle, made: Offline) -> None:
        source: Any = getattr(made, other)
        target: Any = b
        *parents, last = path.split(".")
        for p in parents:
            source, target = source[p], target[p]
        target[last] = copy.deepcopy(source[last])

    return edit


def _resign(keys: str, chain_offset: int = 0) -> Callable[[Bundle, Offline], None]:
    def edit(b: Bundle, made: Offline) -> None:
        cp = b["proofs"]["status"]["anchor"]["checkpoint"]
        who = {"outsider": [made.signers[0], made.outsider], "one": [made.signers[0]]}.get(
            keys, made.signers[:2]
        )
        signed = made.checkpoint(cp["blockNumber"], who, made.trust.chain_id + chain_offset)
        b["proofs"]["status"]["anchor"]["checkpoint"] = signed.to_json()

    return edit


def _log_position(b: Bundle, _: Offline) -> None:
    b["proofs"]["registration"]["receipt"]["logPosition"] += 1


def _batch_proof(b: Bundle, _: Offline) -> None:
    proof = b["batch"]["proof"]
    proof[0] = "0x" + ("00" if proof[0][2:4] != "00" else "11") + proof[0][4:]


Edit = Callable[[Bundle, Offline], None]
MATRIX: list[tuple[str, str, Edit, str]] = [
    # bundle fields the proofs contradict
    ("single", "issuer name", _set("issuer.name", "Forged Chamber"), "issuer.name"),
    ("single", "issuer key", _set("issuer.key", "0x" + "11" * 20), "issuer.key"),
    ("single", "issuer organisation", _set("issuer.org_id", 99), "issuer.org_id"),
    ("single", "issuer country", _set("issuer.country", "AF"), "issuer.country"),
    ("single", "document type", _set("doc_type", 380), "doc_type"),
    ("single", "CID", _set("cid", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"), "cid"),
    ("single", "consignment", _set("consignment_ref", "SMGS-FORGED"), "consignment_ref"),
    ("single", "metadata", _set("metadata_cid", None), "metadata_cid"),
    ("single", "registration time", _set("registered_at", 1), "registered_at"),
    ("single", "block number", _set("block_number", 1), "block_number"),
    ("single", "attestation verdict", _set("attestations.0.verdict", "rejected"), "attestations[0].verdict"),
    ("single", "attestation reference", _set("attestations.1.customs_ref", "X"), "attestations[1].customs_ref"),
    ("single", "attestation attester", _set("attestations.0.attester.name", "Termez"), "attestations[0].attester.name"),
    ("single", "attestation revoked claimed", _set("attestations.0.revoked", True), "attestations[0].revoked"),
    ("single", "attestation dropped", lambda b, _: b["attestations"].pop(), "proofs.attestations"),
    ("single", "status claimed", _set("status_when_issued", "revoked"), "status_when_issued"),
    ("batched", "batch member proof", _batch_proof, "batch.member"),
    ("batched", "batch root", _set("batch.root", "0x" + "22" * 32), "batch.root"),
    # proof material
    ("single", "header parentHash", _header_field(0), "proofs.registration.header"),
    ("single", "header receiptsRoot", _header_field(5), "proofs.registration.header"),
    ("single", "header gasUsed", _header_field(10), "proofs.registration.header"),
    ("single", "header timestamp", _header_field(11), "proofs.registration.header"),
    ("single", "receipt node altered", _node("registration", "receipt.nodes", "alter"), "proofs.registration.receipt"),
    ("single", "receipt node dropped", _node("registration", "receipt.nodes", "drop"), "proofs.registration.receipt"),
    ("single", "storage nodes reordered", _node("status", "storage.storageNodes", "reorder"), "proofs.status.storage"),
    ("single", "account nodes reordered", _node("status", "storage.accountNodes", "reorder"), "proofs.status.account"),
    ("single", "receipt of another transaction", _from("other", "proofs.registration.receipt"), "proofs.registration.receipt"),
    ("single", "log of another event", _log_position, "proofs.registration.event"),
    ("single", "storage node altered", _node("status", "storage.storageNodes", "alter"), "proofs.status.storage"),
    ("single", "storage node dropped", _node("status", "storage.storageNodes", "drop"), "proofs.status.storage"),
    ("single", "account node altered", _node("status", "storage.accountNodes", "alter"), "proofs.status.account"),
    ("single", "storage proof of another document", _from("other", "proofs.status.storage"), "proofs.status"),
    ("single", "storage proof at another block", _from("after_revocation", "proofs.status.anchor"), "proofs.status.account"),
    ("single", "checkpoint by an outsider", _resign("outsider"), "proofs.status.checkpoint"),
    ("single", "checkpoint below threshold", _resign("one"), "proofs.status.checkpoint"),
    ("single", "checkpoint for another chain", _resign("two", 1), "proofs.status.checkpoint"),
]  # fmt: skip


@pytest.mark.parametrize(("which", "what", "edit", "field"), MATRIX, ids=[m[1] for m in MATRIX])
def test_tampered_bundle_is_invalid_naming_the_part(
    made: Offline, which: str, what: str, edit: Edit, field: str
) -> None:
    original: Bundle = getattr(made, which)
    bundle = copy.deepcopy(original)
    edit(bundle, made)
    assert bundle != original, f"the edit {what!r} changed nothing"
    result = check(made, bundle, now=made.now(original))
    assert result.verdict == Verdict.INVALID, (what, result.reasons)
    assert any(t.startswith(field) for t in result.tampered), (
        what,
        result.tampered,
        result.reasons,
    )
