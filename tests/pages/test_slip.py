"""The slip in every language: the fonts have a glyph for every string the pages can put on
it, Arabic-script text is shaped and right to left, and a Pashto and a Dari slip (PNG and
SVG) are rendered into test-artifacts/pages/ for a person to look at."""

from __future__ import annotations

import io
import time
from datetime import UTC, date, datetime

import pytest
from PIL import Image, ImageDraw, features

from api.pages import formats, solarhijri, textdraw
from api.pages.i18n import LANGUAGES, Translator, catalogue
from api.pages.result import ResultView
from api.pages.slip import Slip, draw_png, render_svg
from ledger.config import PROJECT_ROOT
from ledger.doctypes import DOCUMENT_TYPES

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "pages"
SHA = "5e1f" * 16


def test_fonts_and_raqm_are_installed() -> None:
    """scripts/setup installs fonts-noto-core; Pillow's wheel shapes through raqm (FriBidi)."""
    assert features.check("raqm"), "Pillow cannot shape: install Debian's libfribidi0 / libraqm0"
    assert textdraw.available(), [str(p) for p in textdraw.FACES.values() if not p.exists()]


def every_string(lang: str) -> list[str]:
    """Everything the pages and the slip can show in ``lang``: catalogue, document types,
    dates in every month (Gregorian and Solar Hijri), numbers."""
    t = Translator(lang)
    out = list(catalogue(lang).values())
    out += [t.doc_type(code) for code in DOCUMENT_TYPES]
    for month in range(1, 13):
        ts = int(datetime(2025, month, 15, 12, tzinfo=UTC).timestamp())
        out.append(t.when(ts))
    out += [formats.number(1234567.5, lang), formats.number(-9, lang)]
    if lang in ("fa", "ps"):
        out += list(solarhijri.MONTHS[lang])
    return out


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_string_has_glyphs_in_the_slip_fonts(lang: str) -> None:
    missing = {ch for s in every_string(lang) for ch in textdraw.missing_glyphs(s)}
    assert missing == set(), sorted(f"U+{ord(c):04X} {c}" for c in missing)


def test_the_old_font_lacked_pashto_letters() -> None:
    """Why the slip changed fonts: DejaVu Sans has no ۍ (U+06CD), used in Pashto 271."""
    dejavu = textdraw.coverage(textdraw.DEJAVU / "DejaVuSans.ttf")
    assert "ۍ" in Translator("ps").doc_type(271)
    assert ord("ۍ") not in dejavu
    assert ord("ۍ") in textdraw.coverage(textdraw.FACES[("arabic", False)])


def test_bidi_runs_in_display_order() -> None:
    runs = textdraw.runs("سند abc", rtl=True)
    assert [(r.text, r.script, r.rtl) for r in runs] == [
        ("abc", "latin", False),
        ("سند ", "arabic", True),
    ]
    # an isolated Pashto value in an English line: right to left inside, Latin kept whole
    assert textdraw.levels("Type: \u2068د TIR کارنه\u2069", rtl=False) == [0] * 7 + [
        1,
        1,
        2,
        2,
        2,
        1,
        1,
        1,
        1,
        1,
        1,
        0,
    ]
    runs = textdraw.runs("Type: \u2068د TIR کارنه\u2069", rtl=False)
    assert [r.text for r in runs] == ["Type: ", "کارنه", " ", "TIR", "د "]
    # digits inside Arabic text stay left to right; the parenthesis stays with the number
    lv = textdraw.levels("کارنه (952)", rtl=True)
    assert lv[-4:-1] == [2, 2, 2] and lv[0] == 1


def ink_columns(img: Image.Image) -> list[tuple[int, int]]:
    """The horizontal extents of the ink in a white image, left to right."""
    grey = img.convert("L")
    cols = [any(grey.getpixel((x, y)) < 128 for y in range(grey.height)) for x in range(grey.width)]
    spans, start = [], None
    for x, ink in enumerate([*cols, False]):
        if ink and start is None:
            start = x
        elif not ink and start is not None:
            spans.append((start, x))
            start = None
    return spans


def draw(text: str, rtl: bool, size: int = 64) -> Image.Image:
    img = Image.new("RGB", (400, 120), "white")
    textdraw.layout(text, size, rtl, lang="ps").draw(ImageDraw.Draw(img), 20, 90, "black")
    return img


def test_arabic_script_is_drawn_right_to_left() -> None:
    """ "دا": dal (wide) is read first, so it must stand on the right of alef (a thin stroke)."""
    spans = ink_columns(draw("دا", rtl=True))
    assert len(spans) == 2, spans
    (left_start, left_end), (right_start, right_end) = spans
    assert left_end - left_start < right_end - right_start  # alef on the left, dal on the right


def test_arabic_script_is_shaped() -> None:
    """Joined letters take their connected forms: "ببب" is one connected stroke, narrower
    than three isolated ب side by side."""
    joined = ink_columns(draw("ببب", rtl=True))
    isolated = ink_columns(draw("ب ب ب", rtl=True))
    assert len(joined) == 1 and len(isolated) == 3
    width = joined[0][1] - joined[0][0]
    assert width < sum(e - s for s, e in isolated)


def sample_slip(lang: str) -> Slip:
    t = Translator(lang)
    r = ResultView("VALID", t("verdict.VALID"), t("verdict.VALID.help"), SHA, [])
    registered = int(datetime(2025, 3, 21, 9, 5, tzinfo=UTC).timestamp())
    r.registered = True
    r.facts = [
        (t("res.issuer"), "Demo Kazakh Flour Exporter LLP"),
        (t("res.country"), "KZ"),
        (t("res.doc_type"), f"{t.doc_type(271)} (271)"),
        (t("res.consignment"), "SMGS-2026-0001"),
        (t("res.registered_at"), t.when(registered)),
        (t("res.status"), t("status.superseded")),
    ]
    checked = int(time.mktime(date(2026, 1, 5).timetuple()))
    return Slip(r, f"http://127.0.0.1:8000/v/{SHA}", t.when(checked), t)


@pytest.mark.parametrize("lang", ["ps", "fa"])
def test_pashto_and_dari_slips_render(lang: str) -> None:
    slip = sample_slip(lang)
    png = draw_png(slip)
    img = Image.open(io.BytesIO(png))
    assert img.size == (1200, 720)
    svg = render_svg(slip)
    for label, value in slip.result.facts:
        assert (label in svg and value in svg) or len(f"{label}: {value}") > 50
    assert 'direction="rtl"' in svg and "Noto Naskh Arabic" in svg
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"slip-sample-{lang}.png").write_bytes(png)
    (ARTIFACTS / f"slip-sample-{lang}.svg").write_text(svg, encoding="utf-8")
    # the title is drawn at the right end (RTL): more ink in the right half of its band
    band = img.crop((0, 20, 1200, 70)).convert("L")
    left = sum(1 for x in range(600) for y in range(50) if band.getpixel((x, y)) < 128)
    right = sum(1 for x in range(600, 1200) for y in range(50) if band.getpixel((x, y)) < 128)
    assert right > left
