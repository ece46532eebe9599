"""Answer selection: which reply a question gets, at the grain asked (a term, how to
improve, a job, a competence, a sub-area, the whole area). The texts are composed in
model/domain/answers.py and model/domain/coaching.py; this module picks one and sends it,
and keeps what it was about for the chat's next message (dialogs/recent.py): a follow-up is
read against it, a typed '2' after "Mente du ...?" picks what was offered."""

from __future__ import annotations

from functools import lru_cache

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext

from model import content
from model.domain import answers, coaching
from model.language import follow_up
from model.language.choices import match_choice, plain_answer
from model.language.follow_up import Recent
from model.language.understanding import Understanding

from .onboarding import ONBOARDING
from .presenting import as_activity
from .turn import is_personal, lang_said, services, turn_of, user_key_of


def answerable(understood: Understanding, knows_the_job: bool = False) -> bool:
    """A question the bot answers from its content: a sub-area, a competence, a term, a job
    (named in the message, or `knows_the_job` from the person's profile). What a job needs of
    a sub-area or competence ('er servicedesign noget for mig?') is answered from it, job or not."""
    if understood.intent == "role":
        return bool(getattr(understood, "role", None)) or knows_the_job or understood.topic in content.subarea_ids()
    return understood.intent in ("question", "term", "improve", "compare") and bool(understood.topic)


def _chat_of(context: TurnContext) -> str:
    return context.activity.conversation.id if context.activity.conversation else ""


def last_answer(context: TurnContext) -> Recent | None:
    """What this chat's last answer was about, for this message only: whatever this turn does
    (a command, a click, an answer to a prompt, "I can't help"), the next message no longer
    points back at it unless this turn answers again."""
    turn = turn_of(context)
    return turn.services.recent.take(turn.user_key, _chat_of(context), turn.services.now())


def _remember(context: TurnContext, understood: Understanding, offered: tuple[str, ...] = ()) -> None:
    """What the answer just sent was about; after a "Mente du ...?", what it `offered` (as shown,
    in order), so a typed '2' or 'den første' picks one (nothing was answered yet for 'det' to
    point at)."""
    if offered:
        recent: Recent | None = Recent(
            understood.topic or "overview",
            intent=understood.intent or "question",
            role=understood.role,
            offered=offered,
            language=understood.language,
        )
    else:
        recent = follow_up.remembered(understood)
    _keep(context, recent)


def _keep(context: TurnContext, recent: Recent | None) -> None:
    """Keep `recent` for this chat's next message; nothing for a person deleted in this turn."""
    turn = turn_of(context)
    if not turn.deleted:
        turn.services.recent.remember(turn.user_key, _chat_of(context), recent, turn.services.now())


SKIPPED_BEFORE_A_PICK = frozenset({"den", "det", "the", "nr", "nummer", "number", "no", "mulighed", "option"})


def picked_from_offer(said: str, last: Recent) -> Understanding | None:
    """A typed pick among what "Mente du ...?" offered: its number ('2', 'nr. 2'), its place
    ('den første', 'the second') or its name as on the button or in full (a typo allowed, never
    a part: 'hvordan kortlægger jeg arbejdsgange?' is a new question). Asked as the unsure
    question was asked ('hvordan bliver vi bedre til …' gets the steps)."""
    words = [w for w in plain_answer(said).split() if w not in SKIPPED_BEFORE_A_PICK]
    ordinals = _ordinals()
    if len(words) == 1 and words[0] in ordinals:
        words = [str(ordinals[words[0]])]
    options = {item: _labels(item) for item in last.offered}
    choice = match_choice(" ".join(words), options, min_score=85, partial=False) if words else None
    if choice is None:
        return None
    intent = last.intent if last.intent in ("question", "improve") else "question"
    lang = last.language  # '2' says nothing of its language: the answer is in the question's
    if choice in content.subarea_ids():
        return Understanding(choice, intent, lang, 1.0, role=last.role)
    return Understanding(content.subarea_of(choice), intent, lang, 1.0, competence=choice, role=last.role)


@lru_cache(maxsize=1)
def _ordinals() -> dict[str, int]:
    """Each place's words in either language, as typed: 'anden' and 'andet' are both the second."""
    return {
        plain_answer(w): place
        for lang in content.LANGUAGES
        for place, spellings in enumerate(content.lookup(lang, "msg.did_you_mean_ordinals"), start=1)
        for w in spellings
    }


def _labels(item: str) -> list[str]:
    """What a person may type for an offered sub-area or competence, in either language."""
    if item in content.subarea_ids():
        return [
            label
            for lang in content.LANGUAGES
            for label in (content.subarea_name(lang, item), content.t(lang, f"subareas.{item}.button"))
        ]
    subarea = content.subarea_of(item)
    return [
        label
        for lang in content.LANGUAGES
        for label in (answers.competence_button(lang, item), content.competence_name(lang, subarea, item))
    ]


async def offer_again(context: TurnContext, last: Recent, language: str | None) -> None:
    """The last "Mente du ...?" once more, for a message that asked for more before anything was
    picked ('kan du give et eksempel?'): nothing was answered yet, so "I can't help" would be
    wrong. In the language of that message when it has one ('can you give an example?')."""
    lang = lang_said(context, language or last.language)
    offer = answers.did_you_mean(lang, last.offered, again=True, intent=last.intent, role=last.role)
    await context.send_activity(as_activity(offer))
    _keep(context, last)  # still open for a pick


async def answer(dc: DialogContext, understood: Understanding) -> None:
    """Send the reply to a question; an unsure competence gets "Mente du ...?", two close
    sub-areas "which one?" instead."""
    context = dc.context
    lang = lang_said(context, understood.language)
    if understood.ambiguous and not set(understood.alternatives) <= set(content.subarea_ids()):
        # unsure which competence is meant: "Mente du ...?" with the closest as buttons
        offer = answers.did_you_mean(lang, understood.alternatives, intent=understood.intent, role=understood.role)
        await context.send_activity(as_activity(offer))
        _remember(context, understood, offered=understood.alternatives)
        return
    if understood.ambiguous and len(understood.alternatives) >= 2:
        a, b = understood.alternatives[:2]
        names = [answers.topic_name(lang, t) for t in (a, b)]
        await context.send_activity(
            as_activity(
                answers.Reply(
                    content.t(lang, "msg.clarify_topic", a=names[0], b=names[1]),
                    [(n, content.t(lang, "msg.read_more_value", name=n)) for n in names],
                )
            )
        )
        _remember(context, understood, offered=(a, b))
        return
    doc = (await services(context).users.get(user_key_of(context)) or {}) if is_personal(context) else {}
    own = doc.get("profile") or {}
    profile = own or None
    named = understood.role if understood.intent != "role" or understood.topic in content.subarea_ids() else None
    if named and named != own.get("role"):
        # "... for en pædagog": that job's answer. The asker's level is theirs, not the job's.
        profile = {"role": named}
    onboarding = dc.active_dialog is not None and dc.active_dialog.id == ONBOARDING
    profile_complete = bool(own.get("role") and own.get("level"))
    reply = reply_for(lang, understood, profile, doc, context, invite=not onboarding and not profile_complete)
    await context.send_activity(as_activity(reply))
    _remember(context, _answered(understood, profile, doc))


def _answered(understood: Understanding, profile: dict | None, doc: dict) -> Understanding:
    """What the answer was about, for the next message: a how-to about the whole area or a
    sub-area ('hvad skal jeg starte med?', 'hvordan bliver jeg bedre til innovation?') was
    answered with one competence's steps, so 'hvor lang tid tager det?' after it is about that one."""
    if _starts_here(understood, profile):
        competence: str | None = coaching.start_competence(profile or {}, *_own_history(profile, doc))[0]
    else:
        competence = _improved(understood, profile)
    if competence is None or competence == understood.competence:
        return understood
    return Understanding(content.subarea_of(competence), "improve", understood.language, 1.0, competence=competence)


def _improved(understood: Understanding, profile: dict | None) -> str | None:
    """The competence a how-to is answered with: the one asked about, or the sub-area's that
    matters most for this job and level."""
    if understood.intent != "improve":
        return None
    if understood.competence is not None:
        return understood.competence
    if understood.topic not in content.subarea_ids():
        return None
    p = profile or {}
    return answers.focus_competences(str(understood.topic), p.get("role"), p.get("level"))[0]


def _own_history(profile: dict | None, doc: dict) -> tuple[list[dict], list[dict]]:
    """The person's checks and goals when the answer is for their own profile; none for a job
    named in the question ('… som pædagog?': that job's, not the asker's)."""
    if (profile or {}) == (doc.get("profile") or {}):
        return doc.get("assessments") or [], doc.get("goals") or []
    return [], []


def _starts_here(understood: Understanding, profile: dict | None) -> bool:
    """'Hvad skal jeg starte med?' about the whole area, for a known job: one competence to start with."""
    return understood.intent == "improve" and understood.topic == "overview" and bool((profile or {}).get("role"))


def reply_for(
    lang: str,
    understood: Understanding,
    profile: dict | None,
    doc: dict,
    context: TurnContext,
    invite: bool = True,
) -> answers.Reply:
    """The answer at the grain asked: a term, how to improve, a job, a competence, a sub-area."""
    checks = doc.get("assessments") or []
    resources = services(context).resources
    competence = getattr(understood, "competence", None)
    term = getattr(understood, "term", None)
    role = getattr(understood, "role", None)
    if understood.intent == "compare" and len(understood.compared) >= 2:
        return answers.compare_reply(lang, understood.compared)
    if understood.topic == "overview" and understood.area:
        return answers.area_reply(lang, understood.area, profile, role)
    if understood.intent == "term" and term and competence:
        return coaching.term_reply(lang, term, competence)
    job = role or (profile or {}).get("role")  # 'hvad skal jeg kunne?': the job they gave us
    if understood.intent == "role" and job and understood.topic not in content.subarea_ids():
        return coaching.role_reply(lang, job, profile)  # with a sub-area: that sub-area for the job
    if _starts_here(understood, profile):
        # one competence to begin with, for this person (their checks and goals count), or for
        # the job named ('… som pædagog?': that job's first)
        return coaching.start_here_reply(lang, profile or {}, *_own_history(profile, doc), resources)
    if competence and understood.more and understood.intent in ("question", "improve"):
        # 'fortæl mere', 'et eksempel?' right after this competence's answer or its steps: what
        # they left out (the reason from the involvement, and how it looks at each stage)
        steps_shown = understood.intent == "improve"  # after the how-to: its three steps are above
        return coaching.more_reply(lang, "stages", competence, profile, checks, resources, steps_shown)
    if (improved := _improved(understood, profile)) is not None:
        return coaching.improve_reply(lang, improved, profile, checks, resources)
    if competence:
        reply = coaching.competence_reply(lang, competence, profile, checks, resources, invite=invite)
        if understood.intent == "compare":  # two things inside it compared: where both belong, first
            return answers.compared_inside(lang, competence, reply)
        if understood.intent == "role" and job:  # 'hvor meget skal jeg kunne af det som leder?'
            lead = coaching.how_much(lang, competence, job, coaching.own_level(profile, job))
            return answers.Reply(f"{lead}\n\n{reply.text}", reply.buttons)
        return reply
    return answers.topic_reply(
        lang,
        understood.topic or "overview",
        profile,
        detail=understood.more or answers.wants_detail(context.activity.text or ""),
        invite=invite,
    )
