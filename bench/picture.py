"""Cost of the score picture that `historik` sends (model.rendering.wheel_picture).

Run: .venv/bin/python bench/picture.py [--pictures 100]

The compact picture is cached per (scores, language), so a person sees a new one only when
their latest scores form a combination this process has not drawn yet; it is drawn on the
event loop, so its cost is a pause every chat shares. Printed: ms per new compact picture
(p50/p99, cache bypassed) and its size, beside two references from the same run: the
plain full-colour PNG of the same drawing (`render_wheel`), and the way the compact picture
was made before (full-colour PNG, decoded again, median-cut palette, optimize=True).
"""

from __future__ import annotations

import argparse
import io
import itertools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

from model.rendering import wheel_picture as wp

STEPS = (None, 1, 1.5, 2, 3, 3.5, 4, 5)


def previous_compact(scores: dict, lang: str, size: int = 480) -> bytes:
    """The compact picture as it was made until 2026-11-27, for comparison."""
    image = Image.open(io.BytesIO(wp.render_wheel(scores, lang, size=size))).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=48).save(out, format="PNG", optimize=True)
    return out.getvalue()


def measure(name: str, make, cases) -> dict:
    times, sizes = [], []
    for scores, lang in cases:
        started = time.perf_counter()
        png = make(scores, lang)
        times.append(time.perf_counter() - started)
        sizes.append(len(png))
    times.sort()
    result = {
        "name": name,
        "p50_ms": 1000 * statistics.median(times),
        "p99_ms": 1000 * times[min(len(times) - 1, int(len(times) * 0.99))],
        "kib_mean": statistics.mean(sizes) / 1024,
        "kib_max": max(sizes) / 1024,
    }
    print(
        f"{name:<48} p50 {result['p50_ms']:5.1f} ms  p99 {result['p99_ms']:5.1f} ms  "
        f"{result['kib_mean']:4.1f} KiB (max {result['kib_max']:.1f})",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=100)
    args = parser.parse_args(argv)
    ids = wp.subarea_ids()
    combos = itertools.islice(itertools.cycle(itertools.product(STEPS, repeat=len(ids))), args.pictures)
    cases = [(dict(zip(ids, c, strict=True)), ("da", "en")[n % 2]) for n, c in enumerate(combos)]
    wp.render_wheel(cases[0][0], "da")  # fonts loaded once, as in a running bot

    def compact(scores, lang):
        return wp._compact.__wrapped__(tuple(sorted(scores.items())), lang, 480)

    new = measure("compact picture, as sent (new combination)", compact, cases)
    measure("reference: full-colour PNG of the same drawing", lambda s, lang: wp.render_wheel(s, lang, 480), cases)
    old = measure("reference: the compact picture as made before", previous_compact, cases)
    print(
        f"new/before: {new['p50_ms'] / old['p50_ms']:.2f}x the time, "
        f"{new['kib_mean'] / old['kib_mean']:.2f}x the size; Teams takes up to about 28 KB inline"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
