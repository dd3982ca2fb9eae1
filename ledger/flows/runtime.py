"""The running ledger: every long-lived part built once from the settings.

``Runtime`` holds the database engine, the chain connection and registry, the content
store, the outbox, the API keys, and the background threads that keep them honest: a chain
monitor (is the chain answering, which block is its head), the indexer, and the outbox
worker that finishes acknowledged work after an outage. The service and the CLI both use
it; nothing here knows about HTTP.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine
from web3 import HTTPProvider, Web3
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from ledger.chain import (
    Deployment,
    Registry,
    Sender,
    deployer_account,
    is_connection_error,
    load_key,
    read_record,
)
from ledger.config import Settings
from ledger.content import open_store
from ledger.datadir import keystore_secret, secure
from ledger.db import make_engine
from ledger.errors import ChainUnavailable, DeploymentError, Forbidden
from ledger.flows.gateway import check_held_keys, refuse_other
from ledger.flows.identity import ApiKeys, Role
from ledger.flows.outbox import Outbox
from ledger.index import Indexer
from ledger.ownership import Ownership, claim

log = logging.getLogger("tradeledger")


@dataclass
class ChainHealth:
    """What the chain monitor last saw."""

    head: int = -1
    last_ok: float = 0.0  # time.monotonic() of the last answer
    error: str | None = "not checked yet"
    indexed: int = -1  # last block the index holds
    head_hash: str | None = None  # hash of block ``head``
    # Each time the chain may have lost blocks (it came back after an outage, its head went
    # back, a block it showed was replaced) ``epoch`` grows; until the reconciler has checked
    # the acknowledged work against the chain after that (``reconciled`` catches up), nothing
    # mined but not final may be presented as registered.
    epoch: int = 1
    reconciled: int = 0


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    w3: Web3
    deployment: Deployment
    registry: Registry
    store: object
    outbox: Outbox
    api_keys: ApiKeys
    indexer: Indexer
    health: ChainHealth = field(default_factory=ChainHealth)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _accounts: dict[str, LocalAccount] = field(default_factory=dict)
    _accounts_lock: threading.Lock = field(default_factory=threading.Lock)
    _index_lock: threading.Lock = field(default_factory=threading.Lock)
    _indexed_changed: threading.Condition = field(default_factory=threading.Condition)
    _wake_indexer: threading.Event = field(default_factory=threading.Event)
    _wake_outbox: threading.Event = field(default_factory=threading.Event)
    _indexing: bool = False  # the indexer thread runs
    owner: Ownership | None = None  # the data folder's (and database's) lock

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        """Build every part; the chain may be down (the monitor notices when it returns).

        First the data folder is made private to this user (an older one is tightened)."""
        secure(settings.data_dir)
        deployment = read_record(settings.deployment_file)
        if deployment is None:
            raise DeploymentError(
                f"no deployment recorded in {settings.deployment_file}: run scripts/run or scripts/deploy"
            )
        keystore_secret(settings)  # Misconfigured, saying how, when there is none
        owner = claim(settings, "serve")  # DataFolderBusy, naming the holder
        try:
            return cls._build(settings, deployment, owner)
        except BaseException:
            owner.release()
            raise

    @classmethod
    def _build(cls, settings: Settings, deployment: Deployment, owner: Ownership) -> Runtime:
        engine = make_engine(settings.db_url)
        relaxed = make_engine(settings.db_url, durable=False)  # the index and outbox updates
        # Reads made to answer a request (and the health checks) give up after the short
        # lookup timeout, so a frozen chain answers 503/UNVERIFIABLE at once; transactions
        # and the background indexer's catch-up get the longer RPC timeout.
        lookups = _web3(settings.rpc_url, settings.lookup_timeout)
        background = _web3(settings.rpc_url, settings.rpc_timeout)
        registry = Registry(
            lookups,
            deployment.address,
            settings.receipt_poll_interval,
            settings.receipt_timeout,
            chain_id=deployment.chain_id,
            send_w3=background,
        )
        store = open_store(settings)
        indexer = Indexer(
            relaxed,
            Registry(background, deployment.address, chain_id=deployment.chain_id),
            deployment.block_number,
            settings.index_confirmations,
            store,
        )
        w3 = lookups
        return cls(
            settings,
            engine,
            w3,
            deployment,
            registry,
            store,
            Outbox(engine, relaxed),
            ApiKeys(engine, organisation=settings.organisation),
            indexer,
            owner=owner,
        )

    # ------------------------------------------------------------ keys and senders

    def account(self, keystore: str) -> LocalAccount:
        """The unlocked signing key of keystore ``keystore`` (``deployer`` is the admin's).

        Unlocked once, under a lock: a keystore's scrypt takes most of a second of CPU, and
        a burst of first requests must not run it once each."""
        account = self._accounts.get(keystore)
        if account is not None:
            return account
        with self._accounts_lock:
            if keystore not in self._accounts:
                account = (
                    deployer_account(self.settings)
                    if keystore == "deployer"
                    else load_key(self.settings, keystore)
                )
                if account is None:
                    raise Forbidden(
                        f"the service holds no signing key {keystore!r}: ask the admin to issue one"
                    )
                if keystore != "deployer" and self.settings.organisation is not None:
                    org = self.registry.key_info(account.address).org_id
                    refuse_other(self.settings.organisation, org, f"sign with key {keystore}")
                self._accounts[keystore] = account
            return self._accounts[keystore]

    def keep(self, keystore: str, account: LocalAccount) -> None:
        """Remember a key just created into ``keystore``: no need to unlock it again."""
        with self._accounts_lock:
            self._accounts.setdefault(keystore, account)

    def check_gateway(self) -> None:
        """As one organisation's gateway, refuse to serve while an API key is bound to
        another organisation's signing key (``ledger.flows.gateway``); needs the chain."""
        bindings = [
            (f"API key {a.key_id} ({a.label})", a.signing_key)
            for a in self.api_keys.list()
            if a.role != Role.ADMIN and a.signing_key is not None
        ]
        check_held_keys(self.settings, self.registry, bindings)

    def sender(self, keystore: str) -> Sender:
        return self.registry.sender(self.account(keystore))

    # ------------------------------------------------------------ health

    def chain_ok(self) -> bool:
        return time.monotonic() - self.health.last_ok < self.settings.chain_stale_after

    def chain_problem(self) -> str:
        """Why the chain counts as unreachable, for messages."""
        silent = time.monotonic() - self.health.last_ok
        return self.health.error or f"no answer for {silent:.0f} s"

    def require_chain(self) -> None:
        """Raise ``ChainUnavailable`` (503) unless the chain answered recently."""
        if not self.chain_ok():
            raise ChainUnavailable(
                f"the chain at {self.settings.rpc_url} is not answering ({self.chain_problem()}): "
                "retry in a few seconds"
            )

    def chain_head(self) -> int:
        """The newest block known: the monitor's last look, or what the indexer has
        reached since (never below what was indexed)."""
        return max(self.health.head, self.health.indexed)

    def chain_suspect(self) -> bool:
        """Whether the chain may have lost blocks since the reconciler last looked."""
        return self.health.reconciled < self.health.epoch

    def chain_disrupted(self, why: str) -> None:
        """The chain may have lost blocks: distrust what is not final, and look at once."""
        log.warning("the chain may have lost blocks (%s): re-checking acknowledged work", why)
        self.health.epoch += 1
        self._wake_indexer.set()
        self._wake_outbox.set()

    def check_chain(self) -> None:
        try:
            was_down = self.health.error is not None and self.health.last_ok > 0
            latest = self.w3.eth.get_block("latest")
            number, block_hash = int(latest["number"]), latest["hash"].to_0x_hex()
            seen, seen_hash = self.health.head, self.health.head_hash
            why = None
            if was_down:
                why = "it answers again after an outage"
            elif seen_hash is not None and number < seen:
                why = f"its head went back from block {seen} to {number}"
            elif seen_hash is not None and number == seen and block_hash != seen_hash:
                why = f"block {number} was replaced"
            elif seen_hash is not None and number > seen:
                old = self.w3.eth.get_block(seen)
                if old["hash"].to_0x_hex() != seen_hash:
                    why = f"block {seen} was replaced"
            self.health.head, self.health.head_hash = number, block_hash
            self.health.last_ok = time.monotonic()
            self.health.error = None
            if why is not None:
                self.chain_disrupted(why)
        except Exception as exc:
            self.health.error = f"{exc.__class__.__name__}: {exc}"[:200]
            if not is_connection_error(exc):
                log.warning("chain check failed: %s", exc)

    def sync_index(self) -> None:
        """Bring the index up to the chain head (one sync at a time)."""
        if not self.chain_ok():
            return
        with self._index_lock:
            self.indexer.sync(progress=self._indexed_up_to)
            self._indexed_up_to(self.indexer.indexed_block(), 0)

    def _indexed_up_to(self, block: int, _target: int) -> None:
        """After each committed range: rows a reader sees are never ahead of ``indexed``."""
        with self._indexed_changed:
            self.health.indexed = block
            self._indexed_changed.notify_all()

    def catch_up(self, timeout: float | None = None) -> None:
        """Wait until the index holds every block the chain has now (less the confirmations),
        at most ``timeout`` seconds (default: the lookup timeout); ``ChainUnavailable``
        otherwise. The indexer thread does the work, so requests waiting at once share it."""
        wait = self.settings.lookup_timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        self.require_chain()
        try:
            head = self.w3.eth.block_number
        except Exception as exc:
            if is_connection_error(exc):
                raise ChainUnavailable(
                    f"the chain at {self.settings.rpc_url} did not answer within "
                    f"{self.settings.lookup_timeout:g} s ({type(exc).__name__}): retry shortly"
                ) from exc
            raise
        target = head - self.settings.index_confirmations
        if not self._indexing:
            self.sync_index()
        with self._indexed_changed:
            self._wake_indexer.set()
            while self.health.indexed < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ChainUnavailable(
                        f"the index did not reach block {target} within {wait:g} s (it holds "
                        f"{self.health.indexed}): the chain is slow or the index is catching up; "
                        "retry shortly"
                    )
                self._indexed_changed.wait(left)

    # ------------------------------------------------------------ background work

    def start(self, outbox_worker: Callable[[], object] | None = None) -> None:
        """Start the monitor, the indexer and (if given) the outbox worker threads, and
        unlock the signing keys the API keys use, in the background (scrypt at its default
        cost takes about a second per keystore: no request should wait for it)."""
        self._spawn("unlock-keys", self._unlock_keys)
        self.health.indexed = self.indexer.indexed_block()
        self.check_chain()
        if self.chain_ok():  # else each key is checked when first unlocked (``account``)
            self.check_gateway()
        self._spawn("chain-monitor", self._loop(self.check_chain, 0.5))
        self._indexing = True
        self._spawn("indexer", self._index_loop)
        if outbox_worker is not None:
            self._spawn("outbox", self._loop(outbox_worker, 1.0, self._wake_outbox))

    def _loop(
        self, step: Callable[[], object], every: float, wake: threading.Event | None = None
    ) -> Callable[[], None]:
        def run() -> None:
            while not self._stop.is_set():
                if wake is not None:
                    wake.clear()
                try:
                    step()
                except Exception:
                    log.exception("background step %s failed", step)
                (wake or self._stop).wait(every)

        return run

    def _unlock_keys(self) -> None:
        names = {"deployer"} | {a.signing_key for a in self.api_keys.list() if a.signing_key}
        for name in sorted(names):
            if self._stop.is_set():
                return
            try:
                self.account(name)
            except Exception as exc:  # a request that needs it will say why
                log.warning("keystore %s not unlocked: %s", name, exc)

    def _index_loop(self) -> None:
        """Sync the index every poll interval, or at once when a request waits for it."""
        while not self._stop.is_set():
            self._wake_indexer.clear()
            try:
                self.sync_index()
            except Exception:
                log.exception("index sync failed")
            self._wake_indexer.wait(self.settings.index_poll_interval)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def close(self) -> None:
        self._stop.set()
        self._wake_indexer.set()
        self._wake_outbox.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self.registry.close()
        self.engine.dispose()
        self.outbox.relaxed.dispose()
        if self.owner is not None:
            self.owner.release()


def _web3(rpc_url: str, timeout: float) -> Web3:
    """A Web3 whose calls give up after ``timeout`` seconds. web3 retries a timed-out read
    five times by default (a hung chain would hold a request for a minute): only refused or
    reset connections are retried here, briefly; the chain monitor and the outbox worker do
    the longer-term retrying."""
    retry = ExceptionRetryConfiguration(
        errors=(requests.ConnectionError,), retries=3, backoff_factor=0.05
    )
    return Web3(
        HTTPProvider(
            rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=retry
        )
    )
