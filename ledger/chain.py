"""The connection to the chain: providers, signing and sending transactions, receipts.

``connect`` opens a JSON-RPC endpoint (or the in-process py-evm chain) and checks it
answers. ``Sender`` signs transactions of one local key, hands out nonces safely to
concurrent threads, waits for receipts with a poll interval that suits fast local chains,
and turns reverts into the typed errors of ``ledger.reverts``.

The hot path sends a registration in as few round trips as possible: the known ledger
functions get a fixed, generous gas limit instead of an ``eth_estimateGas`` per transaction
(a revert is then mined, and its reason recovered by replaying the call), fees are read at
most once per ``FEE_TTL`` seconds, and the receipt is asked for at once and then with a
growing interval.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import TransactionNotFound
from web3.types import Nonce, TxParams, TxReceipt

from ledger.errors import ChainUnavailable, LedgerError
from ledger.reverts import ErrorDecoder

PYEVM = "pyevm"

# Gas limits of the ledger's hot functions (by full signature, so another contract's
# function of the same name is still estimated). Each is at least twice the most the
# function was measured to use with the service's largest inputs (docs/benchmarks/gas.md:
# register 52.9k-53.5k, registerWithMetadata 56.5k, anchorBatch 51.6k and 70.6k the first
# time, registerWithSignature 68.3k); only the gas used is paid.
FIXED_GAS: dict[str, int] = {
    "register(bytes32,uint16,bytes4,bytes32,string)": 120_000,
    "registerWithMetadata(bytes32,uint16,bytes4,bytes32,string,bytes)": 140_000,
    "anchorBatch(bytes32,uint32,bytes)": 150_000,
    "registerWithSignature((address,bytes32,uint16,bytes4,bytes32,string,bytes,uint64,uint40),bytes)": 200_000,
}
FEE_TTL = 1.0  # seconds a fee quote is reused (the base fee moves at most 12.5% a block)
MAX_POLL = 0.1  # longest pause between two receipt polls


def connect(rpc_url: str, timeout: float = 10.0) -> Web3:
    """A Web3 for ``rpc_url`` (or ``"pyevm"`` for an in-process chain) that has answered once."""
    if rpc_url == PYEVM:
        return Web3(_serialised_tester_provider())
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    try:
        w3.eth.chain_id  # noqa: B018 - a first call proves the endpoint answers
    except (requests.RequestException, OSError) as exc:
        raise ChainUnavailable(
            f"the chain at {rpc_url} does not answer ({exc.__class__.__name__}): start it "
            "with `scripts/chain start` or set TRADELEDGER_RPC_URL"
        ) from exc
    return w3


def _serialised_tester_provider() -> Any:
    """An in-process py-evm provider that serves one request at a time.

    eth-tester's chain is not thread-safe: a gas estimate running while another thread's
    transaction is mined reads one nonce and validates against the next ("Invalid transaction
    nonce"). Real nodes serialise requests themselves; here a lock does.
    """
    from web3 import EthereumTesterProvider

    class SerialisedTesterProvider(EthereumTesterProvider):
        def __init__(self) -> None:
            super().__init__()
            self._request_lock = threading.RLock()

        def make_request(self, method: Any, params: Any) -> Any:
            with self._request_lock:
                return super().make_request(method, params)

    return SerialisedTesterProvider()


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, requests.RequestException | ConnectionError | OSError)


class TransactionFailed(LedgerError):
    """A transaction was mined but reverted without a recognisable custom error."""


@dataclass(frozen=True)
class Sent:
    """A mined transaction: its hash and receipt."""

    tx_hash: HexBytes
    receipt: TxReceipt

    @property
    def block_number(self) -> int:
        return int(self.receipt["blockNumber"])


class Sender:
    """Signs and sends the transactions of one key; safe to share between threads."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        decoder: ErrorDecoder,
        poll_interval: float = 0.002,
        timeout: float = 120.0,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.decoder = decoder
        self.poll_interval = poll_interval
        self.timeout = timeout
        self._lock = threading.Lock()
        self._nonce: int | None = None
        self._chain_id: int | None = None
        self._fee_quote: tuple[float, dict[str, int]] | None = None

    @property
    def address(self) -> str:
        return str(self.account.address)

    def transact(self, fn: ContractFunction, gas: int | None = None) -> Sent:
        """Send a contract call and wait for its receipt; reverts become typed errors."""
        try:
            if self._chain_id is None:
                self._chain_id = self.w3.eth.chain_id
            params: TxParams = {"from": self.address, "chainId": self._chain_id}
            params["gas"] = (
                gas or FIXED_GAS.get(fn.signature) or _with_margin(fn.estimate_gas(params))
            )
            fees = self._fees()
        except Exception as exc:
            typed = self.decoder.typed(exc)
            if typed is not None:
                raise typed from exc
            if is_connection_error(exc):
                raise ChainUnavailable(f"the chain does not answer: {exc}") from exc
            raise
        params["nonce"] = Nonce(0)  # the real nonce is taken under the lock in send()
        params.update(fees)  # type: ignore[typeddict-item]
        tx = fn.build_transaction(params)
        return self.send(tx)

    def send(self, tx: TxParams) -> Sent:
        """Sign ``tx`` with the next nonce, send it and wait for its receipt."""
        with self._lock:
            if self._nonce is None:
                self._nonce = self.w3.eth.get_transaction_count(self.account.address, "pending")
            tx["nonce"] = Nonce(self._nonce)
            signed = self.account.sign_transaction(tx)  # type: ignore[arg-type]
            try:
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            except Exception as exc:
                self._nonce = None  # re-read from the chain next time
                if is_connection_error(exc):
                    raise ChainUnavailable(f"the chain went away while sending: {exc}") from exc
                typed = self._typed(exc)  # Hardhat mines on submission and answers a revert
                if typed is not None:
                    raise typed from exc
                raise
            self._nonce += 1
        try:
            receipt = self.wait(tx_hash)
        except ChainUnavailable:
            self.resync()
            raise
        if receipt["status"] != 1:
            raise self._explain_failure(tx, receipt)
        return Sent(HexBytes(tx_hash), receipt)

    def resync(self) -> None:
        """Forget the cached nonce (after an outage the chain may have lost transactions)."""
        with self._lock:
            self._nonce = None

    def wait(self, tx_hash: bytes) -> TxReceipt:
        """The receipt of ``tx_hash``: asked for at once (a local chain mines on submission),
        then every ``poll_interval`` seconds, doubling up to ``MAX_POLL``, so that many
        concurrent waiters do not flood the node."""
        tx_hash = HexBytes(tx_hash)
        deadline = time.monotonic() + self.timeout
        pause = self.poll_interval
        while True:
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                pass
            except Exception as exc:
                if is_connection_error(exc):
                    raise ChainUnavailable(f"the chain went away while mining: {exc}") from exc
                raise
            if time.monotonic() > deadline:
                raise ChainUnavailable(
                    f"no receipt for {tx_hash.to_0x_hex()} after {self.timeout} s: "
                    "the chain is not mining; check it and retry"
                )
            time.sleep(pause)
            pause = min(2 * pause, max(MAX_POLL, self.poll_interval))

    def _typed(self, exc: BaseException) -> LedgerError | None:
        """The typed error behind ``exc``, also when it is a JSON-RPC error whose revert data
        sits in the response (``error.data`` or ``error.data.data``)."""
        typed = self.decoder.typed(exc)
        if typed is not None:
            return typed
        response = getattr(exc, "rpc_response", None)
        error = response.get("error") if isinstance(response, dict) else None
        data = error.get("data") if isinstance(error, dict) else None
        if isinstance(data, dict):
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
            try:
                return self.decoder.decode(bytes.fromhex(data[2:]))
            except Exception:  # malformed revert data: not a typed error
                return None
        return None

    def _fees(self) -> dict[str, int]:
        """EIP-1559 fees good for the next blocks: 2 x base fee + tip, reused for ``FEE_TTL``."""
        quote = self._fee_quote
        if quote is not None and time.monotonic() - quote[0] < FEE_TTL:
            return quote[1]
        block = self.w3.eth.get_block("pending")
        base = int(block.get("baseFeePerGas", 0))
        tip = 1_000_000_000 if base else 0
        fees = {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}
        self._fee_quote = (time.monotonic(), fees)
        return fees

    def _explain_failure(self, tx: TxParams, receipt: TxReceipt) -> LedgerError:
        """The typed error of a mined, reverted transaction: its call replayed where it ran."""
        if int(receipt["gasUsed"]) >= int(tx.get("gas", 0)):
            return TransactionFailed(
                f"transaction {receipt['transactionHash'].to_0x_hex()} ran out of gas "
                f"(limit {tx.get('gas')}) in block {receipt['blockNumber']}: retry; if it "
                "recurs, the fixed gas limit of this function is too low"
            )
        replay = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value")}
        # The state before its block, then after it (another transaction of the same block
        # may have caused the revert, e.g. a racing registration of the same fingerprint).
        for block in (receipt["blockNumber"] - 1, receipt["blockNumber"]):
            try:
                self.w3.eth.call(replay, block)  # type: ignore[arg-type]
            except Exception as exc:
                typed = self.decoder.typed(exc)
                if typed is not None:
                    return typed
        return TransactionFailed(
            f"transaction {receipt['transactionHash'].to_0x_hex()} reverted in block "
            f"{receipt['blockNumber']}: check the call's arguments and retry"
        )


def _with_margin(estimate: int) -> int:
    return estimate + estimate // 5 + 10_000


def wait_until_answers(rpc_url: str, timeout: float = 30.0) -> None:
    """Block until the endpoint answers ``eth_chainId`` or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            connect(rpc_url, timeout=1.0)
            return
        except ChainUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
