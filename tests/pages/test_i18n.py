"""The pages' catalogues: complete, non-empty, really translated, valid message syntax,
plurals for each language's categories, one source of document type names; language
negotiation and the language tags the pages declare."""

from __future__ import annotations

import json

import pytest

from api.pages import formats, messages
from api.pages.i18n import (
    CATALOGUES,
    LANGUAGES,
    Translator,
    catalogue,
    choose,
    doc_type_name,
    from_accept_language,
)
from ledger.doctypes import DOCUMENT_TYPES

OTHERS = [lang for lang in LANGUAGES if lang != "en"]
MAX_SAME_AS_ENGLISH = 3  # proper nouns and acronyms, e.g. "IPFS CID"
DOCTYPE_KEYS = {f"doctype.{code}" for code in DOCUMENT_TYPES}


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


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_message_parses(lang: str) -> None:
    for text in catalogue(lang).values():
        messages.parse(text)  # raises MessageSyntaxError with the place


@pytest.mark.parametrize("lang", OTHERS)
def test_arguments_match_english(lang: str) -> None:
    en = catalogue("en")
    for key, text in catalogue(lang).items():
        expected = messages.arguments(messages.parse(en[key]))
        assert messages.arguments(messages.parse(text)) == expected, key


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_plurals_cover_exactly_the_language_categories(lang: str) -> None:
    """Russian needs one/few/many/other, the others one/other (CLDR, through Babel)."""
    needed = formats.plural_categories(lang)
    en = catalogue("en")
    for key, text in catalogue(lang).items():
        plurals = messages.plurals(messages.parse(text))
        assert len(plurals) == len(messages.plurals(messages.parse(en[key]))), key
        for p in plurals:
            categories = {s for s in p.branches if not s.startswith("=")}
            assert categories == needed, (key, sorted(categories), sorted(needed))


COUNTS = {"lag", "count"}  # arguments that count things: always through a plural


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_counts_are_never_concatenated(lang: str) -> None:
    for key, text in catalogue(lang).items():
        parsed = messages.parse(text)
        bare = {p.name for p in parsed if isinstance(p, messages.Arg)}
        assert not bare & COUNTS, f"{key}: a count outside a plural: {text}"


@pytest.mark.parametrize(
    ("lang", "n", "expected"),
    [
        ("en", 1, "behind by 1 block."),
        ("en", 5, "behind by 5 blocks."),
        ("ru", 1, "отставание: 1 блок."),
        ("ru", 3, "отставание: 3 блока."),
        ("ru", 11, "отставание: 11 блоков."),
        ("ru", 21, "отставание: 21 блок."),
        ("ru", 1000, "отставание: 1\xa0000 блоков."),
        ("kk", 7, "7 блок артта."),
        ("fa", 12, "۱۲ بلاک عقب."),
        ("ps", 1, "۱ بلاک وروسته."),
        ("ps", 4, "۴ بلاکه وروسته."),
    ],
)
def test_lag_is_pluralised_and_localised(lang: str, n: int, expected: str) -> None:
    text = Translator(lang)("auditor.lag", indexed="120", head="125", lag=n)
    assert text.endswith(expected), text
    assert "120" in text and "125" in text  # block numbers are identifiers: ASCII digits


def test_english_doc_type_names_have_one_source() -> None:
    """en.json names no document type; ledger.doctypes does, for the API, CSV and pages."""
    raw = json.loads((CATALOGUES / "en.json").read_text(encoding="utf-8"))
    assert not [k for k in raw if k.startswith("doctype.")]
    for code, name in DOCUMENT_TYPES.items():
        assert doc_type_name(code, "en") == name == Translator("en").doc_type(code)


@pytest.mark.parametrize("lang", OTHERS)
def test_every_language_names_every_doc_type(lang: str) -> None:
    assert {k for k in catalogue(lang) if k.startswith("doctype.")} == DOCTYPE_KEYS
    assert doc_type_name(861, lang) == catalogue(lang)["doctype.861"] != DOCUMENT_TYPES[861]
    assert doc_type_name(999, lang) == "unknown"


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


def test_rtl_languages_are_declared_as_written_in_afghanistan() -> None:
    assert [lang for lang in LANGUAGES if Translator(lang).dir == "rtl"] == ["fa", "ps"]
    assert Translator("fa").tag == "fa-AF" and Translator("ps").tag == "ps-AF"
    assert [Translator(lang).tag for lang in ("en", "ru", "kk")] == ["en", "ru", "kk"]
