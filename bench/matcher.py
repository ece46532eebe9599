"""Speed and accuracy of model.understanding.understand() on the evaluation set.

Run: .venv/bin/python bench/matcher.py [repeats]

Prints questions per second and p50/p99 latency, cold (word cache empty, as
for a question never seen) and warm, plus accuracy per language, on the set as
written and on a roughed-up copy (æøå typed as ae/o/aa, one swapped letter pair
in every long word) because real Teams messages look like that. A plain
substring lookup over the same terms.json runs alongside, so the figures have
something to be compared with.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model import understanding as U  # noqa: E402

ROWS = [json.loads(line) for line in (ROOT / "tests" / "data" / "questions.jsonl").open(encoding="utf-8")
        if line.strip()]


def substring_reference():
    """The trivial baseline: first vocabulary phrase found as a substring wins."""
    terms = json.loads(U.TERMS_PATH.read_text(encoding="utf-8"))
    table = []
    for kind, groups in (("intent", terms["intents"]), ("topic", terms["topics"])):
        for name, spec in groups.items():
            for lang in ("da", "en", "any"):
                for phrase in spec.get(lang, {}):
                    table.append((U.fold(phrase), kind, name))
    table.sort(key=lambda t: -len(t[0]))   # longest phrase first, to be fair

    def lookup(text: str) -> tuple[str | None, str | None]:
        folded = " " + " ".join(U.words(text)) + " "
        for phrase, kind, name in table:
            if f" {phrase}" in folded:
                return (name, "question") if kind == "topic" else (None, name)
        return None, None
    return lookup


def roughen(text: str) -> str:
    """ASCII keyboard spelling and a transposition typo in each word of 8+ letters."""
    text = text.replace("æ", "ae").replace("ø", "o").replace("å", "aa")
    out = []
    for w in text.split(" "):
        if len(w) >= 8 and w.isalpha():
            i = len(w) // 2
            w = w[:i] + w[i + 1] + w[i] + w[i + 2:]
        out.append(w)
    return " ".join(out)


def timed(fn, texts: list[str]) -> list[float]:
    out = []
    for t in texts:
        start = time.perf_counter_ns()
        fn(t)
        out.append((time.perf_counter_ns() - start) / 1e6)
    return out


def report(name: str, lat_ms: list[float]) -> None:
    q = statistics.quantiles(lat_ms, n=100)
    print(f"  {name:<28} {len(lat_ms) / (sum(lat_ms) / 1000):>10,.0f} q/s   "
          f"p50 {q[49]:.3f} ms   p99 {q[98]:.3f} ms   max {max(lat_ms):.3f} ms")


def accuracy(name: str, predict, alter=lambda t: t) -> None:
    per_lang = defaultdict(lambda: [0, 0])
    for r in ROWS:
        lang = r["language"] or "neutral"
        per_lang[lang][0] += predict(alter(r["text"])) == (r["topic"], r["intent"])
        per_lang[lang][1] += 1
    c = sum(v[0] for v in per_lang.values())
    parts = ", ".join(f"{lang} {a / n:.1%} ({a}/{n})" for lang, (a, n) in sorted(per_lang.items()))
    print(f"  {name:<28} {parts}, all {c / len(ROWS):.1%}")


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    texts = [r["text"] for r in ROWS]

    start = time.perf_counter()
    U._load()
    print(f"vocabulary load: {(time.perf_counter() - start) * 1000:.1f} ms (once per process)")

    U._Vocab.resolve.cache_clear()
    cold = timed(U.understand, texts)
    warm = timed(U.understand, texts * repeats)
    ref = substring_reference()
    baseline = timed(ref, texts * repeats)

    print(f"\nlatency over {len(texts)} questions (warm: x{repeats})")
    report("understand() cold", cold)
    report("understand() warm", warm)
    report("substring reference", baseline)

    print("\naccuracy (topic and intent both right)")
    accuracy("understand()", lambda t: (lambda u: (u.topic, u.intent))(U.understand(t)))
    accuracy("substring reference", ref)
    print("\naccuracy on the roughed-up copy (e.g. %r)" % roughen("Hvad er gevinstrealisering på tværs?"))
    accuracy("understand()", lambda t: (lambda u: (u.topic, u.intent))(U.understand(t)), roughen)
    accuracy("substring reference", ref, roughen)


if __name__ == "__main__":
    main()
