"""The score picture must always decode, show what it claims, and never crash a reply."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

import model.rendering.wheel_picture as wp
from model.content import subarea_ids, subarea_name

SCORES = {"implementation": 3, "development": 4.5, "innovation": None}


def _pixels(img):
    """Every pixel; Pillow 12.1 renamed getdata (deprecated since) to get_flattened_data."""
    return list(img.get_flattened_data() if hasattr(img, "get_flattened_data") else img.getdata())


def _image(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    img.load()
    return img


def test_png_decodes_with_expected_size():
    img = _image(wp.render_wheel(SCORES, "da"))
    assert img.format == "PNG"
    assert img.size == (640, 640)
    assert _image(wp.render_wheel(SCORES, "en", size=320)).size == (320, 320)


def test_different_scores_give_different_pictures():
    low = wp.render_wheel({sid: 1 for sid in subarea_ids()}, "da")
    high = wp.render_wheel({sid: 5 for sid in subarea_ids()}, "da")
    assert low != high


def test_languages_give_different_pictures():
    assert wp.render_wheel(SCORES, "da") != wp.render_wheel(SCORES, "en")


def test_fill_grows_with_score():
    """More of the sector's colour for a higher score; none for 'not assessed'."""
    colour = Image.new("RGB", (1, 1), wp.SECTOR_COLOURS[1]).getpixel((0, 0))

    def coloured_pixels(score):
        img = _image(wp.render_wheel({"development": score}, "en")).convert("RGB")
        return sum(1 for px in _pixels(img) if px == colour)

    assert coloured_pixels(5) > 3 * coloured_pixels(2) > 0
    assert coloured_pixels(None) < coloured_pixels(1)


@pytest.mark.parametrize(
    "scores",
    [
        {},
        {sid: None for sid in subarea_ids()},
        {"implementation": 0, "development": -2, "innovation": 17},
        {"implementation": float("nan"), "development": "4", "unknown": 3},
        {"implementation": 2.25, "development": 5.0001, "innovation": 0.99},
    ],
)
def test_odd_scores_do_not_crash(scores):
    assert _image(wp.render_wheel(scores, "da")).size == (640, 640)


def test_out_of_range_scores_are_clamped():
    clamped = wp.render_wheel({"implementation": 9, "development": -1, "innovation": 0}, "en")
    edges = wp.render_wheel({"implementation": 5, "development": 1, "innovation": 1}, "en")
    assert clamped == edges
    assert wp.clamp_score(9) == 5 and wp.clamp_score(-1) == 1 and wp.clamp_score(None) is None


def test_works_without_system_fonts(monkeypatch):
    monkeypatch.setattr(wp, "FONT_DIR", Path("/nonexistent/fonts"))
    wp._font.cache_clear()
    try:
        assert _image(wp.render_wheel(SCORES, "da")).size == (640, 640)
        # the built-in font has no glyphs for these
        assert wp._drawable("Påmindelser – Æble, Øre") == "Paamindelser - Aeble, Oere"
    finally:
        wp._font.cache_clear()


def test_long_labels_wrap_over_two_lines():
    font = wp._font(27)
    lines = wp._wrap("Implementering og anskaffelse af digitale løsninger i kommunen", font, 288)
    assert len(lines) == 2
    assert all(font.getlength(line) <= 288 for line in lines)


def test_the_picture_sent_in_chat_is_small_and_keeps_the_colours():
    """History sends the compact picture inline, where Teams allows about 28 KB; its
    small palette must still show each sub-area in its own colour, as the full picture."""
    worst = {sid: 4.5 for sid in subarea_ids()}  # every sector filled and labelled
    for scores in (SCORES, worst):
        png = wp.render_wheel_compact(scores, "da")
        compact = _image(png)
        assert compact.mode == "P" and compact.size == (480, 480)
        assert len(png) < 20_000
        full = _image(wp.render_wheel(scores, "da", size=480)).convert("RGB")
        compact = compact.convert("RGB")
        differing = sum(
            1
            for a, b in zip(_pixels(full), _pixels(compact), strict=True)
            if max(abs(x - y) for x, y in zip(a, b, strict=True)) > 24
        )
        assert differing < 0.02 * 480 * 480  # only antialiased edges may shift


@pytest.mark.parametrize("lang", ["da", "en"])
def test_alt_text_names_all_subareas_with_scores(lang):
    text = wp.alt_text({"implementation": 3, "development": 4.5, "innovation": None}, lang)
    for sid in subarea_ids():
        assert subarea_name(lang, sid) in text
    assert "3" in text
    assert ("4,5" if lang == "da" else "4.5") in text
    assert ("ikke vurderet" if lang == "da" else "not assessed") in text


def test_alt_text_clamps_like_the_picture():
    assert "5 af 5" in wp.alt_text({"implementation": 12}, "da")
    assert "1 out of 5" in wp.alt_text({"implementation": -4}, "en")
