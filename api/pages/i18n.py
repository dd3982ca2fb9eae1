"""The pages' languages: message catalogues, and which language a request gets.

The catalogues are ``i18n/<lang>.json`` (flat ``key → text``; ``{name}`` placeholders).
A request's language is the ``lang`` query parameter, else the ``lang`` cookie, else the
best match in ``Accept-Language`` (``fa-AF`` and ``prs`` are Dari, ``pbt``/``pbu`` Pashto),
else English.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CATALOGUES = Path(__file__).parent / "i18n"
DEFAULT = "en"
# code → (name in its own language, writing direction)
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("English", "ltr"),
    "ru": ("Русский", "ltr"),
    "kk": ("Қазақша", "ltr"),
    "fa": ("دری", "rtl"),
    "ps": ("پښتو", "rtl"),
}
ALIASES = {"prs": "fa", "pbt": "ps", "pbu": "ps"}


@lru_cache
def catalogue(lang: str) -> dict[str, str]:
    """The messages of ``lang`` (one of ``LANGUAGES``)."""
    data: dict[str, str] = json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def _known(tag: str) -> str | None:
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
        lang = _known(tag)
        if lang and q > 0:
            ranked.append((-q, i, lang))
    return min(ranked)[2] if ranked else None


def choose(query: str | None, cookie: str | None, accept: str | None) -> str:
    """The language of a request: query, then cookie, then Accept-Language, then English."""
    for candidate in (query, cookie):
        if candidate and _known(candidate):
            return _known(candidate) or DEFAULT
    return from_accept_language(accept or "") or DEFAULT


@dataclass(frozen=True)
class Translator:
    """Messages of one language; call it with a key (and placeholder values)."""

    lang: str

    @property
    def dir(self) -> str:
        return LANGUAGES[self.lang][1]

    def __call__(self, key: str, **values: object) -> str:
        text = catalogue(self.lang).get(key) or catalogue(DEFAULT).get(key, key)
        return text.format(**values) if values else text

    def subset(self, *prefixes: str) -> dict[str, str]:
        """The messages whose keys start with one of ``prefixes`` (for a page's script)."""
        return {k: self(k) for k in catalogue(DEFAULT) if k.startswith(prefixes)}
