"""The tamper matrix (issue 14.4): an evidence bundle edited field by field is INVALID with the
field named, both offline (``check_bundle_on_chain``, what ``verify --bundle --rpc`` runs) and
through ``POST /v1/verify``; the answer's facts are the chain's, never the bundle's."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3
from web3.types import Wei

from ledger.chain import ErrorDecoder, Registry, Sender, connect, contract_factory
from ledger.cid import Cid
from ledger.flows.verify import Verdict, Verification, check_bundle_on_chain
from ledger.types import OrgKind
from tests.api.conftest import Service, doc_bytes, wait_until

pytestmark = pytest.mark.chain

Bundle = dict[str, Any]


@dataclass
class Made:
    w3: Web3
    trusted: tuple[int, str]
    single: Bundle  # registered alone, two attestations
    batched: Bundle  # a batch member, one attestation
    other: Bundle  # another document, in another block, with its own attestation
    copycat: str  # another deployment of the same contract on the same chain


def _attest(svc: Service, sha256: str, verdict: str, ref: str) -> str:
    r = svc.http.post(
        f"/v1/documents/{sha256}/attestations",
        json={"verdict": verdict, "reference": ref},
        headers=svc.auth("customs"),
    )
    assert r.status_code == 201, r.text
    attestation_id: str = r.json()["attestation_id"]
    return attestation_id


def _bundle(svc: Service, sha256: str, attestations: int) -> Bundle:
    """The service's evidence bundle, once the index holds every attestation."""
    got: dict[str, Bundle] = {}

    def ready() -> bool:
        r = svc.http.get(f"/v1/documents/{sha256}/evidence")
        got["b"] = r.json()
        return r.status_code == 200 and len(r.json()["attestations"]) == attestations

    wait_until(ready, what=f"the evidence of {sha256} with {attestations} attestations")
    return got["b"]


@pytest.fixture(scope="module")
def made(svc: Service) -> Made:
    _, single = svc.registered("chamber", doc_type=861, ref="SMGS-TAMPER-1")
    _attest(svc, single["sha256"], "cleared", "HRT-2026-1")
    _attest(svc, single["sha256"], "held", "HRT-2026-2")
    _, other = svc.registered("exporter", doc_type=380, ref="SMGS-TAMPER-2")
    _attest(svc, other["sha256"], "verified", "HRT-2026-3")
    r = svc.http.post(
        "/v1/documents/batch",
        files=[("files", (f"m{i}.pdf", doc_bytes(f"tamper-batch-{i}"))) for i in range(3)],
        data={"doc_type": ["720", "380", "851"], "consignment_ref": "SMGS-TAMPER-B"},
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 201, r.text
    member = r.json()["documents"][1]["sha256"]
    _attest(svc, member, "cleared", "HRT-2026-4")
    for sha in (single["sha256"], other["sha256"], member):
        svc.indexed(sha)

    # an attacker's own copy of the ledger on the same chain, naming itself the real chamber
    w3 = connect(svc.settings.rpc_url)
    admin, key = Account.create(), Account.create()
    for who in (admin, key):
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction(
                {"from": w3.eth.accounts[0], "to": who.address, "value": Wei(10**20)}
            ),
            poll_latency=0.01,
        )
    copy_registry, _ = Registry.deploy(
        Sender(w3, admin, ErrorDecoder(contract_factory(w3).abi)), admin.address
    )
    a = copy_registry.sender(admin)
    org, _ = copy_registry.admit_organisation(a, "Forged Chamber", "KZ", OrgKind.ISSUING_BODY)
    copy_registry.add_key(a, org, key.address, 1, 2**40 - 1)
    registry = svc.rt.registry
    return Made(
        w3,
        (registry.chain_id, registry.address),
        _bundle(svc, single["sha256"], 2),
        _bundle(svc, member, 1),
        _bundle(svc, other["sha256"], 1),
        copy_registry.address,
    )


def _check(made: Made, bundle: Bundle) -> Verification:
    return check_bundle_on_chain(bundle, made.w3, made.trusted)


def _via_service(svc: Service, bundle: Bundle) -> dict[str, Any]:
    r = svc.http.post("/v1/verify", json={"bundle": bundle})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_untouched_bundles_are_valid_with_the_chains_facts(svc: Service, made: Made) -> None:
    for bundle, attestations in ((made.single, 2), (made.batched, 1), (made.other, 1)):
        result = _check(made, bundle)
        assert result.verdict == Verdict.VALID, result.reasons
        assert result.tampered == []
        assert result.record is not None and result.record.sha256 == bundle["sha256"]
        assert result.record.issuer.name == bundle["issuer"]["name"]
        assert result.record.doc_type == bundle["doc_type"]
        assert result.record.cid == bundle["cid"]
        assert len(result.attestations) == attestations
        body = _via_service(svc, bundle)
        assert body["verdict"] == "VALID", body["reasons"]
        assert body["issuer"]["organisation"] == bundle["issuer"]["name"]
        assert [a["verdict"] for a in body["attestations"]] == [
            a["verdict"] for a in bundle["attestations"]
        ]
    # the chain, not the index, said so: the batch member is in no table of its own on chain
    assert made.batched["batch"] is not None


def _set(path: str, value: Any) -> Callable[[Bundle], None]:
    def edit(b: Bundle) -> None:
        *parents, last = path.split(".")
        target: Any = b
        for p in parents:
            target = target[int(p)] if isinstance(target, list) else target[p]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return edit


def _other_verdict(index: int) -> Callable[[Bundle], None]:
    def edit(b: Bundle) -> None:
        a = b["attestations"][index]
        a["verdict"] = "rejected" if a["verdict"] != "rejected" else "cleared"

    return edit


def _fake_attestation(b: Bundle) -> None:
    fake = copy.deepcopy(b["attestations"][0])
    fake["attestation_id"] = "0x" + "ab" * 32
    fake["verdict"] = "cleared"
    b["attestations"].append(fake)


def _block_of(made_other: Callable[[], Bundle]) -> Callable[[Bundle], None]:
    def edit(b: Bundle) -> None:
        other = made_other()
        b["block_number"], b["block_hash"] = other["block_number"], other["block_hash"]

    return edit


# (what, edit, the field the answer must name); each edit applied to a fresh copy
SINGLE: list[tuple[str, Callable[[Bundle], None], str]] = [
    ("issuer name", _set("issuer.name", "Chamber of Commerce of Afghanistan"), "issuer.name"),
    ("issuer country", _set("issuer.country", "AF"), "issuer.country"),
    ("issuer kind", _set("issuer.kind", "customs"), "issuer.kind"),
    ("issuer key", _set("issuer.key", "0x" + "11" * 20), "issuer.key"),
    ("issuer organisation", _set("issuer.org_id", 99), "issuer.org_id"),
    ("attestation verdict", _other_verdict(0), "attestations[0].verdict"),
    (
        "attestation reference",
        _set("attestations.1.customs_ref", "HRT-X"),
        "attestations[1].customs_ref",
    ),
    ("attestation time", _set("attestations.0.attested_at", 1), "attestations[0].attested_at"),
    (
        "attestation attester",
        _set("attestations.0.attester.name", "Tashkent"),
        "attestations[0].attester.name",
    ),
    ("attestation added", _fake_attestation, "attestations[2]"),
    (
        "attestation revoked claimed",
        _set("attestations.0.revoked", True),
        "attestations[0].revoked",
    ),
    ("doc type", _set("doc_type", 380), "doc_type"),
    ("consignment reference", _set("consignment_ref", "SMGS-FORGED"), "consignment_ref"),
    ("cid", _set("cid", str(Cid.of(0x55, b"forged"))), "cid"),
    ("registered_at", lambda b: b.update(registered_at=b["registered_at"] + 3600), "registered_at"),
    ("status", _set("status_when_issued", "revoked"), "status_when_issued"),
    ("log index", lambda b: b.update(log_index=b["log_index"] + 5), "log_index"),
    ("batch claimed", _set("batch", {"root": "0x" + "22" * 32, "proof": []}), "batch"),
    ("metadata", _set("metadata_cid", str(Cid.of(0x55, b"meta"))), "metadata_cid"),
]


@pytest.mark.parametrize(("what", "edit", "field"), SINGLE, ids=[w for w, _, _ in SINGLE])
def test_a_forged_field_of_a_single_bundle_is_named(
    svc: Service, made: Made, what: str, edit: Callable[[Bundle], None], field: str
) -> None:
    _forged_is_named(svc, made, made.single, edit, field)


BATCHED: list[tuple[str, Callable[[Bundle], None], str]] = [
    ("batch null", _set("batch", None), "batch"),
    ("batch root", _set("batch.root", "0x" + "33" * 32), "batch.root"),
    ("doc type", _set("doc_type", 861), "batch.member"),
    ("consignment reference", _set("consignment_ref", "SMGS-FORGED"), "batch.member"),
    ("issuer name", _set("issuer.name", "Demo Chamber"), "issuer.name"),
    ("attestation verdict", _other_verdict(0), "attestations[0].verdict"),
    ("registered_at", lambda b: b.update(registered_at=b["registered_at"] - 1), "registered_at"),
]


@pytest.mark.parametrize(("what", "edit", "field"), BATCHED, ids=[w for w, _, _ in BATCHED])
def test_a_forged_field_of_a_batch_bundle_is_named(
    svc: Service, made: Made, what: str, edit: Callable[[Bundle], None], field: str
) -> None:
    _forged_is_named(svc, made, made.batched, edit, field)


def test_a_block_swapped_for_another_real_block_is_named(svc: Service, made: Made) -> None:
    assert made.other["block_number"] != made.single["block_number"]
    edit = _block_of(lambda: made.other)
    result = _forged_is_named(svc, made, made.single, edit, "block_number")
    assert "block_hash" in result.tampered


def test_an_attestation_of_another_document_is_refused(svc: Service, made: Made) -> None:
    def moved(b: Bundle) -> None:
        b["attestations"].append(copy.deepcopy(made.other["attestations"][0]))

    _forged_is_named(svc, made, made.single, moved, "attestations[2]")


def _forged_is_named(
    svc: Service, made: Made, original: Bundle, edit: Callable[[Bundle], None], field: str
) -> Verification:
    forged = copy.deepcopy(original)
    edit(forged)
    assert forged != original
    result = _check(made, forged)
    assert result.verdict == Verdict.INVALID, result.reasons
    assert field in result.tampered, (result.tampered, result.reasons)
    assert any(r.startswith(f"tampered: {field}:") for r in result.reasons), result.reasons
    body = _via_service(svc, forged)
    assert body["verdict"] == "INVALID", body["reasons"]
    assert field in body["tampered"], body
    # what the answer shows is the chain's: the untouched bundle's facts, never the forgery's
    if result.record is not None:
        assert result.record.issuer.name == original["issuer"]["name"]
        assert result.record.issuer.country == original["issuer"]["country"]
        assert result.record.registered_at == original["registered_at"]
        assert body["issuer"]["organisation"] == original["issuer"]["name"]
    chain_verdicts = sorted(a.verdict for a in result.attestations)
    assert chain_verdicts == sorted(a["verdict"] for a in original["attestations"])
    return result


@pytest.mark.parametrize(
    "change",
    [{"chain_id": 1}, {"contract": "copycat"}, {"contract": "0x" + "44" * 20}],
    ids=["other chain id", "other deployment", "no contract"],
)
def test_a_bundle_of_another_deployment_says_so(
    svc: Service, made: Made, change: dict[str, Any]
) -> None:
    if change.get("contract") == "copycat":
        change = {"contract": made.copycat}
    forged = {**made.single, **change}
    result = _check(made, forged)
    assert result.verdict == Verdict.INVALID
    assert result.reasons[0].startswith("another chain or contract"), result.reasons
    body = _via_service(svc, forged)
    assert body["verdict"] == "INVALID" and body["reasons"][0].startswith(
        "another chain or contract"
    ), body
    # without a pinned contract, a chain id the endpoint is not on is still another chain
    if "chain_id" in change:
        loose = check_bundle_on_chain(forged, made.w3)
        assert loose.reasons[0].startswith("another chain or contract"), loose.reasons


def test_an_attestation_revoked_after_the_bundle_shows_revoked(svc: Service, made: Made) -> None:
    """Not tampering: the bundle was true when made. The answer shows the chain's word now."""
    _, rec = svc.registered("chamber", ref="SMGS-TAMPER-R")
    att = _attest(svc, rec["sha256"], "cleared", "HRT-2026-9")
    svc.indexed(rec["sha256"])
    bundle = _bundle(svc, rec["sha256"], 1)
    assert bundle["attestations"][0]["revoked"] is False
    r = svc.http.post(
        f"/v1/documents/{rec['sha256']}/attestations/{att}/revoke", headers=svc.auth("customs")
    )
    assert r.status_code == 200, r.text
    result = _check(made, bundle)
    assert result.verdict == Verdict.VALID, result.reasons
    assert [a.revoked for a in result.attestations] == [True]
    body = _via_service(svc, bundle)
    assert [a["revoked"] for a in body["attestations"]] == [True]


@pytest.mark.parametrize(
    "edit",
    [_set("attestations.0.origin", "x"), _set("attestations.0", 7), _set("tx_hash", "0x12")],
    ids=["origin not an object", "attestation not an object", "short tx hash"],
)
def test_a_malformed_bundle_is_refused_not_unverifiable(
    svc: Service, made: Made, edit: Callable[[Bundle], None]
) -> None:
    """A bundle the chain cannot even be asked about is the bundle's fault: never UNVERIFIABLE."""
    forged = copy.deepcopy(made.single)
    edit(forged)
    r = svc.http.post("/v1/verify", json={"bundle": forged})
    assert r.status_code == 422, r.text
    assert "the bundle's" in r.json()["detail"]


def test_a_member_of_a_batch_revoked_after_the_bundle_is_invalid(svc: Service, made: Made) -> None:
    """Issue 14: a whole-batch revocation reaches every member's bundle, recorded on its own
    (its record on chain still says registered) or not."""
    r = svc.http.post(
        "/v1/documents/batch",
        files=[("files", (f"rb{i}.pdf", doc_bytes(f"revoked-batch-b{i}"))) for i in range(2)],
        data={"doc_type": ["720", "380"], "consignment_ref": "SMGS-TAMPER-RB"},
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 201, r.text
    batch = r.json()
    shas = [d["sha256"] for d in batch["documents"]]
    _attest(svc, shas[0], "cleared", "HRT-2026-10")  # records the first member on its own
    for sha in shas:
        svc.indexed(sha)
    bundles = [_bundle(svc, sha, n) for sha, n in zip(shas, (1, 0), strict=True)]
    assert all(_check(made, b).verdict == Verdict.VALID for b in bundles)
    r = svc.http.post(
        f"/v1/documents/batches/{batch['root']}/revoke",
        json={"reason": "cancelled"},
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 200, r.text
    for bundle in bundles:
        result = _check(made, bundle)
        assert result.verdict == Verdict.INVALID, result.reasons
        assert any("revoked" in reason for reason in result.reasons), result.reasons
        assert _via_service(svc, bundle)["verdict"] == "INVALID"
