"""Document keys, payload keys and read keys (what a read link carries after ``#k=``)."""

from __future__ import annotations

import pytest

from ledger.errors import InvalidInput
from ledger.sealing import DocumentKey, Kind, PayloadKey


def test_read_key_text_round_trips_in_every_form() -> None:
    key = DocumentKey.generate().payload_key(Kind.CONTENT, b"\x00" * 16)
    text = key.text()
    assert len(text) == 43 and "=" not in text and "+" not in text and "/" not in text
    assert key.fragment() == "k=" + text
    for form in (text, "k=" + text, "#k=" + text, f"  #k={text}\n"):
        assert PayloadKey.from_text(form) == key


@pytest.mark.parametrize(
    "bad",
    ["", "k=", "abc", "A" * 42, "A" * 44, "A" * 42 + "+", "A" * 42 + "/", "A" * 42 + "=", "ä" * 43],
)
def test_a_malformed_read_key_says_what_to_do(bad: str) -> None:
    with pytest.raises(InvalidInput, match="copy"):
        PayloadKey.from_text(bad)


def test_payload_keys_differ_by_kind_salt_and_document() -> None:
    key, other = DocumentKey.generate(), DocumentKey.generate()
    salt = b"s" * 16
    keys = {
        key.payload_key(Kind.CONTENT, salt),
        key.payload_key(Kind.METADATA, salt),
        key.payload_key(Kind.CONTENT, b"t" * 16),
        other.payload_key(Kind.CONTENT, salt),
    }
    assert len(keys) == 4
    assert key.payload_key(Kind.CONTENT, salt) == key.payload_key(Kind.CONTENT, salt)


def test_keys_never_print_their_secret() -> None:
    key = DocumentKey.generate()
    read = key.payload_key(Kind.CONTENT, b"s" * 16)
    assert key.secret.hex() not in repr(key) and read.secret.hex() not in repr(read)
    assert read.text() not in repr(read) and read.text() not in str(read)
    with pytest.raises(InvalidInput):
        DocumentKey(b"short")
