"""Draws a person's latest self-assessment as a small competence-wheel picture.

A picture says "where am I strong, where can I grow" faster than a list of numbers, so the
bot can attach it to history/assessment replies. Pillow only, no Bot Framework: the bot
layer decides how to send the PNG; this module only knows scores and content texts.
The picture is drawn at 640 px so it stays readable when Teams shows it 320 px wide.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from model.content import subarea_ids, subarea_name, t

SCALE_MAX = 5
SCALE_MIN = 1

# Okabe-Ito colours: distinguishable with the common forms of colour blindness.
SECTOR_COLOURS = ("#0072B2", "#E69F00", "#009E73")
BACKGROUND = "#FFFFFF"
DISC = "#EEF1F4"
GRID = "#C3C9D1"
TEXT = "#1A1A1A"

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}

_SUPERSAMPLE = 2  # the wheel is drawn twice as large and shrunk, for smooth edges


@lru_cache(maxsize=32)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu when the system has it; Pillow's own scalable font otherwise (no fonts installed)."""
    for name in (FONT_FILES[bold], FONT_FILES[False]):  # bold missing: regular beats no DejaVu
        if (FONT_DIR / name).exists():
            return ImageFont.truetype(str(FONT_DIR / name), size)
    return ImageFont.load_default(size=size)


# Pillow's built-in font has no æ, ø, å or en dash; spell them the way Danish does in ASCII.
_FALLBACK_SPELLING = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa", "–": "-"})


def _drawable(text: str) -> str:
    """Text as the available font can show it."""
    if (FONT_DIR / FONT_FILES[False]).exists():
        return text
    return text.translate(_FALLBACK_SPELLING)


def clamp_score(score: float | None) -> float | None:
    """Scores outside 1-5 are clamped; None, NaN and non-numbers mean 'not assessed'."""
    if score is None or isinstance(score, bool) or not isinstance(score, (int, float)):
        return None
    if math.isnan(score):
        return None
    return min(float(SCALE_MAX), max(float(SCALE_MIN), float(score)))


def format_score(score: float, lang: str) -> str:
    """'3' for whole scores, '3,5' (da) / '3.5' (en) for averages."""
    if abs(score - round(score)) < 0.05:
        return str(int(round(score)))
    return f"{score:.1f}".replace(".", t(lang, "wheel_picture.decimal_separator"))


def alt_text(scores: Mapping[str, float | None], lang: str) -> str:
    """Screen-reader text naming every sub-area and its score, in the user's language."""
    parts = []
    for sid in subarea_ids():
        name = subarea_name(lang, sid)
        score = clamp_score(scores.get(sid))
        if score is None:
            parts.append(t(lang, "wheel_picture.part_not_assessed", name=name))
        else:
            parts.append(t(lang, "wheel_picture.part", name=name, score=format_score(score, lang)))
    return t(lang, "wheel_picture.alt", parts="; ".join(parts))


def _wrap(text: str, font, max_width: float, max_lines: int = 2) -> list[str]:
    """Greedy word wrap by pixel width; an overlong last line is shortened with an ellipsis."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= max_width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [" ".join(lines[max_lines - 1 :])]
    if lines and font.getlength(lines[-1]) > max_width:
        last = lines[-1]
        while last and font.getlength(last + "…") > max_width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def _sector_angles(index: int, count: int) -> tuple[float, float]:
    """Pillow angles (0 = 3 o'clock, clockwise); the first sector sits upper left, the last at the bottom."""
    span = 360 / count
    start = 90 + span / 2 + index * span
    return start, start + span


def _draw_wheel(scores: list[float | None], radius: int) -> Image.Image:
    """The disc with ring grid and filled sectors, supersampled for anti-aliasing."""
    ss = _SUPERSAMPLE
    r = radius * ss
    img = Image.new("RGB", (2 * r + 2 * ss, 2 * r + 2 * ss), BACKGROUND)
    draw = ImageDraw.Draw(img)
    c = r + ss

    def box(rad: float) -> tuple[float, float, float, float]:
        return (c - rad, c - rad, c + rad, c + rad)

    draw.ellipse(box(r), fill=DISC)
    for ring in range(1, SCALE_MAX + 1):
        draw.ellipse(box(r * ring / SCALE_MAX), outline=GRID, width=2 * ss)
    for i, score in enumerate(scores):
        if score is None:
            continue
        start, end = _sector_angles(i, len(scores))
        filled = r * score / SCALE_MAX
        draw.pieslice(box(filled), start, end, fill=SECTOR_COLOURS[i % len(SECTOR_COLOURS)])
        for ring in range(1, SCALE_MAX):  # keep the rings visible through the fill
            if r * ring / SCALE_MAX < filled:
                draw.arc(box(r * ring / SCALE_MAX), start, end, fill="#FFFFFF", width=ss)
    for i in range(len(scores)):  # white spokes separate the sectors
        angle = math.radians(_sector_angles(i, len(scores))[0])
        draw.line((c, c, c + r * math.cos(angle), c + r * math.sin(angle)), fill="#FFFFFF", width=3 * ss)
    return img.reduce(ss)


def _text_block(draw, lines, font, centre_x: float, top: float, line_h: float) -> None:
    for n, line in enumerate(lines):
        draw.text((centre_x, top + n * line_h), line, font=font, fill=TEXT, anchor="ma")


def render_wheel(scores: Mapping[str, float | None], lang: str, size: int = 640) -> bytes:
    """PNG (size x size) of the latest score per sub-area as a filled competence wheel."""
    out = io.BytesIO()
    _picture(scores, lang, size).save(out, format="PNG", compress_level=3)
    return out.getvalue()


def _picture(scores: Mapping[str, float | None], lang: str, size: int) -> Image.Image:
    ids = subarea_ids()
    values = [clamp_score(scores.get(sid)) for sid in ids]
    u = size / 640  # all measures below are for a 640 px picture
    title_font = _font(round(30 * u), bold=True)
    label_font = _font(round(27 * u))
    score_font = _font(round(28 * u), bold=True)
    line_h = round(32 * u)
    margin = round(16 * u)

    img = Image.new("RGB", (size, size), BACKGROUND)
    draw = ImageDraw.Draw(img)
    title = _drawable(t(lang, "wheel_picture.title"))
    draw.text((size / 2, margin), title, font=title_font, fill=TEXT, anchor="ma")

    # Two label rows above the wheel (upper sectors) and two below (bottom sector).
    labels_top = margin + line_h + round(14 * u)
    wheel_top = labels_top + 2 * line_h + round(18 * u)
    wheel_bottom = size - margin - 2 * line_h - round(18 * u)
    radius = (wheel_bottom - wheel_top) // 2
    cx, cy = size // 2, wheel_top + radius
    wheel = _draw_wheel(values, radius)
    img.paste(wheel, (cx - wheel.width // 2, cy - wheel.height // 2))

    for i, (sid, score) in enumerate(zip(ids, values, strict=True)):
        start, end = _sector_angles(i, len(ids))
        mid = math.radians((start + end) / 2)
        colour = SECTOR_COLOURS[i % len(SECTOR_COLOURS)]
        below = math.sin(mid) > 0.5
        centre_x: float
        width: float
        if below:
            centre_x, width, top = cx, size - 2 * margin, wheel_bottom + round(14 * u)
        else:
            centre_x = size / 2 + math.copysign(size / 4, math.cos(mid))
            width, top = size / 2 - 2 * margin, labels_top
        lines = _wrap(_drawable(subarea_name(lang, sid)), label_font, width)
        if not below and len(lines) == 1:
            top += line_h  # sit right above the wheel
        _text_block(draw, lines, label_font, centre_x, top, line_h)
        bar_y = top - round(10 * u) if below else top + len(lines) * line_h + round(5 * u)
        draw.rounded_rectangle(
            (centre_x - 30 * u, bar_y, centre_x + 30 * u, bar_y + 5 * u), radius=round(2 * u), fill=colour
        )

        # Score in a white pill inside the sector, readable on any fill colour.
        text = _drawable("–" if score is None else f"{format_score(score, lang)}/{SCALE_MAX}")
        px, py = cx + 0.6 * radius * math.cos(mid), cy + 0.6 * radius * math.sin(mid)
        left, top_, right, bottom = draw.textbbox((px, py), text, font=score_font, anchor="mm")
        pad = round(8 * u)
        draw.rounded_rectangle(
            (left - pad, top_ - pad, right + pad, bottom + pad),
            radius=round(10 * u),
            fill="#FFFFFF",
            outline=colour,
            width=max(1, round(3 * u)),
        )
        draw.text((px, py), text, font=score_font, fill=TEXT, anchor="mm")
    return img


def render_wheel_compact(scores: Mapping[str, float | None], lang: str, size: int = 480) -> bytes:
    """The wheel with a small palette: about 9 KB, so it fits inside a Teams message (~28 KB).
    Kept once made: there are only a few hundred distinct pictures. A new one takes about
    6-12 ms (drawing, octree palette, zlib level 6); median-cut palette, a PNG round trip
    and optimize=True took 4-5 times as long for a picture 0.2 KB smaller."""
    key = (tuple(sorted(scores.items())), lang, size)
    png = _made.get(key)
    if png is None:
        with _making:  # one drawing at a time (worker threads share the fonts)
            png = _made.get(key) or _compact(*key)
            _made[key] = png
            if len(_made) > MADE_PICTURES:
                _made.pop(next(iter(_made)))  # the oldest goes
    return png


def made_wheel(scores: Mapping[str, float | None], lang: str, size: int = 480) -> bytes | None:
    """The compact picture when it was made already, else None: a caller on the event loop
    makes a new one on a worker thread, so other turns are not held up meanwhile."""
    return _made.get((tuple(sorted(scores.items())), lang, size))


MADE_PICTURES = 1024  # 6^3 score combinations per language, and some room for report means
_made: dict[tuple, bytes] = {}
_making = threading.Lock()


def _compact(scores: tuple, lang: str, size: int) -> bytes:
    image = _picture(dict(scores), lang, size).quantize(colors=48, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()
