"""``tradeledger index sync|rebuild|status|check``: the audit index built from the contract's
events, and its check against the chain."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from cli.audit import ShowFormat, checker, print_report
from cli.client import get_settings
from ledger.errors import DeploymentError, LedgerError

if TYPE_CHECKING:  # web3 and SQLAlchemy: loaded by the commands that use them
    from ledger.index import Indexer

DEFAULT_RANGE = 2000  # blocks per eth_getLogs request (the indexer's own default)

index_app = typer.Typer(help="Build, rebuild and check the index of the contract's events.")
console = Console(stderr=True)


def _indexer(live: bool = True) -> Indexer:
    """The configured indexer; ``live`` checks the deployment on the chain first."""
    from web3 import HTTPProvider, Web3

    from ledger.chain import Registry, open_registry, read_record
    from ledger.content import open_store
    from ledger.db import make_engine
    from ledger.index import Indexer

    settings = get_settings()
    deployment = read_record(settings.deployment_file)
    if deployment is None:
        raise DeploymentError(
            f"no deployment recorded in {settings.deployment_file}: run scripts/deploy"
        )
    if live:
        registry = open_registry(settings)
    else:  # the chain may be down: status still reports the index
        w3 = Web3(HTTPProvider(settings.rpc_url, request_kwargs={"timeout": 5}))
        registry = Registry(w3, deployment.address, chain_id=deployment.chain_id)
    return Indexer(
        make_engine(settings.db_url),
        registry,
        deployment.block_number,
        settings.index_confirmations,
        open_store(settings),
    )


def _run(rebuild: bool, max_blocks: int) -> None:
    from ledger.ownership import claim

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    owner = None
    try:
        # the index has one writer: a running service (or another sync) refuses this one
        owner = claim(get_settings(), "index rebuild" if rebuild else "index sync")
        indexer = _indexer()
        first = indexer.indexed_block() if not rebuild else indexer.deployment_block - 1
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("indexing blocks", total=None)

            def show(done: int, target: int) -> None:
                progress.update(task, completed=done - first, total=max(1, target - first))

            work = indexer.rebuild if rebuild else indexer.sync
            count = work(max_blocks, show)
        status = indexer.status()
    except LedgerError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc
    finally:
        if owner is not None:
            owner.release()
    console.print(
        f"indexed {count} events; index at block {status.indexed_block}, head {status.head}"
    )


@index_app.command()
def sync(
    max_blocks: int = typer.Option(DEFAULT_RANGE, help="Blocks per eth_getLogs request."),
) -> None:
    """Index the contract's new events, up to the head minus the confirmations."""
    _run(False, max_blocks)


@index_app.command()
def rebuild(
    max_blocks: int = typer.Option(DEFAULT_RANGE, help="Blocks per eth_getLogs request."),
) -> None:
    """Drop the index (not API keys or the outbox) and build it again from the chain."""
    _run(True, max_blocks)


@index_app.command()
def status() -> None:
    """Print the last indexed block, the chain head and the lag, as JSON."""
    settings = get_settings()
    try:
        indexer = _indexer(live=False)
    except LedgerError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc
    state = indexer.status()
    print(
        json.dumps(
            {
                "indexed_block": state.indexed_block,
                "head": state.head,
                "lag": state.lag,
                "max_lag": settings.index_max_lag,
                "behind": state.lag is None or state.lag > settings.index_max_lag,
            }
        )
    )


@index_app.command()
def check(
    fmt: ShowFormat = typer.Option(ShowFormat.table, "--format", "-f"),
) -> None:
    """Check every indexed document and attestation against the chain (exit 1 on differences)."""
    from ledger.db import make_engine
    from ledger.index import check_index

    settings = get_settings()
    try:
        engine = make_engine(settings.db_url)
        report = check_index(engine, checker())
    except LedgerError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc
    print_report(report, fmt)


def register(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")
