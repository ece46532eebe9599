"""Understand a chat message: which topic of 'Udvikling og implementering' it
is about, which bot command it is, and which language it is written in.

Pure Python, offline and fast: the vocabulary in content/terms.json is matched
word by word after folding away case and æøå spellings (so 'paamindelser',
'pamindelser' and 'påmindelser' are one word) and a light suffix strip (so
'udviklingen', 'udvikle' and 'udvikling' are one word). A word that is still
unknown is tried as part of a Danish compound ('indkøbsaftale') and then as a
typo (rapidfuzz), because people type fast in Teams.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

TERMS_PATH = Path(__file__).parent / "content" / "terms.json"

TOPIC_THRESHOLD = 0.8    # below this a topic is only a hint ("digital", "borger")
INTENT_THRESHOLD = 0.55  # a weak command word reached only through a typo guess is not enough
STRONG_INTENT = 1.0      # weaker commands must explain (almost) the whole message
MAX_UNEXPLAINED = 1      # ... e.g. 'hej Peter' is a greeting, 'hvad gør danske kommuner' is no language switch
AMBIGUITY_RATIO = 0.75   # a runner-up this close to the best topic is offered as an alternative
MAX_GAP = 2              # words allowed between two words of a phrase
MIN_STEM = 4             # suffix stripping never leaves less than this
STEM_PASSES = 2          # 'implementeringen' needs two; more would cut 'folketinget' to 'folk'
COMPOUND_PART = 5        # shortest vocabulary word recognised inside a compound
COMPOUND_REST = 3        # ... and the other part must look like a word too ('progres|sed' is no compound)
HEAD_FACTOR = 0.9        # 'innovationsprojekt' is mostly about innovation
TAIL_FACTOR = 0.7        # 'lønudvikling' is only a little about development
FUZZY_MIN_LEN = 5        # shorter words are too easily confused to correct


@dataclass(frozen=True)
class Understanding:
    """What a message is about. `alternatives` holds the close topics, best
    first, including `topic` itself; it is empty when the message is clear."""
    topic: str | None
    intent: str | None
    language: str | None
    confidence: float
    alternatives: tuple[str, ...] = ()

    @property
    def ambiguous(self) -> bool:
        """True when the bot should ask 'did you mean X or Y?'."""
        return len(self.alternatives) > 1


# ---------------------------------------------------------------- normalising

_FOLD = str.maketrans({"æ": "a", "ø": "o", "å": "a"})
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case and make æ/ae, ø/oe, å/aa (and accents) spell the same."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("aa", "a").replace("ae", "a").replace("oe", "o")


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


class _Word(NamedTuple):
    """One input word as the vocabulary sees it."""
    stem: str
    quality: float       # 1 known, <1 compound part or typo guess, 0 unknown
    language: str | None  # 'da'/'en' when the word belongs to one language only
    whole: bool          # False for a compound part: those never trigger commands
    stop: bool           # a stop word: explains nothing by itself


class _Vocab:
    """terms.json compiled into lookup tables; built once, on first use."""

    def __init__(self, data: dict):
        self.suffixes = sorted({fold(s) for s in data["suffixes"]}, key=len, reverse=True)
        self.overrides = {fold(k): fold(v) for k, v in data.get("stem_overrides", {}).items()}
        self.intent_flags: dict[str, dict] = data["intents"]
        self.umbrellas = {k for k, v in data["topics"].items() if v.get("umbrella")}
        langs_of: dict[str, set[str]] = {}

        def surfaces(text: str, lang: str) -> list[str]:
            toks = words(text)
            for t in toks:
                langs_of.setdefault(t, set()).add(lang)
            return toks

        groups = [("topic", k, v) for k, v in data["topics"].items()]
        groups += [("intent", k, v) for k, v in data["intents"].items()]
        groups += [("oos", None, data["out_of_scope"])]
        self.phrases = []   # (stems, kind, name, weight, lang)
        for kind, name, spec in groups:
            for lang in ("da", "en", "any"):
                for phrase, weight in spec.get(lang, {}).items():
                    stems = tuple(self.stem(t) for t in surfaces(phrase, lang))
                    self.phrases.append((stems, kind, name, float(weight), lang))
        for key in ("stopwords", "language_hints"):
            for lang, items in data[key].items():
                for w in items:
                    surfaces(w, lang)

        self.stops = {self.stem(t) for lang in data["stopwords"].values() for w in lang for t in words(w)}
        self.labelled = {s for p in self.phrases for s in p[0]} - self.stops
        self.surface_stem = {s: self.stem(s) for s in langs_of}
        self.known = set(self.surface_stem.values())
        # language evidence only from words that belong to exactly one language
        self.lang_of = {s: next(iter(ls)) for s, ls in langs_of.items() if len(ls) == 1 and "any" not in ls}
        stem_langs: dict[str, set] = {}
        for surface, ls in langs_of.items():
            stem_langs.setdefault(self.surface_stem[surface], set()).update(ls)
        # an inflected form we have not listed ('profilen') still tells its language
        self.lang_of_stem = {st: next(iter(ls)) for st, ls in stem_langs.items() if len(ls) == 1 and "any" not in ls}
        self.by_first: dict[str, list] = {}
        for p in self.phrases:
            self.by_first.setdefault(p[0][0], []).append(p)
        self.fuzzy_pool: dict[str, list[str]] = {}
        for s in self.surface_stem:
            if len(s) >= FUZZY_MIN_LEN:
                self.fuzzy_pool.setdefault(s[0], []).append(s)

    def stem(self, token: str) -> str:
        """Strip up to two inflection endings: 'implementeringen' -> 'implement'.
        Over-cutting is mostly harmless because vocabulary and input are cut
        the same way; a test guards against two vocabulary words colliding, and
        stem_overrides keeps apart words that would ('tender' vs 'tends')."""
        if token in self.overrides:
            return self.overrides[token]
        for _ in range(STEM_PASSES):
            suf = next((s for s in self.suffixes if token.endswith(s) and len(token) - len(s) >= MIN_STEM), None)
            if suf is None:
                break
            token = token[: -len(suf)]
        if len(token) >= MIN_STEM and token[-1] == token[-2] and token[-1] not in "aeiouy":
            token = token[:-1]  # 'slett(es)' -> 'slet', 'process' -> 'proces'
        return token

    @lru_cache(maxsize=16384)
    def resolve(self, surface: str) -> _Word:
        """Map one input word to the vocabulary: exact, compound part, or typo."""
        if surface in self.surface_stem:
            stem = self.surface_stem[surface]
            return _Word(stem, 1.0, self.lang_of.get(surface), True, stem in self.stops)
        stem = self.stem(surface)
        if stem in self.known:
            lang = self.lang_of.get(stem) or self.lang_of_stem.get(stem)
            return _Word(stem, 1.0, lang, True, stem in self.stops)
        best = _Word(stem, 0.0, None, True, False)
        for k in range(len(stem) - COMPOUND_REST, COMPOUND_PART - 1, -1):  # compound head
            if stem[:k] in self.labelled:
                best = _Word(stem[:k], HEAD_FACTOR, None, False, False)
                break
        if best.quality < TAIL_FACTOR:                              # compound tail
            for k in range(COMPOUND_REST, len(stem) - COMPOUND_PART + 1):
                if stem[k:] in self.labelled:
                    best = _Word(stem[k:], TAIL_FACTOR, None, False, False)
                    break
        if len(surface) >= FUZZY_MIN_LEN:                           # typo
            cutoff = 88 if len(surface) <= 6 else 87 if len(surface) <= 9 else 86
            hits = process.extract(surface, self.fuzzy_pool.get(surface[0], ()),
                                   scorer=fuzz.ratio, score_cutoff=cutoff, limit=3)
            # equal scores: a swapped letter pair is one slip ('foranrding' is forandring)
            hit = max(hits, key=lambda h: (h[1], -OSA.distance(surface, h[0])), default=None)
            if hit and hit[1] / 100 > best.quality:
                stem = self.surface_stem[hit[0]]
                best = _Word(stem, hit[1] / 100, self.lang_of.get(hit[0]), True, stem in self.stops)
        return best


_vocab: _Vocab | None = None


def _load() -> _Vocab:
    global _vocab
    if _vocab is None:
        _vocab = _Vocab(json.loads(TERMS_PATH.read_text(encoding="utf-8")))
    return _vocab


# ------------------------------------------------------------------ matching

def _find(msg: list[_Word], phrase: tuple[str, ...], free: list[bool], whole_only: bool) -> list[int] | None:
    """Positions of `phrase` in order, at most MAX_GAP words apart, on unclaimed words."""
    def usable(pos: int, stem: str) -> bool:
        w = msg[pos]
        return free[pos] and w.quality > 0 and w.stem == stem and (w.whole or not whole_only)


    def from_(i: int, start: int) -> list[int] | None:
        stop = len(msg) if i == 0 else min(len(msg), start + MAX_GAP + 1)
        for pos in range(start, stop):
            if usable(pos, phrase[i]):
                rest = [] if i + 1 == len(phrase) else from_(i + 1, pos + 1)
                if rest is not None:
                    return [pos] + rest
        return None
    return from_(0, 0)


class _Scores(NamedTuple):
    scores: dict            # (kind, name) -> summed weight
    first: dict             # (kind, name) -> position of its first word, to break ties
    languages: list[str]    # language of each matched multi-word phrase ('start over')
    unexplained: int        # content words no phrase claimed


def _score(msg: list[_Word], vocab: _Vocab) -> _Scores:
    """Sum phrase weights per (kind, name); longer phrases claim their words first,
    so 'udvikling over tid' (history) takes 'udvikling' away from development."""
    present = {w.stem for w in msg if w.quality > 0}
    candidates = [p for s in present for p in vocab.by_first.get(s, ()) if present.issuperset(p[0])]
    candidates.sort(key=lambda p: (-len(p[0]), -p[3]))
    free = [True] * len(msg)
    scores: dict = {}
    first: dict = {}
    languages: list[str] = []
    for stems, kind, name, weight, lang in candidates:
        pos = _find(msg, stems, free, whole_only=kind == "intent")
        if pos is None:
            continue
        for i in pos:
            free[i] = False
        scores[kind, name] = scores.get((kind, name), 0.0) + weight * min(msg[i].quality for i in pos)
        first[kind, name] = min(first.get((kind, name), pos[0]), pos[0])
        if len(stems) > 1:
            languages.append(lang)
    unexplained = sum(1 for w, f in zip(msg, free) if f and not w.stop)
    return _Scores(scores, first, languages, unexplained)


def _language(text: str, votes_from: list[str | None]) -> str | None:
    """Danish or English by counting words that belong to only one of them."""
    votes = {"da": 2 if any(c in text for c in "æøåÆØÅ") else 0, "en": 0}
    for lang in votes_from:
        if lang in votes:
            votes[lang] += 1
    if votes["da"] == votes["en"]:
        return None
    return "da" if votes["da"] > votes["en"] else "en"


def _confidence(best: float, runner_up: float) -> float:
    """High when the winner is strong and well ahead of the next candidate."""
    margin = best / (best + runner_up) if best + runner_up else 0.0
    return round(min(1.0, best) * margin, 3)


def understand(text: str) -> Understanding:
    """Classify one message. Out of scope (lunch, salary, IT support...) gives
    topic and intent None: the bot must never pretend such a question is about
    a sub-area."""
    vocab = _load()
    msg = [vocab.resolve(s) for s in words(text)]
    found = _score(msg, vocab)
    scores = found.scores
    language = _language(text, [w.language for w in msg] + found.languages)

    # equal scores: the topic named first leads ('innovation eller udvikling?')
    topics = sorted(((v, -found.first[k, n], n) for (k, n), v in scores.items() if k == "topic"),
                    reverse=True)
    if any(v >= TOPIC_THRESHOLD and n not in vocab.umbrellas for v, _, n in topics):
        topics = [t for t in topics if t[2] not in vocab.umbrellas]  # 'innovation i kompetencehjulet'
    # hej/tak give way to any other command ('engelsk tak'); on a tie the specific
    # command beats start/help/...: 'start assessment'
    flags = vocab.intent_flags
    intents = sorted(((not flags[n].get("courtesy"), v, not flags[n].get("yields_to_topic"), n)
                      for (k, n), v in scores.items() if k == "intent" and v >= INTENT_THRESHOLD),
                     reverse=True)
    t_score, _, topic = topics[0] if topics else (0.0, 0, None)
    _, i_score, _, intent = intents[0] if intents else (True, 0.0, False, None)
    oos = scores.get(("oos", None), 0.0)
    has_topic = t_score >= TOPIC_THRESHOLD

    if intent is not None:
        spec = flags[intent]
        topic_wins = has_topic and (spec.get("yields_to_topic") or i_score < t_score)
        explains = i_score >= STRONG_INTENT or found.unexplained <= MAX_UNEXPLAINED
        if not topic_wins and explains and oos <= i_score:
            runner_up = intents[1][1] if len(intents) > 1 else 0.0
            carried = topic if has_topic and spec.get("keeps_topic") else None
            return Understanding(carried, intent, language, _confidence(i_score, runner_up))
    if not has_topic or oos >= t_score:
        # confidence here: how sure we are that it is out of scope (surer with a 'løn' or 'vejret')
        return Understanding(None, None, language, _confidence(max(oos, 0.6), t_score))

    close = tuple(n for v, _, n in topics if v >= TOPIC_THRESHOLD and v >= AMBIGUITY_RATIO * t_score)
    runner_up = topics[1][0] if len(topics) > 1 else 0.0
    return Understanding(topic, "question", language, _confidence(t_score, runner_up),
                         close if len(close) > 1 else ())
