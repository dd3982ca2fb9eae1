"""The term base: one word per product concept and language, and the check that every
catalogue uses exactly those words wherever the English message uses the concept.

``terms/en.json`` names each concept (document, fingerprint, issuer, exporter, verify,
attest, revoke, supersede, consignment, key, transaction, block, chain, ledger, …) and the
regular expression that finds it in an English message. ``terms/<lang>.json`` fixes the
word for it in that language (``term``), the forms it may take there (``forms``: regular
expressions, so a stem or a list of inflected forms; matched case-insensitively), and words
known to be wrong for it (``avoid``, e.g. Pashto کلی "village" for key).

A message breaks the term base when its English uses a concept and the translation has
none of the concept's forms, or has one of the words to avoid. Text is compared with zero
width non-joiners read as spaces (``ثبت‌شده`` = ``ثبت شده``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TERMS = Path(__file__).parent / "terms"


@dataclass(frozen=True)
class Term:
    concept: str
    term: str
    forms: tuple[re.Pattern[str], ...]
    avoid: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Violation:
    key: str
    concept: str
    problem: str  # "missing" or "avoid"
    detail: str

    def __str__(self) -> str:
        return f"{self.key}: {self.concept} {self.problem} ({self.detail})"


def normalise(text: str) -> str:
    return text.replace("\u200c", " ").casefold()


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(normalise(pattern), re.IGNORECASE)


@lru_cache
def english() -> dict[str, re.Pattern[str]]:
    """Concept → the pattern that finds it in English."""
    data = json.loads((TERMS / "en.json").read_text(encoding="utf-8"))
    return {c: re.compile(v["match"], re.IGNORECASE) for c, v in data.items()}


@lru_cache
def terms(lang: str) -> dict[str, Term]:
    """Concept → the fixed term of ``lang``."""
    data = json.loads((TERMS / f"{lang}.json").read_text(encoding="utf-8"))
    return {
        c: Term(
            c,
            v["term"],
            tuple(_compile(p) for p in v["forms"]),
            tuple(_compile(p) for p in v.get("avoid", [])),
        )
        for c, v in data.items()
    }


def concepts(english_text: str) -> list[str]:
    """The concepts an English message uses (argument names such as ``{verdict}`` aside)."""
    text = re.sub(r"\{\s*\w+", "{", english_text)
    return [c for c, pattern in english().items() if pattern.search(text)]


def violations(
    lang: str, messages: dict[str, str], english_messages: dict[str, str]
) -> list[Violation]:
    """Where ``messages`` (a catalogue of ``lang``) stray from the term base."""
    found: list[Violation] = []
    table = terms(lang)
    for key, source in english_messages.items():
        text = normalise(messages.get(key, ""))
        for concept in concepts(source):
            term = table[concept]
            if not any(form.search(text) for form in term.forms):
                found.append(Violation(key, concept, "missing", f"expected {term.term!r}"))
            for bad in term.avoid:
                if m := bad.search(text):
                    found.append(Violation(key, concept, "avoid", f"{m.group(0)!r}"))
    return found
