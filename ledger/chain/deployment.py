"""The deployment record: which contract on which chain, and whether that chain still has it.

``ensure_deployed`` reuses a live deployment, deploys when there is none, and notices a
chain that no longer holds the recorded one (a reset or wiped local chain): on a local
chain it archives the stale record and deploys afresh, saying so; on any other chain it
refuses, because silently deploying a second registry would split the ledger.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.types import Wei

from ledger.chain.keys import load_or_create_key
from ledger.chain.registry import CONTRACT_NAME, CONTRACT_VERSION, Registry, contract_factory
from ledger.chain.reverts import ErrorDecoder
from ledger.chain.sender import Sender, connect
from ledger.config import Settings
from ledger.datadir import write_private
from ledger.errors import DeploymentError

Outcome = Literal["reused", "deployed", "redeployed"]


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    address: str
    block_number: int
    block_hash: str
    tx_hash: str
    deployer: str
    admin: str
    code_hash: str
    version: str
    deployed_at: str
    contract: str = CONTRACT_NAME


def read_record(path: Path) -> Deployment | None:
    if not path.exists():
        return None
    return Deployment(**json.loads(path.read_text()))


def write_record(path: Path, deployment: Deployment) -> None:
    write_private(path, (json.dumps(asdict(deployment), indent=2) + "\n").encode())


def problem(w3: Web3, deployment: Deployment) -> str | None:
    """Why the chain behind ``w3`` does not hold ``deployment``, or None if it does."""
    chain_id = w3.eth.chain_id
    if chain_id != deployment.chain_id:
        return f"the chain's id is {chain_id}, the deployment's {deployment.chain_id}"
    head = w3.eth.block_number
    if head < deployment.block_number:
        return (
            f"the chain is at block {head}, before the deployment's block {deployment.block_number}"
        )
    block = w3.eth.get_block(deployment.block_number)
    if block["hash"].to_0x_hex() != deployment.block_hash:
        return (
            f"block {deployment.block_number} has another hash than when the contract was deployed"
        )
    code = w3.eth.get_code(Web3.to_checksum_address(deployment.address))
    if "0x" + keccak(code).hex() != deployment.code_hash:
        return f"no {deployment.contract} code at {deployment.address}"
    return None


def outdated(w3: Web3, deployment: Deployment) -> str | None:
    """Why the live ``deployment`` is of another contract version than this package's ABI."""
    version = Registry(w3, deployment.address).version()
    if version == CONTRACT_VERSION:
        return None
    return (
        f"the contract at {deployment.address} is version {version}, this package speaks "
        f"{CONTRACT_VERSION}: see docs/migration.md"
    )


def deployer_account(settings: Settings) -> LocalAccount:
    if settings.deployer_key is not None:
        account: LocalAccount = Account.from_key(settings.deployer_key.get_secret_value())
        return account
    return load_or_create_key(settings, "deployer")


def fund_from_dev_account(w3: Web3, address: str, wei: int = 10**20) -> None:
    """Give ``address`` ether from a local node's unlocked dev account if it has none."""
    if w3.eth.get_balance(Web3.to_checksum_address(address)) > 0:
        return
    accounts = w3.eth.accounts
    if not accounts:
        raise DeploymentError(
            f"account {address} has no ether and the node has no dev account: fund it"
        )
    tx = w3.eth.send_transaction(
        {"from": accounts[0], "to": Web3.to_checksum_address(address), "value": Wei(wei)}
    )
    w3.eth.wait_for_transaction_receipt(tx, poll_latency=0.01)


def deploy(w3: Web3, deployer: LocalAccount, admin: str, settings: Settings) -> Deployment:
    sender = Sender(
        w3,
        deployer,
        ErrorDecoder(contract_factory(w3).abi),
        settings.receipt_poll_interval,
        settings.receipt_timeout,
    )
    registry, sent = Registry.deploy(sender, admin)
    block = w3.eth.get_block(sent.block_number)
    return Deployment(
        chain_id=w3.eth.chain_id,
        address=registry.address,
        block_number=sent.block_number,
        block_hash=block["hash"].to_0x_hex(),
        tx_hash=sent.tx_hash.to_0x_hex(),
        deployer=deployer.address,
        admin=admin,
        code_hash="0x" + keccak(w3.eth.get_code(registry.address)).hex(),
        version=registry.version(),
        deployed_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def ensure_deployed(settings: Settings, w3: Web3 | None = None) -> tuple[Deployment, Outcome, str]:
    """Reuse, deploy or (on a reset local chain) redeploy; returns the record, what happened, why."""
    w3 = w3 or connect(settings.rpc_url)
    record_path = settings.deployment_file
    existing = read_record(record_path)
    outcome: Outcome = "deployed"
    why = "no deployment recorded"
    if existing is not None:
        trouble = problem(w3, existing)
        old = outdated(w3, existing) if trouble is None else None
        if trouble is None and old is None:
            return existing, "reused", "the chain holds the recorded deployment"
        if settings.chain == "rpc":
            raise DeploymentError(
                f"{record_path} records {existing.contract} at {existing.address} but "
                + (
                    f"{trouble}. Point TRADELEDGER_RPC_URL at the right chain, or"
                    if trouble
                    else f"{old}. Or"
                )
                + " move the record away to deploy anew"
            )
        archived = record_path.with_name(f"deployment.stale-{int(time.time())}.json")
        record_path.replace(archived)
        cause = f"the chain was reset ({trouble})" if trouble else f"an older contract ({old})"
        outcome, why = "redeployed", f"{cause}; old record kept as {archived.name}"
    deployer = deployer_account(settings)
    if settings.chain != "rpc":
        fund_from_dev_account(w3, deployer.address)
    deployment = deploy(w3, deployer, deployer.address, settings)
    write_record(record_path, deployment)
    return deployment, outcome, why


def open_registry(settings: Settings, w3: Web3 | None = None) -> Registry:
    """The registry of the recorded deployment, checked live on the configured chain."""
    w3 = w3 or connect(settings.rpc_url)
    deployment = read_record(settings.deployment_file)
    if deployment is None:
        raise DeploymentError(
            f"no deployment recorded in {settings.deployment_file}: run scripts/deploy"
        )
    trouble = problem(w3, deployment)
    if trouble is not None:
        raise DeploymentError(
            f"the recorded deployment is not on this chain: {trouble}; run scripts/deploy"
        )
    old = outdated(w3, deployment)
    if old is not None:
        raise DeploymentError(f"{old}; on a local chain, run scripts/deploy to deploy anew")
    return Registry(
        w3, deployment.address, settings.receipt_poll_interval, settings.receipt_timeout
    )
