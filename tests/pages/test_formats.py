"""Numbers, dates and the Afghan Solar Hijri calendar as the pages write them, and the
message syntax (ICU plural subset)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from api.pages import formats, messages, solarhijri
from api.pages.i18n import Translator
from api.pages.solarhijri import SolarDate


@pytest.mark.parametrize(
    ("gregorian", "solar"),
    [
        (date(2025, 3, 21), SolarDate(1404, 1, 1)),  # Nowruz 1404
        (date(2025, 3, 20), SolarDate(1403, 12, 30)),  # 1403 is leap: Hut has 30 days
        (date(2024, 3, 20), SolarDate(1403, 1, 1)),  # Nowruz in a leap Gregorian year
        (date(2021, 3, 21), SolarDate(1400, 1, 1)),
        (date(1981, 8, 17), SolarDate(1360, 5, 26)),  # jalaali-js test vectors
        (date(2013, 1, 10), SolarDate(1391, 10, 21)),
        (date(2014, 8, 4), SolarDate(1393, 5, 13)),
        (date(2021, 7, 21), SolarDate(1400, 4, 30)),
        (date(2021, 3, 10), SolarDate(1399, 12, 20)),
        (date(2018, 8, 4), SolarDate(1397, 5, 13)),
        (
            date(2019, 8, 19),
            SolarDate(1398, 5, 28),
        ),  # Independence Day, 28 Asad (constitution art. 18)
    ],
)
def test_known_dates(gregorian: date, solar: SolarDate) -> None:
    assert solarhijri.from_gregorian(gregorian) == solar
    assert solarhijri.to_gregorian(solar) == gregorian


def test_leap_years_and_month_lengths() -> None:
    assert [solarhijri.is_leap(y) for y in (1393, 1394, 1395, 1396, 1399, 1403)] == [
        False,
        False,
        True,
        False,
        True,
        True,
    ]
    assert [solarhijri.month_length(1393, m) for m in (1, 6, 7, 11, 12)] == [31, 31, 30, 30, 29]
    assert solarhijri.month_length(1395, 12) == 30
    with pytest.raises(ValueError):
        solarhijri.to_gregorian(SolarDate(1393, 12, 30))


def test_every_day_round_trips_and_follows_the_previous() -> None:
    d, previous = date(1900, 1, 1), solarhijri.from_gregorian(date(1899, 12, 31))
    while d < date(2200, 1, 1):
        s = solarhijri.from_gregorian(d)
        assert solarhijri.to_gregorian(s) == d
        if s.day == 1:
            assert previous.day == solarhijri.month_length(previous.year, previous.month)
            assert (s.month, s.year) == ((previous.month % 12) + 1, previous.year + (s.month == 1))
        else:
            assert (s.year, s.month, s.day) == (previous.year, previous.month, previous.day + 1)
        d, previous = d + timedelta(days=1), s


def test_nowruz_is_the_march_equinox_day() -> None:
    assert {solarhijri.nowruz(y).day for y in range(1300, 1500)} <= {20, 21, 22}
    assert all(solarhijri.nowruz(y).month == 3 for y in range(1300, 1500))


def test_afghan_month_names() -> None:
    assert solarhijri.MONTHS["fa"][0] == "حمل" and solarhijri.MONTHS["fa"][11] == "حوت"
    assert solarhijri.MONTHS["ps"][0] == "وری" and solarhijri.MONTHS["ps"][8] == "لیندۍ"
    assert all(len(names) == 12 for names in solarhijri.MONTHS.values())


NOWRUZ_1404 = int(datetime(2025, 3, 21, 9, 5, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Mar 21, 2025, 09:05 UTC"),
        ("ru", "21 мар. 2025\u202fг., 09:05 UTC"),
        ("kk", "2025\u202fж. 21 нау., 09:05 UTC"),
        ("fa", "۲۱ مارچ ۲۰۲۵ (۱ حمل ۱۴۰۴)،\u200f ۰۹:۰۵ UTC"),
        ("ps", "۲۰۲۵ مارچ ۲۱ (۱ وری ۱۴۰۴) ۰۹:۰۵ UTC"),
    ],
)
def test_dates_per_language_with_solar_hijri_for_dari_and_pashto(lang: str, expected: str) -> None:
    assert Translator(lang).when(NOWRUZ_1404) == expected


@pytest.mark.parametrize(
    ("lang", "n", "expected"),
    [("en", 1234567, "1,234,567"), ("ru", 1234567, "1\xa0234\xa0567"), ("kk", 1234, "1\xa0234")],
)
def test_numbers_per_language(lang: str, n: int, expected: str) -> None:
    assert formats.number(n, lang) == expected


def test_dari_and_pashto_numbers_use_their_digits() -> None:
    assert formats.number(1234567, "fa") == "۱٬۲۳۴٬۵۶۷"
    assert formats.number(45, "ps") == "۴۵"
    assert Translator("fa")("exporter.uploading", pct=45).endswith("۴۵٪")


def test_plural_categories_come_from_cldr() -> None:
    assert [formats.plural_category(n, "ru") for n in (1, 2, 5, 11, 21, 22, 25)] == [
        "one",
        "few",
        "many",
        "many",
        "one",
        "few",
        "many",
    ]
    assert formats.plural_category(0, "fa") == "one"  # CLDR: i = 0 or n = 1
    assert formats.plural_category(0, "en") == "other"


def test_message_syntax() -> None:
    m = messages.parse("{n, plural, =0 {none} one {# item of {who}} other {# items}} left")
    assert messages.arguments(m) == {"n", "who"}

    def render(n: int) -> str:
        return messages.render(m, {"n": n, "who": "x"}, lambda v: "one" if v == 1 else "other", str)

    assert [render(0), render(1), render(7)] == ["none left", "1 item of x left", "7 items left"]
    for bad in (
        "{n, plural, one {#}}",
        "{n, select, a {b}}",
        "{n",
        "a}",
        "{n, plural, odd {x} other {y}}",
    ):
        with pytest.raises(messages.MessageSyntaxError):
            messages.parse(bad)
