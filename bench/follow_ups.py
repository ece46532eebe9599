"""Accuracy of follow-ups: a second message read against what the first one's answer left.

Run: .venv/bin/python bench/follow_ups.py [FILE.jsonl ...]   (default: tests/data/follow_ups_dev.jsonl)

Each line is a pair: {"first", "second", "topic", "competence", "role", "intent",
"follow_up"}, the fields labelling the second message in the context of the first
(`follow_up`: whether it can be understood without the first). The second message is read
twice: on its own, as before follow-ups existed, and with `understand(second, after=...)`
given what the first one's answer would be remembered as (`follow_up.remembered`). Printed
per file, for the follow-ups and for the new questions apart: each field's accuracy and all
four together (intent strict: 'how do I get better at it?' must be `improve`), and how many
in-scope seconds the bot could not answer.

tests/data/follow_ups_dev.jsonl (set A) was read and tuned to: its figures are development
figures. Sets kept outside the project are the fair test.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dialogs.answering import answerable  # noqa: E402
from model.language.follow_up import remembered  # noqa: E402
from model.language.understanding import Understanding, understand  # noqa: E402

DEFAULT = ROOT / "tests" / "data" / "follow_ups_dev.jsonl"
FIELDS = ("topic", "competence", "role", "intent")
GROUPS = {True: "follow-ups", False: "new questions"}


def score(rows: list[dict], read) -> dict:
    right: Counter[tuple[str, str]] = Counter()
    count: Counter[str] = Counter()
    in_scope = unanswered = 0
    for row in rows:
        got: Understanding = read(row)
        group = GROUPS[bool(row["follow_up"])]
        count[group] += 1
        hits = {f: row.get(f) == getattr(got, f) for f in FIELDS}
        for field, hit in hits.items():
            right[group, field] += hit
        right[group, "all four"] += all(hits.values())
        if row.get("topic") is not None:
            in_scope += 1
            unanswered += not answerable(got, knows_the_job=True)
    out: dict = {
        group: {f: round(100 * right[group, f] / count[group], 1) for f in (*FIELDS, "all four")}
        for group in GROUPS.values()
        if count[group]
    }
    out["in scope, not answerable"] = f"{unanswered} of {in_scope}"
    return out


def _left_by(first: str):
    """What the bot keeps of the first message's answer: nothing after a "Mente du ...?" or a
    message it does not answer (a command, out of scope)."""
    u = understand(first)
    return remembered(u) if answerable(u, knows_the_job=True) and not u.ambiguous else None


def main(argv: list[str]) -> None:
    for path in [Path(a) for a in argv] or [DEFAULT]:
        rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
        alone = score(rows, lambda r: understand(r["second"]))
        after = score(rows, lambda r: understand(r["second"], after=_left_by(r["first"])))
        print(json.dumps({"file": path.name, "pairs": len(rows), "alone": alone, "after": after}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
