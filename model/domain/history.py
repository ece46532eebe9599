"""History, progress and the summary for the development talk (MUS), as plain text."""

from __future__ import annotations

from model import content
from model.domain import assessment, goals, relevance
from model.domain.coaching import gain_order, most_to_gain, subarea_of


def _score(lang: str, value: int | None) -> str:
    return f"{value}/5" if value is not None else content.t(lang, "history.not_assessed")


def history_text(
    lang: str, profile: dict, assessments: list[dict], last: int = 5, goal_list: list[dict] | None = None
) -> str:
    """Latest scores with ↑/↓/= against the previous check, recent checks, one suggestion."""
    if not assessments:
        return content.t(lang, "history.none")
    lines = [
        content.t(lang, "history.title"),
        content.t(lang, "history.latest_title", date=content.format_date(lang, assessments[-1].get("at"))),
    ]
    for change in assessment.progress(assessments):
        suffix = ""
        if change.arrow:
            suffix = content.t(lang, "history.line_change", arrow=change.arrow, previous=change.previous)
        lines.append(
            content.t(
                lang,
                "history.line",
                name=content.subarea_name(lang, change.subarea),
                score=_score(lang, change.latest),
                change=suffix,
            )
        )
    lines.append("")
    lines.append(content.t(lang, "history.past_title"))
    for item in reversed(assessments[-last:]):
        scores = ", ".join(
            content.t(
                lang,
                "history.past_score",
                short=content.subarea_name(lang, s),
                score=item.get("scores", {}).get(s, "-"),
            )
            for s in content.subarea_ids()
        )
        lines.append(
            content.t(lang, "history.past_line", date=content.format_date(lang, item.get("at")), scores=scores)
        )
    lines.append("")
    lines.append(suggestion_text(lang, profile, assessments, goal_list))
    if goal_list:
        lines += ["", content.t(lang, "goals.history_title"), *goals.summary_lines(lang, goal_list)]
    return "\n".join(lines)


def suggestion_text(lang: str, profile: dict, assessments: list[dict], goal_list: list[dict] | None = None) -> str:
    """The competence with most to gain, by the one rule the goal offer and the nudge use
    (model/domain/coaching.py `gain_order`); when nothing rated qualifies, the sub-area not rated yet."""
    found = most_to_gain(profile, assessments, goal_list)
    if found is None:
        sub = assessment.focus_areas(profile, assessments)[0]
        return content.t(lang, "history.suggestion_unrated", subarea=content.subarea_name(lang, sub))
    sub, comp = subarea_of(found.competence), found.competence
    return content.t(
        lang,
        "coaching.suggestion_written" if found.written else "history.suggestion",
        subarea=content.subarea_name(lang, sub),
        competence=content.competence_name(lang, sub, comp),
        example=content.t(lang, f"subareas.{sub}.competences.{comp}.example"),
        wish=content.t(lang, f"coaching.wishes.{comp}"),
    )


def mus_summary(lang: str, profile: dict, assessments: list[dict], goal_list: list[dict] | None = None) -> str:
    """A short text to copy into the development talk: scores, change, own notes, focus points."""
    if not assessments:
        return content.t(lang, "history.none")
    first_scores: dict[str, int] = {}
    for item in assessments:
        for sub, val in item.get("scores", {}).items():
            first_scores.setdefault(sub, val)
    lines = [
        content.t(lang, "history.mus_title"),
        content.t(
            lang,
            "history.mus_profile" if profile.get("level") else "history.mus_profile_no_level",
            role=relevance.role_name(lang, profile.get("role")),
            level=content.lookup(lang, f"levels.{profile.get('level')}.short") if profile.get("level") else "",
            count=len(assessments),
            date=content.format_date(lang, assessments[-1].get("at")),
        ),
        "",
        content.t(lang, "history.mus_scores_title"),
    ]
    for change in assessment.progress(assessments):
        first = first_scores.get(change.subarea)
        extra = ""
        if change.latest is not None and first is not None and len(assessments) > 1:
            extra = content.t(lang, "history.mus_change", first=first)
        lines.append(
            content.t(
                lang,
                "history.mus_score_line",
                name=content.subarea_name(lang, change.subarea),
                score=_score(lang, change.latest),
                change=extra,
            )
        )
    lines += ["", content.t(lang, "history.mus_notes_title")]
    notes = [a for a in assessments if a.get("note")][-3:]
    lines += [
        content.t(lang, "history.mus_note_line", date=content.format_date(lang, a.get("at")), note=a["note"])
        for a in notes
    ] or [content.t(lang, "history.mus_no_notes")]
    lines += ["", content.t(lang, "history.mus_focus_title")]
    for found in gain_order(profile, assessments, goal_list)[:3]:  # the same order as the goal offer
        sub = subarea_of(found.competence)
        lines.append(
            content.t(
                lang,
                "history.mus_focus_line",
                competence=content.competence_name(lang, sub, found.competence),
                subarea=content.subarea_name(lang, sub),
            )
        )
    if goal_list:
        lines += ["", content.t(lang, "goals.mus_title"), *goals.summary_lines(lang, goal_list)]
    lines += ["", content.t(lang, "history.mus_footer")]
    return "\n".join(lines)
