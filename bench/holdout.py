"""Accuracy of the bot's understanding on a labelled set it was never tuned to.

Run: .venv/bin/python bench/holdout.py [FILE.jsonl ...]   (default: tests/data/holdout_blind.jsonl)

Each message goes through `python app.py ask --json` (the real bot, turn by turn in memory),
so what is scored is what a person would get. Printed per file: accuracy of topic,
competence, role, intent and language, all of them right together, how many in-scope
messages got "I can't help with that", and how many out-of-scope ones still did.

Scoring rules, the same for every set:
- intent: `question` and `improve` count alike (both get the competence's answer);
- every field is scored on every message: a role (or competence) found where none was
  meant is as wrong as one missed;
- "all four" is topic, competence, role and intent right together (language aside);
- turned away: the answer is the out-of-scope text in either language; an out-of-scope
  greeting or thanks ('tak for hjælpen') answered in kind is not turned away, and is counted
  apart ('greeted_or_thanked') so that the figure can be read both ways.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.ops import offline  # noqa: E402
from model import content  # noqa: E402

DEFAULT = ROOT / "tests" / "data" / "holdout_blind.jsonl"
ALIKE = {"improve": "question"}
FIELDS = ("topic", "competence", "role", "intent", "language")
COURTESY = {
    name
    for name, spec in json.loads((content.CONTENT_DIR / "terms.json").read_text(encoding="utf-8"))["intents"].items()
    if spec.get("courtesy")
}


def turned_away(answer: str) -> bool:
    return any(content.t(lang, "msg.out_of_scope")[:30] in answer for lang in ("da", "en"))


def same(field: str, gold, got) -> bool:
    if field == "intent":
        return ALIKE.get(gold, gold) == ALIKE.get(got, got)
    return gold == got


async def score(path: Path) -> dict:
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    results = []
    for row in rows:  # one at a time: a fresh person per message, as `ask` does
        results += await offline.answer_all([row["text"]], None, None)
    right: Counter[str] = Counter()
    misses: list[tuple[str, str, object, object]] = []
    in_scope = out_scope = in_turned = out_turned = courteous = 0
    for row, got in zip(rows, results, strict=True):
        every = True
        for field in FIELDS:
            ok = same(field, row.get(field), got.get(field))
            right[field] += ok
            every &= ok or field == "language"
            if not ok:
                misses.append((field, row["text"], row.get(field), got.get(field)))
        right["all four"] += every
        away = turned_away(got["answer"])
        if row.get("topic") is None and row.get("intent") is None:
            out_scope += 1
            out_turned += away
            courteous += not away and got.get("intent") in COURTESY
        elif row.get("topic") is not None:
            in_scope += 1
            in_turned += away
    total = len(rows)
    return {
        "file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "messages": total,
        **{f: round(100 * right[f] / total, 1) for f in (*FIELDS, "all four")},
        "in_scope_turned_away": f"{in_turned} of {in_scope}",
        "out_of_scope_turned_away": f"{out_turned} of {out_scope}",
        "greeted_or_thanked": courteous,
        "misses": misses,
    }


def main(argv: list[str]) -> None:
    show = "--misses" in argv
    paths = [Path(a) for a in argv if not a.startswith("--")] or [DEFAULT]
    for path in paths:
        report = asyncio.run(score(path))
        misses = report.pop("misses")
        print(json.dumps(report, ensure_ascii=False))
        if show:
            for miss in misses:
                print("  ", json.dumps(miss, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
