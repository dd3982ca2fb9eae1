"""Key wraps: the RFC 9180 vectors pass through the project's HPKE code, an independent
HPKE implementation (pyca/cryptography's) agrees both ways, and a wrap opens only for its
recipient and its document."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from ledger.content import hash_bytes
from ledger.errors import InvalidInput, SealBroken
from ledger.sealing import (
    DocumentKey,
    Envelope,
    OrgKey,
    Wrap,
    add_recipient,
    open_bytes,
    seal_bytes,
    seal_envelope,
    unwrap_key,
    wrap_key,
)
from ledger.sealing.wrap import INFO, WRAP_SIZE, hpke_open, hpke_seal

VECTORS = Path(__file__).parent / "vectors" / "rfc9180-x25519-sha256-aes256gcm-base.json"
KZ_EXPORTER, KZ_CUSTOMS, AF_CUSTOMS, OUTSIDER = (OrgKey.generate() for _ in range(4))
INVOICE = b"%PDF-1.7 invoice 0001: 1,000 t wheat flour, USD 312,000"
SHA = hashlib.sha256(INVOICE).hexdigest()
OTHER_SHA = hashlib.sha256(b"another document").hexdigest()


def vectors() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(VECTORS.read_text())
    return found


def test_the_committed_vectors_are_the_suite_we_use() -> None:
    found = vectors()
    assert [(v["mode"], v["kem_id"], v["kdf_id"], v["aead_id"]) for v in found] == [(0, 32, 1, 2)]


@pytest.mark.parametrize("v", vectors(), ids=lambda v: "base-x25519-sha256-aes256gcm")
def test_rfc9180_vectors_pass_through_the_wrapping_code(v: dict[str, Any]) -> None:
    h = bytes.fromhex
    # The recipient's key pair as the project holds organisation keys.
    assert OrgKey.from_private(h(v["skRm"])).public == h(v["pkRm"])
    first = v["encryptions"][0]  # a single-shot seal is the context's first encryption
    enc, ct = hpke_seal(
        h(v["pkRm"]),
        h(first["pt"]),
        h(v["info"]),
        h(first["aad"]),
        ephemeral=(h(v["skEm"]), h(v["pkEm"])),
    )
    assert enc == h(v["enc"])
    assert ct == h(first["ct"])
    assert hpke_open(h(v["skRm"]), h(v["enc"]), h(first["ct"]), h(v["info"]), h(first["aad"])) == h(
        first["pt"]
    )
    with pytest.raises(SealBroken):  # one bit off and it is refused
        hpke_open(h(v["skRm"]), h(v["enc"]), h(first["ct"]), h(v["info"]), b"Count-1")


PYCA = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)


def test_an_independent_hpke_opens_our_wraps_and_we_open_its() -> None:
    key = DocumentKey.generate()
    wrap = wrap_key(key, AF_CUSTOMS.public, SHA)
    theirs = PYCA.decrypt(
        wrap.enc + wrap.sealed_key,
        X25519PrivateKey.from_private_bytes(AF_CUSTOMS.private),
        info=INFO + bytes.fromhex(SHA),
    )
    assert theirs == key.secret
    sealed = PYCA.encrypt(
        key.secret,
        X25519PublicKey.from_public_bytes(KZ_CUSTOMS.public),
        info=INFO + bytes.fromhex(SHA),
    )
    made_there = Wrap(KZ_CUSTOMS.public, sealed[:32], sealed[32:])
    assert unwrap_key(made_there, KZ_CUSTOMS.private, SHA) == key


def test_kz_invoice_opens_for_kz_and_af_customs_and_nobody_else() -> None:
    key = DocumentKey.generate()
    sealed = seal_bytes(INVOICE, key)
    envelope = seal_envelope(key, SHA, [KZ_EXPORTER.public, KZ_CUSTOMS.public, AF_CUSTOMS.public])
    for org in (KZ_EXPORTER, KZ_CUSTOMS, AF_CUSTOMS):
        assert (
            open_bytes(sealed, envelope.open(org.private, org.public), expect_sha256=SHA) == INVOICE
        )
    with pytest.raises(SealBroken, match="not wrapped for this organisation"):
        envelope.open(OUTSIDER.private, OUTSIDER.public)
    # An outsider that picks someone else's wrap cannot open it with its own key.
    with pytest.raises(SealBroken, match="names another recipient"):
        unwrap_key(envelope.wrap_for(AF_CUSTOMS.public), OUTSIDER.private, SHA)
    af = envelope.wrap_for(AF_CUSTOMS.public)
    relabelled = Wrap(OUTSIDER.public, af.enc, af.sealed_key)
    with pytest.raises(SealBroken, match="does not open"):  # and relabelling does not help
        unwrap_key(relabelled, OUTSIDER.private, SHA)


def test_a_wrap_for_another_document_is_refused() -> None:
    key = DocumentKey.generate()
    wrap = wrap_key(key, AF_CUSTOMS.public, OTHER_SHA)
    with pytest.raises(SealBroken, match="another document or recipient"):
        unwrap_key(wrap, AF_CUSTOMS.private, SHA)
    moved = Envelope(SHA, (wrap,))  # another document's wrap copied into this one's envelope
    with pytest.raises(SealBroken):
        moved.open(AF_CUSTOMS.private, AF_CUSTOMS.public)


@pytest.mark.parametrize("at", [1, 40, 70, 100, WRAP_SIZE - 1])  # recipient, enc, sealed key, tag
def test_a_tampered_wrap_is_refused(at: int) -> None:
    raw = bytearray(wrap_key(DocumentKey.generate(), AF_CUSTOMS.public, SHA).to_bytes())
    raw[at] ^= 0x01
    wrap = Wrap.from_bytes(bytes(raw))
    with pytest.raises(SealBroken):
        unwrap_key(wrap, AF_CUSTOMS.private, SHA)


def test_adding_a_recipient_later_leaves_the_stored_bytes_and_their_cid() -> None:
    key = DocumentKey.generate()
    sealed = seal_bytes(INVOICE, key)
    cid_before = hash_bytes(sealed).cid
    envelope = seal_envelope(key, SHA, [KZ_EXPORTER.public])
    with pytest.raises(SealBroken):
        envelope.open(AF_CUSTOMS.private, AF_CUSTOMS.public)
    wider = add_recipient(envelope, KZ_EXPORTER.private, KZ_EXPORTER.public, AF_CUSTOMS.public)
    assert wider.wraps[0] == envelope.wraps[0]  # the issuer's wrap is kept as it was
    assert open_bytes(sealed, wider.open(AF_CUSTOMS.private, AF_CUSTOMS.public)) == INVOICE
    assert hash_bytes(sealed).cid == cid_before  # nothing re-uploaded
    assert add_recipient(wider, KZ_EXPORTER.private, KZ_EXPORTER.public, AF_CUSTOMS.public) == wider
    with pytest.raises(SealBroken):  # only a recipient can add one
        add_recipient(envelope, OUTSIDER.private, OUTSIDER.public, OUTSIDER.public)


def test_envelope_json_round_trip_and_bad_input() -> None:
    envelope = seal_envelope(DocumentKey.generate(), SHA, [KZ_CUSTOMS.public, KZ_CUSTOMS.public])
    assert len(envelope.wraps) == 1  # a recipient named twice is wrapped for once
    assert Envelope.from_json(json.loads(json.dumps(envelope.to_json()))) == envelope
    for bad in (
        {**envelope.to_json(), "version": 2},
        {**envelope.to_json(), "wraps": ["00"]},
        {**envelope.to_json(), "sha256": "zz"},
        {"version": 1},
    ):
        with pytest.raises(InvalidInput):
            Envelope.from_json(bad)
    with pytest.raises(InvalidInput, match="at least one recipient"):
        seal_envelope(DocumentKey.generate(), SHA, [])


@pytest.mark.parametrize(
    ("public", "why"),
    [
        (b"\x01" * 31, "32 bytes"),
        (b"\x01" * 33, "32 bytes"),
        ("ab" * 32, "32 bytes"),  # hex text instead of bytes
        (bytes(32), "not X25519"),  # the all-zero point: no shared secret
    ],
)
def test_a_recipient_key_of_the_wrong_kind_is_refused(public: Any, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        wrap_key(DocumentKey.generate(), public, SHA)
