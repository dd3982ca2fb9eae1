"""The Python verifier on honest proofs from anvil and a Hardhat node, and on the tamper matrix."""

from __future__ import annotations

from tests.proofs.cases import Case, run_case


def test_each_case_gets_its_verdict(cases: list[Case]) -> None:
    wrong = [(c["name"], run_case(c), c["expect"]) for c in cases]
    wrong = [w for w in wrong if w[1] != w[2]]
    assert not wrong, "\n".join(f"{n}: got {got}, expected {exp}" for n, got, exp in wrong)


def test_the_matrix_covers_every_part(cases: list[Case]) -> None:
    """Every part and problem the verifiers can name is met by some case."""
    named = {
        (c["expect"]["error"]["part"], c["expect"]["error"]["problem"])
        for c in cases
        if "error" in c["expect"]
    }
    assert len([c for c in cases if "ok" in c["expect"]]) >= 25
    for part, problem in [
        ("header", "hash_mismatch"),
        ("header", "claim_mismatch"),
        ("header", "malformed"),
        ("header chain", "broken_link"),
        ("receipt", "node_mismatch"),
        ("receipt", "incomplete"),
        ("receipt", "extra_nodes"),
        ("receipt", "absent"),
        ("event", "unexpected_event"),
        ("event", "no_such_log"),
        ("account", "node_mismatch"),
        ("account", "wrong_account"),
        ("storage", "node_mismatch"),
        ("storage", "missing_slot"),
        ("checkpoint", "unknown_signer"),
        ("checkpoint", "below_threshold"),
        ("checkpoint", "wrong_chain"),
        ("checkpoint", "wrong_contract"),
        ("checkpoint", "bad_signature"),
        ("checkpoint", "block_mismatch"),
        ("checkpoint", "too_old"),
        ("checkpoint", "in_future"),
    ]:
        assert (part, problem) in named, (part, problem)
