"""User commands over the HTTP API: register, verify, attest, revoke, supersede, evidence, relay.

Each command is a thin client of the service (``cli.client``), except that files are hashed
here whenever only their fingerprint needs to travel (``verify FILE``), and that
``verify --bundle --rpc`` re-checks an evidence bundle against a chain node directly,
without the service.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from cli.client import (
    ApiError,
    Client,
    ProgressFile,
    err,
    errors_to_exit,
    fail,
    get_settings,
    global_options,
)
from ledger.content import Fingerprint, hash_file
from ledger.errors import ChainUnavailable, InvalidInput, LedgerError
from ledger.flows import check_fingerprint
from ledger.times import iso
from ledger.types import RevocationReason
from ledger.types import Verdict as AttestationVerdict

PROGRESS_FROM = 8 * 1024 * 1024  # hashing files at least this big shows a progress bar
EXIT_CODES = {"VALID": 0, "INVALID": 1, "UNVERIFIABLE": 2}
COLOURS = {"VALID": "green", "INVALID": "red", "UNVERIFIABLE": "yellow"}
REASONS = [r.name.lower() for r in RevocationReason]
VERDICTS = [v.name.lower() for v in AttestationVerdict if v.name != "NONE"]

out = Console(highlight=False)

# ------------------------------------------------------------------ shared options

DocTypeOption = typer.Option(
    ...,
    "--type",
    "-t",
    metavar="CODE",
    help="UN/EDIFACT 1001 document code: 861 certificate of origin, 380 commercial invoice, "
    "720 rail consignment note, 851 phytosanitary certificate, 271 packing list…",
)
ConsignmentOption = typer.Option(
    ...,
    "--consignment",
    "-c",
    metavar="REF",
    help="Shipment reference, e.g. the SMGS consignment note number.",
)
MetadataOption = typer.Option(
    None,
    "--metadata",
    "-m",
    metavar="JSON|@FILE",
    help='Metadata as a JSON object, or @file.json: {"exporter": …, "consignee": …, '
    '"country_of_origin": "KZ", "country_of_destination": "AF", "hs_codes": ["1101.00"]}.',
)


def read_metadata(value: str | None) -> str | None:
    """The metadata option as compact JSON text (checked to be a JSON object)."""
    if value is None:
        return None
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            value = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not valid JSON ({exc.msg} at position {exc.pos})") from exc
    if not isinstance(data, dict):
        raise typer.BadParameter("metadata must be a JSON object ({...})")
    return json.dumps(data, ensure_ascii=False)


def hash_local(path: Path) -> Fingerprint:
    """SHA-256 and CID of a local file, with a progress bar on stderr for big files."""
    size = path.stat().st_size if path.is_file() else 0
    if size < PROGRESS_FROM:
        return hash_file(path)
    with _bar() as bar:
        task = bar.add_task(f"hashing {path.name}", total=size)
        return hash_file(path, progress=partial(bar.advance, task))


def resolve_sha256(value: str) -> str:
    """A fingerprint argument: 64 hex digits, or the path of a file to hash here."""
    try:
        return check_fingerprint(value)
    except InvalidInput:
        pass
    path = Path(value)
    if path.is_file():
        return hash_local(path).sha256
    raise typer.BadParameter(
        f"{value!r} is neither a SHA-256 (64 hex digits, what sha256sum prints) nor a file"
    )


def _bar() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


# ------------------------------------------------------------------ register


@dataclass
class Row:
    file: str
    sha256: str | None
    status: str
    tx: str | None
    failed: bool
    detail: str | None = None
    supersedes: str | None = None
    hint: str | None = None


def expand(paths: list[Path]) -> list[Path]:
    """The files named, a folder standing for every file inside it (sorted, hidden ones skipped)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not inside:
                raise typer.BadParameter(f"folder {path} holds no files")
            files.extend(inside)
        elif path.is_file():
            files.append(path)
        else:
            raise typer.BadParameter(f"{path} is neither a file nor a folder")
    if len(set(files)) != len(files):
        raise typer.BadParameter("the same file is named twice")
    return files


def _row_of(file: Path, record: dict[str, Any], status_code: int) -> Row:
    status = record.get("status", "registered")
    if status_code == 202 or status == "pending":
        status = "pending (on chain soon)"
    return Row(str(file), record.get("sha256"), status, record.get("tx_hash"), failed=False)


def _row_of_error(file: Path, exc: ApiError) -> Row:
    record = exc.body.get("record") if exc.status == 409 and isinstance(exc.body, dict) else None
    if record is not None:
        issuer = (record.get("issuer") or {}).get("organisation") or "another key"
        return Row(
            str(file),
            record.get("sha256"),
            "already registered"
            + (f" ({record.get('status')})" if record.get("status") != "registered" else "")
            + f" by {issuer}",
            record.get("tx_hash"),
            failed=False,
            detail=exc.detail,
        )
    status = (
        "failed: service unreachable"
        if exc.status is None
        else f"failed ({exc.status}): {exc.detail}"
    )
    return Row(str(file), None, status, None, failed=True, detail=exc.detail, hint=exc.hint)


@contextmanager
def _upload_bar(files: list[Path]) -> Iterator[tuple[Progress, Any]]:
    total = sum(f.stat().st_size for f in files)
    with _bar() as bar:
        yield bar, bar.add_task("uploading", total=total)


def print_rows(rows: list[Row], json_out: bool) -> None:
    if json_out:
        print(json.dumps([asdict(row) for row in rows], indent=2))
        return
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("File", overflow="fold", min_width=12)
    # whole fingerprints on one line (copyable) when the terminal is wide enough
    table.add_column("SHA-256", overflow="fold", no_wrap=out.width >= 120, style="cyan")
    table.add_column("Status", overflow="fold", min_width=12)
    table.add_column("Tx", no_wrap=True, style="dim")
    for row in rows:
        colour = (
            "red"
            if row.failed
            else ("yellow" if row.status.startswith(("already", "pending")) else "green")
        )
        table.add_row(
            row.file, row.sha256 or "-", f"[{colour}]{row.status}[/{colour}]", _short(row.tx)
        )
    out.print(table)


def _short(tx: str | None) -> str:
    """A transaction hash cut for the table (``--json`` prints it whole)."""
    return f"{tx[:10]}…{tx[-6:]}" if tx and len(tx) > 20 else (tx or "-")


def register_files(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        ..., metavar="FILE|FOLDER...", help="Files, or folders standing for every file inside."
    ),
    doc_type: int = DocTypeOption,
    consignment: str = ConsignmentOption,
    metadata: str | None = MetadataOption,
    recipients: str | None = typer.Option(
        None,
        "--recipients",
        metavar="ORG_IDS",
        help="Organisation ids (comma-separated) that may read the sealed document, besides "
        "your own organisation and the service's corridor recipients.",
    ),
    disclose: str | None = typer.Option(
        None,
        "--disclose",
        metavar="FIELDS",
        help="Metadata fields (comma-separated) auditors may filter by in the clear: "
        "country_of_origin, country_of_destination, hs_codes.",
    ),
    batch: bool = typer.Option(
        False,
        "--batch",
        help="Send all files in one request, anchored under one Merkle root (cheaper on gas).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Register documents: upload them, notarise their SHA-256 and CID on chain.

    A folder registers every file inside it (sorted; hidden files skipped). Prints one row per file (file, SHA-256, status, transaction). A file registered before is reported as "already registered" and does not count as a failure. Exit code 1 if any file failed.

    Examples:

    tradeledger register certificate.pdf --type 861 --consignment SMGS-2024-0001

    tradeledger register shipment-0042/ --type 380 -c SMGS-0042 --metadata @meta.json

    tradeledger --key $TRADELEDGER_API_KEY register shipment-0042/ -t 861 -c SMGS-0042 --batch
    """
    meta = read_metadata(metadata)
    files = expand(paths)
    if batch and meta is not None:
        raise typer.BadParameter("--batch takes no --metadata (the batch endpoint has none)")
    if batch and recipients:
        raise typer.BadParameter("--batch takes no --recipients (batches are not sealed yet)")
    with Client(ctx) as client:
        rows = (
            _register_batch(client, files, doc_type, consignment)
            if batch
            else (_register_each(client, files, doc_type, consignment, meta, recipients, disclose))
        )
    print_rows(rows, json_out)
    failed = [row for row in rows if row.failed]
    if failed:
        for detail, tip in dict.fromkeys((row.detail, row.hint) for row in failed if row.detail):
            err.print(f"[bold red]error[/bold red]: {detail}", soft_wrap=True)
            if tip:
                err.print(f"[dim]hint: {tip}[/dim]", soft_wrap=True)
        err.print(f"[red]{len(failed)} of {len(rows)} file(s) failed[/red]")
        raise typer.Exit(1)


def _register_each(
    client: Client,
    files: list[Path],
    doc_type: int,
    consignment: str,
    meta: str | None,
    recipients: str | None = None,
    disclose: str | None = None,
) -> list[Row]:
    rows: list[Row] = []
    data = {"doc_type": str(doc_type), "consignment_ref": consignment}
    if meta is not None:
        data["metadata"] = meta
    if recipients:
        data["recipients"] = recipients
    if disclose:
        data["disclose"] = disclose
    with _upload_bar(files) as (bar, task):
        for i, file in enumerate(files):
            bar.update(task, description=file.name)
            try:
                with file.open("rb") as f:
                    upload = ProgressFile(f, partial(bar.advance, task))
                    response = client.request(
                        "POST", "/v1/documents", files={"file": (file.name, upload)}, data=data
                    )
                rows.append(_row_of(file, response.json(), response.status_code))
            except ApiError as exc:
                rows.append(_row_of_error(file, exc))
                if exc.status is None:  # the service is gone: do not try the rest
                    rows += [Row(str(f), None, "not sent", None, True) for f in files[i + 1 :]]
                    break
            except OSError as exc:
                rows.append(Row(str(file), None, f"failed: {exc.strerror}", None, True))
    return rows


def _register_batch(
    client: Client, files: list[Path], doc_type: int, consignment: str
) -> list[Row]:
    with ExitStack() as stack, _upload_bar(files) as (bar, task), errors_to_exit():
        uploads = [
            (
                "files",
                (
                    f.name,
                    ProgressFile(stack.enter_context(f.open("rb")), partial(bar.advance, task)),
                ),
            )
            for f in files
        ]
        response = client.request(
            "POST",
            "/v1/documents/batch",
            files=uploads,
            data={"doc_type": str(doc_type), "consignment_ref": consignment},
        )
        body = response.json()
    err.print(f"batch root {body['root']} ({body['status']}), manifest {body['manifest_cid']}")
    return [
        _row_of(file, record, response.status_code)
        for file, record in zip(files, body["documents"], strict=True)
    ]


# ------------------------------------------------------------------ verify


def verify(
    ctx: typer.Context,
    file: Path | None = typer.Argument(
        None,
        metavar="[FILE]",
        help="The presented file: hashed here, only its SHA-256 is sent.",
        show_default=False,
    ),
    sha256: str | None = typer.Option(
        None, "--sha256", metavar="HEX", help="Verify a fingerprint instead of a file."
    ),
    bundle: Path | None = typer.Option(
        None,
        "--bundle",
        "-b",
        metavar="FILE",
        help="An evidence bundle (from `tradeledger evidence`); with FILE, the file must be "
        "the bundle's document.",
    ),
    rpc: str | None = typer.Option(
        None,
        "--rpc",
        metavar="URL",
        help="With --bundle: check against this chain node (JSON-RPC) directly, without the service.",
    ),
    contract: str | None = typer.Option(
        None,
        "--contract",
        metavar="ADDRESS",
        help="With --rpc: the consortium's ledger contract to trust; a bundle naming another is "
        "INVALID. Without it the bundle's contract is checked (give it: anyone can deploy a copy).",
    ),
    offline: bool = typer.Option(
        False,
        "--offline",
        help="With --bundle and --trust: check a version 2 bundle from its proofs alone, with "
        "no network call at all.",
    ),
    trust: Path | None = typer.Option(
        None,
        "--trust",
        metavar="FILE",
        help="With --offline: the consortium's trust file (`tradeledger trust export`).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the verification as JSON."),
) -> None:
    """Verify a document: is it exactly the one registered, and is it still valid?

    Prints the verdict with its reasons, the issuer organisation and the customs attestations. Exit code 0 VALID, 1 INVALID (unknown, tampered, revoked, superseded, issuer not authorised), 2 UNVERIFIABLE (the chain or the service cannot be reached or is behind; also when no verdict could be reached at all).

    Examples:

    tradeledger verify certificate.pdf

    tradeledger verify --sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

    tradeledger verify --bundle certificate.evidence.json --rpc https://rpc.corridor.example --contract 0xLEDGER certificate.pdf

    tradeledger verify --bundle certificate.evidence.json --offline --trust corridor.trust.json certificate.pdf
    """
    if offline != (trust is not None):
        raise typer.BadParameter("--offline and --trust FILE go together")
    if offline and (bundle is None or rpc is not None):
        raise typer.BadParameter("--offline checks a --bundle FILE, without --rpc")
    if contract is not None and rpc is None:
        raise typer.BadParameter("--contract pins the ledger for --rpc: give --rpc URL too")
    if rpc is not None and bundle is None:
        raise typer.BadParameter("--rpc checks an evidence bundle: give --bundle FILE too")
    if sha256 is not None and (file is not None or bundle is not None):
        raise typer.BadParameter("give either FILE, --sha256 or --bundle")
    if file is None and sha256 is None and bundle is None:
        raise typer.BadParameter("give the FILE to verify, --sha256 HEX or --bundle FILE")
    with errors_to_exit(EXIT_CODES["UNVERIFIABLE"]):
        if bundle is not None and trust is not None:
            result = _verify_offline(bundle, file, trust)
        elif bundle is not None:
            result = _verify_bundle(ctx, bundle, file, rpc, contract)
        else:
            digest = check_fingerprint(sha256) if sha256 is not None else None
            if digest is None:
                assert file is not None
                digest = hash_local(file).sha256
            with Client(ctx) as client:
                result = client.json("POST", "/v1/verify", json={"sha256": digest})
    if json_out:
        print(json.dumps(result, indent=2))
    else:
        show_verification(result)
    raise typer.Exit(EXIT_CODES.get(result["verdict"], 2))


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """The JSON object in ``path`` (``InvalidInput`` naming ``what`` it should be otherwise)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvalidInput(f"{path} is not JSON, so not {what}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} is not {what} (a JSON object)")
    return data


def _file_differs(bundle: dict[str, Any], file: Path | None) -> dict[str, Any] | None:
    """The INVALID answer when ``file`` is not the bundle's document (None when it is)."""
    if file is None:
        return None
    actual = hash_local(file).sha256
    if actual == str(bundle.get("sha256", "")).lower().removeprefix("0x"):
        return None
    return {
        "verdict": "INVALID",
        "reasons": [f"tampered: sha256: the file's SHA-256 {actual} differs from the bundle's"],
        "sha256": actual,
        "tampered": ["sha256"],
    }


def _verify_offline(path: Path, file: Path | None, trust_path: Path) -> dict[str, Any]:
    """The bundle's proofs against the trust file and this computer's clock: no network."""
    import time

    from ledger.flows import check_bundle_offline
    from ledger.proofs import TrustFile

    bundle = read_json_object(path, "an evidence bundle")
    trust = TrustFile.load(trust_path)
    differs = _file_differs(bundle, file)
    if differs is not None:
        return differs
    out = _as_json(check_bundle_offline(bundle, trust, int(time.time())))
    out["checked_against"] = f"trust file {trust_path}"
    return out


def _verify_bundle(
    ctx: typer.Context, path: Path, file: Path | None, rpc: str | None, contract: str | None
) -> dict[str, Any]:
    bundle = read_json_object(path, "an evidence bundle")
    differs = _file_differs(bundle, file)
    if differs is not None:
        return differs
    if rpc is None:
        with Client(ctx) as client:
            result: dict[str, Any] = client.json("POST", "/v1/verify", json={"bundle": bundle})
        return result
    # web3 is loaded only here, by the one command that talks to a chain node itself
    from ledger.chain import connect
    from ledger.flows import Verdict, Verification, check_bundle_on_chain

    try:
        w3 = connect(rpc)
    except ChainUnavailable as exc:
        verification = Verification(Verdict.UNVERIFIABLE, [str(exc)], str(bundle.get("sha256")))
    else:
        trusted = None
        if contract is not None:
            if not w3.is_address(contract):
                raise typer.BadParameter(f"--contract {contract!r} is not an address (0x + 40 hex)")
            trusted = (int(w3.eth.chain_id), contract)
        try:
            verification = check_bundle_on_chain(bundle, w3, trusted)
        except LedgerError as exc:  # a malformed or forged bundle proves nothing
            verification = Verification(
                Verdict.INVALID, [f"malformed bundle: {exc}"], str(bundle.get("sha256"))
            )
    out = _as_json(verification)
    out["checked_against"] = rpc
    if contract is None and verification.verdict == Verdict.VALID:
        out["reasons"].append(
            f"contract {bundle.get('contract')} as named by the bundle: pass --contract to pin "
            "the consortium's ledger"
        )
    return out


def _as_json(v: Any) -> dict[str, Any]:
    """A ``Verification`` in the shape of the service's answer (facts from the chain only)."""

    def issuer(i: Any) -> dict[str, Any]:
        return {
            "key": i.key,
            "organisation_id": i.org_id,
            "organisation": i.name,
            "country": i.country,
            "kind": i.kind,
        }

    r = v.record
    record = None
    if r is not None:
        record = {
            "sha256": r.sha256,
            "cid": r.cid,
            "doc_type": r.doc_type,
            "doc_type_name": r.doc_type_name,
            "consignment_ref": r.consignment_ref,
            "metadata_cid": r.metadata_cid,
            "issuer": issuer(r.issuer),
            "status": r.status,
            "tx_hash": r.origin.tx_hash if r.origin else None,
            "block_number": r.origin.block_number if r.origin else None,
            "block_hash": r.origin.block_hash if r.origin else None,
            "log_index": r.origin.log_index if r.origin else None,
            "registered_at": iso(r.registered_at),
            "batch_root": r.batch_root,
        }
    return {
        "verdict": v.verdict.value,
        "reasons": list(v.reasons),
        "sha256": v.sha256,
        "record": record,
        "issuer": issuer(r.issuer) if r is not None else None,
        "attestations": [
            {
                "attestation_id": a.attestation_id,
                "sha256": a.fingerprint,
                "verdict": a.verdict,
                "reference": a.customs_ref,
                "attested_at": iso(a.attested_at),
                "revoked": a.revoked,
                "attester": issuer(a.attester),
                "tx_hash": a.origin.tx_hash,
            }
            for a in v.attestations
        ],
        "tampered": list(v.tampered),
        "as_of": None
        if v.as_of_block is None
        else {"block": v.as_of_block, "time": iso(v.as_of_time)},
    }


def show_verification(result: dict[str, Any]) -> None:
    verdict = str(result.get("verdict"))
    colour = COLOURS.get(verdict, "yellow")
    mark = {"VALID": "✔", "INVALID": "✘"}.get(verdict, "?")
    out.print(
        Panel(
            Text(f"{mark}  {verdict}", style=f"bold {colour}", justify="center"),
            border_style=colour,
            padding=(1, 8),
            expand=False,
        )
    )
    for reason in result.get("reasons", []):
        out.print(f"  • {reason}", soft_wrap=True)
    out.print(f"\n[bold]SHA-256[/bold]      {result.get('sha256')}", soft_wrap=True)
    record = result.get("record")
    if record:
        out.print(
            f"[bold]Document[/bold]     {record['doc_type']} {record['doc_type_name']}, "
            f"consignment {record['consignment_ref']}, {record['status']}",
            soft_wrap=True,
        )
        out.print(f"[bold]CID[/bold]          {record['cid']}", soft_wrap=True)
        if record.get("tx_hash"):
            out.print(
                f"[bold]Registered[/bold]   {record.get('registered_at')} in block "
                f"{record.get('block_number')}, tx {record['tx_hash']}",
                soft_wrap=True,
            )
    issuer = result.get("issuer")
    if issuer:
        name = issuer.get("organisation") or issuer.get("name") or "unknown organisation"
        where = ", ".join(str(v) for v in (issuer.get("country"), issuer.get("kind")) if v)
        out.print(
            f"[bold]Issuer[/bold]       {name}{f' ({where})' if where else ''}, key {issuer.get('key')}",
            soft_wrap=True,
        )
    if result.get("checked_against"):
        out.print(f"[bold]Checked on[/bold]   {result['checked_against']}", soft_wrap=True)
    attestations = result.get("attestations") or []
    if attestations:
        table = Table(title="Attestations", box=box.SIMPLE_HEAD, title_justify="left")
        for column in ("Verdict", "Reference", "By", "At", "Revoked"):
            table.add_column(column, overflow="fold")
        for a in attestations:
            attester = a.get("attester") or {}
            table.add_row(
                str(a.get("verdict")),
                str(a.get("reference", a.get("customs_ref", ""))),
                str(attester.get("organisation") or attester.get("name") or attester.get("key")),
                str(a.get("attested_at")),
                "yes" if a.get("revoked") else "no",
            )
        out.print(table)
    else:
        out.print("[bold]Attestations[/bold] none")
    history = result.get("history") or []
    if history:
        out.print("[bold]History[/bold]")
        for h in history:
            out.print(f"  {h.get('at')}  {h.get('what')}", soft_wrap=True)


# ------------------------------------------------------------------ attest, revoke, supersede


def attest(
    ctx: typer.Context,
    document: str = typer.Argument(
        ..., metavar="SHA256|FILE", help="The document's fingerprint, or the file."
    ),
    verdict: str = typer.Option(
        ..., "--verdict", "-v", help=f"The customs verdict: {', '.join(VERDICTS)}."
    ),
    reference: str = typer.Option(
        "",
        "--reference",
        "-r",
        metavar="REF",
        help="Customs reference, e.g. the declaration number.",
    ),
) -> None:
    """Record a customs attestation on a registered document (customs API keys).

    Examples:

    tradeledger attest 9f86d081…0a08 --verdict cleared --reference AF-HRT-2024-118

    tradeledger attest certificate.pdf --verdict held --reference "lab test pending"
    """
    if verdict.lower() not in VERDICTS:
        raise typer.BadParameter(f"--verdict must be one of {', '.join(VERDICTS)}")
    with errors_to_exit():
        sha = resolve_sha256(document)
        with Client(ctx) as client:
            att = client.json(
                "POST",
                f"/v1/documents/{sha}/attestations",
                json={"verdict": verdict.lower(), "reference": reference},
            )
    attester = att["attester"].get("organisation") or att["attester"]["key"]
    out.print(
        f"[green]attested[/green] {att['sha256']}: {att['verdict']}"
        f"{' (' + att['reference'] + ')' if att['reference'] else ''} by {attester}",
        soft_wrap=True,
    )
    out.print(f"attestation {att['attestation_id']}, tx {att['tx_hash']}", soft_wrap=True)


def revoke(
    ctx: typer.Context,
    document: str = typer.Argument(
        ..., metavar="SHA256|FILE", help="The document's fingerprint, or the file."
    ),
    reason: str = typer.Option("unspecified", "--reason", help=f"Why: {', '.join(REASONS)}."),
) -> None:
    """Revoke a registered document (its issuing organisation or the consortium admin).

    Examples:

    tradeledger revoke 9f86d081…0a08 --reason cancelled

    tradeledger revoke invoice.pdf --reason issued_in_error
    """
    if reason.lower() not in REASONS:
        raise typer.BadParameter(f"--reason must be one of {', '.join(REASONS)}")
    with errors_to_exit():
        sha = resolve_sha256(document)
        with Client(ctx) as client:
            record = client.json(
                "POST", f"/v1/documents/{sha}/revoke", json={"reason": reason.lower()}
            )
    out.print(
        f"[yellow]{record['status']}[/yellow] {record['sha256']} ({reason.lower()})", soft_wrap=True
    )


def revoke_batch(
    ctx: typer.Context,
    root: str = typer.Argument(..., help="The batch's Merkle root (0x + 64 hex digits)."),
    reason: str = typer.Option("unspecified", "--reason", help=f"Why: {', '.join(REASONS)}."),
) -> None:
    """Revoke every document of a batch in one transaction (its issuing organisation or the
    consortium admin).

    Example:

    tradeledger revoke-batch 0x5f3c…9a21 --reason issued_in_error
    """
    if reason.lower() not in REASONS:
        raise typer.BadParameter(f"--reason must be one of {', '.join(REASONS)}")
    with errors_to_exit(), Client(ctx) as client:
        batch = client.json(
            "POST", f"/v1/documents/batches/{root}/revoke", json={"reason": reason.lower()}
        )
    out.print(
        f"[yellow]revoked[/yellow] batch {batch['root']}: {len(batch['members'])} of "
        f"{batch['size']} documents ({reason.lower()})",
        soft_wrap=True,
    )


def supersede(
    ctx: typer.Context,
    old: str = typer.Argument(
        ..., metavar="OLD_SHA256|OLD_FILE", help="The document being replaced."
    ),
    new_file: Path = typer.Argument(..., metavar="NEWFILE", help="The amended document."),
    doc_type: int = DocTypeOption,
    consignment: str = ConsignmentOption,
    metadata: str | None = MetadataOption,
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Register an amended document that replaces a registered one (same organisation).

    Example:

    tradeledger supersede 9f86d081…0a08 certificate-v2.pdf --type 861 --consignment SMGS-0042
    """
    meta = read_metadata(metadata)
    if not new_file.is_file():
        raise typer.BadParameter(f"{new_file} is not a file")
    data = {"doc_type": str(doc_type), "consignment_ref": consignment}
    if meta is not None:
        data["metadata"] = meta
    with errors_to_exit():
        sha = resolve_sha256(old)
        with (
            Client(ctx) as client,
            _upload_bar([new_file]) as (bar, task),
            new_file.open("rb") as f,
        ):
            upload = ProgressFile(f, partial(bar.advance, task))
            try:
                response = client.request(
                    "POST",
                    f"/v1/documents/{sha}/supersede",
                    files={"file": (new_file.name, upload)},
                    data=data,
                )
                row = _row_of(new_file, response.json(), response.status_code)
            except ApiError as exc:
                if exc.status != 409:
                    raise
                row = _row_of_error(new_file, exc)
    row.supersedes = sha
    print_rows([row], json_out)
    if not json_out:
        out.print(f"{new_file} supersedes {sha}", soft_wrap=True)


def evidence(
    ctx: typer.Context,
    document: str = typer.Argument(
        ..., metavar="SHA256|FILE", help="The document's fingerprint, or the file."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the bundle here instead of printing it."
    ),
    checkpoint: list[Path] = typer.Option(
        [],
        "--checkpoint",
        metavar="FILE",
        help="A signed checkpoint (`tradeledger checkpoint sign`): makes a version 2 bundle "
        "that verifies offline, its status proven as of the newest checkpoint's block. "
        "Repeat to add one of the registration's block.",
    ),
    rpc: str | None = typer.Option(
        None,
        "--rpc",
        metavar="URL",
        help="With --checkpoint: the chain node to take the proofs from. Default: "
        "TRADELEDGER_RPC_URL.",
    ),
) -> None:
    """Get a document's evidence bundle: everything needed to re-verify it later, anywhere.

    The bundle names the chain, contract, transaction, block and log of the registration; anyone can re-check it against any node of the chain, without this service.

    Examples:

    tradeledger evidence 9f86d081…0a08 -o certificate.evidence.json

    tradeledger verify --bundle certificate.evidence.json --rpc http://127.0.0.1:8545 certificate.pdf
    """
    with errors_to_exit():
        sha = resolve_sha256(document)
        with Client(ctx) as client:
            bundle = client.json("GET", f"/v1/documents/{sha}/evidence")
        if checkpoint:
            bundle = _prove(bundle, checkpoint, rpc or get_settings().rpc_url)
        text = json.dumps(bundle, indent=2) + "\n"
        if output is None:
            print(text, end="")
            return
        output.write_text(text, encoding="utf-8")
    err.print(
        f"evidence bundle of {sha} written to {output}; re-check it any time with "
        f"`tradeledger verify --bundle {output} --rpc <chain node URL>`",
        soft_wrap=True,
    )


def _prove(bundle: dict[str, Any], checkpoints: list[Path], rpc: str) -> dict[str, Any]:
    from ledger.chain import Rpc
    from ledger.flows import prove_bundle
    from ledger.proofs import Checkpoint

    signed = [Checkpoint.from_json(read_json_object(p, "a checkpoint")) for p in checkpoints]
    return prove_bundle(Rpc(rpc), bundle, signed)


# ------------------------------------------------------------------ relay


def relay(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., metavar="FILE", help="The document the request was signed for."
    ),
    request: Path = typer.Option(
        ...,
        "--request",
        "-r",
        metavar="SIGNED.json",
        help="The output of `tradeledger sign-request`.",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Have the service relay an exporter's signed registration (the service pays the gas).

    Example:

    tradeledger sign-request certificate.pdf --key my-exporter -t 861 -c SMGS-0042 -o signed.json

    tradeledger relay certificate.pdf --request signed.json
    """
    with errors_to_exit():
        signed = read_json_object(request, "a signed request")
        if "sha256" in signed:
            actual = hash_local(file).sha256
            if actual != signed["sha256"]:
                fail(
                    f"{file} is not the document {request} was signed for (SHA-256 {actual}, "
                    f"signed {signed['sha256']})"
                )
        with Client(ctx) as client, _upload_bar([file]) as (bar, task), file.open("rb") as f:
            upload = ProgressFile(f, partial(bar.advance, task))
            try:
                response = client.request(
                    "POST",
                    "/v1/documents/relay",
                    files={"file": (file.name, upload)},
                    data={"signed_request": json.dumps(signed)},
                )
                row = _row_of(file, response.json(), response.status_code)
            except ApiError as exc:
                if exc.status != 409:
                    raise
                row = _row_of_error(file, exc)
    print_rows([row], json_out)


def register(app: typer.Typer) -> None:
    """Add the document commands, and the global --api/--key options, to ``app``."""
    app.callback()(global_options)
    app.command("register")(register_files)
    for command in (verify, attest, revoke, supersede, evidence, relay):
        app.command(command.__name__)(command)
    app.command("revoke-batch")(revoke_batch)
