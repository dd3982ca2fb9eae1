"""Drawing a line of any page language into a Pillow image: the fonts the PNG slip uses,
which font draws which character, bidirectional order, and Arabic-script shaping.

Pillow shapes text with one font at a time (through libraqm: HarfBuzz for joining forms and
FriBidi for direction), and no single font has Latin, Cyrillic and Arabic-script letters
(Pashto ۍ ې ښ ږ … included). So a line is cut into runs: each character gets the Noto Sans
or the Noto Naskh Arabic face (Debian's fonts-noto-core; ``scripts/setup`` installs them),
its embedding level comes from the Unicode bidirectional algorithm (rules W1-W7, N1-N2,
I1-I2 and L2 of UAX #9, with isolates; the slip's text has no explicit embeddings), and
each run of one level and one face is shaped by raqm in its own direction and placed in
visual order. ``missing_glyphs`` tells which characters no face of the slip can draw.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageDraw, ImageFont, features

NOTO = Path("/usr/share/fonts/truetype/noto")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FACES: dict[tuple[str, bool], Path] = {
    ("latin", False): NOTO / "NotoSans-Regular.ttf",
    ("latin", True): NOTO / "NotoSans-Bold.ttf",
    ("arabic", False): NOTO / "NotoNaskhArabic-Regular.ttf",
    ("arabic", True): NOTO / "NotoNaskhArabic-Bold.ttf",
}
MONO = DEJAVU / "DejaVuSansMono.ttf"  # fingerprints and URLs: ASCII only

LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
ISOLATES = {LRI, RLI, FSI}
ARABIC_BLOCKS: tuple[tuple[int, int], ...] = (
    (0x0600, 0x06FF),
    (0x0750, 0x077F),
    (0x08A0, 0x08FF),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFF),
)


class FontsMissing(RuntimeError):
    """The slip's fonts are not installed: run scripts/setup (Debian's fonts-noto-core)."""


def available() -> bool:
    """Whether every face the PNG slip needs is installed and Pillow can shape with raqm."""
    return all(p.exists() for p in (*FACES.values(), MONO)) and bool(features.check("raqm"))


@lru_cache
def coverage(path: Path) -> frozenset[int]:
    """The code points ``path``'s font has a glyph for (its Unicode cmap)."""
    font = TTFont(str(path), lazy=True)
    try:
        cmap = font.getBestCmap() or {}
        return frozenset(cmap)
    finally:
        font.close()


@lru_cache
def font(script: str, bold: bool, size: int) -> ImageFont.FreeTypeFont:
    path = FACES[(script, bold)]
    if not path.exists():
        raise FontsMissing(f"{path} is missing: run scripts/setup (installs fonts-noto-core)")
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)


def _invisible(ch: str) -> bool:
    """Format controls (isolates, ZWNJ, marks) are never drawn as glyphs."""
    return unicodedata.category(ch) in ("Cf", "Cc")


def _script(ch: str) -> str | None:
    cp = ord(ch)
    if any(lo <= cp <= hi for lo, hi in ARABIC_BLOCKS):
        return "arabic"
    if unicodedata.bidirectional(ch) in ("L", "R", "EN"):
        return "latin"
    return None


def scripts(text: str) -> list[str]:
    """The face ("latin" or "arabic") that draws each character of ``text``.

    Letters and digits take the face of their script; spaces and punctuation take the face
    of the letter before them (after them at the start), unless only the other face has it.
    """
    own = [_script(c) for c in text]
    out: list[str] = []
    last: str | None = None
    for i, (ch, s) in enumerate(zip(text, own, strict=True)):
        if s is None:
            s = last or next((o for o in own[i + 1 :] if o), "latin")
            other = "latin" if s == "arabic" else "arabic"
            if (
                not _invisible(ch)
                and ord(ch) not in coverage(FACES[(s, False)])
                and ord(ch) in coverage(FACES[(other, False)])
            ):
                s = other
        else:
            last = s
        out.append(s)
    return out


def missing_glyphs(text: str) -> set[str]:
    """Characters of ``text`` that the face chosen for them cannot draw (regular and bold)."""
    return {
        ch
        for ch, s in zip(text, scripts(text), strict=True)
        if not _invisible(ch)
        and not all(ord(ch) in coverage(FACES[(s, bold)]) for bold in (False, True))
    }


# --- the bidirectional algorithm (UAX #9), for text without explicit embeddings ----------


def _strong(text: str) -> str | None:
    """Direction of the first strong character outside nested isolates (rule P2)."""
    depth = 0
    for ch in text:
        if ch in ISOLATES:
            depth += 1
        elif ch == PDI:
            depth = max(0, depth - 1)
        elif depth == 0:
            t = unicodedata.bidirectional(ch)
            if t == "L":
                return "ltr"
            if t in ("R", "AL"):
                return "rtl"
    return None


def base_direction(text: str, default: str = "ltr") -> str:
    return _strong(text) or default


def levels(text: str, rtl: bool) -> list[int]:
    """The embedding level of every character of ``text`` in a paragraph of that direction."""
    return _levels(text, 1 if rtl else 0)


def _levels(text: str, base: int) -> list[int]:
    out = [base] * len(text)
    seq: list[int] = []  # indices of the characters at this level (isolates are one NI each)
    types: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in ISOLATES:
            depth, j = 1, i + 1
            while j < len(text) and depth:
                depth += 1 if text[j] in ISOLATES else -1 if text[j] == PDI else 0
                j += 1
            end = j - 1 if depth == 0 else j  # index of the matching PDI, or the end
            inner = text[i + 1 : end]
            d = "rtl" if ch == RLI else "ltr" if ch == LRI else base_direction(inner)
            inner_base = base + 1 if (d == "rtl") != (base % 2 == 1) else base + 2
            out[i + 1 : end] = _levels(inner, inner_base)
            seq.append(i)
            types.append("ON")
            if end < len(text):
                seq.append(end)
                types.append("ON")
            i = end + 1
            continue
        seq.append(i)
        types.append(unicodedata.bidirectional(ch) or "ON")
        i += 1
    resolved = _resolve(types, base)
    for idx, t in zip(seq, resolved, strict=True):
        if base % 2 == 0:
            out[idx] = base + {"R": 1, "AN": 2, "EN": 2}.get(t, 0)
        else:
            out[idx] = base + (1 if t in ("L", "EN", "AN") else 0)
    return out


def _resolve(types: list[str], base: int) -> list[str]:
    """Weak and neutral types resolved (W1-W7, N1-N2) for one isolating run sequence."""
    sos = "R" if base % 2 else "L"
    t = list(types)
    n = len(t)
    for i in range(n):  # W1: a mark takes the type of what it marks
        if t[i] == "NSM":
            t[i] = t[i - 1] if i else sos
    strong = sos
    for i in range(n):  # W2, W3
        if t[i] in ("L", "R", "AL"):
            strong = t[i]
        if t[i] == "EN" and strong == "AL":
            t[i] = "AN"
        if t[i] == "AL":
            t[i] = "R"
    for i in range(1, n - 1):  # W4
        if t[i] == "ES" and t[i - 1] == t[i + 1] == "EN":
            t[i] = "EN"
        elif t[i] == "CS" and t[i - 1] == t[i + 1] and t[i - 1] in ("EN", "AN"):
            t[i] = t[i - 1]
    for i in range(n):  # W5: terminators next to European numbers
        if t[i] == "ET":
            j = i
            while j < n and t[j] == "ET":
                j += 1
            k = i - 1
            if (j < n and t[j] == "EN") or (k >= 0 and t[k] == "EN"):
                for m in range(i, j):
                    t[m] = "EN"
    t = ["ON" if x in ("ES", "ET", "CS") else x for x in t]  # W6
    strong = sos
    for i in range(n):  # W7
        if t[i] in ("L", "R"):
            strong = t[i]
        if t[i] == "EN" and strong == "L":
            t[i] = "L"
    e = "R" if base % 2 else "L"
    i = 0
    while i < n:  # N1, N2: runs of neutrals
        if t[i] in ("L", "R", "EN", "AN"):
            i += 1
            continue
        j = i
        while j < n and t[j] not in ("L", "R", "EN", "AN"):
            j += 1
        before = sos if i == 0 else ("R" if t[i - 1] in ("R", "EN", "AN") else "L")
        after = sos if j == n else ("R" if t[j] in ("R", "EN", "AN") else "L")
        for m in range(i, j):
            t[m] = before if before == after else e
        i = j
    return t


def visual_order(lv: list[int]) -> list[int]:
    """Logical indices in display order, left to right (rule L2)."""
    order = list(range(len(lv)))
    if not lv:
        return order
    lowest_odd = min((x for x in lv if x % 2), default=None)
    if lowest_odd is None:
        return order
    for level in range(max(lv), lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if lv[order[i]] >= level:
                j = i
                while j < len(order) and lv[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return order


# --- runs and drawing ---------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    text: str  # logical order
    script: str
    rtl: bool


def runs(text: str, rtl: bool) -> list[Run]:
    """``text`` cut into runs of one face and one direction, in display order (left first)."""
    lv = levels(text, rtl)
    sc = scripts(text)
    out: list[Run] = []
    group: list[int] = []
    for idx in visual_order(lv):
        if _invisible(text[idx]) and text[idx] != "\u200c":
            continue
        if group and (lv[idx] != lv[group[-1]] or sc[idx] != sc[group[-1]]):
            out.append(_run(text, group, lv, sc))
            group = []
        group.append(idx)
    if group:
        out.append(_run(text, group, lv, sc))
    return out


def _run(text: str, group: list[int], lv: list[int], sc: list[str]) -> Run:
    rtl = lv[group[0]] % 2 == 1
    logical = sorted(group)
    return Run("".join(text[i] for i in logical), sc[group[0]], rtl)


@dataclass(frozen=True)
class Line:
    """A line of text laid out for one size and weight."""

    runs: list[Run]
    size: int
    bold: bool
    lang: str | None

    def _font(self, run: Run) -> ImageFont.FreeTypeFont:
        return font(run.script, self.bold, self.size)

    def _width(self, run: Run) -> float:
        return self._font(run).getlength(
            run.text, direction="rtl" if run.rtl else "ltr", language=self.lang
        )

    @property
    def width(self) -> float:
        return sum(self._width(r) for r in self.runs)

    def draw(self, d: ImageDraw.ImageDraw, x: float, baseline: float, fill: str) -> None:
        """Draw with the left end at ``x``, on ``baseline``."""
        for run in self.runs:
            d.text(
                (x, baseline),
                run.text,
                font=self._font(run),
                fill=fill,
                anchor="ls",
                direction="rtl" if run.rtl else "ltr",
                language=self.lang,
            )
            x += self._width(run)


def layout(
    text: str, size: int, rtl: bool, bold: bool = False, lang: str | None = None, width: float = 0
) -> Line:
    """``text`` laid out; with ``width``, cut (logically, from its end) with an ellipsis to fit."""
    line = Line(runs(text, rtl), size, bold, lang)
    if not width or line.width <= width:
        return line
    cut = text
    while cut:
        cut = cut[:-1]
        candidate = Line(runs(cut.rstrip() + "…", rtl), size, bold, lang)
        if candidate.width <= width:
            return candidate
    return Line([], size, bold, lang)
