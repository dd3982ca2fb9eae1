"""The term base (api/pages/terms/): every catalogue uses the fixed word for each concept
wherever the English does, and the check catches the wording the i18n review found wrong."""

from __future__ import annotations

import pytest

from api.pages import termbase
from api.pages.i18n import LANGUAGES, catalogue

OTHERS = [lang for lang in LANGUAGES if lang != "en"]


@pytest.mark.parametrize("lang", OTHERS)
def test_catalogue_uses_the_term_base(lang: str) -> None:
    found = termbase.violations(lang, catalogue(lang), catalogue("en"))
    assert found == [], "\n".join(map(str, found))


@pytest.mark.parametrize("lang", OTHERS)
def test_term_base_covers_every_concept(lang: str) -> None:
    assert set(termbase.terms(lang)) == set(termbase.english())
    for term in termbase.terms(lang).values():  # each fixed word is one of its own forms
        assert any(f.search(termbase.normalise(term.term)) for f in term.forms), term.concept


@pytest.mark.parametrize("lang", OTHERS)
def test_issuer_and_exporter_are_different_words(lang: str) -> None:
    """The review found them merged in Dari and Pashto: an exporter is not an issuer."""
    t = termbase.terms(lang)
    exporter = termbase.normalise(t["exporter"].term)
    assert not any(f.search(exporter) for f in t["issuer"].forms)


def test_every_concept_of_the_brief_is_in_the_term_base() -> None:
    brief = {"document", "fingerprint", "issuer", "exporter", "verify", "attest", "revoke"}
    brief |= {"supersede", "consignment", "key", "transaction", "block", "ledger"}
    assert brief <= set(termbase.english())


def test_every_concept_occurs_in_the_english_catalogue() -> None:
    used = {c for text in catalogue("en").values() for c in termbase.concepts(text)}
    assert used == set(termbase.english())


# Messages as they were before the review's corrections (verbatim), and what the check says.
BEFORE = {
    "ps": {
        "key.label": ("د API کلی", {("key", "missing"), ("key", "avoid")}),
        "status.superseded": ("بدل شوی", {("supersede", "missing"), ("supersede", "avoid")}),
        "res.issuer": ("صادروونکی", {("issuer", "missing")}),
        "auditor.title": ("د دفتر پلټنه", {("ledger", "missing")}),
        "doctype.861": ("د مبدأ سند", {("certificate", "missing")}),
        "verify.hashing": ("نښه شمېرل کېږي…", {("fingerprint", "missing")}),
    },
    "fa": {
        "res.issuer": ("صادرکننده", {("issuer", "missing")}),
        "att.held": ("توقیف شد", {("held", "missing"), ("held", "avoid")}),
        "verify.hashing": ("در حال حساب کردن اثر…", {("fingerprint", "missing")}),
        "res.tx": ("معامله", {("transaction", "missing")}),
    },
    "kk": {
        "status.revoked": ("кері қайтарылған", {("revoke", "missing"), ("revoke", "avoid")}),
        "res.index": (
            "Тізілім индексі {indexed} блокта; тізбек басы {head}.",
            {("chain", "missing"), ("chain", "avoid")},
        ),
        "att.cleared": ("Шығарылды", {("cleared", "missing"), ("cleared", "avoid")}),
    },
    "ru": {
        "att.cleared": ("Выпущен", {("cleared", "missing"), ("cleared", "avoid")}),
        "doctype.856": ("Акт инспекции", {("certificate", "missing"), ("certificate", "avoid")}),
    },
}


@pytest.mark.parametrize("lang", sorted(BEFORE))
def test_the_check_catches_the_wording_the_review_found(lang: str) -> None:
    old = {**catalogue(lang), **{k: text for k, (text, _) in BEFORE[lang].items()}}
    found = termbase.violations(lang, old, catalogue("en"))
    by_key: dict[str, set[tuple[str, str]]] = {}
    for v in found:
        by_key.setdefault(v.key, set()).add((v.concept, v.problem))
    assert by_key == {k: expected for k, (_, expected) in BEFORE[lang].items()}


def test_inflected_forms_count() -> None:
    """Russian and Kazakh inflect: the forms are stems or patterns, not one exact word."""
    en = {"a": "The document's fingerprint", "b": "Revoked", "c": "Not revoked"}
    assert (
        termbase.violations(
            "ru", {"a": "Отпечатка документа нет", "b": "Отозван", "c": "Не отозвана"}, en
        )
        == []
    )
    kk = {"a": "Құжаттың ізін", "b": "Күші жойылды", "c": "Күші жойылмаған"}
    assert termbase.violations("kk", kk, en) == []
    assert [v.key for v in termbase.violations("kk", {**kk, "a": "Құжаттың іздеуі"}, en)] == ["a"]
