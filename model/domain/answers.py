"""Answers about the area and its sub-areas, personal when the profile is known.

Pure text composition (no SDK): the dialogs turn a Reply into an activity, the `ask`
command prints it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from model import content
from model.clicks import Ask, Button, More
from model.domain import relevance
from model.language.choices import plain_answer
from model.language.understanding import term_competence


@dataclass
class Reply:
    text: str
    # (title, value): a string is what a click says for the person, a dict the data of a
    # button that does something (model/clicks.py; drawn by dialogs/cards.py)
    buttons: list[Button] = field(default_factory=list)


def _read_more(lang: str, topic: str, shown: list[str] | None = None) -> Button:
    """'Read more' about a sub-area (its short button title) or the whole area. A sub-area's
    button comes under a message that gave its short text and listed `shown` of its
    competences: it carries that, so the details leave them out (`clicks.More`, what
    "subarea"); typed, "mere om X" gives all of it."""
    name = topic_name(lang, topic)
    if topic in content.subarea_ids():
        data = More(what="subarea", topic=topic, shown=list(shown or [])).data()
        return content.t(lang, f"subareas.{topic}.button"), data
    # the whole area's name is too long for a button (Teams cuts titles after ~28 characters);
    # the click still says "mere om Udvikling og implementering", which the router knows
    return content.t(lang, "overview.button"), content.t(lang, "msg.read_more_value", name=name)


def _assessment_button(lang: str) -> tuple[str, str]:
    return content.t(lang, "msg.assessment_button"), content.t(lang, "commands.assessment.command")


def topic_name(lang: str, topic: str) -> str:
    return content.t(lang, "overview.name") if topic == "overview" else content.subarea_name(lang, topic)


def focus_competences(subarea: str, role: str | None, level: str | None) -> list[str]:
    """The sub-area's example competences, those that matter most for this person first."""
    focus = content.relevance_table().get("focus", {})
    preferred = focus.get("roles", {}).get(role or "", []) + focus.get("levels", {}).get(level or "", [])
    ids = content.competence_ids(subarea)
    return sorted(ids, key=lambda c: (preferred.index(c) if c in preferred else len(preferred), ids.index(c)))


@lru_cache(maxsize=None)
def _detail_words() -> frozenset[str]:
    return frozenset(plain_answer(w) for lang in content.LANGUAGES for w in content.lookup(lang, "detail_words"))


def wants_detail(text: str) -> bool:
    folded = f" {plain_answer(text)} "
    return any(f" {w} " in folded for w in _detail_words())


def overview_reply(lang: str, role: str, level: str) -> Reply:
    """The onboarding's end: the three sub-areas, most relevant first, each with its why."""
    lines = [
        content.t(
            lang,
            "msg.overview_intro",
            role=content.lookup(lang, f"roles.{role}.in_sentence"),
            level=content.lookup(lang, f"levels.{level}.short"),
        )
    ]
    ranked = relevance.ranked_subareas(role, level)
    for rank, rel in enumerate(ranked, start=1):
        lines.append(
            content.t(
                lang,
                "msg.subarea_line",
                rank=rank,
                name=content.subarea_name(lang, rel.subarea),
                band=content.t(lang, f"bands.{rel.band}"),
                short=content.t(lang, f"subareas.{rel.subarea}.short"),
                reason=relevance.reason_text(lang, rel),
            )
        )
    lines.append(content.t(lang, "msg.read_more_hint", example=content.subarea_name(lang, ranked[0].subarea).lower()))
    buttons = [_read_more(lang, r.subarea) for r in ranked] + [_assessment_button(lang)]
    return Reply("\n\n".join(lines), buttons)


def overview_details(lang: str) -> Reply:
    """The whole area: every fact, the three parts, and what the bot covers."""
    lines = [
        content.t(lang, "msg.overview_title"),
        content.t(lang, "overview.short"),
        "\n".join(f"- {fact}" for fact in content.lookup(lang, "overview.details")),
        content.t(lang, "msg.subareas_title"),
    ]
    lines.append(
        "\n".join(
            content.t(
                lang,
                "msg.subarea_short_line",
                name=content.subarea_name(lang, s),
                short=content.t(lang, f"subareas.{s}.short"),
            )
            for s in content.subarea_ids()
        )
    )
    lines.append(coverage_text(lang))
    return Reply("\n\n".join(lines), [_read_more(lang, s) for s in content.subarea_ids()])


def coverage_text(lang: str, after_list: bool = False) -> str:
    """Which of the wheel's four areas the bot covers; `after_list`: right below a list of the
    four, so it does not count them again (a walk read "four areas" twice in a row)."""
    areas = content.wheel()["areas"]
    name = lambda a: content.lookup(lang, f"wheel.areas.{a['id']}.name")  # noqa: E731
    return content.t(
        lang,
        "wheel.coverage_after_list" if after_list else "wheel.coverage",
        covered=", ".join(name(a) for a in areas if a.get("covered")),
        others=", ".join(name(a) for a in areas if not a.get("covered")),
    )


def subarea_details(
    lang: str, subarea: str, role: str | None = None, level: str | None = None, shown: list[str] | None = None
) -> Reply:
    """Everything the source says about one sub-area, in our words, with all its examples.
    `shown`: clicked under a message that already gave the short text and these competences,
    so neither is said again."""
    lines = [content.t(lang, "msg.subarea_full_title", name=content.subarea_name(lang, subarea))]
    if shown is None:
        lines.append(content.t(lang, f"subareas.{subarea}.short"))
    lines.append("\n".join(f"- {fact}" for fact in content.lookup(lang, f"subareas.{subarea}.details")))
    rest = [c for c in focus_competences(subarea, role, level) if c not in (shown or [])]
    if rest:
        lines += [content.t(lang, "msg.examples_title"), _competence_lines(lang, subarea, rest)]
    return Reply("\n\n".join(lines), [_assessment_button(lang)])


def _competence_lines(lang: str, subarea: str, ids: list[str]) -> str:
    return "\n".join(
        content.t(
            lang,
            "msg.example_line",
            name=content.competence_name(lang, subarea, c),
            example=content.t(lang, f"subareas.{subarea}.competences.{c}.example"),
        )
        for c in ids
    )


def topic_reply(lang: str, topic: str, profile: dict | None, detail: bool = False, invite: bool = True) -> Reply:
    """'What does X mean for me?': the why for this person, their top competences, a next step.
    The whole area: all its facts and the wheel's four areas, then this person's order.
    `invite`: without a profile, suggest the two questions (not while they are being asked)."""
    role = (profile or {}).get("role")
    level = (profile or {}).get("level")
    if topic == "overview":
        reply = overview_details(lang)
        if role and level:
            personal = overview_reply(lang, role, level)
            reply = Reply(reply.text + "\n\n" + personal.text, personal.buttons)
        return reply
    if detail:
        return subarea_details(lang, topic, role, level)
    name = content.subarea_name(lang, topic)
    competences = focus_competences(topic, role, level)
    if role and level:
        rel = relevance.relevance_of(role, level, topic)
        lines = [
            content.t(
                lang,
                "msg.answer_personal_intro",
                role=content.lookup(lang, f"roles.{role}.in_sentence"),
                level=content.lookup(lang, f"levels.{level}.short"),
                name=name,
                reason=relevance.reason_text(lang, rel),
            ),
            content.t(lang, f"subareas.{topic}.short"),
            content.t(lang, "msg.answer_top_competences"),
            _competence_lines(lang, topic, competences[:3]),
            content.t(lang, "msg.answer_next_step", name=name.lower()),
        ]
    elif role:  # a job without a level: a job named in the question ('… for en pædagog'), not the asker's
        lines = [
            content.t(lang, "msg.answer_job_intro", role=content.lookup(lang, f"roles.{role}.in_sentence"), name=name),
            content.t(lang, f"subareas.{topic}.short"),
            content.t(lang, "msg.answer_job_competences"),
            _competence_lines(lang, topic, competences[:3]),
        ]
        if invite:
            lines.append(content.t(lang, "msg.answer_next_step_profile"))
    else:
        lines = [
            content.t(lang, "msg.answer_general_intro", name=name, short=content.t(lang, f"subareas.{topic}.short")),
            content.t(lang, "msg.answer_all_competences"),
            _competence_lines(lang, topic, competences),
        ]
        if invite:
            lines.append(content.t(lang, "msg.answer_next_step_profile"))
    listed = competences[:3] if role else competences
    return Reply("\n\n".join(lines), [_read_more(lang, topic, listed), _assessment_button(lang)])


LEADS = ("manager", "project_lead")  # who picks the people for a project: area.who_to_ask.early.lead


def area_reply(lang: str, question: str, profile: dict | None = None, role: str | None = None) -> Reply:
    """A question about the area itself: why take part from the start, 'på faglighedens
    præmisser', who should take part, the whole wheel (anything else: the area's overview).
    Who should take part is said to the one asking: a manager or project lead (`role` named in
    the message, else the profile's; or steering as their involvement) is told to make time
    for the people they invite; anyone else is first told how to take part themselves (a care
    worker asking whom to ask found that answer last)."""
    if question == "wheel":
        areas = content.wheel()["areas"]
        lines = [
            content.t(lang, "area.wheel_title"),
            content.t(lang, "area.wheel_intro"),
            "\n".join("- " + content.lookup(lang, f"wheel.areas.{a['id']}.name") for a in areas),
            coverage_text(lang, after_list=True),
        ]
        reply = Reply("\n\n".join(lines), [_read_more(lang, "overview")])
        role, level = (profile or {}).get("role"), (profile or {}).get("level")
        if role and level:  # and which of the area's parts matter most for this person
            personal = overview_reply(lang, role, level)
            reply = Reply(reply.text + "\n\n" + personal.text, personal.buttons)
        return reply
    if question in ("early_involvement", "premises", "who_to_ask"):
        lines = [content.t(lang, f"area.{question}.title"), *content.lookup(lang, f"area.{question}.text")]
        if question == "who_to_ask":
            who = role or (profile or {}).get("role")
            leads = who in LEADS or (role is None and (profile or {}).get("level") == "steer")
            if not leads:
                lines.insert(1, content.t(lang, "area.who_to_ask.yourself"))
            lines.append(content.t(lang, f"area.who_to_ask.early.{'lead' if leads else 'take_part'}"))
        return Reply("\n\n".join(lines), [_read_more(lang, "overview"), _assessment_button(lang)])
    return topic_reply(lang, "overview", profile)


TERM = "term:"  # a glossary term among the compared items: 'term:<id>' (terms.json)


def _competence_of(item: str) -> str:
    return term_competence(item.removeprefix(TERM)) if item.startswith(TERM) else item


def _compared_text(lang: str, item: str) -> tuple[str, str, str]:
    """(name, what it is, sub-area) of a sub-area, a competence or a glossary term."""
    if item in content.subarea_ids():
        return content.subarea_name(lang, item), content.t(lang, f"subareas.{item}.short"), item
    subarea = content.subarea_of(_competence_of(item))
    if item.startswith(TERM):
        entry = content.lookup(lang, f"coaching.glossary.{item.removeprefix(TERM)}")
        return entry["term"], entry["text"], subarea
    name = content.competence_name(lang, subarea, item)
    return name, content.t(lang, f"subareas.{subarea}.competences.{item}.example"), subarea


def competence_button(lang: str, competence: str) -> str:
    """A competence's short title (at most 28 characters: Teams cuts a longer button title)."""
    return content.t(lang, f"coaching.competences.{competence}.button")


def compared_inside(lang: str, competence: str, reply: Reply) -> Reply:
    """Two things compared inside one competence ('a flowchart or a value stream map?') that
    the content has no words for: that competence's answer, led by where both belong."""
    subarea = content.subarea_of(competence)
    name = content.competence_name(lang, subarea, competence)
    lead = content.t(lang, "area.compare_terms", name=name, subarea=content.subarea_name(lang, subarea))
    return Reply(f"{lead}\n\n{reply.text}", reply.buttons)


def compare_reply(lang: str, pair: tuple[str, ...]) -> Reply:
    """'What is the difference between X and Y?': each in a line of its own words, and where
    they belong. Built from the content, so any two sub-areas, competences or glossary terms,
    or one of each (a follow-up compares the last answer with what it names), can be compared."""
    a, b = (_compared_text(lang, item) for item in pair[:2])
    lines = [
        content.t(lang, "area.compare_title", a=a[0], b=b[0]),
        content.t(lang, "area.compare_line", name=a[0], text=a[1]),
        content.t(lang, "area.compare_line", name=b[0], text=b[1]),
    ]
    subareas = content.subarea_ids()
    competences = [None if item in subareas else _competence_of(item) for item in pair[:2]]
    kinds = {item in subareas for item in pair[:2]}
    terms = [item.startswith(TERM) for item in pair[:2]]
    if kinds == {True}:
        lines.append(content.t(lang, "area.compare_subareas", name=content.t(lang, "overview.name")))
    elif kinds == {True, False}:  # a competence or a word, and a sub-area ('er det det samme som innovation?')
        part, whole = (a, b) if pair[1] in subareas else (b, a)
        if part[2] == whole[2]:
            lines.append(content.t(lang, "area.compare_part_of", part=part[0], whole=whole[0]))
        else:
            sub = content.subarea_name(lang, part[2])
            lines.append(content.t(lang, "area.compare_not_part", part=part[0], sub=sub, whole=whole[0]))
    elif competences[0] == competences[1] and terms[0] != terms[1]:
        # a word and the competence it belongs to ('er det det samme som lean?' after process mapping)
        word = a if terms[0] else b
        name = content.competence_name(lang, a[2], str(competences[0]))
        subarea = content.subarea_name(lang, a[2])
        lines.append(content.t(lang, "area.compare_word_of", term=word[0], name=name, subarea=subarea))
    elif terms[0] and competences[0] == competences[1]:
        name = content.competence_name(lang, a[2], str(competences[0]))
        lines.append(content.t(lang, "area.compare_terms", name=name, subarea=content.subarea_name(lang, a[2])))
    elif a[2] == b[2]:
        lines.append(content.t(lang, "area.compare_same", name=content.subarea_name(lang, a[2])))
    else:
        sub_a, sub_b = content.subarea_name(lang, a[2]), content.subarea_name(lang, b[2])
        lines.append(content.t(lang, "area.compare_apart", a=a[0], b=b[0], sub_a=sub_a, sub_b=sub_b))
    buttons: list[Button] = []
    asked: set[str] = set()  # two words of one competence: one button for it
    for item, competence in zip(pair[:2], competences, strict=True):
        if competence is None:  # a sub-area
            buttons.append(_read_more(lang, item))
        elif competence not in asked:
            asked.add(competence)
            buttons.append((competence_button(lang, competence), Ask(intent="question", competence=competence).data()))
    return Reply("\n\n".join(lines), buttons)


def did_you_mean(
    lang: str, offered: tuple[str, ...], again: bool = False, intent: str | None = None, role: str | None = None
) -> Reply:
    """'Mente du ...?': the two or three closest competences (or sub-areas), one button each;
    a click answers it as if it had been asked, the same kind of question (`intent`: how to
    get better, or a job's question for `role`), as a typed pick does. `again`: asked once
    more, after a message that asked of the offer itself ('kan du give et eksempel?') before
    anything was picked."""
    kind = intent if intent in ("improve", "role") else "question"
    buttons: list[Button] = []
    for item in offered:
        if item in content.subarea_ids():
            buttons.append(_read_more(lang, item))
        else:
            buttons.append((competence_button(lang, item), Ask(intent=kind, competence=item, role=role).data()))
    lead = content.t(lang, "msg.did_you_mean_again" if again else "msg.did_you_mean")
    text = lead + "\n\n" + content.t(lang, "msg.did_you_mean_hint")
    return Reply(text, buttons)
