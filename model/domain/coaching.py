"""Coaching: answers at the grain asked (one competence, one term, one job) and concrete next
steps, chosen for the person's role, level and latest scores.

Pure text composition over the content files (`coaching.*` in da.json/en.json): the words,
the stages and the actions are data; this module only decides which to show. Buttons that
do something carry a payload the router acts on (`Ask`, `Goal`, `Role`, `More`: every kind
and its fields are in model/clicks.py).

"Most to gain" is one rule (`gain_order`), used by the goal offer, `historik` and the nudge:
what the person wrote first (the latest check's note, their own goals), then what matters
for their role and involvement, then their scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from model import content
from model.clicks import Ask, Button, Goal, More, Role
from model.content import subarea_of
from model.domain import assessment, relevance
from model.domain.answers import Reply, competence_button, focus_competences
from model.domain.resources import Resource, Resources
from model.language.understanding import TOPIC_THRESHOLD, understand

STAGES = ("beginner", "practised", "expert")
KIND_ORDER = ("job", "others", "course")  # on the job, from others, a course: one of each
AUDIENCES = ("use", "contribute", "steer")  # who the steps are written for (the level ids)
FIRST_ANSWER_WORDS = 90  # the first answer about a competence; the rest waits behind buttons


def stage_of(score: int | None) -> str:
    """1-2 new to it, 3-4 can do it (with a little help, or alone), 5 can help others."""
    if score is None or score <= 2:
        return "beginner"
    return "practised" if score <= 4 else "expert"


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


def score_key(key: str, assessments: list[dict], competence: str) -> str:
    """The text key that says a competence's score: `key` when the person rated the competence
    itself, `key_area` when the score is its sub-area's (competence_score), so that the bot
    never says "you gave yourself 2" for something the person did not rate on its own."""
    return key if _directly_rated(assessments, competence) else f"{key}_area"


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


def _step_lines(lang: str, found: list[Step], first: int = 1) -> str:
    lines = []
    for number, step in enumerate(found, start=first):
        where = content.t(lang, f"coaching.kinds.{step.kind}")
        line = content.t(lang, "coaching.step_line", number=number, kind=where, title=step.title, text=step.text)
        if step.url:
            line += " " + content.t(lang, "coaching.link", url=step.url)
        lines.append(line)
    return "\n".join(lines)


def set_button(competence: str, stage: str, audience: str, index: int, step: Step) -> Button:
    """'Make this step my goal': the step's ids, so the goal can be shown in any language."""
    return step.title, Goal(do="set", competence=competence, stage=stage, audience=audience, step=index).data()


def goal_buttons(lang: str, competence: str, stage: str, found: list[Step], audience: str = "use") -> list[Button]:
    buttons = [set_button(competence, stage, audience, n, step) for n, step in enumerate(found)]
    buttons.append((content.t(lang, "coaching.own_goal_button"), Goal(do="own").data()))
    return buttons


def _audience(profile: dict | None) -> str:
    profile = profile or {}
    return audience_of(profile.get("role"), profile.get("level"))


def _why(lang: str, competence: str, role: str | None, level: str | None) -> str:
    parts = []
    if level:
        parts.append(content.t(lang, f"coaching.competences.{competence}.why_level.{level}"))
    if role:
        parts.append(content.t(lang, f"coaching.competences.{competence}.why_role.{role}"))
    return " ".join(parts)


def _why_first(lang: str, competence: str, role: str | None, level: str | None) -> str:
    """The one reason the first answer gives: the job's, else the involvement's."""
    if role:
        return content.t(lang, f"coaching.competences.{competence}.why_role.{role}")
    return content.t(lang, f"coaching.competences.{competence}.why_level.{level}") if level else ""


def _more_buttons(lang: str, competence: str, what: tuple[str, ...]) -> list[Button]:
    buttons: list[Button] = []
    for kind in what:
        if kind == "steps":
            title = content.t(lang, "coaching.more_steps_button")
        else:  # one title for all: the competences' button names are verbs ("Kortlæg …")
            title = content.t(lang, "coaching.more_button")
        buttons.append((title, More(what=kind, competence=competence).data()))
    return buttons


def competence_reply(
    lang: str,
    competence: str,
    profile: dict | None,
    assessments: list[dict],
    resources: Resources | None = None,
    invite: bool = True,
) -> Reply:
    """One competence, short: what it is, why it matters for this person and one step for
    where they stand, in at most FIRST_ANSWER_WORDS words; the stages and the other steps
    wait behind "Mere om ..." and "Flere skridt". `invite`: without a profile, suggest the
    two questions (not while they are being asked)."""
    lines, _, buttons = _first_answer(lang, competence, profile or {}, assessments, resources, invite)
    return Reply("\n".join(lines), buttons)


def _first_answer(
    lang: str, competence: str, profile: dict, assessments: list[dict], resources: Resources | None, invite: bool
) -> tuple[list[str], str, list[Button]]:
    """(the first answer's lines, the part of what-it-is it left out, its buttons)."""
    role, level = profile.get("role"), profile.get("level")
    stage = stage_of(competence_score(assessments, competence))
    audience = _audience(profile)
    first = steps(lang, competence, stage, resources, audience)[0]
    title = content.t(
        lang,
        "coaching.competence_title",
        name=competence_name(lang, competence),
        subarea=content.subarea_name(lang, subarea_of(competence)),
    )
    why = _why_first(lang, competence, role, level)
    rest = [why] if why else []
    rest += [content.t(lang, "coaching.one_step_title"), _one_step(lang, first)]
    if invite and not (role and level):
        rest.append(content.t(lang, "msg.answer_next_step_profile"))
    shown, unsaid = _plain_within(lang, competence, FIRST_ANSWER_WORDS - _word_count([title, *rest]))
    buttons = [set_button(competence, stage, audience, 0, first), *_more_buttons(lang, competence, ("steps", "stages"))]
    return [title, shown, *rest], unsaid, buttons


def _word_count(lines: list[str]) -> int:
    return sum(len(line.split()) for line in lines)


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    return [p for p in parts if p]


def _plain_within(lang: str, competence: str, words: int) -> tuple[str, str]:
    """What the competence is, cut to whole sentences that fit in `words` (at least one):
    (the part the first answer shows, the rest that "Mere om ..." shows)."""
    sentences = _sentences(content.t(lang, f"coaching.competences.{competence}.plain"))
    shown = sentences[:1]
    for sentence in sentences[1:]:
        if _word_count([*shown, sentence]) > words:
            break
        shown.append(sentence)
    return " ".join(shown), " ".join(sentences[len(shown) :])


def _one_step(lang: str, step: Step) -> str:
    line = content.t(lang, "coaching.one_step_line", title=step.title, text=step.text)
    return line + (" " + content.t(lang, "coaching.link", url=step.url) if step.url else "")


def more_reply(
    lang: str,
    what: str,
    competence: str,
    profile: dict | None,
    assessments: list[dict],
    resources: Resources | None = None,
    steps_shown: bool = False,
) -> Reply:
    """Behind the first answer's buttons: "stages" (how it looks at three stages, and the
    reason the first answer left out) or "steps" (the two steps it did not show). After the
    how-to (`steps_shown`: all three steps are above it) there is no "more steps" button."""
    profile = profile or {}
    role, level = profile.get("role"), profile.get("level")
    base = f"coaching.competences.{competence}"
    score = competence_score(assessments, competence)
    stage = stage_of(score)
    name = competence_name(lang, competence)
    if what == "steps":
        audience = _audience(profile)
        found = steps(lang, competence, stage, resources, audience)
        lines = [
            content.t(lang, "coaching.more_steps_title", name=name),
            _step_lines(lang, found[1:], first=2),
            content.t(lang, "coaching.pick_a_step"),
        ]
        buttons = goal_buttons(lang, competence, stage, found, audience)[1:]
        return Reply("\n".join(lines), buttons)
    lines = [content.t(lang, "coaching.more_title", name=name)]
    unsaid = _first_answer(lang, competence, profile, assessments, resources, invite=True)[1]
    if unsaid:
        lines.append(unsaid)
    if role and level:  # the first answer gave the job's reason; this is the involvement's
        lines.append(content.t(lang, f"{base}.why_level.{level}"))
    lines.append(content.t(lang, "coaching.stages_title"))
    lines += [
        content.t(
            lang,
            "coaching.stage_line",
            stage=content.t(lang, f"coaching.stage_names.{s}"),
            text=content.t(lang, f"{base}.stages.{s}"),
        )
        for s in STAGES
    ]
    if score is not None:
        lines.append(
            content.t(
                lang,
                score_key("coaching.you_are_at", assessments, competence),
                score=score,
                stage=content.t(lang, f"coaching.stage_names.{stage}"),
                subarea=content.subarea_name(lang, subarea_of(competence)),
            )
        )
    return Reply("\n".join(lines), [] if steps_shown else _more_buttons(lang, competence, ("steps",)))


def improve_reply(
    lang: str, competence: str, profile: dict | None, assessments: list[dict], resources: Resources | None = None
) -> Reply:
    """'How do I get better at X?': the steps for where the person stands now, written for
    how they take part (a manager who steers gets a manager's steps)."""
    score = competence_score(assessments, competence)
    stage = stage_of(score)
    audience = _audience(profile)
    found = steps(lang, competence, stage, resources, audience)
    base = f"coaching.competences.{competence}"
    if score is None:
        where = content.t(lang, "coaching.where_unrated")
    else:
        where = content.t(
            lang,
            score_key("coaching.where_you_stand", assessments, competence),
            subarea=content.subarea_name(lang, subarea_of(competence)),
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
    return Reply("\n".join(lines), goal_buttons(lang, competence, stage, found, audience))


def start_here_reply(
    lang: str, profile: dict, assessments: list[dict], goal_list: list[dict], resources: Resources | None = None
) -> Reply:
    """'Hvad skal jeg starte med?' about the whole area: the steps for the one competence with
    most to gain (the rule the goal offer, `historik` and the nudges use: what the person wrote,
    else their scores), or, before any check, the one that matters most for their job; led by
    why that one."""
    competence, why = start_competence(profile, assessments, goal_list)
    reply = improve_reply(lang, competence, profile, assessments, resources)
    return Reply(f"{content.t(lang, f'coaching.{why}')}\n\n{reply.text}", reply.buttons)


def start_competence(profile: dict, assessments: list[dict], goal_list: list[dict]) -> tuple[str, str]:
    """The competence to start with, and the text key that says why (start_here_reply)."""
    gain = most_to_gain(profile, assessments, goal_list)
    if gain is None:
        return role_competences(profile["role"], profile.get("level"))[0], "start_here"
    return gain.competence, "start_here_written" if gain.written else "start_here_scored"


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
    buttons: list[Button] = [
        (
            competence_button(lang, competence),
            Ask(intent="question", competence=competence).data(),
        ),
        (content.t(lang, "coaching.improve_button"), Ask(intent="improve", competence=competence).data()),
    ]
    return Reply("\n".join(lines), buttons)


def role_reply(lang: str, role: str, profile: dict | None) -> Reply:
    """'I am a care worker, what should I know?': what matters most in this job, and why
    the other parts matter too; offers to save the job as the person's role."""
    profile = profile or {}
    level = own_level(profile, role)
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
    buttons: list[Button] = []
    if profile.get("role") != role:
        buttons.append((content.t(lang, "coaching.save_role_button"), Role(role=role).data()))
    buttons.append(
        (
            competence_button(lang, top[0]),
            Ask(intent="question", competence=top[0]).data(),
        )
    )
    buttons.append((content.t(lang, "msg.assessment_button"), content.t(lang, "commands.assessment.command")))
    return Reply("\n".join(lines), buttons)


def own_level(profile: dict | None, role: str) -> str | None:
    """The involvement level the profile holds, when it is this job's (the person's own), else
    None: another job's answer is not tuned to the asker's level."""
    profile = profile or {}
    return profile.get("level") if profile.get("role") == role else None


HOW_MUCH = ((3, "top"), (7, "middle"), (11, "low"))  # a competence's place for a job -> coaching.how_much


def how_much(lang: str, competence: str, role: str, level: str | None) -> str:
    """'Hvor meget skal jeg vide om udbud som leder?': how much this competence matters in this
    job, by its place among the 11 for the job (role_competences), said in words, not a number."""
    place = role_competences(role, level).index(competence) + 1
    tier = next(name for last, name in HOW_MUCH if place <= last)
    return content.t(lang, f"coaching.how_much.{tier}", role=content.lookup(lang, f"roles.{role}.in_sentence"))


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


# -- what the person wrote ----------------------------------------------------------------
def pointed_competence(text: str, role: str | None = None, level: str | None = None) -> str | None:
    """The competence a note or an own goal points to, through the same vocabulary as a
    question: a competence named, else the person's first competence of a sub-area named
    clearly; None when it points at neither. Only what the words name counts, so the
    semantic layer is not asked: the offer says it back ("Du skrev, at du gerne vil …"),
    and a meaning the model ranked is a guess a question may act on (it can be asked
    again) but a note may not be credited with. That also keeps the model out of every
    nudge and `historik`, which read the note again. (Not cached: a note is personal data.)"""
    understood = understand(text or "", by_meaning=False)
    if understood.competence:
        return understood.competence
    if understood.topic in content.subarea_ids() and understood.confidence >= TOPIC_THRESHOLD:
        return focus_competences(understood.topic, role, level)[0]
    return None


def written_competences(profile: dict, assessments: list[dict], goal_list: list[dict] | None = None) -> list[str]:
    """What the person wrote about, newest first: the latest check's note and their own
    goals (open or done; a dropped one no longer counts). A competence whose sub-area has
    no relevance at all for their role and involvement (relevance.json) is left out."""
    role, level = profile.get("role"), profile.get("level")
    found: list[tuple[str, str]] = []
    latest = assessments[-1] if assessments else {}
    if isinstance(latest.get("note"), str) and (c := pointed_competence(latest["note"], role, level)):
        found.append((str(latest.get("at") or ""), c))
    for goal in goal_list or []:
        if (
            goal.get("kind") == "own"
            and goal.get("status") != "dropped"
            and goal.get("competence") in _competence_ids()
        ):
            found.append((str(goal.get("set") or ""), goal["competence"]))
    ordered: list[str] = []
    for _, c in sorted(found, key=lambda f: f[0], reverse=True):
        if c not in ordered and (not level or relevance.relevance_of(role, level, subarea_of(c)).score > 0):
            ordered.append(c)
    return ordered


def _competence_ids() -> set[str]:
    return {c for _, c in content.all_competences()}


# -- most to gain: one rule ----------------------------------------------------------------
class Gain(NamedTuple):
    competence: str
    score: int | None  # None only for something written about and not rated
    written: bool  # chosen because the person wrote about it
    rated: bool = True  # the score is the competence's own, not its sub-area's (competence_score)


def _directly_rated(assessments: list[dict], competence: str) -> bool:
    return any(isinstance((a.get("competences") or {}).get(competence), int) for a in assessments)


def gain_order(profile: dict, assessments: list[dict], goal_list: list[dict] | None = None) -> list[Gain]:
    """Competences to work on, best first. In order of weight: what the person wrote (newest
    first); then what matters for their role and involvement (their focus competences and
    the sub-areas that matter most to them), by score; then any other competence they rated
    themselves in the deeper round. Nothing is said about what was neither written about nor
    rated, and a competence far from the person's job (procurement for a care worker) only
    comes up when they rated it or wrote about it. Within a tier a low score weighs most,
    relevance breaks ties, a 5 comes last."""
    role, level = profile.get("role"), profile.get("level")
    written = written_competences(profile, assessments, goal_list)
    order = role_competences(role, level) if role else [c for _, c in content.all_competences()]
    focus_table = content.relevance_table().get("focus", {})
    focus = set(focus_table.get("roles", {}).get(role or "", []) + focus_table.get("levels", {}).get(level or "", []))
    ranked: list[tuple[tuple, Gain]] = []
    for position, competence in enumerate(order):
        score = competence_score(assessments, competence)
        if competence in written:
            ranked.append(
                (
                    (0, written.index(competence)),
                    Gain(competence, score, True, _directly_rated(assessments, competence)),
                )
            )
            continue
        if score is None:
            continue
        rel = relevance.relevance_of(role, level, subarea_of(competence))
        near = not role or competence in focus or rel.band in ("high", "equal")
        if not near and not _directly_rated(assessments, competence):
            continue
        weight = rel.score + (1 if competence in focus else 0)
        key = (1, score >= assessment.SCALE[-1], 0 if near else 1, -assessment.gain(weight, score), position)
        ranked.append((key, Gain(competence, score, False, _directly_rated(assessments, competence))))
    return [g for _, g in sorted(ranked, key=lambda r: r[0])]


def most_to_gain(profile: dict, assessments: list[dict], goal_list: list[dict] | None = None) -> Gain | None:
    """The one competence the goal offer, `historik` and the nudge all point to."""
    found = gain_order(profile, assessments, goal_list)
    return found[0] if found else None


# -- the goal offer ---------------------------------------------------------------------------
def _taken(step: Step, competence: str, stage: str, audience: str, goal_list: list[dict]) -> bool:
    """This step was a goal already: open, done, or dropped ("Vælg et andet mål" must not
    offer the step just dropped)."""
    for goal in goal_list:
        if goal.get("competence") != competence:
            continue
        if "stage" in goal and not step.own:
            if (goal.get("stage"), goal.get("audience"), goal.get("kind")) == (stage, audience, step.kind):
                return True
        elif goal.get("title") in {
            step.title,
            *(_title_in(other, step, competence, stage, audience) for other in content.LANGUAGES),
        }:
            return True  # the municipality's own offer, or a goal stored before steps had ids
    return False


def _title_in(lang: str, step: Step, competence: str, stage: str, audience: str) -> str:
    if step.own:
        return step.title
    return next((s.title for s in steps(lang, competence, stage, None, audience) if s.kind == step.kind), step.title)


def goal_offer(
    lang: str,
    profile: dict,
    assessments: list[dict],
    resources: Resources | None = None,
    goal_list: list[dict] | None = None,
) -> Reply | None:
    """After a check, or on `mål`: the steps for the competence with most to gain, as buttons,
    and a way to write one's own. A step that was a goal already (open, done or dropped) is
    never offered again: then the next stage's steps, or the next competence. When the person
    wrote about the competence, the offer says so. None when nothing is rated or written yet."""
    goal_list = goal_list or []
    audience = _audience(profile)
    for gain in gain_order(profile, assessments, goal_list):
        start = STAGES.index(stage_of(gain.score))
        for stage in STAGES[start:]:
            found = steps(lang, gain.competence, stage, resources, audience)
            free = [(n, s) for n, s in enumerate(found) if not _taken(s, gain.competence, stage, audience, goal_list)]
            if free:
                return _offer(lang, gain, stage, stage != STAGES[start], audience, free)
    return None


def _offer(lang: str, gain: Gain, stage: str, moved_on: bool, audience: str, free: list[tuple[int, Step]]) -> Reply:
    competence = gain.competence
    names = {
        "name": competence_name(lang, competence),
        "subarea": content.subarea_name(lang, subarea_of(competence)),
        "score": gain.score,
        "wish": content.t(lang, f"coaching.wishes.{competence}"),
    }
    if moved_on:
        intro = content.t(lang, "coaching.goal_offer_next", **names)
    elif gain.written:
        intro = content.t(lang, "coaching.goal_offer_written", **names)
    else:
        intro = content.t(lang, "coaching.goal_offer" if gain.rated else "coaching.goal_offer_area", **names)
    lines = [
        intro,
        "\n".join(_step_lines(lang, [s], first=number) for number, (_, s) in enumerate(free, start=1)),
        content.t(lang, "coaching.goal_offer_pick"),
    ]
    buttons: list[Button] = [set_button(competence, stage, audience, n, s) for n, s in free]
    buttons.append((content.t(lang, "coaching.own_goal_button"), Goal(do="own").data()))
    buttons.append((content.t(lang, "coaching.not_now_button"), Goal(do="later").data()))
    return Reply("\n".join(lines), buttons)


# -- a goal's words in the language in use ------------------------------------------------------
def step_of_goal(lang: str, goal: dict) -> Step | None:
    """The suggested step a goal stands for, in this language; None for an own goal, the
    municipality's offer, a goal stored before steps had ids, or a step no longer in the content."""
    competence, stage, audience, kind = (goal.get(k) for k in ("competence", "stage", "audience", "kind"))
    if competence not in _competence_ids() or stage not in STAGES or audience not in AUDIENCES:
        return None
    try:
        written = content.lookup(lang, _key(str(competence), str(stage), str(audience)))
    except (KeyError, IndexError):
        return None
    found = next((a for a in written if a.get("kind") == kind), None)
    return Step(str(kind), found["title"], found["text"]) if found else None
