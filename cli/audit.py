"""``tradeledger audit ...``: auditors' queries, read straight from the configured index database.

``documents`` and ``attestations`` filter the index (one page as a table, or every match as
CSV/JSON), ``history`` tells one document's story from the contract's events, ``stats``
counts per day and per document type, and ``check`` re-checks an export file against the
chain (``tradeledger index check`` does the same for the whole index).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from cli.client import get_settings
from ledger import times
from ledger.errors import InvalidInput, LedgerError

if TYPE_CHECKING:  # SQLAlchemy and web3: loaded by the commands that use them
    from sqlalchemy import Engine

    from ledger.index import Checker, Report, queries

MAX_LIMIT = 1000  # the index's largest page (ledger.index.queries.MAX_LIMIT)

audit_app = typer.Typer(help="Query the audit index, export it and check it against the chain.")
err = Console(stderr=True, highlight=False)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class ShowFormat(StrEnum):
    table = "table"
    json = "json"


FromOption = typer.Option(
    None, "--from", help="From this UTC time or date (inclusive), e.g. 2026-10-01."
)
ToOption = typer.Option(None, "--to", help="Up to this UTC time or date (exclusive).")
FormatOption = typer.Option(
    Format.table, "--format", "-f", help="table (one page), csv or json (every match)."
)
OutputOption = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout.")
LimitOption = typer.Option(50, "--limit", min=1, max=MAX_LIMIT, help="Rows per page.")
CursorOption = typer.Option(None, "--cursor", help="next_cursor of the previous page.")


def _engine() -> Engine:
    from ledger.db import make_engine

    return make_engine(get_settings().db_url)


def _ts(value: str | None) -> int | None:
    """A --from/--to value: ISO 8601 time or date (an offset is honoured; none means UTC)."""
    if value is None:
        return None
    try:
        return times.parse(value)
    except InvalidInput as exc:
        raise typer.BadParameter(str(exc)) from exc


def _when(value: str | None) -> str:
    """An answer's ISO 8601 UTC time, as the tables show it."""
    return "" if value is None else value.replace("T", " ").removesuffix("Z")


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        yield handle


def _write(chunks: Iterable[str], path: Path | None) -> None:
    with _output(path) as handle:
        for chunk in chunks:
            handle.write(chunk)
        if path is None:
            handle.write("\n")


def _console(handle: TextIO | None = None) -> Console:
    """A console for tables: the terminal's width, or a wide one into files and pipes."""
    stream = handle or sys.stdout
    wide = None if stream.isatty() else 220
    return Console(file=stream, width=wide, highlight=False)


def _print_table(table: Table, path: Path | None) -> None:
    with _output(path) as handle:
        _console(handle).print(table)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except LedgerError as exc:
        err.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc


@audit_app.command()
def documents(
    org_id: int | None = typer.Option(None, "--org-id", help="Issuing organisation id."),
    doc_type: int | None = typer.Option(None, "--doc-type", help="UN/EDIFACT 1001 code."),
    consignment: str | None = typer.Option(None, "--consignment", help="Consignment reference."),
    status: str | None = typer.Option(None, "--status", help="registered, revoked, superseded."),
    attester_org_id: int | None = typer.Option(
        None, "--attester-org-id", help="Attested by this organisation."
    ),
    verdict: str | None = typer.Option(
        None, "--verdict", help="With an attestation of this verdict."
    ),
    time_from: str | None = FromOption,
    time_to: str | None = ToOption,
    fmt: Format = FormatOption,
    output: Path | None = OutputOption,
    limit: int = LimitOption,
    cursor: str | None = CursorOption,
) -> None:
    """Documents by issuer, type, consignment, status, attester, verdict and time, newest first."""
    from ledger.index import queries

    with _errors():
        f = queries.DocumentFilter(
            org_id,
            doc_type,
            consignment,
            status,
            attester_org_id,
            verdict,
            _ts(time_from),
            _ts(time_to),
        ).check()
        engine = _engine()
        if fmt is Format.csv:
            _write(queries.export_csv(engine, f), output)
            return
        if fmt is Format.json:
            _write(queries.export_json(engine, f), output)
            return
        page = queries.find_documents(engine, f, cursor, limit)
    table = Table(box=box.SIMPLE_HEAD)
    for name in ("registered (UTC)", "sha256", "type", "consignment", "issuer", "status", "block"):
        _column(table, name)
    for item in page.items:
        table.add_row(
            _when(item["registered_at"]),
            item["sha256"],
            f"{item['doc_type']} {item['doc_type_name']}",
            item["consignment_ref"],
            str(item["issuer"]["organisation"] or item["issuer"]["key"]),
            item["status"],
            str(item["block_number"]),
        )
    _print_table(table, output)
    _next(page)


def _column(table: Table, name: str) -> None:
    """Fingerprints are never shortened (an auditor copies them); other columns may wrap."""
    if name == "sha256":
        table.add_column(name, no_wrap=True, min_width=64)
    else:
        table.add_column(name, overflow="fold")


def _next(page: queries.Page) -> None:
    if page.next_cursor:
        err.print(f"more: --cursor {page.next_cursor}")
    else:
        err.print(f"{len(page.items)} row(s), last page")


@audit_app.command()
def attestations(
    sha256: str | None = typer.Option(None, "--sha256", help="Of this document."),
    attester_org_id: int | None = typer.Option(
        None, "--attester-org-id", help="By this organisation."
    ),
    verdict: str | None = typer.Option(
        None, "--verdict", help="verified, cleared, held, rejected."
    ),
    time_from: str | None = FromOption,
    time_to: str | None = ToOption,
    fmt: Format = FormatOption,
    output: Path | None = OutputOption,
    limit: int = LimitOption,
    cursor: str | None = CursorOption,
) -> None:
    """Attestations by document, attesting organisation, verdict and time, newest first."""
    from ledger.index import queries

    with _errors():
        f = queries.AttestationFilter(
            sha256.lower().removeprefix("0x") if sha256 else None,
            attester_org_id,
            verdict,
            _ts(time_from),
            _ts(time_to),
        )
        engine = _engine()
        if fmt is Format.csv:
            _write(queries.export_attestations_csv(engine, f), output)
            return
        if fmt is Format.json:
            _write(queries.export_attestations_json(engine, f), output)
            return
        page = queries.find_attestations(engine, f, cursor, limit)
    table = Table(box=box.SIMPLE_HEAD)
    for name in ("attested (UTC)", "sha256", "verdict", "reference", "attester", "revoked"):
        _column(table, name)
    for item in page.items:
        table.add_row(
            _when(item["attested_at"]),
            item["sha256"],
            item["verdict"],
            item["reference"],
            str(item["attester"]["organisation"] or item["attester"]["key"]),
            "yes" if item["revoked"] else "",
        )
    _print_table(table, output)
    _next(page)


@audit_app.command()
def history(
    sha256: str = typer.Argument(..., help="The document's SHA-256 (hex)."),
    fmt: ShowFormat = typer.Option(ShowFormat.table, "--format", "-f"),
) -> None:
    """A document's record, every contract event about it and its attestations."""
    from ledger.index import queries

    with _errors():
        found = queries.document_history(_engine(), sha256)
    if found is None:
        err.print(f"no document {sha256} in the index")
        raise typer.Exit(1)
    if fmt is ShowFormat.json:
        print(json.dumps(found, indent=2))
        return
    doc = found["document"]
    out = _console()
    out.print(f"[bold]{doc['sha256']}[/bold]  {doc['doc_type']} {doc['doc_type_name']}")
    out.print(f"  cid {doc['cid']}  consignment {doc['consignment_ref']}")
    out.print(
        f"  issuer {doc['issuer']['organisation']} ({doc['issuer']['key']})  status "
        f"[bold]{doc['status']}[/bold]"
    )
    table = Table(box=box.SIMPLE_HEAD, title="events")
    for name in ("time (UTC)", "block", "log", "event", "details", "tx"):
        table.add_column(name)
    for e in found["events"]:
        details = ", ".join(f"{k}={v}" for k, v in e["args"].items())
        table.add_row(
            _when(e["block_time"]),
            str(e["block_number"]),
            str(e["log_index"]),
            e["event"],
            details,
            e["tx_hash"],
        )
    out.print(table)


@audit_app.command()
def stats(
    time_from: str | None = FromOption,
    time_to: str | None = ToOption,
    fmt: ShowFormat = typer.Option(ShowFormat.table, "--format", "-f"),
) -> None:
    """Registrations and attestations per UTC day, and documents per type."""
    from ledger.index import queries

    with _errors():
        engine = _engine()
        days = queries.daily_counts(engine, _ts(time_from), _ts(time_to))
        types = queries.counts_by_doc_type(engine)
    if fmt is ShowFormat.json:
        print(json.dumps({"days": days, "doc_types": types}))
        return
    out = _console()
    per_day = Table("day", "registrations", "attestations", box=box.SIMPLE_HEAD, title="per day")
    for d in days:
        per_day.add_row(d["day"], str(d["registrations"]), str(d["attestations"]))
    per_type = Table("type", "name", "documents", box=box.SIMPLE_HEAD, title="per type")
    for t in types:
        per_type.add_row(str(t["doc_type"]), t["doc_type_name"], str(t["documents"]))
    out.print(per_day)
    out.print(per_type)


def checker() -> Checker:
    from ledger.chain import open_registry
    from ledger.content import open_store
    from ledger.index import Checker

    settings = get_settings()
    return Checker(open_registry(settings), open_store(settings))


def print_report(report: Report, fmt: ShowFormat) -> None:
    """Print a consistency report; exit 1 when there are differences."""
    if fmt is ShowFormat.json:
        print(json.dumps(report.as_dict(), default=str))
    else:
        checked = f"{report.documents} document(s)"
        if report.attestations:
            checked += f" and {report.attestations} attestation(s)"
        if report.ok:
            err.print(f"[green]consistent[/green]: {checked} checked at block {report.block}")
        else:
            table = Table(box=box.SIMPLE_HEAD, title="differences")
            for name in ("kind", "row", "field", "index", "chain"):
                table.add_column(name, overflow="fold")
            for d in report.differences:
                table.add_row(d.kind, d.row_id, d.field, _show(d.index_value), _show(d.chain_value))
            _console().print(table)
            err.print(
                f"[red]{len(report.differences)} difference(s)[/red] in {checked} "
                f"checked at block {report.block}"
            )
    if not report.ok:
        raise typer.Exit(1)


def _show(value: Any) -> str:
    return "—" if value is None else str(value)


@audit_app.command()
def check(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A CSV or JSON export."),
    fmt: ShowFormat = typer.Option(ShowFormat.table, "--format", "-f"),
) -> None:
    """Check every row of an export against the chain (exit 1 on any difference)."""
    from ledger.index import check_export

    with _errors():
        report = check_export(file, checker())
    print_report(report, fmt)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
