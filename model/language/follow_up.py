"""A message that points back at the bot's last answer: "og hvordan bliver jeg bedre til
det?", "what about a teacher?", "kan du give et eksempel?", "og innovation?" after "how do
I get better at X?".

Read on its own such a message names nothing of the area, so it got the whole area's answer
or was turned away. Here it is read against what the chat's last answer was about
(`Recent`, kept by dialogs/recent.py): the same topic and competence, asked the way the new
message asks. The words that point back, ask for more or carry the last question over are
data (terms.json `follow_up`), one list per language.

Only a message that names nothing of its own is moved onto the last topic, and a guess by
meaning does not count as naming when the message points back (unless it is longer and the
guess very sure), or is short and the guess unsure. One that names a sub-area or
a competence keeps it; it keeps the job named before when it names none ('og hvordan holder
jeg mig opdateret?' after 'som bibliotekar ...'), and a message opening with 'og'/'and'
after a "how do I get better" or a job's question is asked the same way ('og til at
interviewe dem?'). "Er det det samme som lean?" compares the last answer with the one thing
it names. A message with words of something the bot does not cover ("nulstille", "løn") is
never a follow-up, nor is a command, a greeting or small talk ("hvordan har du det?").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # understanding.py imports this module
    from .understanding import Understanding

TERMS_PATH = Path(__file__).parents[1] / "content" / "terms.json"
MAX_WORDS = 16  # a follow-up is short; a longer message says what it is about itself
CARRY_WORDS = 6  # "hvad gør jeg så?": short enough to follow up without a pointing word, to keep the
# job named before, or to set an unsure guess by meaning aside
SURE_BY_MEANING = 0.6  # a guess by meaning below this (or a "Mente du ...?") is unsure
SURE_POINTING = 0.7  # ... and one this sure, in a message longer than CARRY_WORDS, names its own thing
CARRIED_KINDS = ("improve", "role")  # question kinds an "og X?" takes over ('question' is the default anyway)


@dataclass(frozen=True)
class Recent:
    """What the chat's last answer was about: the topic ('overview', a sub-area), the
    competence in it, the kind of question, and the job it was answered for when the
    question named one ('hvad betyder udvikling for en pædagog?')."""

    topic: str
    competence: str | None = None
    intent: str = "question"
    role: str | None = None
    area: str | None = None  # a question about the area itself ('premises'): 'hvad betyder det?' is about it
    term: str | None = None  # the glossary word asked about: 'er det det samme som lean?' compares it
    offered: tuple[str, ...] = ()  # a "Mente du ...?" offered these (ids): '2' or 'den første' picks one
    language: str | None = None  # ... and the language the unsure question was written in, for the answer


@dataclass(frozen=True)
class Said:
    """What the vocabulary saw in the message besides its reading (understanding.py fills it)."""

    improve: bool = False  # a how-to cue ('bedre til', 'get better at')
    for_me: bool = False  # 'og for mig?', 'what about me?': the person's own job
    out_of_scope: bool = False  # words of something the bot does not cover
    compare: bool = False  # 'forskellen på', 'the same as'
    named: str | None = None  # what the words name, as a comparison's side: 'term:lean', a competence, a sub-area
    other_job: str | None = None  # the job of someone else named ('og for min leder?'): asked about in a follow-up
    asks: bool = False  # a '?' or a question word


@dataclass(frozen=True)
class _Words:
    back: frozenset[str]  # 'det', 'it', 'that': the thing just talked about
    more: tuple[tuple[str, ...], ...]  # 'fortæl mere', 'eksempel', 'example': more of the same
    small_talk: tuple[tuple[str, ...], ...]  # 'hvordan har du det?': a 'det' that points at nothing
    carry: tuple[tuple[str, ...], ...]  # openings: 'og', 'hvad med', 'what about'
    fillers: frozenset[str]  # 'ok', 'ja', 'well' before an opening: 'ok men hvordan ...'
    adjectives: frozenset[str]  # 'den nye app', 'det hele': 'den'/'det' an article there, pointing at nothing
    addressed: frozenset[str]  # 'du', 'you': a question to the bot itself ('hvad hedder du?')
    own_job: tuple[tuple[str, ...], ...]  # 'i mit job', 'my role': the writer's own job, not one named before


@lru_cache(maxsize=1)
def _words() -> _Words:
    from .understanding import words

    table = json.loads(TERMS_PATH.read_text(encoding="utf-8"))["follow_up"]

    def listed(kind: str) -> list[str]:
        return [w for lang in ("da", "en") for w in table[kind][lang]]

    return _Words(
        frozenset(w for phrase in listed("back") for w in words(phrase)),
        tuple({tuple(words(p)) for p in listed("more")}),
        tuple({tuple(words(p)) for p in listed("small_talk")}),
        tuple(sorted({tuple(words(p)) for p in listed("carry")}, key=len, reverse=True)),
        frozenset(w for phrase in listed("fillers") for w in words(phrase)),
        frozenset(w for phrase in listed("adjectives") for w in words(phrase)),
        frozenset(w for phrase in listed("addressed") for w in words(phrase)),
        tuple({tuple(words(p)) for p in listed("own_job")}),
    )


def resolve(understood: Understanding, recent: Recent | None, text: str, said: Said | None = None) -> Understanding:
    """The reading of `text` in the light of the last answer (`understood` when it is no
    follow-up)."""
    said = said or Said()
    if recent is None or recent.offered or said.out_of_scope:
        return understood  # after a "Mente du ...?" nothing was answered yet to point back at
    from .understanding import QUESTION_KINDS, compared_place, words

    if understood.intent is not None and understood.intent not in QUESTION_KINDS:
        return understood  # a command, a greeting, a thank-you

    toks = words(text)
    if not _may_follow_up(toks):
        return understood
    vocab = _words()
    opens, more, back = _pointing(toks, text)
    points = opens or more or back
    side = _side(recent)
    if said.compare and back and said.named and side not in (None, said.named):
        # 'er det det samme som lean?' after process mapping: the two compared
        pair = (str(side), said.named)
        topic, competence = compared_place(pair)
        return replace(
            understood,
            topic=topic,
            intent="compare",
            competence=competence,
            role=understood.role or recent.role,
            term=None,
            area=None,
            alternatives=(),
            compared=pair,
            source="context",
        )
    short = len(toks) <= CARRY_WORDS
    if _names_something(understood, points, short):
        if understood.role is None and recent.role and not any(_within(toks, p) for p in vocab.own_job):
            understood = replace(understood, role=recent.role)  # the job named before still holds
        if opens and understood.intent == "question" and recent.intent in CARRIED_KINDS:
            # 'hvordan bliver jeg bedre til udbud?' ... 'og markedsdialog?', 'og til at interviewe
            # dem?': asked the same way. A term or a job's question keeps its kind; a plain 'og hvad
            # er innovation?' cannot be told from the default 'question', so it is asked the same way too
            return replace(understood, intent=recent.intent)
        return understood
    # 'og for min leder?': asked about that job ('min leder siger …', 'hvem er min leder?' do not point back)
    job = understood.role or (said.other_job if points else None)
    # 'hvem skriver den?', 'hvor lang tid tager det?' ask of what was just said; 'hvad hedder du?'
    # asks the bot, and the meaning's own "not ours" is not overruled
    turned_away = understood.intent is None and understood.source == "semantic"
    # 'hvornår har I åbent?': the Danish plural 'I' (you) is written with a capital, as English 'I' (me) is
    to_the_bot = any(t in vocab.addressed for t in toks) or (understood.language == "da" and _DANISH_YOU.search(text))
    # 'hvem er min leder?' is about that person, unless it points back ('og for min leder?')
    unplaced = not turned_away and (points or (short and not to_the_bot and not said.other_job))
    improve = said.improve or understood.intent == "improve"
    if job and not improve:
        if not (points or (short and ("?" in text or understood.intent == "role"))):
            return understood  # 'jeg er lærer og vil gerne vide hvad der er vigtigt for mig': its own question
        kind = "role"  # 'og for en pædagog?', 'er det noget en skolesekretær skal kunne?': that job
    elif improve:
        kind = "improve"  # 'og hvordan bliver jeg bedre til det?'
    elif understood.intent == "role" or said.for_me:
        kind = "role"  # 'og for mig?': the person's own job
    elif more or ((points or short) and understood.intent is not None) or (said.asks and unplaced):
        # 'fortæl mere', 'et eksempel?', 'hvad betyder det?'; 'et eksempel?' after a how-to asks
        # for more of the how-to, while 'hvor lang tid tager det?' gets the competence's answer
        kind = "improve" if recent.intent == "improve" and more else "question"
    else:
        return understood
    return replace(
        understood,
        topic=recent.topic,
        intent=kind,
        competence=recent.competence,
        role=job or (None if kind == "role" else recent.role),
        term=None,
        area=recent.area,
        alternatives=(),
        compared=(),
        source="context",
        # 'fortæl mere' right after the same kind of answer, or 'og hvordan bliver jeg bedre til
        # det?' right after its steps: more of it, not the same again
        more=(more or kind == "improve") and kind == recent.intent,
    )


def _may_follow_up(toks: list[str]) -> bool:
    """Short enough to follow up (MAX_WORDS), and no small talk ('hvordan har du det?')."""
    return bool(toks) and len(toks) <= MAX_WORDS and not any(_within(toks, p) for p in _words().small_talk)


def _asks_more(toks: list[str]) -> bool:
    """'fortæl mere', 'et eksempel?', 'tell me more': more of what was just said."""
    return any(_within(toks, phrase) for phrase in _words().more)


def _pointing(toks: list[str], text: str) -> tuple[bool, bool, bool]:
    """Whether the words open as a follow-up ('og', 'hvad med'), ask for more ('et eksempel?')
    or point back ('det', 'it'; not 'den nye app', not 'IT')."""
    vocab = _words()
    start = next((i for i, t in enumerate(toks) if t not in vocab.fillers), len(toks))
    opens = any(tuple(toks[start : start + len(c)]) == c for c in vocab.carry)
    more = _asks_more(toks)
    technology = _it_as_technology(text)
    back = any(
        t in vocab.back and t not in technology and nxt not in vocab.adjectives
        for t, nxt in zip(toks, [*toks[1:], ""], strict=True)
    )
    return opens, more, back


def asks_for_more(text: str) -> bool:
    """A short message that asks for more of what was just said ('kan du give et eksempel?',
    'tell me more'), small talk aside: after a "Mente du ...?" nothing was answered yet, so the
    offer is shown again instead of "I can't help". Only the words that ask for more count: a
    pointing word alone ('hvornår er det frokost?', 'og min løn?') is no question about the offer."""
    from .understanding import words

    toks = words(text)
    return _may_follow_up(toks) and _asks_more(toks)


def _side(recent: Recent) -> str | None:
    """The last answer as one side of a comparison: its glossary word, competence or sub-area."""
    if recent.term:
        return f"term:{recent.term}"
    return recent.competence or (recent.topic if recent.topic != "overview" else None)


def _within(toks: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(toks[i : i + n]) == phrase for i in range(len(toks) - n + 1))


_DANISH_YOU = re.compile(r"(?<!^)\bI\b")  # not opening the message, where any word has a capital


_IT = re.compile(r"\bIT\b|\b[Ii][Tt]-")


def _it_as_technology(text: str) -> set[str]:
    """'IT', 'it-systemet': information technology, not the English 'it' that points back."""
    return {"it"} if _IT.search(text) else set()


def _unsure(understood: Understanding) -> bool:
    return understood.ambiguous or understood.confidence < SURE_BY_MEANING


def _names_something(understood: Understanding, points: bool, short: bool) -> bool:
    """A reading that places the message itself: a competence, a term, a sub-area, a
    question about the area, a comparison. A guess by meaning places nothing when the
    message points back ('et konkret eksempel fra borgerservice', 'hvad med en sosu'), or when
    it is short and the guess unsure ('ok men hvordan øver jeg mig'); a longer message's guess
    stands, sure or not ('hvordan får man kollegerne med på en ny app de hader'), and so does a
    longer one's very sure guess when a word of it points ('what does it mean to challenge how
    we've always done it': the 'it' is in the phrase asked about)."""
    if understood.source == "semantic" and (
        (points and (short or understood.confidence < SURE_POINTING)) or (short and _unsure(understood))
    ):
        return False
    return bool(
        understood.competence
        or understood.term
        or understood.area
        or understood.compared
        or (understood.topic is not None and understood.topic != "overview")
    )


def remembered(understood: Understanding) -> Recent | None:
    """What to remember of a question just answered; None for a message that placed nothing
    or a comparison of two competences or sub-areas (its two sides make 'det' ambiguous). Two
    words of one competence compared leave that competence."""
    if understood.topic is None or (understood.intent == "compare" and understood.competence is None):
        return None
    if understood.intent == "compare":
        return Recent(understood.topic, understood.competence, "question", understood.role)
    return Recent(
        understood.topic,
        understood.competence,
        understood.intent or "question",
        understood.role,
        understood.area,
        understood.term,
    )
