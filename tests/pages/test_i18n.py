"""The pages' catalogues: complete, non-empty, really translated; language negotiation."""

from __future__ import annotations

import re

import pytest

from api.pages.i18n import LANGUAGES, Translator, catalogue, choose, from_accept_language

OTHERS = [lang for lang in LANGUAGES if lang != "en"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")
MAX_SAME_AS_ENGLISH = 3  # proper nouns and acronyms, e.g. "IPFS CID"


@pytest.mark.parametrize("lang", OTHERS)
def test_catalogue_has_exactly_the_english_keys(lang: str) -> None:
    assert set(catalogue(lang)) == set(catalogue("en"))


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_no_empty_message(lang: str) -> None:
    assert [k for k, v in catalogue(lang).items() if not v.strip()] == []


@pytest.mark.parametrize("lang", OTHERS)
def test_messages_are_translated(lang: str) -> None:
    en = catalogue("en")
    same = [k for k, v in catalogue(lang).items() if v == en[k]]
    assert len(same) <= MAX_SAME_AS_ENGLISH, same


@pytest.mark.parametrize("lang", OTHERS)
def test_placeholders_match_english(lang: str) -> None:
    en = catalogue("en")
    for key, text in catalogue(lang).items():
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(en[key])), key


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("fa-AF,fa;q=0.9,en;q=0.5", "fa"),
        ("prs", "fa"),
        ("ps-AF", "ps"),
        ("de-DE,ru;q=0.8,en;q=0.7", "ru"),
        ("en;q=0.2,kk-KZ;q=0.9", "kk"),
        ("de, fr", None),
        ("", None),
    ],
)
def test_accept_language(header: str, lang: str | None) -> None:
    assert from_accept_language(header) == lang


def test_query_beats_cookie_beats_header() -> None:
    assert choose("ps", "ru", "kk") == "ps"
    assert choose(None, "ru", "kk") == "ru"
    assert choose("xx", None, "kk") == "kk"
    assert choose(None, None, None) == "en"


def test_rtl_languages() -> None:
    assert [lang for lang in LANGUAGES if Translator(lang).dir == "rtl"] == ["fa", "ps"]
