"""Tests for model.understanding: accuracy on the evaluation set, the safety
rule that out-of-scope questions never get a topic or command, and the
behaviours the dialogs rely on (commands without æøå, typos, ambiguity)."""
from __future__ import annotations

import copy
import dataclasses
import json
from collections import defaultdict
from pathlib import Path

import pytest

from model import understanding as U
from model.understanding import Understanding, understand

ROOT = Path(__file__).resolve().parents[1]
EVAL_SET = ROOT / "tests" / "data" / "questions.jsonl"
TERMS = json.loads(U.TERMS_PATH.read_text(encoding="utf-8"))
TOPICS = set(TERMS["topics"])
INTENTS = set(TERMS["intents"]) | {"question"}


def load_set() -> list[dict]:
    with EVAL_SET.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


ROWS = load_set()


# ------------------------------------------------------------- the data itself

def test_eval_set_is_big_and_varied_enough():
    assert len(ROWS) >= 170
    langs = defaultdict(int)
    for r in ROWS:
        assert set(r) == {"text", "topic", "intent", "language"}
        assert r["topic"] in TOPICS | {None}
        assert r["intent"] in INTENTS | {None}
        assert r["language"] in {"da", "en", None}
        assert (r["intent"] == "question") == (r["topic"] is not None and r["intent"] == "question")
        langs[r["language"]] += 1
    assert sum(1 for r in ROWS if r["intent"] is None) >= 35
    assert langs["da"] > langs["en"] > 0.3 * len(ROWS)


def test_vocabulary_words_do_not_collide():
    """Suffix stripping must not merge two vocabulary words of different meaning
    (e.g. 'tender' and 'tendenser'); stem_overrides in terms.json fixes such cases."""
    vocab = U._load()
    owner: dict[str, set] = defaultdict(set)
    for stems, kind, name, _, _ in vocab.phrases:
        if len(stems) == 1:
            owner[stems[0]].add((kind, name))
    clashes = {s: o for s, o in owner.items() if len(o) > 1}
    assert not clashes
    assert not {s for s in owner if s in vocab.stops}, "a stop word would trigger a topic or command"


# ------------------------------------------------------------------- accuracy

def _evaluate() -> tuple[dict, list]:
    per_lang: dict = defaultdict(lambda: [0, 0])
    wrong = []
    for r in ROWS:
        u = understand(r["text"])
        ok = (u.topic, u.intent) == (r["topic"], r["intent"])
        per_lang[r["language"] or "neutral"][0] += ok
        per_lang[r["language"] or "neutral"][1] += 1
        if not ok:
            wrong.append((r["text"], (r["topic"], r["intent"]), (u.topic, u.intent)))
    return per_lang, wrong


def test_accuracy_on_eval_set(capsys):
    per_lang, wrong = _evaluate()
    total = sum(n for _, n in per_lang.values())
    correct = sum(c for c, _ in per_lang.values())
    with capsys.disabled():
        print("\nunderstanding accuracy: " + ", ".join(
            f"{lang} {c}/{n} ({c / n:.1%})" for lang, (c, n) in sorted(per_lang.items()))
            + f", all {correct}/{total} ({correct / total:.1%})")
    assert correct / total >= 0.98, wrong


def test_language_detection_on_eval_set():
    right = sum(understand(r["text"]).language == r["language"] for r in ROWS)
    assert right / len(ROWS) >= 0.95


def test_out_of_scope_is_never_a_topic_or_command():
    leaks = [(r["text"], understand(r["text"])) for r in ROWS if r["intent"] is None]
    leaks = [(t, u) for t, u in leaks if u.topic is not None or u.intent is not None]
    assert not leaks


# ------------------------------------------------------------------ behaviour

@pytest.mark.parametrize("text, intent", [
    ("hjælp", "help"), ("hjaelp", "help"), ("hjalp", "help"), ("HJÆLP", "help"), ("help", "help"),
    ("start", "start"), ("start forfra", "start"),
    ("kan du vise min profil", "profile"), ("my profile", "profile"),
    ("jeg vil gerne tage en vurdering", "assessment"), ("self-assessment", "assessment"), ("test mig", "assessment"),
    ("please show my history", "history"), ("kan du vise min historik", "history"),
    ("vis min udvikling over tid", "history"),
    ("påmindelser", "reminders"), ("paamindelser", "reminders"), ("pamindelser", "reminders"),
    ("PÅMINDELSER", "reminders"), ("nudges", "reminders"),
    ("download my data", "export"), ("eksporter mine data", "export"),
    ("slet mine data", "delete"), ("SLET MINE DATA", "delete"), ("glem mig", "delete"), ("forget me", "delete"),
    ("english please", "language"), ("på dansk", "language"), ("pa dansk", "language"),
    ("mind mig om det i morgen", "snooze"), ("remind me tomorrow", "snooze"),
    ("stop påmindelser", "stop_reminders"), ("stop paamindelser", "stop_reminders"), ("stop reminders", "stop_reminders"),
    ("stop", "cancel"), ("annuller", "cancel"), ("cancel", "cancel"),
    ("spring over", "skip"), ("skip", "skip"),
    ("hej", "greeting"), ("goddag", "greeting"), ("hello", "greeting"),
    ("tak", "thanks"), ("thanks", "thanks"),
])
def test_commands_in_both_languages_and_spellings(text, intent):
    u = understand(text)
    assert (u.topic, u.intent) == (None, intent)


@pytest.mark.parametrize("text, intent", [
    ("hjeælp", "help"), ("histroik", "history"), ("påmindlser", "reminders"), ("selvevalluering", "assessment"),
])
def test_commands_survive_small_typos(text, intent):
    assert understand(text).intent == intent


@pytest.mark.parametrize("text, topic", [
    ("inovation", "innovation"), ("implementring", "implementation"), ("anskafelse", "implementation"),
    ("gevinstrealsering", "development"), ("buisness case", "development"), ("tværfagligt samarbjde", "development"),
    ("INNOVATION", "innovation"), ("Hvad Er Samskabelse", "implementation"),
])
def test_topics_survive_typos_and_case(text, topic):
    u = understand(text)
    assert (u.topic, u.intent) == (topic, "question")


def test_topic_question_is_not_a_command():
    assert understand("hvad betyder innovation for mig?") == Understanding("innovation", "question", "da", 1.0)
    u = understand("what does Innovation mean for me?")
    assert (u.topic, u.intent, u.language) == ("innovation", "question", "en")
    assert understand("kan du hjælpe mig med udbud?").topic == "implementation"
    assert understand("Hvordan kommer jeg i gang med udvikling").topic == "development"


def test_udvikling_alone_is_the_topic_but_over_time_is_history():
    assert (understand("udvikling").topic, understand("udvikling").intent) == ("development", "question")
    assert understand("min udvikling over tid").intent == "history"


def test_fragments():
    u = understand("innovation?")
    assert (u.topic, u.intent, u.language) == ("innovation", "question", None)
    assert understand("anskaffelse").topic == "implementation"
    assert understand("kompetencehjulet").topic == "overview"


def test_assessment_can_carry_a_topic():
    u = understand("test mig i innovation")
    assert (u.topic, u.intent) == ("innovation", "assessment")


@pytest.mark.parametrize("text", [
    "hvad bliver vejret i morgen", "hvad er der til frokost", "hvornår får vi løn",
    "hvor mange feriedage har jeg", "jeg skal sygemelde mig", "hvor kan jeg parkere",
    "jeg har glemt mit password", "printeren virker ikke", "hvem vinder valget",
    "tell me a joke", "what's the weather like", "how do I reset my password",
    "hjælp mig med min lønseddel", "mig", "hvad", "kan", "digital", "digitalisering", "", "?!",
])
def test_out_of_scope_and_generic_words_give_nothing(text):
    u = understand(text)
    assert (u.topic, u.intent) == (None, None)
    assert not u.ambiguous


def test_weather_example_exactly():
    u = understand("hvad bliver vejret i morgen")
    assert (u.topic, u.intent, u.language) == (None, None, "da")


def test_ambiguous_message_offers_two_topics():
    u = understand("hvad er forskellen på implementering og innovation?")
    assert u.intent == "question" and u.ambiguous
    assert set(u.alternatives) == {"implementation", "innovation"}
    assert u.alternatives[0] == u.topic
    assert u.confidence < 0.8


def test_clear_question_has_no_alternatives():
    u = understand("hvordan laver man en business case")
    assert u.alternatives == () and not u.ambiguous and u.confidence >= 0.9


def test_umbrella_topic_steps_back_for_a_named_sub_area():
    assert understand("innovation i kompetencehjulet").topic == "innovation"
    assert understand("hvad handler udvikling og implementering om?").topic == "overview"


@pytest.mark.parametrize("text, lang", [
    ("hvordan laver man en business case", "da"), ("how do I write a business case", "en"),
    ("hjaelp", "da"), ("help", "en"), ("innovation?", None), ("start", None),
])
def test_language(text, lang):
    assert understand(text).language == lang


def test_result_is_frozen_and_confidence_bounded():
    u = understand("innovation")
    with pytest.raises(dataclasses.FrozenInstanceError):
        u.topic = "development"
    for r in ROWS:
        assert 0.0 <= understand(r["text"]).confidence <= 1.0


def test_a_new_command_is_only_a_data_change(monkeypatch):
    data = copy.deepcopy(TERMS)
    data["intents"]["feedback"] = {"da": {"giv feedback": 1.2}, "en": {"give feedback": 1.2}}
    monkeypatch.setattr(U, "_vocab", U._Vocab(data))
    assert understand("jeg vil gerne give feedback").intent == "feedback"
    assert understand("I want to give feedback").intent == "feedback"
