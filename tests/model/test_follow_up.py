"""Follow-ups: a short message that points back at the last answer is read as about it
(model/language/follow_up.py), and one that says what it is about, asks something the bot
does not cover, or gives a command is left as it is. The chat's memory of the last answer
(dialogs/recent.py) forgets after a while, per person, and on deletion."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from dialogs.recent import RecentTopics
from model.language.follow_up import Recent, remembered
from model.language.understanding import understand

MAPPING = Recent("development", "process_mapping", "term")  # after 'hvad er procesanalyse?'
IMPROVING = Recent("implementation", "procurement", "improve")  # after 'hvordan bliver jeg bedre til udbud?'
FOR_A_TEACHER = Recent("innovation", "trends", "question", "frontline")  # after '... som bibliotekar'


def _read(text: str, after: Recent | None):
    u = understand(text, after=after)
    return (u.topic, u.competence, u.intent, u.role)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("og hvordan bliver jeg bedre til det?", ("development", "process_mapping", "improve", None)),
        ("how do I get better at it?", ("development", "process_mapping", "improve", None)),
        ("hvordan bliver jeg bedre?", ("development", "process_mapping", "improve", None)),
        ("og hvad betyder det for mig?", ("development", "process_mapping", "role", None)),
        ("what about me?", ("development", "process_mapping", "role", None)),
        ("og for en pædagog?", ("development", "process_mapping", "role", "frontline")),
        ("and for a manager?", ("development", "process_mapping", "role", "manager")),
        ("og for min leder?", ("development", "process_mapping", "role", "manager")),  # someone else's job, asked about
        ("kan du give et eksempel?", ("development", "process_mapping", "question", None)),
        ("tell me more", ("development", "process_mapping", "question", None)),
    ],
)
def test_a_message_that_points_back_is_about_the_last_answer(text, expected):
    assert _read(text, MAPPING) == expected
    assert _read(text, None)[:2] != expected[:2]  # read alone, it is not about mapping work processes


def test_a_question_that_names_nothing_asks_about_the_last_answer():
    innovation = Recent("innovation", None, "question")
    assert _read("hvad skal jeg starte med", innovation) == ("innovation", None, "improve", None)
    spec = Recent("implementation", "procurement", "term", term="kravspecifikation")
    assert _read("hvem skriver den?", spec)[:3] == ("implementation", "procurement", "question")
    assert _read("hvad er klokken?", spec) == _read("hvad er klokken?", None)  # the meaning says: not ours


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("og markedsdialog?", ("implementation", "procurement", "improve", None)),
        ("og hvad med business cases?", ("development", "business_cases", "improve", None)),
        ("og innovation?", ("innovation", None, "improve", None)),
    ],
)
def test_and_x_after_how_do_i_get_better_asks_the_same_about_x(text, expected):
    assert _read(text, IMPROVING) == expected


@pytest.mark.parametrize(
    ("text", "compared", "topic", "competence"),
    [
        ("is that the same as lean?", ("process_mapping", "term:lean"), "development", "process_mapping"),
        (
            "hvad er forskellen på det og en business case?",
            ("process_mapping", "term:business_case"),
            "development",
            None,
        ),
        ("er det det samme som innovation?", ("process_mapping", "innovation"), "overview", None),
    ],
)
def test_that_compared_with_something_named_compares_the_last_answer_with_it(text, compared, topic, competence):
    u = understand(text, after=MAPPING)
    assert (u.intent, u.compared, u.topic, u.competence) == ("compare", compared, topic, competence)
    assert understand(text).compared != compared


def test_after_a_how_to_an_example_is_more_of_it_and_another_question_is_not_the_same_steps_again():
    assert _read("kan du give et eksempel?", IMPROVING)[2] == "improve"
    assert _read("hvor lang tid tager det?", IMPROVING)[:3] == ("implementation", "procurement", "question")


def test_the_job_named_before_still_holds_for_a_question_that_names_none():
    assert _read("og hvordan holder jeg mig opdateret?", FOR_A_TEACHER)[3] == "frontline"
    assert _read("og hvordan holder jeg mig opdateret?", None)[3] is None
    assert _read("hvordan laver man en business case for et nyt bookingsystem?", FOR_A_TEACHER)[3] == "frontline"
    assert _read("hvordan laver man en business case, jeg er leder?", FOR_A_TEACHER)[3] == "manager"  # its own
    # the writer's own job, not the one asked about before ('hvad skal en leder kunne …')
    assert _read("hvordan bliver jeg bedre til business cases i mit job?", FOR_A_TEACHER)[3] is None


@pytest.mark.parametrize(
    "text",
    [
        "hvad er en business case?",  # names its own topic
        "hvordan nulstiller jeg det?",  # IT support: not ours, whatever 'det' is
        "det virker ikke",  # asks nothing of the area
        "vis min historik",  # a command
        "ok tak",  # a thank-you
        "why should staff be involved early when new IT systems come in?",  # 'IT' is no 'it'
        "min leder siger vi skal bruge den nye app",  # 'den nye': an article; 'min leder' only tells
        "hvordan har du det?",  # small talk
        "hvad hedder du?",  # asks the bot itself
        "hvornår har I åbent?",  # ... 'I' (you, plural)
        "hvem er min leder?",  # about that person
        "hvornaar har HR aabent i dag",  # opening hours: not ours
        # a longer message the meaning places surely: the 'it' is inside what is asked about
        "what does it mean to challenge 'how we've always done it'",
    ],
)
def test_a_message_that_says_what_it_is_about_or_is_no_question_is_read_alone(text):
    assert understand(text, after=MAPPING) == understand(text)


def test_what_is_remembered_of_an_answer():
    assert remembered(understand("hvad er procesanalyse?")) == replace(MAPPING, term="arbejdsgangsanalyse")
    assert remembered(understand("hvad er forskellen på udvikling og innovation?")) is None  # 'det' would be ambiguous
    # two words of one competence compared: that competence is what 'det' points at next
    assert remembered(understand("hvad er forskellen på en business case og en gevinstplan?")) == Recent(
        "development", "business_cases", "question"
    )
    assert remembered(understand("hvad er klokken?")) is None


def test_the_chats_memory_is_per_person_and_chat_for_the_next_message_and_forgets():
    now = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
    recent = RecentTopics(minutes=30, max_chats=2)
    recent.remember("anna", "chat-1", MAPPING, now)
    assert recent.take("anna", "chat-2", now) is None  # another chat of hers
    assert recent.take("bo", "chat-1", now) is None  # another person in the same group chat
    assert recent.take("anna", "chat-1", now + timedelta(minutes=29)) == MAPPING
    assert recent.take("anna", "chat-1", now) is None  # it counted for one message only
    recent.remember("anna", "chat-1", MAPPING, now)
    assert recent.take("anna", "chat-1", now + timedelta(minutes=31)) is None  # a break: start afresh
    recent.remember("anna", "chat-1", MAPPING, now)
    recent.remember("anna", "chat-1", None, now)  # the next answer was about nothing to point at
    assert recent.take("anna", "chat-1", now) is None
    recent.remember("anna", "chat-1", MAPPING, now)
    recent.remember("bo", "a", IMPROVING, now + timedelta(minutes=31))  # an answer clears what expired
    assert len(recent) == 1
    for chat in ("b", "c"):
        recent.remember("bo", chat, IMPROVING, now + timedelta(minutes=31))
    assert len(recent) == 2 and recent.take("bo", "a", now + timedelta(minutes=31)) is None  # the oldest goes first
    asyncio.run(recent.forget("bo"))
    assert len(recent) == 0


@pytest.mark.parametrize(
    ("pair", "key", "values"),
    [
        (("process_mapping", "term:lean"), "area.compare_word_of", {"term": "Lean"}),
        (("process_mapping", "development"), "area.compare_part_of", {"whole": "Udvikling"}),
        (("process_mapping", "innovation"), "area.compare_not_part", {"sub": "Udvikling", "whole": "Innovation"}),
    ],
)
def test_a_word_or_competence_set_against_what_it_belongs_to_says_so(pair, key, values):
    """A follow-up compares the last answer with what it names, which can be a word of that
    competence or a sub-area: the last line says how the two belong together, never 'Innovation
    hører til Innovation'."""
    from model import content
    from model.domain.answers import compare_reply

    name = content.competence_name("da", "development", "process_mapping")
    fields = {"term": "", "name": name, "subarea": "Udvikling", "part": name, "sub": "", "whole": ""} | values
    last_line = compare_reply("da", pair).text.split("\n\n")[-1]
    assert last_line == content.t("da", key, **fields)
