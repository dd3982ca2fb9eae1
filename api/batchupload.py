"""Streamed batch uploads: a multipart body's files are stored while the rest still arrives.

A batch is hundreds of files in one ``multipart/form-data`` body. FastAPI's form parsing
would spool the whole body before the endpoint runs; here the event loop parses it as it
arrives (python-multipart) and hands each file's bytes, through a bounded queue, to a
worker thread that hashes and stores them (``Documents.store_batch``). The upload thus
overlaps the hashing and the disk, and memory holds at most ``QUEUE`` chunks. The other
fields (``doc_type``, ``consignment_ref``) may come before, between or after the files.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ledger.content import Fingerprint
from ledger.errors import InvalidInput

QUEUE = 64  # chunks (of at most what one socket read gives) between the loop and the worker
MAX_FIELD = 64 * 1024  # bytes of a non-file field
FILE_FIELD = "files"
_BEGIN, _END, _DONE = object(), object(), object()

Store = Callable[[Iterator[Iterator[bytes]]], list[Fingerprint]]


class _Aborted(Exception):
    """The upload stopped before its end (the client went away, or the body is malformed)."""


@dataclass
class BatchForm:
    stored: list[Fingerprint]
    fields: dict[str, list[str]] = field(default_factory=dict)


class _Feed:
    """The queue between the event loop and the worker, and the loop's "stop" signal (an
    event, not a queue item: the loop may be cancelled, or the queue full, when it stops)."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=QUEUE)
        self.stopped = threading.Event()

    def _next(self) -> Any:
        while not self.stopped.is_set():
            try:
                return self.queue.get(timeout=0.1)
            except queue.Empty:
                continue
        raise _Aborted("the upload stopped before its end")

    def _file(self) -> Iterator[bytes]:
        while (item := self._next()) is not _END:
            yield item

    def files(self) -> Iterator[Iterator[bytes]]:
        """The worker's view: one iterator of chunks per file, each read to its end in turn."""
        while self._next() is not _DONE:  # a _BEGIN
            yield self._file()


class _Parts:
    """python-multipart callbacks: file bytes become queue items, other fields text."""

    def __init__(self) -> None:
        self.items: list[Any] = []  # for the queue, in order
        self.fields: dict[str, list[str]] = {}
        self._header = b""
        self._value = b""
        self._disposition = b""
        self._name = ""
        self._is_file = False
        self._data = bytearray()

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _begin(self) -> None:
        self._disposition, self._data = b"", bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        if self._header.lower() == b"content-disposition":
            self._disposition = self._value
        self._header = self._value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise InvalidInput(
                'a part of the form has no name: give each a Content-Disposition "name"'
            )
        self._name = options[b"name"].decode("utf-8", "replace")
        self._is_file = self._name == FILE_FIELD
        if self._is_file:
            self.items.append(_BEGIN)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self.items.append(data[start:end])
        elif len(self._data) + end - start > MAX_FIELD:
            raise InvalidInput(f"form field {self._name} is over {MAX_FIELD} bytes")
        else:
            self._data += data[start:end]

    def _part_end(self) -> None:
        if self._is_file:
            self.items.append(_END)
        else:
            self.fields.setdefault(self._name, []).append(self._data.decode("utf-8", "replace"))


def _write(parser: MultipartParser, chunk: bytes) -> None:
    try:
        parser.write(chunk)
    except MultipartParseError as exc:
        raise InvalidInput(f"the multipart body is malformed: {exc}") from exc


async def receive_batch(request: Request, store: Store) -> BatchForm:
    """Parse ``request``'s multipart body while ``store`` (on a worker thread) stores the
    ``files`` parts; the stored fingerprints, in order, and the other fields' values."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise InvalidInput(
            "send the batch as multipart/form-data with files, doc_type and consignment_ref"
        )
    feed = _Feed()
    parts = _Parts()
    parser = MultipartParser(options[b"boundary"], parts.callbacks())  # type: ignore[arg-type]
    worker = asyncio.ensure_future(run_in_threadpool(store, feed.files()))

    async def hand_over(items: list[Any]) -> None:
        for item in items:
            while True:
                if worker.done():  # it failed (or it stopped early): its error is the answer
                    worker.result()
                    raise RuntimeError("the batch's store stopped before the upload's end")
                try:
                    feed.queue.put_nowait(item)
                    break
                except queue.Full:
                    await asyncio.sleep(0.001)
        items.clear()

    try:
        async for chunk in request.stream():
            _write(parser, chunk)
            await hand_over(parts.items)
        parser.finalize()
        await hand_over([*parts.items, _DONE])
    except BaseException as exc:
        feed.stopped.set()  # the worker stops at its next read, and its store cleans up
        if not isinstance(exc, asyncio.CancelledError):
            with suppress(Exception):  # the first error is the one to report
                await worker
        raise
    return BatchForm(await worker, parts.fields)
