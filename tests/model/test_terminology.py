"""One term for one thing, and no text that asks for citizens' details without saying to leave them out.

model/content/terminology.json names, per concept, the term we use in Danish and in English and the
variants we do not use. These tests read every text people can see (not the word lists they type to
the bot) in both languages, so a new or rewritten text that slips back into a rejected variant, or
that asks people to write down what they learn about citizens without a word about names and
CPR-numre, fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from model import content

TERMINOLOGY = json.loads(
    (Path(__file__).resolve().parents[2] / "model" / "content" / "terminology.json").read_text(encoding="utf-8")
)
VOCABULARY = ("aliases", "words")  # what people type, not text they read


def _typed(path: str) -> bool:
    """A word list people type to the bot (aliases, skip_words, frequency_aliases.weekly …), not text they read."""
    return any(part.endswith(v) for part in path.split(".") for v in VOCABULARY)


def _texts(node, path: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, text) for every string people can read; word lists people type are left out."""
    if _typed(path):
        return
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _texts(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _texts(value, f"{path}.{i}")
    elif isinstance(node, str):
        yield path, node


def _pattern(variant: str) -> re.Pattern[str]:
    """A whole word or phrase; with a capital letter in it, that capital must match too."""
    flags = 0 if any(c.isupper() for c in variant) else re.IGNORECASE
    return re.compile(rf"(?<!\w){re.escape(variant)}(?!\w)", flags)


def _rejected(lang: str) -> list[str]:
    return [v for concept in TERMINOLOGY["concepts"] for v in concept[lang]["reject"]]


def _offences(lang: str, texts: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    exceptions = [e for e in TERMINOLOGY["exceptions"] if e["lang"] == lang]
    found = []
    for variant in _rejected(lang):
        pattern = _pattern(variant)
        allowed_keys = {e["key"] for e in exceptions if e["variant"] == variant and "key" in e}
        allowed_phrases = [_pattern(e["phrase"]) for e in exceptions if e["variant"] == variant and "phrase" in e]
        for key, text in texts:
            if key in allowed_keys:
                continue
            for phrase in allowed_phrases:
                text = phrase.sub(" ", text)
            if pattern.search(text):
                found.append((variant, key, text))
    return found


def test_every_concept_names_a_term_and_its_rejected_variants_in_both_languages():
    assert len(TERMINOLOGY["concepts"]) >= 12
    for concept in TERMINOLOGY["concepts"]:
        for lang in content.LANGUAGES:
            assert concept[lang]["use"], concept["concept"]
            assert isinstance(concept[lang]["reject"], list), concept["concept"]
    for lang in content.LANGUAGES:
        rejected = _rejected(lang)
        assert len(rejected) == len(set(rejected)), "a variant is listed twice"


@pytest.mark.parametrize("lang", content.LANGUAGES)
def test_no_text_uses_a_rejected_variant(lang):
    offences = _offences(lang, list(_texts(content.texts(lang))))
    assert not offences, "\n".join(f"{variant!r} in {key}: {text}" for variant, key, text in offences)


def test_the_check_finds_a_rejected_variant_and_honours_only_the_listed_exceptions():
    texts = [
        ("a", "Spørg jeres IT-afdeling."),  # IT in running text
        ("b", "Udforsk brugernes syn."),
        ("c", "Spørg jeres it-afdeling om brugernes oplevelser og behov."),
        ("privacy.export_intro", "Noter: 2."),  # the noun, listed as an exception
        ("d", "Noter tre ting."),  # the verb
        ("e", "Skriv holdets billede i kanalen."),  # the command's name
        ("f", "Del den med holdet."),
    ]
    found = {(variant, key) for variant, key, _ in _offences("da", texts)}
    assert found == {("IT", "a"), ("brugernes syn", "b"), ("Noter", "d"), ("holdet", "f")}
    english = [("x", "The system was taken into use in May."), ("y", "Start using it."), ("z", "A washing toilet.")]
    assert {(v, k) for v, k, _ in _offences("en", english)} == {("taken into use", "x"), ("washing toilet", "z")}


def test_every_exception_is_still_needed():
    """An exception that no text needs any longer is taken off the list, so the list stays short."""
    for exception in TERMINOLOGY["exceptions"]:
        lang, variant = exception["lang"], exception["variant"]
        assert variant in _rejected(lang), exception
        texts = dict(_texts(content.texts(lang)))
        if "key" in exception:
            assert _pattern(variant).search(texts[exception["key"]]), exception
        else:
            assert any(_pattern(exception["phrase"]).search(t) for t in texts.values()), exception


# ------------------------------------------------------------------ citizens' details

PRIVACY = TERMINOLOGY["citizen_privacy"]


def _cue(words: str) -> str:
    """'skriv ned' also matches 'skriv tre ting ned': up to four words between the two."""
    first, *rest = words.split()
    return r"(?<!\w)" + re.escape(first) + "".join(rf"(?:\W+\w+){{0,4}}?\W+{re.escape(w)}" for w in rest) + r"(?!\w)"


def _asks_about_citizens(lang: str, text: str) -> bool:
    cues = PRIVACY[lang]
    citizen = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(c) for c in cues["citizen"]) + r")", re.IGNORECASE)
    if not citizen.search(text):
        return False
    if any(re.search(_cue(w), text, re.IGNORECASE) for w in cues["write"]):
        return True
    instruction = re.compile(
        r"(?:^|[.!?:;]\s+|\b(?:og|and)\s+)(?:" + "|".join(re.escape(c) for c in cues["pass_on"]) + r")(?!\w)",
        re.IGNORECASE,
    )
    sentences = re.split(r"(?<=[.!?])\s+", text)
    return any(instruction.search(s) and citizen.search(s) for s in sentences)


def _says_leave_out(lang: str, text: str) -> bool:
    return all(re.search(word, text, re.IGNORECASE) for word in PRIVACY[lang]["leave_out"])


def _units(node, path: str = "") -> Iterator[tuple[str, str]]:
    """Every text people read; a coaching step (title and text) is one unit, button labels are left out."""
    if _typed(path) or path.endswith("button"):
        return
    if isinstance(node, dict) and isinstance(node.get("title"), str) and isinstance(node.get("text"), str):
        yield path, f"{node['title']}. {node['text']}"
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _units(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _units(value, f"{path}.{i}")
    elif isinstance(node, str):
        yield path, node


def test_the_privacy_check_knows_a_request_for_citizens_details_when_it_sees_one():
    asks = [
        "Skriv tre ting ned, som borgerne ofte spørger om.",
        "Aftal en snak med en borger. Spørg, hvad der er svært, og skriv svarene ned.",
        "Del en borgerhistorie. Send en kort historie til projektet. Skriv, hvad borgeren gjorde.",
        "Det betyder, at I skriver det ned. Det kan være, hvad borgerne sagde.",
    ]
    does_not_ask = [
        "Fortæl om en ny trend på næste møde. Sig, hvad den kan betyde for jeres borgere.",
        "Du møder borgerne hver dag og ved, hvad de har svært ved.",
        "Skriv dit mål på én linje.",
        "Det er en del af arbejdet med borgerne.",
        "Skriv kurser i at inddrage borgere ind i teamets plan.",
    ]
    assert all(_asks_about_citizens("da", t) for t in asks)
    assert not any(_asks_about_citizens("da", t) for t in does_not_ask)
    assert _asks_about_citizens("en", "Write down three things citizens often ask about.")
    assert not _asks_about_citizens("en", "Tell your team about a new trend. Say what it could mean for citizens.")
    assert _says_leave_out("da", "Skriv uden navne, CPR-numre og andet, der kan afsløre borgeren.")
    assert not _says_leave_out("da", "Skriv det ned, men pas på.")


@pytest.mark.parametrize("lang", content.LANGUAGES)
def test_every_text_that_asks_about_citizens_says_to_leave_out_what_identifies_them(lang):
    """GDPR and tavshedspligt: stories about citizens travel without names, CPR-numre or other clues."""
    missing = [
        (key, text)
        for key, text in _units(content.texts(lang))
        if _asks_about_citizens(lang, text) and not _says_leave_out(lang, text)
    ]
    assert not missing, "\n".join(f"{key}: {text}" for key, text in missing)
