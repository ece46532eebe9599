"""Coaching: answers at the grain asked (one competence, one term, one job) and concrete next
steps, chosen for the person's role, level and latest scores.

Pure text composition over the content files (`coaching.*` in da.json/en.json): the words,
the stages and the actions are data; this module only decides which to show. Buttons that
do something carry data the router acts on (see dialogs/cards.py):

    {"kh": "ask", "intent": "question" | "improve", "competence": id}   answer about it
    {"kh": "goal", "do": "set", "competence": id, "stage": s, "step": n} make that step the goal
    {"kh": "goal", "do": "own", "competence": id}                        write your own goal
    {"kh": "goal", "do": "later"}                                        no goal now
    {"kh": "role", "role": id}                                           save this role in the profile
"""

from __future__ import annotations

from dataclasses import dataclass

from . import assessment, content, relevance
from .answers import Reply, focus_competences
from .resources import Resource, Resources

STAGES = ("beginner", "practised", "expert")
KIND_ORDER = ("job", "others", "course")  # on the job, from others, a course: one of each
AUDIENCES = ("use", "contribute", "steer")  # who the steps are written for (the level ids)


def stage_of(score: int | None) -> str:
    """1-2 new to it, 3-4 can do it (with a little help, or alone), 5 can help others."""
    if score is None or score <= 2:
        return "beginner"
    return "practised" if score <= 4 else "expert"


def subarea_of(competence: str) -> str:
    return next(s for s, c in content.all_competences() if c == competence)


def competence_name(lang: str, competence: str) -> str:
    return content.competence_name(lang, subarea_of(competence), competence)


def competence_score(assessments: list[dict], competence: str) -> int | None:
    """The person's latest score for this competence: from the deeper round when they rated
    it, else their latest score for its sub-area; None when neither was rated."""
    for item in reversed(assessments):
        value = (item.get("competences") or {}).get(competence)
        if isinstance(value, int):
            return value
    return assessment.latest_scores(assessments).get(subarea_of(competence))


@dataclass(frozen=True)
class Step:
    """One concrete thing to do: from the content, or the municipality's own offer."""

    kind: str
    title: str
    text: str
    url: str | None = None
    own: bool = False  # the municipality's offer (RESOURCES_FILE)


def audience_of(role: str | None, level: str | None) -> str:
    """Whose steps fit this person: a manager steers whatever level they chose; specialists,
    IT staff and project leads at least contribute their knowledge; others as they said."""
    if role == "manager" or level == "steer":
        return "steer"
    if role in ("specialist", "it", "project_lead") or level == "contribute":
        return "contribute"
    return "use"


def steps(
    lang: str, competence: str, stage: str, resources: Resources | None = None, audience: str = "use"
) -> list[Step]:
    """Three steps for this stage and audience: on the job, from others, a course; the
    municipality's own offers take the place of the general ones where it has any."""
    written = [Step(a["kind"], a["title"], a["text"]) for a in content.lookup(lang, _key(competence, stage, audience))]
    offers = resources.for_competence(competence) if resources else []
    chosen = []
    for kind in KIND_ORDER:
        general = next(s for s in written if s.kind == kind)
        offer = _offer_for(kind, offers)
        chosen.append(Step(kind, offer.title, offer.text, offer.url, own=True) if offer else general)
    return chosen


def _offer_for(kind: str, offers: list[Resource]) -> Resource | None:
    wanted = {"others": ("network", "contact"), "course": ("course", "elearning")}.get(kind, ())
    return next((o for o in offers if o.kind in wanted), None)


def _key(competence: str, stage: str, audience: str) -> str:
    return f"coaching.competences.{competence}.actions.{stage}.{audience}"


def _step_lines(lang: str, found: list[Step]) -> str:
    lines = []
    for number, step in enumerate(found, start=1):
        where = content.t(lang, f"coaching.kinds.{step.kind}")
        line = content.t(lang, "coaching.step_line", number=number, kind=where, title=step.title, text=step.text)
        if step.url:
            line += " " + content.t(lang, "coaching.link", url=step.url)
        lines.append(line)
    return "\n".join(lines)


def goal_buttons(lang: str, competence: str, stage: str, found: list[Step]) -> list[tuple[str, dict]]:
    buttons: list[tuple[str, dict]] = [
        (step.title, {"kh": "goal", "do": "set", "competence": competence, "stage": stage, "step": n})
        for n, step in enumerate(found)
    ]
    buttons.append((content.t(lang, "coaching.own_goal_button"), {"kh": "goal", "do": "own", "competence": competence}))
    return buttons


def _why(lang: str, competence: str, role: str | None, level: str | None) -> str:
    parts = []
    if level:
        parts.append(content.t(lang, f"coaching.competences.{competence}.why_level.{level}"))
    if role:
        parts.append(content.t(lang, f"coaching.competences.{competence}.why_role.{role}"))
    return " ".join(parts)


def competence_reply(
    lang: str,
    competence: str,
    profile: dict | None,
    assessments: list[dict],
    resources: Resources | None = None,
    invite: bool = True,
) -> Reply:
    """One competence: what it is, why it matters for this person, what it looks like at three
    stages, and the first steps for where they stand. `invite`: without a profile, suggest
    the two questions (not while they are being asked)."""
    profile = profile or {}
    role, level = profile.get("role"), profile.get("level")
    sub = subarea_of(competence)
    base = f"coaching.competences.{competence}"
    score = competence_score(assessments, competence)
    stage = stage_of(score)
    found = steps(lang, competence, stage, resources)
    lines = [
        content.t(
            lang,
            "coaching.competence_title",
            name=competence_name(lang, competence),
            subarea=content.subarea_name(lang, sub),
        ),
        content.t(lang, f"{base}.plain"),
    ]
    why = _why(lang, competence, role, level)
    if why:
        lines += [content.t(lang, "coaching.why_title"), why]
    lines += [content.t(lang, "coaching.stages_title")]
    lines += [
        content.t(
            lang,
            "coaching.stage_line",
            stage=content.t(lang, f"coaching.stage_names.{s}"),
            text=content.t(lang, f"{base}.stages.{s}"),
        )
        for s in STAGES
    ]
    lines += [
        content.t(lang, "coaching.first_steps_title", stage=content.t(lang, f"coaching.stage_names.{stage}"))
        if score is not None
        else content.t(lang, "coaching.first_steps_title_unrated"),
        _step_lines(lang, found),
        content.t(lang, "coaching.pick_a_step"),
    ]
    if invite and not (role and level):
        lines.append(content.t(lang, "msg.answer_next_step_profile"))
    return Reply("\n".join(lines), goal_buttons(lang, competence, stage, found)[:3])


def improve_reply(
    lang: str, competence: str, profile: dict | None, assessments: list[dict], resources: Resources | None = None
) -> Reply:
    """'How do I get better at X?': the steps for where the person stands now."""
    score = competence_score(assessments, competence)
    stage = stage_of(score)
    found = steps(lang, competence, stage, resources)
    base = f"coaching.competences.{competence}"
    if score is None:
        where = content.t(lang, "coaching.where_unrated")
    else:
        where = content.t(
            lang,
            "coaching.where_you_stand",
            score=score,
            stage=content.t(lang, f"coaching.stage_names.{stage}"),
            text=content.t(lang, f"{base}.stages.{stage}"),
        )
    lines = [
        content.t(lang, "coaching.improve_title", name=competence_name(lang, competence)),
        where,
        _step_lines(lang, found),
        content.t(lang, "coaching.pick_a_step"),
    ]
    return Reply("\n".join(lines), goal_buttons(lang, competence, stage, found))


def term_reply(lang: str, term: str, competence: str) -> Reply:
    """A word from this area, in two to four sentences, and where it belongs."""
    entry = content.lookup(lang, f"coaching.glossary.{term}")
    sub = subarea_of(competence)
    lines = [
        content.t(lang, "coaching.term_title", term=entry["term"]),
        entry["text"],
        content.t(
            lang,
            "coaching.term_pointer",
            competence=competence_name(lang, competence),
            subarea=content.subarea_name(lang, sub),
        ),
    ]
    buttons = [
        (
            content.t(lang, f"coaching.competences.{competence}.button"),
            {"kh": "ask", "intent": "question", "competence": competence},
        ),
        (content.t(lang, "coaching.improve_button"), {"kh": "ask", "intent": "improve", "competence": competence}),
    ]
    return Reply("\n".join(lines), buttons)


def role_reply(lang: str, role: str, profile: dict | None) -> Reply:
    """'I am a care worker, what should I know?': what matters most in this job, and why
    the other parts matter too; offers to save the job as the person's role."""
    profile = profile or {}
    level = profile.get("level") if profile.get("role") == role else None
    top = role_competences(role, level)[:3]
    lines = [content.t(lang, "coaching.role_title", role=content.lookup(lang, f"roles.{role}.in_sentence"))]
    lines += [
        content.t(
            lang,
            "coaching.role_line",
            name=competence_name(lang, c),
            subarea=content.subarea_name(lang, subarea_of(c)),
            why=content.t(lang, f"coaching.competences.{c}.why_role.{role}"),
        )
        for c in top
    ]
    lines.append(content.t(lang, "coaching.role_all_parts"))
    buttons: list[tuple[str, object]] = []
    if profile.get("role") != role:
        buttons.append((content.t(lang, "coaching.save_role_button"), {"kh": "role", "role": role}))
    buttons.append(
        (
            content.t(lang, f"coaching.competences.{top[0]}.button"),
            {"kh": "ask", "intent": "question", "competence": top[0]},
        )
    )
    buttons.append((content.t(lang, "msg.assessment_button"), content.t(lang, "commands.assessment.command")))
    return Reply("\n".join(lines), buttons)


def role_competences(role: str, level: str | None) -> list[str]:
    """Every competence, those that matter most for this role (and level) first."""
    ranked = [r.subarea for r in relevance.ranked_subareas(role, level or "contribute")]
    ordered: list[str] = []
    focus = content.relevance_table().get("focus", {})
    for c in focus.get("roles", {}).get(role, []) + focus.get("levels", {}).get(level or "", []):
        if c not in ordered:
            ordered.append(c)
    for sub in ranked:
        ordered += [c for c in focus_competences(sub, role, level) if c not in ordered]
    return ordered


def most_to_gain(profile: dict, assessments: list[dict]) -> tuple[str, int] | None:
    """The competence where relevance and score leave most to gain, and its score; only
    among rated ones (nothing is said about what was not rated). Ties: the person's focus."""
    role, level = profile.get("role"), profile.get("level")
    order = role_competences(role, level) if role else [c for _, c in content.all_competences()]
    best: tuple[int, int, str, int] | None = None
    for position, competence in enumerate(order):
        score = competence_score(assessments, competence)
        if score is None:
            continue
        weight = relevance.relevance_of(role, level, subarea_of(competence)).score or 1
        candidate = (-assessment.gain(weight, score), position, competence, score)
        if best is None or candidate < best:
            best = candidate
    return (best[2], best[3]) if best else None


def goal_offer(lang: str, profile: dict, assessments: list[dict], resources: Resources | None = None) -> Reply | None:
    """After a check, or on `mål`: up to three concrete steps for the competence with most to
    gain, as buttons, and a way to write one's own; None when nothing is rated yet."""
    found_gain = most_to_gain(profile, assessments)
    if found_gain is None:
        return None
    competence, score = found_gain
    stage = stage_of(score)
    found = steps(lang, competence, stage, resources)
    lines = [
        content.t(
            lang,
            "coaching.goal_offer",
            name=competence_name(lang, competence),
            subarea=content.subarea_name(lang, subarea_of(competence)),
            score=score,
        ),
        _step_lines(lang, found),
        content.t(lang, "coaching.goal_offer_pick"),
    ]
    buttons: list[tuple[str, object]] = list(goal_buttons(lang, competence, stage, found))
    buttons.append((content.t(lang, "coaching.not_now_button"), {"kh": "goal", "do": "later"}))
    return Reply("\n".join(lines), buttons)
