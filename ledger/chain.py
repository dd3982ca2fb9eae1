"""The connection to the chain: providers, signing and sending transactions, receipts.

``connect`` opens a JSON-RPC endpoint (or the in-process py-evm chain) and checks it
answers. ``Sender`` signs transactions of one local key, hands out nonces safely to
concurrent threads, waits for receipts with a poll interval that suits fast local chains,
and turns reverts into the typed errors of ``ledger.reverts``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import TimeExhausted
from web3.types import Nonce, TxParams, TxReceipt

from ledger.errors import ChainUnavailable, LedgerError
from ledger.reverts import ErrorDecoder

PYEVM = "pyevm"


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

    @property
    def address(self) -> str:
        return str(self.account.address)

    def transact(self, fn: ContractFunction, gas: int | None = None) -> Sent:
        """Send a contract call and wait for its receipt; reverts become typed errors."""
        if self._chain_id is None:
            self._chain_id = self.w3.eth.chain_id
        params: TxParams = {"from": self.address, "chainId": self._chain_id}
        try:
            params["gas"] = gas or _with_margin(fn.estimate_gas(params))
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
        try:
            return self.w3.eth.wait_for_transaction_receipt(
                HexBytes(tx_hash), timeout=self.timeout, poll_latency=self.poll_interval
            )
        except Exception as exc:
            if is_connection_error(exc):
                raise ChainUnavailable(f"the chain went away while mining: {exc}") from exc
            if not isinstance(exc, TimeExhausted):
                raise
            raise ChainUnavailable(
                f"no receipt for {HexBytes(tx_hash).to_0x_hex()} after {self.timeout} s: "
                "the chain is not mining; check it and retry"
            ) from exc

    def _fees(self) -> dict[str, int]:
        block = self.w3.eth.get_block("pending")
        base = int(block.get("baseFeePerGas", 0))
        tip = 1_000_000_000 if base else 0
        return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}

    def _explain_failure(self, tx: TxParams, receipt: TxReceipt) -> LedgerError:
        replay = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value")}
        try:
            self.w3.eth.call(replay, receipt["blockNumber"] - 1)  # type: ignore[arg-type]
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


def local_account(private_key: str | bytes) -> LocalAccount:
    return Account.from_key(private_key)


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
