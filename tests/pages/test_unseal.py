"""The browser's read-link decryptor (``static/unseal.js``, Web Crypto in Debian's Chromium)
opens what the Python side sealed, and refuses a wrong key or an altered, reordered or
truncated object without returning any of it."""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

import pytest

from ledger.sealing import DocumentKey, Kind, Sealer, seal_bytes
from ledger.sealing.stream import CHUNK, HEADER_SIZE, SEALED_CHUNK

OPEN = """async ([sealed, key]) => {
  const bytes = Uint8Array.from(atob(sealed), (c) => c.charCodeAt(0));
  try {
    const plain = await window.TDLUnseal.open(bytes, window.TDLUnseal.readKey(key));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", plain));
    return {ok: true, size: plain.length,
            sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")};
  } catch (e) {
    return {ok: false, broken: e instanceof window.TDLUnseal.SealBroken, message: e.message};
  }
}"""


def unseal(page: Any, sealed: bytes, key: str) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(OPEN, [base64.b64encode(sealed).decode(), key])
    return result


@pytest.fixture
def reader(page: Any) -> Any:
    page.goto("/")
    page.add_script_tag(url="/static/unseal.js")
    return page


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * 1024 * 1024 + 17])
def test_the_browser_opens_what_python_sealed(reader: Any, size: int) -> None:
    plain = os.urandom(size)
    sealer = Sealer([plain], DocumentKey.generate())
    sealed = b"".join(sealer)
    for form in (sealer.read_key.text(), "#" + sealer.read_key.fragment()):
        got = unseal(reader, sealed, form)
        assert got == {"ok": True, "size": size, "sha256": hashlib.sha256(plain).hexdigest()}


def test_the_browser_refuses_and_returns_nothing(reader: Any) -> None:
    plain = os.urandom(3 * CHUNK + 100)
    sealer = Sealer([plain], DocumentKey.generate())
    sealed = b"".join(sealer)
    key = sealer.read_key.text()
    chunk = [sealed[HEADER_SIZE + i * SEALED_CHUNK :][:SEALED_CHUNK] for i in range(4)]
    wrong = DocumentKey.generate().payload_key(Kind.CONTENT, sealed[9:25]).text()
    cases = {
        "wrong key": (sealed, wrong),
        "altered chunk": (sealed[:100] + bytes([sealed[100] ^ 1]) + sealed[101:], key),
        "reordered chunks": (sealed[:HEADER_SIZE] + chunk[1] + chunk[0] + chunk[2] + chunk[3], key),
        "final chunk dropped": (sealed[:HEADER_SIZE] + chunk[0] + chunk[1] + chunk[2], key),
        "cut inside a chunk": (sealed[:-50], key),
        "metadata, not content": (seal_bytes(b"{}", DocumentKey.generate(), Kind.METADATA), key),
        "not sealed at all": (plain, key),
    }
    for name, (bad, k) in cases.items():
        got = unseal(reader, bad, k)
        assert got["ok"] is False and got["broken"] is True, (name, got)
    assert "wrong" in unseal(reader, sealed, wrong)["message"]
    for bad_key in ("", "k=short", "A" * 42 + "!"):
        got = unseal(reader, sealed, bad_key)
        assert got["ok"] is False and "copy the whole link" in got["message"], got
