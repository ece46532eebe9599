"""Tests for model.language.understanding: accuracy on the evaluation set (and, as a
guard against silent decay, on a holdout set written before the matcher knew
competences, glossary terms and roles), the safety rule that out-of-scope
questions never get a topic, command, competence, term or role, the behaviours
the dialogs rely on (commands without æøå, typos, ambiguity), and job titles."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from model.language import understanding as U
from model.language.understanding import Understanding, understand

ROOT = Path(__file__).resolve().parents[2]
EVAL_SET = ROOT / "tests" / "data" / "questions.jsonl"
HOLDOUT_SET = ROOT / "tests" / "data" / "questions_holdout.jsonl"
TERMS = json.loads(U.TERMS_PATH.read_text(encoding="utf-8"))
TITLES = json.loads(U.JOB_TITLES_PATH.read_text(encoding="utf-8"))
WHEEL = json.loads((U.TERMS_PATH.parent / "wheel.json").read_text(encoding="utf-8"))
ROLES = set(json.loads((U.TERMS_PATH.parent / "da.json").read_text(encoding="utf-8"))["roles"])
TOPICS = set(TERMS["topics"])
INTENTS = set(TERMS["intents"]) | {"question", "term", "improve", "role", "compare"}
SUBAREA_OF = {c: s["id"] for a in WHEEL["areas"] for s in a["subareas"] for c in s["competences"]}
COMPETENCE_OF = {t: spec["competence"] for t, spec in TERMS["glossary"].items()}
FIELDS = ("topic", "intent", "competence", "role", "term", "language")


def load_set(path: Path = EVAL_SET) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


ROWS = load_set()
HOLDOUT = load_set(HOLDOUT_SET)


# ------------------------------------------------------------- the data itself


def _check_row(r: dict) -> None:
    assert set(r) == {"text", *FIELDS}, r
    assert r["topic"] in TOPICS | {None}
    assert r["intent"] in INTENTS | {None}
    assert r["language"] in {"da", "en", None}
    assert r["competence"] in set(SUBAREA_OF) | {None}
    assert r["role"] in ROLES | {None}
    assert r["term"] in set(COMPETENCE_OF) | {None}
    if r["intent"] in ("question", "term", "improve"):
        assert r["topic"] is not None, r
    if r["intent"] == "term":  # a glossary word, or a competence's own words ('hvad er en forandringsagent')
        assert r["term"] is not None or r["competence"] is not None, r
    if r["term"] is not None:  # a term names its competence, and that its sub-area
        assert r["competence"] == COMPETENCE_OF[r["term"]], r
    if r["competence"] is not None:
        assert r["topic"] == SUBAREA_OF[r["competence"]], r
    if r["intent"] is None:
        assert (r["topic"], r["competence"], r["role"], r["term"]) == (None,) * 4, r


def test_eval_set_is_big_and_varied_enough():
    assert len(ROWS) >= 272 + 170
    langs = defaultdict(int)
    for r in ROWS:
        _check_row(r)
        langs[r["language"]] += 1
    assert len({r["text"] for r in ROWS}) == len(ROWS)
    assert sum(1 for r in ROWS if r["intent"] is None) >= 60
    assert langs["da"] > langs["en"] > 0.3 * len(ROWS)
    assert {r["competence"] for r in ROWS} >= set(SUBAREA_OF)
    assert len({r["term"] for r in ROWS} - {None}) >= 30
    assert {r["role"] for r in ROWS} >= ROLES
    assert {r["intent"] for r in ROWS} >= {"question", "term", "improve", "role"}


def test_holdout_set_has_the_same_schema_and_is_not_in_the_eval_set():
    assert len(HOLDOUT) >= 60
    for r in HOLDOUT:
        _check_row(r)
    assert not {r["text"] for r in HOLDOUT} & {r["text"] for r in ROWS}


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


def _evaluate(rows: list[dict] = ROWS) -> tuple[dict, list]:
    """(field, language) -> [right, total] for each field and for (topic, intent) together."""
    per: dict = defaultdict(lambda: [0, 0])
    wrong = []
    for r in rows:
        u = understand(r["text"])
        lang = r["language"] or "neutral"
        checks = {f: getattr(u, f) == r[f] for f in FIELDS}
        checks["topic+intent"] = checks["topic"] and checks["intent"]
        for field, ok in checks.items():
            for key in ((field, lang), (field, "all")):
                per[key][0] += ok
                per[key][1] += 1
        if not all(checks.values()):
            wrong.append((r["text"], {f: (r[f], getattr(u, f)) for f in FIELDS if not checks[f]}))
    return per, wrong


def _rate(per: dict, field: str, lang: str = "all") -> float:
    right, total = per[field, lang]
    return right / total


def _report(name: str, per: dict) -> str:
    langs = sorted({lang for _, lang in per} - {"all"}) + ["all"]
    lines = [f"\n{name} accuracy per field and language:"]
    for field in ("topic+intent", *FIELDS):
        lines.append(
            f"  {field:<13}"
            + "  ".join(
                f"{lang} {per[field, lang][0]}/{per[field, lang][1]} ({_rate(per, field, lang):.1%})" for lang in langs
            )
        )
    return "\n".join(lines)


def test_accuracy_on_eval_set(capsys):
    per, wrong = _evaluate()
    with capsys.disabled():
        print(_report(f"questions.jsonl ({len(ROWS)} rows)", per))
    assert _rate(per, "topic+intent") >= 0.98, wrong
    assert _rate(per, "competence") >= 0.95, wrong
    assert _rate(per, "role") >= 0.95, wrong
    assert _rate(per, "term") >= 0.95, wrong


def test_accuracy_on_holdout_set(capsys):
    """Written before the matcher learnt competences, terms and roles, and never used to tune
    it: the figures are printed, and a floor keeps them from decaying unnoticed."""
    per, wrong = _evaluate(HOLDOUT)
    with capsys.disabled():
        print(_report(f"questions_holdout.jsonl ({len(HOLDOUT)} rows)", per))
    for field in ("topic+intent", *FIELDS):
        assert _rate(per, field) >= 0.85, (field, wrong)


_READINGS = """
import json, sys
sys.path.insert(0, sys.argv[1])
from model.language.understanding import understand
print(json.dumps([repr(understand(t, by_meaning=False)) for t in json.loads(sys.stdin.read())]))
"""


def test_a_message_is_read_alike_after_every_restart():
    """Python orders a set differently in every process (PYTHONHASHSEED); a reading may not
    depend on it ('design thinking vs service design' compared two words in one process and
    answered one of them in another)."""
    texts = [r["text"] for r in ROWS + HOLDOUT] + ["design thinking vs service design?"]
    readings = [
        subprocess.run(
            [sys.executable, "-c", _READINGS, str(ROOT)],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "3")
    ]
    assert readings[0] == readings[1]


def test_language_detection_on_eval_set():
    right = sum(understand(r["text"]).language == r["language"] for r in ROWS)
    assert right / len(ROWS) >= 0.95


def test_out_of_scope_is_never_a_topic_or_command():
    leaks = [(r["text"], understand(r["text"])) for r in ROWS + HOLDOUT if r["intent"] is None]
    leaks = [(t, u) for t, u in leaks if (u.topic, u.intent, u.competence, u.term, u.role) != (None,) * 5]
    assert not leaks


@pytest.mark.parametrize(
    "text",
    [
        # how the technology works inside, and citizens' data: other areas of the wheel
        "hvordan virker kunstig intelligens rent teknisk",
        "how does machine learning actually work under the hood",
        "is it allowed to put citizen data into ChatGPT?",
        "må jeg bruge ChatGPT til at skrive afgørelser med borgeroplysninger i?",
        "hvornår har borgerservice åbent?",
    ],
)
def test_how_technology_works_citizens_data_and_opening_hours_are_not_ours(text):
    u = understand(text)
    assert (u.topic, u.intent, u.competence) == (None, None, None)


def test_the_present_tense_faar_reads_as_faa_in_a_phrase():
    # 'få kollegerne med' is drive_change's own phrase; 'får' folds to 'far' and was not matched
    u = understand("vi skal have en ny app til madbestilling, hvordan får jeg kollegerne med?")
    assert (u.competence, u.intent, u.alternatives) == ("drive_change", "improve", ())
    # ... and the everyday ways of saying it, seen walking the web chat as a manager
    u = understand("we're getting a new app and half of them don't read Danish well. how do I bring them along?")
    assert (u.competence, u.intent, u.alternatives) == ("drive_change", "improve", ())
    u = understand("I run the kitchen at a care home, how do I get the staff on board with the new ordering app?")
    assert (u.competence, u.intent, u.role) == ("drive_change", "improve", "manager")


def test_new_technology_for_the_work_is_still_trends_or_possibilities():
    assert understand("hvordan kan kunstig intelligens hjælpe os i hjemmeplejen?").topic == "innovation"
    assert understand("what's new in AI for schools?").competence == "trends"


def test_understood_terms_and_competences_agree_with_the_wheel():
    for r in ROWS + HOLDOUT:
        u = understand(r["text"])
        if u.term is not None:
            assert u.competence == COMPETENCE_OF[u.term], r["text"]
        if u.competence is not None:
            assert u.topic == SUBAREA_OF[u.competence], r["text"]
        assert u.role in ROLES | {None}


# ------------------------------------------------------------------ behaviour


@pytest.mark.parametrize(
    "text, intent",
    [
        ("hjælp", "help"),
        ("hjaelp", "help"),
        ("hjalp", "help"),
        ("HJÆLP", "help"),
        ("help", "help"),
        ("start", "start"),
        ("start forfra", "start"),
        ("can we start again?", "start"),
        ("start?", "start"),
        ("kan jeg begynde igen?", "start"),
        ("kan du vise min profil", "profile"),
        ("my profile", "profile"),
        ("jeg vil gerne tage en vurdering", "assessment"),
        ("self-assessment", "assessment"),
        ("test mig", "assessment"),
        ("jeg vil gerne tage selvtesten", "assessment"),
        ("can I take the self test again", "assessment"),
        ("please show my history", "history"),
        ("kan du vise min historik", "history"),
        ("vis min udvikling over tid", "history"),
        ("påmindelser", "reminders"),
        ("paamindelser", "reminders"),
        ("pamindelser", "reminders"),
        ("PÅMINDELSER", "reminders"),
        ("nudges", "reminders"),
        ("download my data", "export"),
        ("eksporter mine data", "export"),
        ("slet mine data", "delete"),
        ("SLET MINE DATA", "delete"),
        ("glem mig", "delete"),
        ("forget me", "delete"),
        ("english please", "language"),
        ("på dansk", "language"),
        ("pa dansk", "language"),
        ("mind mig om det i morgen", "snooze"),
        ("remind me tomorrow", "snooze"),
        ("stop påmindelser", "stop_reminders"),
        ("stop paamindelser", "stop_reminders"),
        ("stop reminders", "stop_reminders"),
        ("stop", "cancel"),
        ("annuller", "cancel"),
        ("cancel", "cancel"),
        ("spring over", "skip"),
        ("skip", "skip"),
        ("hej", "greeting"),
        ("goddag", "greeting"),
        ("hello", "greeting"),
        ("tak", "thanks"),
        ("thanks", "thanks"),
        # the person's own data and reminders in everyday words: never "I can't help with that"
        ("kan jeg få en kopi af alt det du har gemt om mig", "export"),
        ("what have you stored about me?", "export"),
        ("I don't want you to keep anything about me anymore, can you wipe it?", "delete"),
        ("kan jeg få slettet det du har gemt om mig", "delete"),
        ("could you ping me once a week about this?", "reminders"),
        ("jeg gider ikke flere beskeder fra dig", "stop_reminders"),
    ],
)
def test_commands_in_both_languages_and_spellings(text, intent):
    u = understand(text)
    assert (u.topic, u.intent) == (None, intent)


@pytest.mark.parametrize(
    "text, intent",
    [
        ("hjeælp", "help"),
        ("histroik", "history"),
        ("påmindlser", "reminders"),
        ("selvevalluering", "assessment"),
    ],
)
def test_commands_survive_small_typos(text, intent):
    assert understand(text).intent == intent


@pytest.mark.parametrize(
    "text, topic, intent",
    [
        ("inovation", "innovation", "question"),
        ("implementring", "implementation", "term"),
        ("anskafelse", "implementation", "term"),
        ("gevinstrealsering", "development", "term"),
        ("buisness case", "development", "term"),
        ("tværfagligt samarbjde", "development", "term"),
        ("INNOVATION", "innovation", "question"),
        ("Hvad Er Samskabelse", "implementation", "term"),
    ],
)
def test_topics_survive_typos_and_case(text, topic, intent):
    """A glossary word on its own asks what it means ('term'); a sub-area word is a question."""
    u = understand(text)
    assert (u.topic, u.intent) == (topic, intent)


def test_topic_question_is_not_a_command():
    assert understand("hvad betyder innovation for mig?") == Understanding("innovation", "question", "da", 1.0)
    u = understand("what does Innovation mean for me?")
    assert (u.topic, u.intent, u.language) == ("innovation", "question", "en")
    assert understand("kan du hjælpe mig med udbud?").topic == "implementation"
    assert understand("Hvordan kommer jeg i gang med udvikling").topic == "development"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # one command word in passing in a long message is a word: the person asks about the area
        ("vores gruppe har pædagoger, lærere og en udvikler, men intet fælles sprog. Any good methods?", "improve"),
        ("hvordan bliver jeg bedre til at arbejde sammen med udviklere når jeg ikke forstår deres sprog", "improve"),
        ("hvem skal jeg spørge om at være med i vores nye it-projekt om hjemmehjælp", "question"),
        # ... while a command's own phrase still is one, short or long
        ("kan du skifte sprog til engelsk, mit danske er ikke så godt endnu desværre", "language"),
        ("sprog", "language"),
        ("hvad skal jeg spørge dig om?", "help"),
        ("jeg er blevet teamleder, kan du opdatere min rolle", "profile"),
        ("jeg er skiftet job og er nu teamleder, kan du rette min profil", "profile"),
    ],
)
def test_a_command_word_in_passing_is_no_command_but_a_command_s_phrase_is(text, intent):
    assert understand(text).intent == intent


@pytest.mark.parametrize("text", ["gevinstrealisering tak", "hej, gevinstrealisering?", "hi, benefits realisation?"])
def test_a_glossary_word_with_a_greeting_or_thanks_still_asks_what_it_means(text):
    assert understand(text).intent == "term"


def test_a_command_that_gave_way_leaves_a_question_not_a_bare_term():
    # 'hvad skal jeg spørge om' gave way to the supplier demo: the person asks about buying, not what a word means
    u = understand("leverandørdemo i morgen hvad skal jeg spørge om")
    assert (u.competence, u.intent) == ("procurement", "question")


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


@pytest.mark.parametrize(
    "text",
    [
        "hvad bliver vejret i morgen",
        "hvad er der til frokost",
        "hvornår får vi løn",
        "hvor mange feriedage har jeg",
        "jeg skal sygemelde mig",
        "hvor kan jeg parkere",
        "jeg har glemt mit password",
        "printeren virker ikke",
        "hvem vinder valget",
        "tell me a joke",
        "what's the weather like",
        "how do I reset my password",
        "hjælp mig med min lønseddel",
        "mig",
        "hvad",
        "kan",
        "digital",
        "digitalisering",
        "",
        "?!",
    ],
)
def test_out_of_scope_and_generic_words_give_nothing(text):
    u = understand(text)
    assert (u.topic, u.intent) == (None, None)
    assert not u.ambiguous


def test_weather_example_exactly():
    u = understand("hvad bliver vejret i morgen")
    assert (u.topic, u.intent, u.language) == (None, None, "da")


def test_ambiguous_message_offers_two_topics():
    # ('hvad er forskellen på implementering og innovation?' is a comparison: tests/model/test_semantic.py)
    u = understand("implementering eller innovation?")
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


@pytest.mark.parametrize(
    "text, lang",
    [
        ("hvordan laver man en business case", "da"),
        ("how do I write a business case", "en"),
        ("hjaelp", "da"),
        ("help", "en"),
        ("innovation?", None),
        ("start", None),
    ],
)
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


# ------------------------------------------- competences, glossary terms and roles


def test_glossary_and_competences_exist_in_the_wheel():
    assert set(TERMS["competences"]) == set(SUBAREA_OF)
    for cid, spec in TERMS["competences"].items():
        assert spec["subarea"] == SUBAREA_OF[cid], cid
    for tid, spec in TERMS["glossary"].items():
        assert spec["competence"] in SUBAREA_OF, tid
        assert spec.get("da") or spec.get("any"), tid
    assert len(TERMS["glossary"]) >= 36


def test_no_word_is_listed_twice_across_topics_competences_and_glossary():
    seen: dict[str, str] = {}
    for group in ("topics", "competences", "glossary"):
        for gid, spec in TERMS[group].items():
            for lang in ("da", "en", "any"):
                for phrase in spec.get(lang, {}):
                    key = U.fold(phrase)
                    assert seen.setdefault(key, f"{group}.{gid}") == f"{group}.{gid}", (phrase, seen[key], gid)


@pytest.mark.parametrize(
    "text, intent, topic, competence, term",
    [
        ("hvad er gevinstrealisering", "term", "development", "business_cases", "gevinstrealisering"),
        ("hvad betyder kravspecifikation", "term", "implementation", "procurement", "kravspecifikation"),
        ("what is a tender?", "term", "implementation", "procurement", "udbud"),
        # the blind sets asked for these two and got the competence's card, with no definition
        ("what does payback period mean", "term", "development", "business_cases", "tilbagebetalingstid"),
        ("hvad betyder tildelingskriterier", "term", "implementation", "procurement", "tildelingskriterier"),
        # words of project plans and suppliers the blind writers asked about (glossary round 9)
        ("hvad er en digital tvilling?", "term", "innovation", "trends", "digital_tvilling"),
        ("iot hvad betyder det", "term", "innovation", "trends", "tingenes_internet"),
        ("what's a swimlane diagram?", "term", "development", "process_mapping", "swimlane"),
        ("hvad er en fremtidig proces?", "term", "development", "process_mapping", "as_is_to_be"),
        ("hvad betyder skyggeobservation", "term", "development", "user_perspectives", "feltobservation"),
        ("Forandringsagenter – hvad er det?", "term", "innovation", "drive_change", "forandringsagent"),
        ("what's a mini-competition?", "term", "implementation", "procurement", "minikonkurrence"),
        ("Hvad er en gevinstejer?", "term", "development", "business_cases", "gevinstejer"),
        ("hvad betyder touchpoints", "term", "development", "service_design", "touchpoints"),
        ("hvad er et designsprint", "term", "development", "service_design", "designsprint"),
        ("gevinstrealisering?", "term", "development", "business_cases", "gevinstrealisering"),
        ("hvordan bliver jeg bedre til business cases?", "improve", "development", "business_cases", "business_case"),
        ("hvordan laver man et udbud", "improve", "implementation", "procurement", "udbud"),
        ("how can I learn service design", "improve", "development", "service_design", "servicedesign"),
        ("tips til at kortlægge arbejdsgange", "improve", "development", "process_mapping", None),
        ("hvad går designtænkning og servicedesign ud på", "question", "development", "service_design", None),
        ("why does process mapping matter for me", "question", "development", "process_mapping", None),
    ],
)
def test_term_improve_and_competence_questions(text, intent, topic, competence, term):
    u = understand(text)
    assert (u.intent, u.topic, u.competence, u.term, u.role) == (intent, topic, competence, term, None)


@pytest.mark.parametrize(
    "text, topic",
    [
        ("hvad betyder innovation for mig?", "innovation"),
        ("what does Innovation mean for me?", "innovation"),
        ("udvikling?", "development"),
        ("fortæl om implementering og anskaffelse", "implementation"),
        ("Hvordan bliver jeg bedre til innovation", "innovation"),
    ],
)
def test_a_sub_area_question_keeps_competence_none(text, topic):
    u = understand(text)
    assert u.topic == topic and u.intent in ("question", "improve")
    assert (u.competence, u.term) == (None, None)


@pytest.mark.parametrize(
    "text, intent, role, topic",
    [
        # what a job needs of the area as a whole: the whole area is the topic
        ("jeg er sosu-assistent, hvad skal jeg kunne", "role", "frontline", "overview"),
        ("hvad skal jeg kunne som leder", "role", "manager", "overview"),
        ("what do I need as a teacher?", "role", "frontline", "overview"),
        ("er det her overhovedet relevant for mig som pædagog?", "role", "frontline", "overview"),
        ("hvad skal jeg kunne?", "role", None, "overview"),
        # a job and nothing asked: a person presenting themselves, no topic
        ("jeg er pædagogmedhjælper", "role", "frontline", None),
        ("I'm a lawyer in the legal department", "role", "specialist", None),
        # the area named, or a sub-area
        ("hvad skal jeg kunne inden for udvikling og implementering som sosu-hjælper", "role", "frontline", "overview"),
        ("hvad forventes der af mig som systemejer i udvikling og implementering", "role", "it", "overview"),
        ("what does a caseworker need from the development part?", "role", "administrative", "development"),
        ("hvad betyder innovation for en pædagog", "role", "frontline", "innovation"),  # a sub-area for a job
        # nothing but 'and for me?': the person's own job (answered from the profile)
        ("og hvad betyder det for mig?", "role", None, "overview"),
        ("and what does it mean for me?", "role", None, "overview"),
        ("what about me?", "role", None, "overview"),
        # a job and a question that names nothing else: what the area means for that job
        ("tandplejer, hvad skal jeg bruge alt det her til?", "role", "frontline", "overview"),
        ("jeg er buschauffør, har det noget med mig at gøre?", "role", "frontline", "overview"),
        ("hvordan kan jeg som sagsbehandler bruge lean", "improve", "administrative", "development"),
        ("hvad er forandringsledelse for en leder", "question", "manager", "innovation"),
    ],
)
def test_role_questions_and_a_role_named_with_a_topic(text, intent, role, topic):
    u = understand(text)
    assert (u.intent, u.role, u.topic) == (intent, role, topic)


@pytest.mark.parametrize(
    "text",
    [
        "hvad bliver vejret i morgen",
        "what's the weather like",
        "hvornår får vi løn",
        "hvad tjener en sygeplejerske",
        "what is the salary of a teacher",
        "printeren virker ikke",
        "the printer is not working",
        "jeg er syg",
        "jeg er syg i dag",
        "I'm sick",
        "jeg er sygemeldt",
        "jeg er træt",
        "jeg er ny",
        "hvem er min leder",
        "min chef er sur",
        "kan jeg tale med min teamleder om ferie",
        "hvordan kontakter jeg it-support",
        "hvad koster en kop kaffe",
        "jeg skal til tandlæge",
        "jeg leder efter min telefon",
    ],
)
def test_out_of_scope_never_gets_a_topic_competence_term_or_role(text):
    u = understand(text)
    assert (u.topic, u.intent, u.competence, u.term, u.role) == (None, None, None, None, None), u


@pytest.mark.parametrize(
    "text, role",
    [
        ("jeg er sygeplejerske", "frontline"),
        ("I'm a home care helper", "frontline"),  # typed at the role question in the Playground: 'helper' is no 'help'
        ("Pædagog", "frontline"),
        ("teamleder i hjemmeplejen", "manager"),
        ("SOSU-assistent", "frontline"),
        ("sosu assistent", "frontline"),
        ("sosuassistent", "frontline"),
        ("Social- og sundhedsassistent", "frontline"),
        ("social og sundhedshjælper", "frontline"),
        ("paedagog", "frontline"),
        ("padagog", "frontline"),
        ("pædagogerne", "frontline"),
        ("lærerne", "frontline"),
        ("sygeplejersker", "frontline"),
        ("sygeplejeske", "frontline"),
        ("jeg er sundhedsplejerske", "frontline"),
        ("socialraadgiver", "administrative"),
        ("socialrådgiveren", "administrative"),
        ("HK'er", "administrative"),
        ("hk er", "administrative"),
        ("HR konsulent", "administrative"),
        ("jeg arbejder i jobcentret", "administrative"),
        ("assistent i borgerservice", "frontline"),
        ("udviklingskonsulent", "specialist"),
        ("ppr psykolog", "frontline"),
        ("IT-supporter", "it"),
        ("it supporter", "it"),
        ("systemejer på omsorgssystemet", "it"),
        ("system owner", "it"),
        ("Leder", "manager"),
        ("jeg er leder", "manager"),
        ("en leder", "manager"),
        ("afdelingslder", "manager"),
        ("Projektleder", "project_lead"),
        ("projekt leder", "project_lead"),
        ("IT-projektleder", "project_lead"),
        ("I'm a project manager", "project_lead"),
        ("team leader", "manager"),
        ("head of department", "manager"),
        ("care worker", "frontline"),
        ("nurses", "frontline"),
        ("social worker", "frontline"),
        ("HR consultant", "administrative"),
        ("børnehaveklasseleder", "frontline"),
        ("ledende sygeplejerske", "manager"),
    ],
)
def test_match_role_on_tricky_spellings(text, role):
    assert U.match_role(text) == role


@pytest.mark.parametrize(
    "text",
    [
        "jeg er syg",
        "syg",
        "",
        "?",
        "hvad er klokken",
        "jeg leder efter min telefon",
        "min leder",
        "sygeplejen",
        "pædagogik",
        "digitaliseringsprojekt",
        "sagsbehandling",
        "udvikle",
        "planlægning",
    ],
)
def test_match_role_says_none_when_no_job_is_named(text):
    assert U.match_role(text) is None


@pytest.mark.parametrize(
    ("text", "role"),
    [
        # a message that opens with the writer's job
        ("kulturformidler. hvordan bruger vi nye digitale værktøjer i formidlingen", "frontline"),
        ("afdelingssygeplejerske her, personalet vil ikke bruge de nye tablets", "manager"),
        ("projektleder. sygeplejerskerne tager altid ordet på vores møder, hvad gør jeg", "project_lead"),
        ("ydelsesrådgiver her, hvorfor skal vi spørge borgerne om noget", "administrative"),
        ("lean consultant here, how do I get staff to map their own processes", "specialist"),
        # where they sit
        ("jeg sidder i lønkontoret og skal være med til at vælge nyt system", "administrative"),
        ("jeg arbejder i den kommunale tandpleje og vil gerne give input til systemet", "frontline"),
        ("I work in business services and companies complain about our portal", "administrative"),
        # several people named, none of them the writer
        ("ergoterapeuter og planlæggere er aldrig enige i vores gruppe", None),
    ],
)
def test_the_writer_s_job_from_an_opening_title_or_a_workplace(text, role):
    assert U.understand(text).role == role


def test_job_titles_map_to_known_roles_without_clashes():
    vocab = U._load()
    assert len(TITLES["titles"]["da"]) >= 80 and len(TITLES["titles"]["en"]) >= 40
    for lang in ("da", "en"):
        for entry in TITLES["titles"][lang]:
            assert entry["role"] in ROLES and entry["names"], entry
        for role in TITLES["workplaces"][lang]:
            assert role in ROLES
    owner: dict[str, str] = {}
    for lang in ("da", "en"):
        for entry in TITLES["titles"][lang]:
            for name in entry["names"]:
                for form in U._title_forms(U._title_key(name), vocab.titles.endings[lang]):
                    assert owner.setdefault(form, entry["role"]) == entry["role"], (name, form)


def test_a_job_title_is_not_a_topic_word():
    """The stemmer would read 'udviklingskonsulent' as development and 'sagsbehandler' as casework."""
    assert understand("jeg er udviklingskonsulent").topic is None
    assert understand("jeg er innovationskonsulent").role == "specialist"
    assert understand("hvordan udvikler vi en ny løsning").role is None  # a verb, not a developer
    assert understand("vi udvikler en ny app").role is None  # nor is 'udvikler en' 'udvikleren'
    assert U.match_role("jeg er HK'er") == "administrative"  # while a listed 'HK er' still joins


def test_commands_still_win_and_carry_a_named_role():
    assert understand("jeg vil gerne ændre min rolle til teamleder").intent == "profile"
    assert understand("jeg vil gerne ændre min rolle til teamleder").role == "manager"
    assert understand("hej, jeg er pædagog").intent == "role"  # a greeting gives way to the role
    assert understand("hvad kan du hjælpe med som leder").intent == "help"  # a strong command does not
    u = understand("test mig i business cases")
    assert (u.intent, u.topic, u.competence) == ("assessment", "development", "business_cases")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("jeg vil opdatere min stilling", "profile"),
        ("update my job title please", "profile"),
        ("kan du vise hvad vi snakkede om i går", "history"),
        ("what we talked about last time", "history"),
        ("rate my skills", "assessment"),
        ("kan jeg få mine svar som en fil", "export"),
        ("kan jeg få mine resultater som en fil, så jeg kan vise dem til min leder?", "export"),
        ("please stop sending me those weekly nudges", "stop_reminders"),
        ("kan jeg gemme nogle mål for mig selv herinde?", "goals"),
        ("I'm actually a nurse, not admin. can you fix that in my settings?", "profile"),
        ("can I do that quiz thing to see where I'm at?", "assessment"),
        ("no idea how this works, what am I supposed to ask you?", "help"),
    ],
)
def test_everyday_wordings_of_commands(text, intent):
    assert U.understand(text).intent == intent


@pytest.mark.parametrize("text", ["hvad skal jeg starte med?", "what should I start with", "how do I get started?"])
def test_asking_how_to_begin_is_no_restart(text):
    """'start' in a question asks how to begin: restarting would throw away the person's place."""
    u = understand(text)
    assert (u.topic, u.intent, u.area) == ("overview", "improve", None)


def test_how_to_take_part_stays_the_area_question_of_who_to_ask():
    u = understand("hvordan kommer jeg med i et projekt?")
    assert (u.intent, u.area) == ("question", "who_to_ask")


def test_danish_phrases_leave_english_function_words_their_language():
    """A word listed under 'da' or 'any' stops telling that a message is English: a Danish
    phrase 'as is og to be' once made 'is' language-neutral, and 'what is a persona' was
    answered in Danish. Only words that are Danish too may be shared ('IT', 'best practice',
    'gribe an')."""
    english_only = {U.fold(w) for w in TERMS["stopwords"]["en"]} - {U.fold(w) for w in TERMS["stopwords"]["da"]}
    shared: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("da", "any") and isinstance(value, dict):
                    shared.update(w for phrase in value for w in U.words(phrase) if w in english_only)
                else:
                    walk(value)

    walk(TERMS)
    assert shared <= {"it", "best", "an"}
    assert understand("what is a design sprint").language == "en"
    assert understand("what is a persona").language == "en"
