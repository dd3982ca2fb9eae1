"""A Hypothesis state machine of the ledger contract's rules, run against the real contract.

It drives random sequences of registrations (direct and relayed), revocations,
supersessions, attestations, attestation revocations and nonce raises, by keys of several
organisations and kinds and by the admin, and keeps a model of what each call must do: its
result or the exact custom error. After every step the model is compared with the chain
(``getDocument``, ``supersededBy``, ``getAttestation``, ``getKey``: the records the step
touched, the nonces, and every record at the end of each example), so the properties are:

- ownership: only a key of the issuing organisation (or the admin, for revoke) revokes or
  supersedes a record; only the author's organisation revokes an attestation; a refused
  call changes nothing;
- status transitions: registered -> revoked | superseded, never back, never from an
  inactive record; attestations only on active records;
- nonces: a relayed request is accepted only with the key's current nonce and consumes it;
  a wrong nonce, or a request that reverts for another reason, leaves it unchanged;
  ``increaseNonce`` only raises it.

Squatting (another organisation registering the same bytes first) is issue 14 item 1, open:
tests/contracts/test_squatting.py. The machine keeps each organisation to its own
fingerprints (and re-registrations by the same organisation), so it states only rules that
hold before and after that fix.

Used by tests/contracts/test_properties.py (bounded, in the suite) and by
scripts/property_run.py (the long run, >= 10,000 calls, on its own anvil).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from web3 import Web3

from ledger.chain.registry import Registry
from ledger.chain.relay import RegisterRequest, sign_request
from ledger.errors import ContractError
from ledger.types import DocStatus, Verdict

RAW_CID_PREFIX = bytes.fromhex("01551220")
REGISTRANTS = ("exporter", "exporter2", "issuer")
CUSTOMS = ("customs", "customs2")
EVERYONE = (*REGISTRANTS, *CUSTOMS, "admin")


@dataclass
class Doc:
    owner: str  # the role whose organisation registered it
    issuer: str  # the key's address
    doc_type: int
    status: DocStatus = DocStatus.REGISTERED
    superseded_by: bytes | None = None


@dataclass
class Att:
    author: str
    revoked: bool = False


@dataclass
class Setup:
    """What the machine runs against: a deployed contract, the actors' accounts, and two
    callables that snapshot and restore the chain (each example starts from the same state;
    a fresh ``Registry`` per example, so no cached transaction nonce outlives a restore)."""

    w3: Web3
    address: str
    accounts: dict[str, LocalAccount]
    snapshot: Any
    restore: Any
    calls: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)


def _cid() -> bytes:
    return RAW_CID_PREFIX + os.urandom(32)


class LedgerMachine(RuleBasedStateMachine):
    """Set ``LedgerMachine.setup`` before running (see the two users above)."""

    setup: Setup
    docs = Bundle("docs")
    atts = Bundle("atts")

    def __init__(self) -> None:
        super().__init__()
        self.s = type(self).setup
        self.snap = self.s.snapshot()
        self.registry = Registry(self.s.w3, self.s.address)
        self.model: dict[bytes, Doc] = {}
        self.attestations: dict[bytes, Att] = {}
        self.nonces = {r: self.registry.key_info(self.addr(r)).nonce for r in REGISTRANTS}
        self.refs = 0
        self.touched: set[bytes] = set()
        self.touched_atts: set[bytes] = set()

    def teardown(self) -> None:
        try:
            self.check_records(self.model)
            self.check_attestations(self.attestations)
        finally:
            self.s.restore(self.snap)

    # ------------------------------------------------------------ helpers

    def addr(self, role: str) -> str:
        return self.s.accounts[role].address

    def org(self, role: str) -> str:
        """Roles of one organisation share it; here each role is its own organisation."""
        return role

    def ref(self) -> str:
        self.refs += 1
        return f"REF-{self.refs}"

    def call(self, name: str, fn: Any, *args: Any) -> Any:
        self.touch(args)
        self.s.calls[name] += 1
        return fn(*args)

    def refused(self, name: str, error: str, fn: Any, *args: Any, **params: Any) -> None:
        """The call reverts with ``error`` (and these params)."""
        self.touch(args)
        self.s.calls[name] += 1
        self.s.refusals[name] += 1
        try:
            fn(*args)
        except ContractError as e:
            assert e.name == error, f"{name}: expected {error}, got {e.name}: {e}"
            for key, value in params.items():
                got = e.params[key]
                if isinstance(value, bytes):
                    value = "0x" + value.hex()
                if isinstance(value, str) and isinstance(got, str):
                    assert got.lower() == value.lower(), (name, key, got, value)
                else:
                    assert got == value, (name, key, got, value)
            return
        raise AssertionError(f"{name}: expected {error}, the call went through")

    def touch(self, args: tuple[Any, ...]) -> None:
        """Remember the records a call names, for the next step's check."""
        for arg in args:
            if isinstance(arg, bytes) and len(arg) == 32:
                self.touched.add(arg)
                self.touched_atts.add(arg)
            elif isinstance(arg, RegisterRequest):
                self.touched.add(arg.fingerprint)

    def sender(self, role: str) -> Any:
        return self.registry.sender(self.s.accounts[role])

    # ------------------------------------------------------------ registration

    @rule(target=docs, role=st.sampled_from(REGISTRANTS), doc_type=st.sampled_from([380, 720, 861]))
    def register(self, role: str, doc_type: int) -> bytes:
        fp = os.urandom(32)
        r = self.registry
        self.call("register", r.register, self.sender(role), fp, doc_type, _cid(), self.ref())
        self.model[fp] = Doc(role, self.addr(role), doc_type)
        return fp

    @rule(fp=docs)
    def register_again_by_its_owner(self, fp: bytes) -> None:
        doc = self.model.get(fp)
        if doc is None:  # a fingerprint of a refused call: never registered
            return
        r = self.registry
        self.refused(
            "register", "DocumentAlreadyRegistered", r.register,
            self.sender(doc.owner), fp, 380, _cid(), self.ref(), fingerprint=fp,
        )  # fmt: skip

    @rule(
        target=docs,
        role=st.sampled_from(REGISTRANTS),
        offset=st.sampled_from([0, 0, 0, -1, 1, 7]),
    )
    def relay(self, role: str, offset: int) -> bytes:
        """A request signed by ``role``'s key with its nonce (+ offset), relayed by another."""
        r = self.registry
        expected = self.nonces[role]
        nonce = expected + offset
        if nonce < 0:
            nonce = expected + 2
        fp = os.urandom(32)
        deadline = int(self.s.w3.eth.get_block("latest")["timestamp"]) + 3600
        request = RegisterRequest(
            self.addr(role), fp, 380, _cid(), self.ref(), b"", nonce, deadline
        )
        signature = sign_request(self.s.accounts[role], request, r.chain_id, r.address)
        relayer = self.sender("relayer")
        if nonce != expected:
            self.refused(
                "relay", "InvalidNonce", r.register_with_signature, relayer, request, signature,
                expected=expected, given=nonce,
            )  # fmt: skip
            return fp  # never registered: later rules on it expect UnknownDocument
        self.call("relay", r.register_with_signature, relayer, request, signature)
        self.nonces[role] = expected + 1
        self.model[fp] = Doc(role, self.addr(role), 380)
        return fp

    @rule(fp=docs)
    def relay_a_duplicate_keeps_the_nonce(self, fp: bytes) -> None:
        """A relayed request for a record its organisation already holds reverts, nonce unused."""
        doc = self.model.get(fp)
        if doc is None:
            return
        r = self.registry
        role = doc.owner
        deadline = int(self.s.w3.eth.get_block("latest")["timestamp"]) + 3600
        request = RegisterRequest(
            self.addr(role), fp, 380, _cid(), self.ref(), b"", self.nonces[role], deadline
        )
        signature = sign_request(self.s.accounts[role], request, r.chain_id, r.address)
        self.refused(
            "relay", "DocumentAlreadyRegistered", r.register_with_signature,
            self.sender("relayer"), request, signature, fingerprint=fp,
        )  # fmt: skip

    @rule(role=st.sampled_from(REGISTRANTS), step=st.sampled_from([1, 2, 3, 0]))
    def increase_nonce(self, role: str, step: int) -> None:
        r = self.registry
        current = self.nonces[role]
        if step == 0:
            self.refused(
                "increaseNonce", "NonceNotIncreased", r.increase_nonce, self.sender(role), current,
                current=current, given=current,
            )  # fmt: skip
            return
        self.call("increaseNonce", r.increase_nonce, self.sender(role), current + step)
        self.nonces[role] = current + step

    # ------------------------------------------------------------ revoke and supersede

    @rule(fp=docs, role=st.sampled_from(EVERYONE))
    def revoke(self, fp: bytes, role: str) -> None:
        r = self.registry
        doc = self.model.get(fp)
        args = (r.revoke, self.sender(role), fp, 1)
        if doc is None:
            self.refused("revoke", "UnknownDocument", *args, fingerprint=fp)
        elif doc.status != DocStatus.REGISTERED:
            self.refused("revoke", "DocumentNotActive", *args, status=int(doc.status))
        elif role != "admin" and self.org(role) != self.org(doc.owner):
            self.refused("revoke", "NotOwningOrganisation", *args, key=self.addr(role))
        else:
            self.call("revoke", *args)
            doc.status = DocStatus.REVOKED

    @rule(target=docs, fp=docs, role=st.sampled_from(EVERYONE))
    def supersede(self, fp: bytes, role: str) -> bytes:
        r = self.registry
        doc = self.model.get(fp)
        new = os.urandom(32)
        args = (r.supersede, self.sender(role), fp, new, 380, _cid(), self.ref())
        if doc is None:
            self.refused("supersede", "UnknownDocument", *args, fingerprint=fp)
        elif doc.status != DocStatus.REGISTERED:
            self.refused("supersede", "DocumentNotActive", *args, status=int(doc.status))
        elif role == "admin":  # the admin holds no organisation key
            self.refused("supersede", "UnknownKey", *args, key=self.addr(role))
        elif role not in REGISTRANTS:
            self.refused("supersede", "WrongOrganisationKind", *args, key=self.addr(role))
        elif self.org(role) != self.org(doc.owner):
            self.refused("supersede", "NotOwningOrganisation", *args, key=self.addr(role))
        else:
            self.call("supersede", *args)
            doc.status = DocStatus.SUPERSEDED
            doc.superseded_by = new
            self.model[new] = Doc(role, self.addr(role), 380)
        return new

    # ------------------------------------------------------------ attestations

    @rule(target=atts, fp=docs, role=st.sampled_from(CUSTOMS), verdict=st.sampled_from(Verdict))
    def attest(self, fp: bytes, role: str, verdict: Verdict) -> bytes:
        r = self.registry
        doc = self.model.get(fp)
        args = (r.attest, self.sender(role), fp, verdict, self.ref())
        if verdict == Verdict.NONE:
            self.refused("attest", "InvalidVerdict", *args)
        elif doc is None:
            self.refused("attest", "UnknownDocument", *args, fingerprint=fp)
        elif doc.status != DocStatus.REGISTERED:
            self.refused("attest", "DocumentNotActive", *args, status=int(doc.status))
        else:
            attestation_id, _ = self.call("attest", *args)
            assert attestation_id not in self.attestations
            self.attestations[attestation_id] = Att(role)
            self.touched_atts.add(bytes(attestation_id))
            return bytes(attestation_id)
        return os.urandom(32)  # no attestation: later rules on it expect UnknownAttestation

    @rule(att=atts, role=st.sampled_from(EVERYONE))
    def revoke_attestation(self, att: bytes, role: str) -> None:
        r = self.registry
        known = self.attestations.get(att)
        args = (r.revoke_attestation, self.sender(role), att)
        if known is None:
            self.refused("revokeAttestation", "UnknownAttestation", *args, id=att)
        elif known.revoked:
            self.refused("revokeAttestation", "AttestationAlreadyRevoked", *args, id=att)
        elif role == "admin":
            self.refused("revokeAttestation", "UnknownKey", *args, key=self.addr(role))
        elif self.org(role) != self.org(known.author):
            self.refused("revokeAttestation", "NotOwningOrganisation", *args, key=self.addr(role))
        else:
            self.call("revokeAttestation", *args)
            known.revoked = True

    # ------------------------------------------------------------ the chain agrees with the model

    @invariant()
    def touched_records_match(self) -> None:
        self.check_records({fp: d for fp, d in self.model.items() if fp in self.touched})
        self.check_attestations(
            {a: k for a, k in self.attestations.items() if a in self.touched_atts}
        )
        self.touched.clear()
        self.touched_atts.clear()

    def check_records(self, docs: dict[bytes, Doc]) -> None:
        r = self.registry
        for fp, doc in docs.items():
            got = r.document(fp)
            assert got is not None, f"{fp.hex()} lost"
            assert Web3.to_checksum_address(got.issuer) == Web3.to_checksum_address(doc.issuer)
            assert (got.doc_type, got.status) == (doc.doc_type, doc.status), (fp.hex(), got, doc)
            assert r.superseded_by(fp) == doc.superseded_by

    def check_attestations(self, atts: dict[bytes, Att]) -> None:
        r = self.registry
        for attestation_id, known in atts.items():
            got = r.attestation(attestation_id)
            assert got is not None and got.revoked == known.revoked
            assert Web3.to_checksum_address(got.attester) == self.addr(known.author)

    @invariant()
    def nonces_match(self) -> None:
        for role, nonce in self.nonces.items():
            assert self.registry.key_info(self.addr(role)).nonce == nonce, role
