"""Headers of a Prague chain (anvil ``--hardfork prague``: requestsHash, 21 fields) re-hash
too; a field the code does not know is caught when the header is fetched, not later; and on
Prague a later block's state proves an earlier block's hash (EIP-2935), with no header in
between."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ledger.chain import LocalChain, Rpc, free_port
from ledger.errors import ProofInvalid
from ledger.proofs import fetch_header, prove_storage, verify_storage

HISTORY = "0x0000F90827F1C53a10cb7A02335B175320002935"  # EIP-2935's block-hash contract
HISTORY_WINDOW = 8191


class PragueAnvil(LocalChain):
    def command(self) -> list[str]:
        cmd = super().command()
        cmd[cmd.index("--hardfork") + 1] = "prague"
        return cmd


@pytest.fixture(scope="module")
def prague(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rpc]:
    chain = PragueAnvil("anvil", free_port(), tmp_path_factory.mktemp("prague"), persistent=False)
    chain.start()
    try:
        rpc = Rpc(chain.url)
        for _ in range(5):
            rpc.call("evm_mine", [])
        yield rpc
    finally:
        chain.stop()


def test_prague_headers_rehash(prague: Rpc) -> None:
    for number in range(6):
        header = fetch_header(prague, number)
        assert (
            "0x" + header.hash.hex()
            == prague.call("eth_getBlockByNumber", [hex(number), False])["hash"]
        )
        assert len(header.fields) == 21


class OlderCode(Rpc):
    """A node as code that does not know Prague's field would see it: no requestsHash."""

    def call(self, method: str, params: list[Any]) -> Any:
        answer = super().call(method, params)
        if method == "eth_getBlockByNumber" and answer:
            answer.pop("requestsHash", None)
        return answer


def test_a_field_the_code_does_not_know_is_named_at_once(prague: Rpc) -> None:
    with pytest.raises(ProofInvalid, match=r"add it to ledger/proofs/headers\.py FIELDS") as error:
        fetch_header(OlderCode(prague.url), 3)
    assert error.value.problem == "hash_mismatch"


def test_a_later_blocks_state_proves_an_earlier_blocks_hash(prague: Rpc) -> None:
    later = fetch_header(prague, 5)
    earlier = fetch_header(prague, 2)
    slot = earlier.number % HISTORY_WINDOW
    proof = prove_storage(prague, HISTORY, [slot], later.number)
    values = verify_storage(proof, later, bytes.fromhex(HISTORY[2:]), [slot])
    assert values[slot].to_bytes(32, "big") == earlier.hash
