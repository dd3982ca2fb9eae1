"""The connection to the chain: providers, signing and sending transactions, receipts.

``connect`` opens a JSON-RPC endpoint (or the in-process py-evm chain) and checks it
answers. ``Sender`` signs transactions of one local key, hands out nonces safely to
concurrent threads, waits for receipts with a poll interval that suits fast local chains,
and turns reverts into the typed errors of ``ledger.chain.reverts``.

The hot path sends a registration in as few round trips, and as little CPU, as possible:
the known ledger functions get a fixed, generous gas limit instead of an ``eth_estimateGas``
per transaction (a revert is then mined, and its reason recovered by replaying the call),
fees are read at most once per ``FEE_TTL`` seconds, the transaction is signed by
``ledger.chain.signing`` and sent, and its receipt read, through the lean JSON-RPC client of
``ledger.chain.rpc`` (web3's machinery costs ~3 ms of CPU per transaction); the receipt is asked
for at once and then with a growing interval. web3 formats the receipt only when a caller
asks for ``Sent.receipt``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from eth_utils import abi_to_signature
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3._utils.contracts import encode_transaction_data
from web3._utils.method_formatters import receipt_formatter
from web3.contract.contract import ContractFunction
from web3.exceptions import TransactionNotFound
from web3.types import Nonce, TxParams, TxReceipt

from ledger.chain.reverts import ErrorDecoder
from ledger.chain.rpc import Rpc, RpcError
from ledger.chain.signing import Signer
from ledger.errors import ChainUnavailable, LedgerError
from ledger.groupsync import Batcher

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
NONCE_RETRIES = 3  # times a group refused for its nonces is sent again with a fresh one
GAP_CHECK = 1.0  # seconds without a receipt between two looks for a nonce gap below it


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


def lean_rpc(w3: Web3) -> Rpc | None:
    """The lean client for ``w3``'s endpoint, or None when it is not HTTP (the in-process chain)."""
    provider = w3.provider
    if not isinstance(provider, HTTPProvider):
        return None
    timeout = provider.get_request_kwargs().get("timeout", 10.0)
    return Rpc(str(provider.endpoint_uri), timeout=float(timeout))


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, requests.RequestException | ConnectionError | OSError)


class TransactionFailed(LedgerError):
    """A transaction was mined but reverted without a recognisable custom error."""


class Sent:
    """A mined transaction: its hash and receipt.

    The receipt is kept as the node sent it (hex strings) when it came through
    ``ledger.chain.rpc``; the properties read that form or web3's, and ``receipt`` gives web3's
    formatted ``TxReceipt`` (formatted on first use).
    """

    def __init__(self, tx_hash: bytes, receipt: Mapping[str, Any], raw: bool = False) -> None:
        self.tx_hash = HexBytes(tx_hash)
        self._receipt = receipt
        self._raw = raw

    @cached_property
    def receipt(self) -> TxReceipt:
        if self._raw:
            formatted: TxReceipt = receipt_formatter(dict(self._receipt))
            return formatted
        return self._receipt  # type: ignore[return-value]

    @property
    def block_number(self) -> int:
        return _int(self._receipt["blockNumber"])

    @property
    def block_hash(self) -> str:
        return _hex(self._receipt["blockHash"])

    @property
    def block_time(self) -> int | None:
        """The block's timestamp when the node puts it in receipts (anvil does), else None."""
        value = self._receipt.get("blockTimestamp")
        return None if value is None else _int(value)

    @property
    def status(self) -> int:
        return _int(self._receipt["status"])

    @property
    def gas_used(self) -> int:
        return _int(self._receipt["gasUsed"])

    def log_indexes(self, address: str, topic: bytes) -> list[int]:
        """The block-wide indexes of the logs ``address`` emitted with first topic ``topic``."""
        address, wanted = address.lower(), "0x" + topic.hex()
        return [
            _int(log["logIndex"])
            for log in self._receipt["logs"]
            if _hex(log["address"]) == address
            and log["topics"]
            and _hex(log["topics"][0]) == wanted
        ]


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _hex(value: Any) -> str:
    return value.lower() if isinstance(value, str) else "0x" + bytes(value).hex()


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
        self._rpc = lean_rpc(w3)
        self._signer = Signer(account.key)
        # The in-process chain takes one transaction at a time.
        size = None if self._rpc is not None else 1
        self._submit: Batcher[TxParams, bytes] = Batcher(self._send_group, size)
        self._receipts: Batcher[bytes, Sent | None] = Batcher(self._read_receipts, size)
        self._lock = threading.Lock()  # guards the nonce
        self._gap_lock = threading.Lock()  # one look for a nonce gap at a time
        self._nonce: int | None = None
        self._chain_id: int | None = None
        self._fee_quote: tuple[float, dict[str, int]] | None = None

    @property
    def address(self) -> str:
        return str(self.account.address)

    def transact(self, fn: ContractFunction, gas: int | None = None) -> Sent:
        """Send a contract call and wait for its receipt; reverts become typed errors."""
        data = encode_transaction_data(
            fn.w3, abi_to_signature(fn.abi), fn.contract_abi, fn.abi, fn.args, fn.kwargs
        )
        return self.transact_data(fn.address, HexBytes(data), gas or FIXED_GAS.get(fn.signature))

    def transact_data(self, to: str, data: bytes, gas: int | None = None) -> Sent:
        """Send ``data`` to contract ``to`` (gas estimated unless given) and wait for the receipt."""
        tx: dict[str, Any] = {"from": self.address, "to": to, "data": data, "value": 0}
        try:
            if self._chain_id is None:
                self._chain_id = self.w3.eth.chain_id
            tx["chainId"] = self._chain_id
            tx["gas"] = gas or _with_margin(self.w3.eth.estimate_gas(tx))  # type: ignore[arg-type]
            tx.update(self._fees())
        except Exception as exc:
            typed = self.decoder.typed(exc)
            if typed is not None:
                raise typed from exc
            if is_connection_error(exc):
                raise ChainUnavailable(f"the chain does not answer: {exc}") from exc
            raise
        return self.send(tx)  # type: ignore[arg-type]

    def send(self, tx: TxParams) -> Sent:
        """Sign ``tx`` with the next nonce, send it and wait for its receipt.

        Concurrent callers are served in groups (``ledger.groupsync.Batcher``): one of them
        signs every queued transaction with consecutive nonces and sends them all in one
        JSON-RPC batch, and receipts are read in batches too, so a local chain mines a
        whole group in one block and the node sees two requests per group, not per call.
        """
        tx_hash = self._submit(tx)
        try:
            sent = self.wait(tx_hash, tx.get("nonce"))
        except ChainUnavailable:
            self.resync()
            raise
        if sent.status != 1:
            raise self._explain_failure(tx, sent)
        return sent

    def _send_group(self, txs: list[TxParams]) -> list[bytes | BaseException]:
        """Sign and send ``txs`` with consecutive nonces: each one's hash or error.

        If the node refuses the whole group for its nonces (the cached nonce went stale:
        the chain lost blocks, or a transaction held behind a gap took the nonce), the nonce
        is read again and the group sent again, a few times."""
        for _ in range(NONCE_RETRIES):
            results = self._send_group_once(txs)
            if not all(_nonce_conflict(r) for r in results):
                return results
        return results

    def _send_group_once(self, txs: list[TxParams]) -> list[bytes | BaseException]:
        with self._lock:
            try:
                if self._nonce is None:
                    self._nonce = self.w3.eth.get_transaction_count(self.account.address, "pending")
            except Exception as exc:
                return [self._send_error(exc) for _ in txs]
            signed = []
            for i, tx in enumerate(txs):
                tx["nonce"] = Nonce(self._nonce + i)
                signed.append(self._sign(tx))
            errors = self._send_raws([raw for raw, _ in signed])
            if not any(errors):
                self._nonce += len(txs)
                return [tx_hash for _, tx_hash in signed]
            self._nonce = None  # re-read from the chain next time
            for i, error in enumerate(errors):
                if error is not None and any(e is None for e in errors[i + 1 :]):
                    self._fill_gap(txs[i])
            return [
                tx_hash if error is None else self._send_error(error)
                for (_, tx_hash), error in zip(signed, errors, strict=True)
            ]

    def _send_raws(self, raws: list[bytes]) -> list[BaseException | None]:
        """Send signed transactions in order (one batch over JSON-RPC): each one's error."""
        try:
            if self._rpc is None:  # the in-process chain: one at a time (see _submit)
                self.w3.eth.send_raw_transaction(raws[0])
                return [None]
            if len(raws) == 1:
                self._rpc.call("eth_sendRawTransaction", ["0x" + raws[0].hex()])
                return [None]
            calls = [("eth_sendRawTransaction", ["0x" + raw.hex()]) for raw in raws]
            errors: list[BaseException | None] = [
                r if isinstance(r, RpcError) else None for r in self._rpc.batch(calls)
            ]
        except Exception as exc:
            return [exc for _ in raws]
        # A node may run a batch's calls concurrently; one that cannot queue a nonce ahead
        # of its predecessors (Hardhat when automining) refuses it: send those again, in order.
        for i, error in enumerate(errors):
            if error is not None and "nonce too high" in str(error).lower():
                try:
                    self._rpc.call(*calls[i])
                    errors[i] = None
                except Exception as exc:
                    errors[i] = exc
        return errors

    def _fill_gap(self, tx: TxParams) -> None:
        """The node refused ``tx`` but accepted later nonces, which now wait behind a gap:
        fill it with an empty transfer to ourselves (harmless if the nonce was used after
        all, e.g. by a transaction Hardhat mined and reported as reverted)."""
        filler = {
            "to": self.address,
            "value": 0,
            "data": b"",
            "gas": 21_000,
            "nonce": tx["nonce"],
            "chainId": tx["chainId"],
            "maxFeePerGas": tx["maxFeePerGas"],
            "maxPriorityFeePerGas": tx["maxPriorityFeePerGas"],
        }
        with contextlib.suppress(Exception):
            self._send_raws([self._sign(filler)[0]])  # type: ignore[arg-type]

    def _send_error(self, exc: BaseException) -> BaseException:
        if is_connection_error(exc):
            error: BaseException = ChainUnavailable(f"the chain went away while sending: {exc}")
        else:  # Hardhat mines on submission and answers a revert
            error = self._typed(exc) or exc
        if error is not exc:
            error.__cause__ = exc
        return error

    def _sign(self, tx: TxParams) -> tuple[bytes, bytes]:
        signed = self._signer.sign_dynamic_fee(tx)  # type: ignore[arg-type]
        if signed is not None:
            return signed
        other = self.account.sign_transaction(tx)  # type: ignore[arg-type]
        return bytes(other.raw_transaction), bytes(other.hash)

    def _read_receipts(self, hashes: list[bytes]) -> list[Sent | BaseException | None]:
        """The receipts of ``hashes`` so far (None: not mined yet), in one batch."""
        if self._rpc is None:
            try:
                return [Sent(hashes[0], self.w3.eth.get_transaction_receipt(HexBytes(hashes[0])))]
            except TransactionNotFound:
                return [None]
        calls = [("eth_getTransactionReceipt", ["0x" + h.hex()]) for h in hashes]
        results = self._rpc.batch(calls) if len(calls) > 1 else [self._rpc.call(*calls[0])]
        return [
            r if r is None or isinstance(r, RpcError) else Sent(h, r, raw=True)
            for h, r in zip(hashes, results, strict=True)
        ]

    def close(self) -> None:
        if self._rpc is not None:
            self._rpc.close()

    def resync(self) -> None:
        """Forget the cached nonce (after an outage the chain may have lost transactions)."""
        with self._lock:
            self._nonce = None

    def wait(self, tx_hash: bytes, nonce: int | None = None) -> Sent:
        """The mined transaction ``tx_hash``: its receipt asked for at once (a local chain
        mines on submission), then every ``poll_interval`` seconds, doubling up to
        ``MAX_POLL``, so that many concurrent waiters do not flood the node.

        Every ``GAP_CHECK`` seconds without a receipt, a transaction of ``nonce`` looks for
        a gap below it (``_repair_gap``): after the chain lost blocks, nonces this sender
        handed out may be missing from it, and the node holds the later ones back forever."""
        tx_hash = bytes(tx_hash)
        deadline = time.monotonic() + self.timeout
        gap_check = time.monotonic() + GAP_CHECK
        pause = self.poll_interval
        while True:
            try:
                sent = self._receipts(tx_hash)
            except Exception as exc:
                if is_connection_error(exc):
                    raise ChainUnavailable(f"the chain went away while mining: {exc}") from exc
                raise
            if sent is not None:
                return sent
            if nonce is not None and time.monotonic() > gap_check:
                self._repair_gap(tx_hash, nonce)
                gap_check = time.monotonic() + GAP_CHECK
            if time.monotonic() > deadline:
                raise ChainUnavailable(
                    f"no receipt for 0x{tx_hash.hex()} after {self.timeout} s: "
                    "the chain is not mining; check it and retry"
                )
            time.sleep(pause)
            pause = min(2 * pause, max(MAX_POLL, self.poll_interval))

    def _repair_gap(self, tx_hash: bytes, nonce: int) -> None:
        """Fill the nonces the node lacks below ``nonce`` with empty transfers to ourselves,
        so the transactions held behind them are mined (the jobs the chain lost are sent
        again by the outbox worker, with new nonces). If the node does not know ``tx_hash``
        at all, it was dropped: ``ChainUnavailable``, and the nonce is read again."""
        with self._gap_lock:
            try:
                missing = self.w3.eth.get_transaction_count(self.account.address, "pending")
                known = self._rpc_call("eth_getTransactionByHash", ["0x" + tx_hash.hex()])
            except Exception as exc:
                if is_connection_error(exc):
                    raise ChainUnavailable(f"the chain went away while mining: {exc}") from exc
                return
            if known is None:
                self.resync()
                raise ChainUnavailable(
                    f"the node dropped transaction 0x{tx_hash.hex()} (it restarted?): it is "
                    "sent again"
                )
            if missing >= nonce:
                return  # no gap below it: it waits for a block like any other
            fees = self._fees()
            chain_id = self._chain_id or self.w3.eth.chain_id
            for gap in range(missing, nonce):
                self._fill_gap({"nonce": Nonce(gap), "chainId": chain_id, **fees})  # type: ignore[typeddict-item]

    def _rpc_call(self, method: str, params: list[Any]) -> Any:
        if self._rpc is not None:
            return self._rpc.call(method, params)
        reply = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        return reply.get("result")

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

    def _explain_failure(self, tx: TxParams, sent: Sent) -> LedgerError:
        """The typed error of a mined, reverted transaction: its call replayed where it ran."""
        where = f"transaction {sent.tx_hash.to_0x_hex()} in block {sent.block_number}"
        if sent.gas_used >= int(tx.get("gas", 0)):
            return TransactionFailed(
                f"{where} ran out of gas (limit {tx.get('gas')}): retry; if it recurs, the "
                "fixed gas limit of this function is too low"
            )
        replay = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value")}
        # The state before its block, then after it (another transaction of the same block
        # may have caused the revert, e.g. a racing registration of the same fingerprint).
        for block in (sent.block_number - 1, sent.block_number):
            try:
                self.w3.eth.call(replay, block)  # type: ignore[arg-type]
            except Exception as exc:
                typed = self.decoder.typed(exc)
                if typed is not None:
                    return typed
        return TransactionFailed(f"{where} reverted: check the call's arguments and retry")


def _nonce_conflict(result: bytes | BaseException) -> bool:
    text = str(result).lower() if isinstance(result, BaseException) else ""
    return any(
        words in text
        for words in ("nonce too low", "replacement transaction underpriced", "already known")
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
