"""The printable verification slip: ``/v/{sha256}/slip.svg`` and ``/v/{sha256}/slip.png``.

The slip carries the verdict at printing time, the fingerprint, key facts and a QR code of
the absolute ``/v/{sha256}`` URL so anyone can check again later. The SVG is drawn by a
template (the viewer lays out any script, with the Noto fonts it names); the PNG by Pillow
through ``textdraw`` (Noto Sans and Noto Naskh Arabic, shaped by raqm, right to left for
Dari and Pashto), in the request's language when those fonts are installed, in English
with Pillow's own font otherwise.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from PIL import Image, ImageDraw, ImageFont

from api.deps import VerifierDep
from api.pages import textdraw
from api.pages.i18n import Translator
from api.pages.render import env, translator
from api.pages.result import ResultView, view
from ledger.flows import check_fingerprint

router = APIRouter(include_in_schema=False)

COLOURS = {"VALID": "#0b6e2e", "INVALID": "#a4161a", "UNVERIFIABLE": "#8a5a00"}
FACTS = 6  # issuer, country, type, consignment, registered, status
SVG_LINE = 52  # characters per fact line in the SVG


def isolate(value: str) -> str:
    """``value`` in a first-strong bidi isolate, so a date or a Latin name keeps its order in RTL."""
    return f"\u2068{value}\u2069"


@dataclass
class Slip:
    result: ResultView
    url: str
    checked: str
    t: Translator

    @property
    def title(self) -> str:
        return f"{self.t('app.title')} — {self.t('slip.title')}"

    @property
    def fingerprint_lines(self) -> list[str]:
        h = self.result.sha256
        return [h[i : i + 16] for i in range(0, 64, 16)]

    @property
    def lines(self) -> list[str]:
        return [f"{label}: {isolate(value)}" for label, value in self.result.facts[:FACTS]]

    @property
    def short_lines(self) -> list[str]:
        """``lines`` cut to fit beside the QR code (the SVG cannot measure text)."""
        return [s if len(s) <= SVG_LINE else s[: SVG_LINE - 1] + "…" for s in self.lines]

    @property
    def footer(self) -> str:
        return f"{self.t('slip.checked')}: {isolate(self.checked)}. {self.t('slip.again')}"

    @property
    def colour(self) -> str:
        return COLOURS[self.result.verdict]


def _slip(request: Request, sha256: str, verifier: VerifierDep, t: Translator) -> Slip:
    fingerprint = check_fingerprint(sha256.strip().lower())
    result = view(verifier.fingerprint(fingerprint), t)
    # the configured public address, never the request's Host header (anyone can send one)
    url = f"{request.app.state.runtime.settings.base_url}/v/{fingerprint}"
    return Slip(result, url, t.when(int(time.time())), t)


@router.get("/v/{sha256}/slip.svg")
def slip_svg(request: Request, sha256: str, verifier: VerifierDep) -> Response:
    """The slip as SVG (prints sharply; any language)."""
    svg = render_svg(_slip(request, sha256, verifier, translator(request)))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-cache"})


def render_svg(slip: Slip) -> str:
    """The slip as SVG text (the viewer shapes the text, with the fonts the SVG names)."""
    qr = segno.make(slip.url, error="m")
    size, rtl = 400, slip.t.dir == "rtl"
    x = 40 if rtl else 1200 - 40 - size
    placed = f'<svg x="{x}" y="100" width="{size}" height="{size}" '
    qr_svg = Markup(qr.svg_inline(border=0, omitsize=True).replace("<svg ", placed, 1))
    return env.get_template("slip.svg").render(
        slip=slip,
        qr_svg=qr_svg,
        qr_centre=x + size // 2,
        rtl=rtl,
        url_lines=url_lines(slip.url),
        left=40 + size + 40 if rtl else 40,
        right=1160 if rtl else x - 40,
    )


def url_lines(url: str, per_line: int = 46) -> list[str]:
    return [url[i : i + per_line] for i in range(0, len(url), per_line)]


def draw_png(slip: Slip) -> bytes:
    """The slip as a 1200 by 720 PNG (QR code on the reading end's far side)."""
    width, height, margin = 1200, 720, 40
    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    rtl = slip.t.dir == "rtl"
    qr = segno.make(slip.url, error="m")
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=10, border=0)
    code = (
        Image.open(io.BytesIO(buf.getvalue()))
        .convert("RGB")
        .resize((400, 400), Image.Resampling.NEAREST)
    )
    qr_x = margin if rtl else width - margin - code.width
    img.paste(code, (qr_x, 100))
    left, right = (qr_x + code.width + 40, width - margin) if rtl else (margin, qr_x - 40)
    fancy = textdraw.available()

    def text(
        baseline: int,
        s: str,
        size: int,
        fill: str = "black",
        bold: bool = False,
        inset: int = 0,
        wide: bool = False,
    ) -> None:
        lo, hi = (margin, width - margin) if wide else (left, right)
        room = hi - lo - 2 * inset
        if fancy:
            line = textdraw.layout(s, size, rtl, bold, slip.t.tag, room)
            x = hi - inset - line.width if rtl else lo + inset
            line.draw(d, x, baseline, fill)
        else:  # no Noto fonts or no raqm: English (``slip_png``) in Pillow's own font
            f = ImageFont.load_default(size)
            d.text((lo + inset, baseline), _fit(s, f, room), font=f, fill=fill, anchor="ls")

    d.rectangle((0, 0, width - 1, height - 1), outline="#333333", width=3)
    text(60, slip.title, 30, bold=True, wide=True)
    d.rectangle((left, 90, right, 160), fill=slip.colour)
    text(140, slip.result.verdict_text, 40, fill="white", bold=True, inset=20)
    y = 210
    for line in slip.lines:
        text(y, line, 24)
        y += 36
    text(y + 10, slip.t("res.fingerprint"), 22, bold=True)
    mono = _mono(26)
    for i, chunk in enumerate(slip.fingerprint_lines):
        d.text(
            (right if rtl else left, y + 68 + i * 32),
            chunk,
            font=mono,
            fill="black",
            anchor="rs" if rtl else "ls",
        )
    caption = _mono(15)
    for i, part in enumerate(url_lines(slip.url)):
        d.text(
            (qr_x + code.width // 2, 515 + i * 20), part, font=caption, fill="black", anchor="ma"
        )
    text(height - 40, slip.footer, 20, wide=True)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _mono(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = textdraw.MONO
    return ImageFont.truetype(str(path), size) if path.exists() else ImageFont.load_default(size)


def _fit(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> str:
    """``text``, cut with an ellipsis to fit ``width`` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


@router.get("/v/{sha256}/slip.png")
def slip_png(request: Request, sha256: str, verifier: VerifierDep) -> Response:
    """The slip as PNG (for printers and phones that prefer images)."""
    t = translator(request)
    if not textdraw.available():
        t = Translator("en")
    slip = _slip(request, sha256, verifier, t)
    return Response(draw_png(slip), media_type="image/png", headers={"Cache-Control": "no-cache"})
