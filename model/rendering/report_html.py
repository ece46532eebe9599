"""The anonymous overview as one self-contained HTML file a manager can open: per group a
wheel picture, the score distribution per sub-area, the change since the previous quarter's
released figures where a batch was released this quarter (see `aggregates.previous_figures`),
and a plain explanation of what the numbers mean and don't."""

from __future__ import annotations

import base64
import html
from typing import Any

from model import content
from model.rendering.wheel_picture import render_wheel_compact

BAR_COLOURS = ("#D55E00", "#E69F00", "#F0E442", "#56B4E9", "#009E73")  # scores 1-5, colour-blind safe


def _t(lang: str, key: str, **values: Any) -> str:
    return html.escape(content.t(lang, f"report.{key}", **values))


def _group_name(lang: str, by: str, group: dict[str, Any]) -> str:
    key = group["key"]
    if by == "role":
        return content.lookup(lang, f"roles.{key}.name")
    if by == "level":
        return content.lookup(lang, f"levels.{key}.name")
    return str(group.get("name") or key)


def _bars(counts: list[int], people: int) -> str:
    cells = []
    for score, count in enumerate(counts, start=1):
        if count:
            width = 100 * count / max(people, 1)
            cells.append(
                f'<span class="bar" style="width:{width:.1f}%;background:{BAR_COLOURS[score - 1]}"'
                f' title="{score}: {count}">{score}: {count}</span>'
            )
    return f'<div class="bars">{"".join(cells)}</div>'


def _number(lang: str, value: float) -> str:
    """A figure as the language writes it: 3,4 in Danish, 3.4 in English."""
    return str(value).replace(".", ",") if lang == "da" else str(value)


def _change(lang: str, now: float | None, before: float | None) -> str:
    """The change since the previous quarter's released figures (`render` gets those only
    for a group with a batch released this quarter; otherwise nothing is shown)."""
    if now is None or before is None:
        return ""
    diff = round(now - before, 1)
    sign = "+" if diff > 0 else ""
    return f' <span class="change">{_t(lang, "change", diff=sign + _number(lang, diff))}</span>'


def render(report: dict[str, Any], previous: dict[str, Any], lang: str = "da") -> str:
    by = report["by"]
    before = {g["key"]: g for g in (previous or {}).get("groups", [])}
    sections = []
    for group in report["groups"]:
        means = {sub: data["mean"] for sub, data in group["subareas"].items()}
        png = render_wheel_compact(means, lang)
        image = base64.b64encode(png).decode("ascii")
        rows = []
        for sub, data in group["subareas"].items():
            earlier = ((before.get(group["key"]) or {}).get("subareas") or {}).get(sub) or {}
            mean = "–" if data["mean"] is None else _number(lang, data["mean"])
            rows.append(
                f"<tr><th>{html.escape(content.subarea_name(lang, sub))}</th><td>{mean}"
                f"{_change(lang, data['mean'], earlier.get('mean'))}</td>"
                f"<td>{_bars(data['counts'], sum(data['counts']))}</td></tr>"
            )
        sections.append(
            f"<section><h2>{html.escape(_group_name(lang, by, group))}</h2>"
            f'<p class="people">{_t(lang, "people", people=group["people"])}</p>'
            f'<img src="data:image/png;base64,{image}" alt="{_t(lang, "wheel_alt")}" width="320">'
            f"<table><tr><th></th><th>{_t(lang, 'mean')}</th><th>{_t(lang, 'distribution')}</th></tr>"
            f"{''.join(rows)}</table></section>"
        )
    if not sections:
        sections.append(f"<p>{_t(lang, 'no_groups', k=report['k'])}</p>")
    previous_note = (
        f"<p>{_t(lang, 'previous_note', quarter=previous['quarter'])}</p>"
        if previous and previous.get("groups")
        else ""
    )
    explanation = "".join(f"<li>{html.escape(line)}</li>" for line in content.lookup(lang, "report.explanation"))
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_t(lang, "title", by=content.t(lang, f"report.dimensions.{by}"))}</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#1a1a1a}}
section{{border-top:1px solid #ccc;padding:1rem 0}} img{{float:right;margin-left:1rem}}
table{{border-collapse:collapse}} th,td{{text-align:left;padding:.3rem .6rem;vertical-align:middle}}
.bars{{display:flex;width:18rem;height:1.4rem;border:1px solid #999}} .bar{{font-size:.7rem;overflow:hidden;
white-space:nowrap;text-align:center;line-height:1.4rem}} .people{{color:#555}} .change{{color:#555;font-size:.85rem}}
.about{{background:#f4f6f8;padding:1rem 1.5rem}}
</style></head><body>
<h1>{_t(lang, "title", by=content.t(lang, f"report.dimensions.{by}"))}</h1>
<p>{_t(lang, "summary", k=report["k"], suppressed=report["suppressed"])}</p>
{previous_note}
{"".join(sections)}
<div class="about"><h2>{_t(lang, "about_title")}</h2><ul>{explanation}</ul></div>
</body></html>
"""
