"""Numbers, plural categories and dates as each page language writes them.

Numbers and Gregorian dates come from Babel's CLDR data for the language's locale (Dari
and Pashto as spoken in Afghanistan: ``fa_AF``, ``ps_AF``), in the locale's own digits
(Eastern Arabic-Indic ``۰۱۲…`` for Dari and Pashto). Times are shown in UTC on a 24-hour
clock. On the Dari and Pashto pages every date carries the Afghan Solar Hijri date beside
the Gregorian one (``solarhijri``). ``client()`` hands the same data to the pages' scripts
(``static/i18n.js``), which format alike; a browser test compares the two.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

from api.pages import solarhijri

# page language → Babel locale
LOCALES = {"en": "en", "ru": "ru", "kk": "kk", "fa": "fa_AF", "ps": "ps_AF"}
DIGITS = {"latn": "0123456789", "arabext": "۰۱۲۳۴۵۶۷۸۹"}
# Dari and Pashto spell the month out: CLDR's abbreviations for fa_AF are not in use.
DATE_WIDTH = {"en": "medium", "ru": "medium", "kk": "medium", "fa": "long", "ps": "long"}
TIME_PATTERN = "HH:mm"
UTC_LABEL = "UTC"


@lru_cache
def locale(lang: str) -> Locale:
    return Locale.parse(LOCALES[lang])


def _digits(lang: str) -> str:
    return DIGITS.get(locale(lang).default_numbering_system, DIGITS["latn"])


def localise_digits(text: str, lang: str) -> str:
    """``text`` with its ASCII digits written in the language's digits."""
    digits = _digits(lang)
    return text if digits == DIGITS["latn"] else text.translate(str.maketrans("0123456789", digits))


def number(n: float, lang: str) -> str:
    """``n`` with the language's grouping, decimal sign and digits (Eastern Arabic-Indic for Dari and Pashto)."""
    loc = locale(lang)
    return localise_digits(format_decimal(n, locale=loc, numbering_system="default"), lang)


def plural_category(n: float, lang: str) -> str:
    """CLDR plural category of ``n`` in ``lang``: one, few, many, other…"""
    category: str = locale(lang).plural_form(n)
    return category


def plural_categories(lang: str) -> set[str]:
    """The categories a plural message of ``lang`` must cover."""
    return set(locale(lang).plural_form.tags) | {"other"}


def date_pattern(lang: str) -> str:
    return locale(lang).date_formats[DATE_WIDTH[lang]].pattern


def day_month_pattern(lang: str) -> str:
    """Day and month without the year (chart axes): CLDR's ``MMMd``; spelled out for Dari and
    Pashto."""
    return (
        "d MMMM" if DATE_WIDTH[lang] == "long" else locale(lang).datetime_skeletons["MMMd"].pattern
    )


def solar_date(d: date, lang: str) -> str:
    """``d`` in the Afghan Solar Hijri calendar, (day, zodiac month, year)."""
    s = solarhijri.from_gregorian(d)
    return localise_digits(f"{s.day} {solarhijri.MONTHS[lang][s.month - 1]} {s.year}", lang)


def day(d: date, lang: str) -> str:
    """A calendar day: Gregorian, with the Solar Hijri date beside it for Dari and Pashto."""
    text = localise_digits(format_date(d, date_pattern(lang), locale=locale(lang)), lang)
    if lang in solarhijri.MONTHS and lang != "en":
        text = f"{text} ({solar_date(d, lang)})"
    return text


def when(ts: int | None, lang: str) -> str:
    """A Unix time as a date and a UTC time of day (empty when unknown)."""
    if ts is None:
        return ""
    moment = datetime.fromtimestamp(ts, UTC)
    clock = localise_digits(moment.strftime("%H:%M"), lang)
    glue = locale(lang).datetime_formats["medium"]
    return glue.replace("{1}", day(moment.date(), lang)).replace("{0}", f"{clock} {UTC_LABEL}")


def client(lang: str) -> dict[str, Any]:
    """What ``static/i18n.js`` needs to format numbers and dates exactly like this module."""
    loc = locale(lang)
    symbols = loc.number_symbols[loc.default_numbering_system]
    months = {
        token: list(loc.months[context][width].values())
        for token, context, width in (
            ("MMM", "format", "abbreviated"),
            ("MMMM", "format", "wide"),
            ("LLL", "stand-alone", "abbreviated"),
            ("LLLL", "stand-alone", "wide"),
        )
    }
    return {
        "lang": lang,
        "digits": _digits(lang),
        "group": symbols["group"],
        "decimal": symbols["decimal"],
        "date": date_pattern(lang),
        "day_month": day_month_pattern(lang),
        "months": months,
        "glue": loc.datetime_formats["medium"],
        "utc": UTC_LABEL,
        "solar": list(solarhijri.MONTHS[lang]) if lang in ("fa", "ps") else None,
    }
