"""``tradeledger cid FILE``: print a file's SHA-256 and IPFS CIDv1 (one pass, progress bar)."""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from ledger.content import hash_file
from ledger.errors import LedgerError

PROGRESS_FROM = 64 * 1024 * 1024  # files at least this big get a progress bar


def cid_command(
    files: list[Path] = typer.Argument(..., help="Files to fingerprint."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per file."),
) -> None:
    """Print the SHA-256 and the IPFS CIDv1 (as `ipfs add --cid-version=1`) of each file."""
    out, err = Console(), Console(stderr=True)
    failed = False
    for path in files:
        try:
            size = path.stat().st_size if path.is_file() else 0
            if size >= PROGRESS_FROM:
                with Progress(
                    "[progress.description]{task.description}",
                    BarColumn(),
                    DownloadColumn(),
                    TransferSpeedColumn(),
                    TimeRemainingColumn(),
                    console=err,
                    transient=True,
                ) as bar:
                    task = bar.add_task(path.name, total=size)
                    fp = hash_file(path, progress=partial(bar.advance, task))
            else:
                fp = hash_file(path)
        except (LedgerError, OSError) as exc:
            err.print(f"[red]error[/red] {path}: {exc}")
            failed = True
            continue
        if json_out:
            out.print_json(data={"file": str(path), **asdict(fp)})
        else:
            out.print(f"{fp.sha256}  {fp.cid}  {fp.size}  {path}", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``cid`` command to the ``tradeledger`` app.

    A Typer app with a single command and no callback runs that command at the top level
    (``tradeledger FILE``); an empty callback keeps ``tradeledger cid FILE`` a sub-command
    whatever else is registered.
    """
    if app.registered_callback is None:
        app.callback()(_root)
    app.command("cid")(cid_command)


def _root() -> None:
    """Trade Document Ledger: notarise trade documents on an EVM chain, files on IPFS."""
