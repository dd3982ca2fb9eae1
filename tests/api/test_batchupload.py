"""The streamed batch parser on its own: files reach the store while the body arrives, and
an upload that stops half-way stops the store too (whose cleanup then runs)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.requests import ClientDisconnect, Request

from api.batchupload import receive_batch
from ledger.content.hashing import Fingerprint, hash_bytes

BOUNDARY = "b0undary"


def body(files: list[bytes], fields: dict[str, str]) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="f{i}"\r\n\r\n'.encode()
        + data
        + b"\r\n"
        for i, data in enumerate(files)
    ]
    parts += [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def request(data: bytes, piece: int, disconnect_after: int | None = None) -> Request:
    """A Starlette request whose body arrives in ``piece``-byte messages (the client goes
    away after ``disconnect_after`` of them, if given)."""
    chunks = [data[i : i + piece] for i in range(0, len(data), piece)]
    sent = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if disconnect_after is not None and sent >= disconnect_after:
            return {"type": "http.disconnect"}
        sent += 1
        return {"type": "http.request", "body": chunks[sent - 1], "more_body": sent < len(chunks)}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())],
    }
    return Request(scope, receive)


def test_files_and_fields_in_any_order() -> None:
    files = [bytes([i]) * (50_000 + i) for i in range(5)]
    seen: list[int] = []

    def store(sources: Iterator[Iterator[bytes]]) -> list[Fingerprint]:
        out = []
        for source in sources:
            data = b"".join(source)
            seen.append(len(data))
            out.append(hash_bytes(data))
        return out

    form = asyncio.run(
        receive_batch(
            request(body(files, {"doc_type": "861", "consignment_ref": "R"}), 7_000), store
        )
    )
    assert [fp.sha256 for fp in form.stored] == [hashlib.sha256(f).hexdigest() for f in files]
    assert seen == [len(f) for f in files]
    assert form.fields == {"doc_type": ["861"], "consignment_ref": ["R"]}


def test_an_upload_cut_short_stops_the_store() -> None:
    files = [b"x" * 200_000, b"y" * 200_000]
    outcome: list[str] = []

    def store(sources: Iterator[Iterator[bytes]]) -> list[Fingerprint]:
        try:
            return [hash_bytes(b"".join(source)) for source in sources]
        except BaseException as exc:
            outcome.append(type(exc).__name__)  # where the real store cleans up
            raise

    with pytest.raises(ClientDisconnect):
        asyncio.run(receive_batch(request(body(files, {}), 10_000, disconnect_after=25), store))
    assert outcome == ["_Aborted"]


def test_a_failing_store_is_the_answer() -> None:
    class Refused(Exception):
        pass

    def store(sources: Iterator[Iterator[bytes]]) -> list[Fingerprint]:
        next(sources)
        raise Refused("over the limit")

    with pytest.raises(Refused):
        asyncio.run(receive_batch(request(body([b"z" * 300_000] * 3, {}), 4_000), store))
