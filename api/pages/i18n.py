"""The pages' languages: message catalogues, which language a request gets, and the
translator that fills a message in (plurals, numbers, dates) for that language.

The catalogues are ``i18n/<lang>.json`` (flat ``key → message``; the message syntax is the
ICU subset of ``messages``). English document type names are not in ``en.json``: they come
from ``ledger.doctypes`` (the one English source, also used by the CLI); every other
catalogue names each of those codes as ``doctype.<code>``. ``doc_type_name`` is what the
pages, the API and the CSV export all use.

A request's language is the ``lang`` query parameter, else the ``lang`` cookie, else the
best match in ``Accept-Language`` (``fa-AF`` and ``prs`` are Dari, ``pbt``/``pbu`` Pashto),
else English. Dari and Pashto are the languages as written in Afghanistan: the pages
declare them as ``fa-AF`` and ``ps-AF``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from api.pages import formats, messages
from ledger.doctypes import DOCUMENT_TYPES

CATALOGUES = Path(__file__).parent / "i18n"
DEFAULT = "en"


@dataclass(frozen=True)
class Language:
    name: str  # in the language itself
    dir: str  # ltr or rtl
    tag: str  # BCP 47, for lang= attributes and Content-Language


LANGUAGES: dict[str, Language] = {
    "en": Language("English", "ltr", "en"),
    "ru": Language("Русский", "ltr", "ru"),
    "kk": Language("Қазақша", "ltr", "kk"),
    "fa": Language("دری", "rtl", "fa-AF"),
    "ps": Language("پښتو", "rtl", "ps-AF"),
}
ALIASES = {"prs": "fa", "pbt": "ps", "pbu": "ps"}


@lru_cache
def catalogue(lang: str) -> dict[str, str]:
    """The messages of ``lang`` (one of ``LANGUAGES``), English document type names included."""
    data: dict[str, str] = json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))
    if lang == DEFAULT:
        data.update({f"doctype.{code}": name for code, name in DOCUMENT_TYPES.items()})
    return data


@lru_cache
def parsed(lang: str, key: str) -> messages.Message:
    return messages.parse(catalogue(lang).get(key) or catalogue(DEFAULT).get(key, key))


def doc_type_name(code: int, lang: str = DEFAULT) -> str:
    """The name of UN/EDIFACT 1001 document type ``code`` in ``lang`` ("unknown" if none)."""
    if code not in DOCUMENT_TYPES:
        return "unknown"
    return catalogue(lang if lang in LANGUAGES else DEFAULT)[f"doctype.{code}"]


def known(tag: str) -> str | None:
    """The page language a language tag (``fa-AF``, ``ru_RU``, ``pbt``) stands for, or None."""
    primary = tag.strip().lower().replace("_", "-").split("-")[0]
    primary = ALIASES.get(primary, primary)
    return primary if primary in LANGUAGES else None


def from_accept_language(header: str) -> str | None:
    """The best supported language of an ``Accept-Language`` header, or None."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = known(tag)
        if lang and q > 0:
            ranked.append((-q, i, lang))
    return min(ranked)[2] if ranked else None


def choose(query: str | None, cookie: str | None, accept: str | None) -> str:
    """The language of a request: query, then cookie, then Accept-Language, then English."""
    for candidate in (query, cookie):
        if candidate and known(candidate):
            return known(candidate) or DEFAULT
    return from_accept_language(accept or "") or DEFAULT


@dataclass(frozen=True)
class Translator:
    """Messages of one language; call it with a key (and argument values).

    Numbers among the values (and plural counts) are written the language's way; strings
    go in as they are, so identifiers such as block numbers stay in ASCII digits.
    """

    lang: str

    @property
    def dir(self) -> str:
        return LANGUAGES[self.lang].dir

    @property
    def tag(self) -> str:
        return LANGUAGES[self.lang].tag

    def __call__(self, key: str, **values: object) -> str:
        return messages.render(
            parsed(self.lang, key),
            values,
            lambda n: formats.plural_category(n, self.lang),
            lambda n: formats.number(n, self.lang),
        )

    def number(self, n: float) -> str:
        return formats.number(n, self.lang)

    def when(self, ts: int | None) -> str:
        """A Unix time for display (with the Solar Hijri date on Dari and Pashto pages)."""
        return formats.when(ts, self.lang)

    def doc_type(self, code: int) -> str:
        return doc_type_name(code, self.lang)

    def subset(self, *prefixes: str) -> dict[str, str]:
        """The raw messages whose keys start with one of ``prefixes`` (for a page's script)."""
        return {
            k: catalogue(self.lang).get(k) or v
            for k, v in catalogue(DEFAULT).items()
            if k.startswith(prefixes)
        }
