#!/usr/bin/env python3
"""The long run of the contract's property tests (issue 14 item 5).

    .venv/bin/python scripts/property_run.py [--calls 10000] [--steps 50]

Starts its own anvil (non-persistent, free port on 127.0.0.1; stopped by PID at the end),
deploys the contract from the artifact the package ships, admits one organisation per role
(two exporters, an issuing body, two customs offices) with a key each, and runs the
Hypothesis state machine of tests/contracts/ledger_machine.py (random registrations, relayed
registrations, revocations, supersessions, attestations and their revocations, nonce
raises; each call's result or exact custom error predicted by a model, the chain compared
with the model after every step) until at least ``--calls`` contract calls were made.
Prints its progress after each round of examples, then the calls per operation, the
refused ones, the examples run and the time taken.
The exit status is 1 if a property failed (Hypothesis prints the shrunk failing sequence).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eth_account import Account  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis.stateful import run_state_machine_as_test  # noqa: E402
from web3.types import Wei  # noqa: E402

from ledger.chain.localchain import LocalChain, free_port  # noqa: E402
from ledger.chain.registry import Registry, contract_factory  # noqa: E402
from ledger.chain.reverts import ErrorDecoder  # noqa: E402
from ledger.chain.sender import Sender, connect  # noqa: E402
from ledger.types import OrgKind  # noqa: E402
from tests.contracts.ledger_machine import LedgerMachine, Setup  # noqa: E402

KINDS = {
    "exporter": ("Exporter One LLP", "KZ", OrgKind.EXPORTER),
    "exporter2": ("Exporter Two LLP", "KZ", OrgKind.EXPORTER),
    "issuer": ("Chamber of Commerce", "KZ", OrgKind.ISSUING_BODY),
    "customs": ("Hairatan Customs", "AF", OrgKind.CUSTOMS),
    "customs2": ("Termez Customs", "UZ", OrgKind.CUSTOMS),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10_000, help="contract calls at least")
    parser.add_argument("--steps", type=int, default=50, help="steps per example")
    args = parser.parse_args(argv)
    # SIGTERM ends the run like Ctrl-C, so that the anvil it started is stopped too
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    with tempfile.TemporaryDirectory(prefix="property-run-") as folder:
        local = LocalChain("anvil", free_port(), Path(folder), persistent=False)
        local.start()
        try:
            return _run(local.url, args.calls, args.steps)
        finally:
            local.stop()


def _run(url: str, wanted: int, steps: int) -> int:
    w3 = connect(url)
    accounts = {role: Account.create() for role in (*KINDS, "admin", "relayer")}
    source = w3.eth.accounts[0]
    for account in accounts.values():
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": source, "to": account.address, "value": Wei(10**21)}),
            poll_latency=0.005,
        )
    admin_sender = Sender(w3, accounts["admin"], ErrorDecoder(contract_factory(w3).abi))
    registry, _ = Registry.deploy(admin_sender, accounts["admin"].address)
    admin = registry.sender(accounts["admin"])
    now = int(w3.eth.get_block("latest")["timestamp"])
    for role, (name, country, kind) in KINDS.items():
        org_id, _ = registry.admit_organisation(admin, name, country, kind)
        registry.add_key(admin, org_id, accounts[role].address, 1, now + 10 * 365 * 24 * 3600)

    setup = Setup(
        w3,
        registry.address,
        accounts,
        lambda: w3.provider.make_request("evm_snapshot", [])["result"],  # type: ignore[arg-type]
        lambda snap: w3.provider.make_request("evm_revert", [snap]),  # type: ignore[arg-type]
    )
    LedgerMachine.setup = setup
    started = time.monotonic()
    examples = 0
    failed = False
    while sum(setup.calls.values()) < wanted:
        batch = max(1, (wanted - sum(setup.calls.values())) // steps // 2)
        try:
            run_state_machine_as_test(
                LedgerMachine,
                settings=settings(
                    max_examples=batch,
                    stateful_step_count=steps,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                ),
            )
        except AssertionError as e:
            print(f"PROPERTY FAILED: {e}", file=sys.stderr)
            failed = True
            break
        examples += batch
        print(
            f"... {sum(setup.calls.values())} calls, {examples} examples, "
            f"{time.monotonic() - started:.0f} s",
            flush=True,
        )
    elapsed = time.monotonic() - started
    calls = setup.calls
    print(f"contract {registry.version()} on anvil {url}")
    print(f"examples: {examples} (up to {steps} steps each), time: {elapsed:.1f} s")
    print(f"contract calls: {sum(calls.values())}")
    for name, count in sorted(calls.items()):
        print(f"  {name:<18} {count:>6}  (refused as predicted: {setup.refusals[name]})")
    print("result:", "FAILED" if failed else "every property held")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
