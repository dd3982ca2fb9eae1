"""The Solar Hijri (Hijri Shamsi) calendar of Afghanistan: Gregorian dates to and from it,
and its zodiac month names in Dari and Pashto.

The year starts at Nowruz, the day of the March equinox (1 Hamal). Which day that is
follows the astronomical rule, computed here with Kazimierz Borkowski's algorithm
("The Persian calendar for 3000 years", Earth, Moon, and Planets 74, 1996), exact for
Solar Hijri years -61 to 3177: a table of the years where the 33-year leap cycle breaks,
and the cycle in between. Months 1-6 have 31 days, 7-11 have 30, Hut has 29 (30 in a leap
year). ``static/i18n.js`` carries the same algorithm for the pages' scripts; a browser test
checks that both agree day by day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# Afghanistan names the months after the zodiac (Iran uses Farvardin, Ordibehesht, ...).
MONTHS: dict[str, tuple[str, ...]] = {
    "fa": (
        "حمل",
        "ثور",
        "جوزا",
        "سرطان",
        "اسد",
        "سنبله",
        "میزان",
        "عقرب",
        "قوس",
        "جدی",
        "دلو",
        "حوت",
    ),
    "ps": (
        "وری",
        "غویی",
        "غبرګولی",
        "چنګاښ",
        "زمری",
        "وږی",
        "تله",
        "لړم",
        "لیندۍ",
        "مرغومی",
        "سلواغه",
        "کب",
    ),
    "en": (
        "Hamal",
        "Sawr",
        "Jawza",
        "Saratan",
        "Asad",
        "Sunbula",
        "Mizan",
        "Aqrab",
        "Qaws",
        "Jadi",
        "Dalw",
        "Hut",
    ),
}

# Solar Hijri years where the 33-year leap cycle is broken (Borkowski).
_BREAKS: tuple[int, ...] = (-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060)
_BREAKS += (2097, 2192, 2262, 2324, 2394, 2456, 3178)
FIRST_YEAR, LAST_YEAR = _BREAKS[0], _BREAKS[-1] - 1


def _div(a: int, b: int) -> int:
    """Integer division truncated towards zero (the algorithm is written for it)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _mod(a: int, b: int) -> int:
    return a - _div(a, b) * b


@dataclass(frozen=True)
class SolarDate:
    year: int
    month: int  # 1 (Hamal) .. 12 (Hut)
    day: int


def _year_facts(year: int) -> tuple[bool, date]:
    """Whether ``year`` is leap, and the Gregorian date of its 1 Hamal (Nowruz)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"Solar Hijri year {year} is outside {FIRST_YEAR}..{LAST_YEAR}")
    gy = year + 621
    leap_j = -14
    jp = _BREAKS[0]
    jump = 0
    for jm in _BREAKS[1:]:
        jump = jm - jp
        if year < jm:
            break
        leap_j += _div(jump, 33) * 8 + _div(_mod(jump, 33), 4)
        jp = jm
    n = year - jp
    leap_j += _div(n, 33) * 8 + _div(_mod(n, 33) + 3, 4)
    if _mod(jump, 33) == 4 and jump - n == 4:
        leap_j += 1
    leap_g = _div(gy, 4) - _div((_div(gy, 100) + 1) * 3, 4) - 150
    march = 20 + leap_j - leap_g
    if jump - n < 6:
        n = n - jump + _div(jump + 4, 33) * 33
    leap = _mod(_mod(n + 1, 33) - 1, 4)
    return leap == 0, date(gy, 3, march)


def is_leap(year: int) -> bool:
    """Whether Hut of ``year`` has 30 days."""
    return _year_facts(year)[0]


def nowruz(year: int) -> date:
    """The Gregorian date of 1 Hamal ``year``."""
    return _year_facts(year)[1]


def month_length(year: int, month: int) -> int:
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if is_leap(year) else 29


def from_gregorian(d: date) -> SolarDate:
    """The Solar Hijri date of the Gregorian date ``d``."""
    year = d.year - 621
    start = nowruz(year)
    if d < start:
        year -= 1
        start = nowruz(year)
    k = (d - start).days
    if k < 186:
        return SolarDate(year, 1 + k // 31, 1 + k % 31)
    k -= 186
    return SolarDate(year, 7 + k // 30, 1 + k % 30)


def to_gregorian(s: SolarDate) -> date:
    """The Gregorian date of the Solar Hijri date ``s``."""
    if not (1 <= s.month <= 12 and 1 <= s.day <= month_length(s.year, s.month)):
        raise ValueError(f"no such Solar Hijri date: {s.year}-{s.month}-{s.day}")
    before = (s.month - 1) * 31 if s.month <= 7 else 186 + (s.month - 7) * 30
    return nowruz(s.year) + timedelta(days=before + s.day - 1)
