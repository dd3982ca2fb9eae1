"""``tradeledger chain start|stop|status`` and ``tradeledger deploy``: the local chain and the contracts."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import typer
from rich.console import Console

from cli.client import errors_to_exit, get_settings
from ledger.errors import ChainUnavailable, LedgerError

if TYPE_CHECKING:  # the chain's modules load web3: imported where a command needs them
    from ledger.chain import LocalChain

chain_app = typer.Typer(
    help="Start, stop and check the local chain (anvil by default, or Hardhat)."
)
console = Console(stderr=True)


def _local_chain() -> LocalChain:
    from ledger.chain import LocalChain

    settings = get_settings()
    if settings.chain == "rpc":
        raise typer.BadParameter("TRADELEDGER_CHAIN=rpc: the chain is not ours to start or stop")
    port = urlparse(settings.rpc_url).port or 8545
    return LocalChain(
        settings.chain,
        port,
        settings.chain_dir,
        persistent=settings.chain == "anvil",
        state_interval=settings.anvil_state_interval,
    )


def _pid_file() -> Path:
    chain = _local_chain()
    return chain.folder / f"{chain.kind}.pid"


def _running_pid() -> int | None:
    try:
        pid = int(_pid_file().read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


@chain_app.command()
def start() -> None:
    """Start the local chain in the background (reuses one that is already running)."""
    from ledger.chain import connect

    chain = _local_chain()
    if _running_pid() is not None:
        console.print(f"{chain.kind} already running on {chain.url}")
        return
    try:
        connect(chain.url, timeout=1.0)
        console.print(f"something already answers on {chain.url}: using it")
        return
    except ChainUnavailable:
        pass
    with errors_to_exit():
        chain.start()
    assert chain.process is not None
    _pid_file().write_text(str(chain.process.pid))
    state = (
        f", snapshots in {chain.snapshot_dir} (every {chain.state_interval} s while it "
        "changes, less often as it grows: see snapshot.status)"
        if chain.supervised
        else ""
    )
    if chain.recovery:
        console.print(chain.recovery)
    console.print(f"{chain.kind} started on {chain.url} (pid {chain.process.pid}){state}")


@chain_app.command()
def stop() -> None:
    """Stop the local chain started by `chain start` (a last snapshot of anvil first)."""
    from ledger.chain import stop_chain

    pid = _running_pid()
    if pid is None:
        console.print("no local chain of ours is running")
        return
    stop_chain(pid, _local_chain().supervised)
    os.remove(_pid_file())
    console.print(f"stopped {_local_chain().kind} (pid {pid})")


@chain_app.command()
def status() -> None:
    """Say whether the configured chain answers, and its head block."""
    from ledger.chain import connect

    settings = get_settings()
    try:
        w3 = connect(settings.rpc_url, timeout=2.0)
    except ChainUnavailable as exc:
        console.print(f"[red]down[/red]: {exc}")
        raise typer.Exit(1) from exc
    console.print(
        f"up: {settings.rpc_url}, chain id {w3.eth.chain_id}, block {w3.eth.block_number}"
    )


def deploy() -> None:
    """Deploy the contracts, or reuse the live deployment; prints the deployment record."""
    from ledger.chain import ensure_deployed

    try:
        deployment, outcome, why = ensure_deployed(get_settings())
    except LedgerError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc
    console.print(f"{outcome}: {why}")
    print(json.dumps(asdict(deployment), indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(chain_app, name="chain")
    app.command("deploy")(deploy)
