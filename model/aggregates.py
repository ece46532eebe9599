"""The organisation's view: anonymous pictures of where a group stands, never of a person.

Privacy first, in this order:

- **Who counts.** Only a person's latest check counts (per quarter, for the quarter view),
  and only while they allow it (`profile.counted`; the municipality picks the default with
  AGGREGATES=opt-out|opt-in, or turns the feature off). Withdrawing (`tæl mig ikke med`),
  deletion and retention take a person out of every overview at once.
- **Groups of at least k = 5.** A smaller group is left out and only counted in
  `suppressed`. k can be raised, never lowered below 5. No overview crosses two dimensions.
- **No picture of one person by difference.** Two overviews a week apart that differ by one
  new check would show that person's scores. So new and changed checks are *released* in
  batches: a group's figures change only when at least k of its members have a new check
  since its last release; until then it shows what was last released (minus anyone who
  withdrew). The released state is a ledger (collection "reports", one document per
  dimension) of hashed member names and check ids, never scores; deleting a person removes
  them from it.

Figures per group and sub-area: the mean and the number of people per score 1-5.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from . import content
from .docstore import UNCHANGED, Doc, DocStore, doc_name
from .users import USERS

K_MIN = 5  # the smallest group any overview shows (Danish public-sector surveys and Viva Insights use 5)
DIMENSIONS = ("role", "level", "team", "quarter")
REPORTS = "reports"  # the release ledger, one document per dimension
TEAMS = "teams"  # team rosters (hashed member names), for --by team and the team overview
MODES = ("opt-out", "opt-in", "off")


def counted(doc: Doc, mode: str) -> bool:
    """Does this person's check count in overviews? Their own choice, else the default."""
    if mode == "off":
        return False
    choice = (doc.get("profile") or {}).get("counted")
    return choice if isinstance(choice, bool) else mode == "opt-out"


def quarter_of(stamp: str) -> str:
    when = datetime.fromisoformat(stamp).astimezone(timezone.utc)
    return f"{when.year}-Q{(when.month - 1) // 3 + 1}"


def previous_quarter(quarter: str) -> str:
    year, q = int(quarter[:4]), int(quarter[-1])
    return f"{year - 1}-Q4" if q == 1 else f"{year}-Q{q - 1}"


def check_id(check: Doc) -> str:
    return str(check.get("id") or check.get("at"))


@dataclass
class Person:
    """What an overview needs of one counted person: hashed name, checks, teams."""

    member: str  # doc_name of the person's key: the ledger never holds an id
    checks: list[Doc]
    teams: list[str] = field(default_factory=list)

    def latest(self, before: str | None = None) -> Doc | None:
        found = [c for c in self.checks if c.get("scores") and (before is None or c["at"] < before)]
        return found[-1] if found else None

    def by_id(self, wanted: str) -> Doc | None:
        return next((c for c in self.checks if check_id(c) == wanted), None)


def contributions(person: Person, by: str) -> dict[str, Doc]:
    """group key -> the check that counts there, for one person and one dimension."""
    if by == "quarter":
        found: dict[str, Doc] = {}
        for check in person.checks:
            if check.get("scores"):
                found[quarter_of(check["at"])] = check  # the latest of each quarter wins
        return found
    latest = person.latest()
    if latest is None:
        return {}
    if by == "team":
        return {team: latest for team in person.teams}
    group = latest.get(by)
    return {group: latest} if group else {}


@dataclass
class Figures:
    people: int
    subareas: dict[str, dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"people": self.people, "subareas": self.subareas}


def figures(checks: Iterable[Doc]) -> Figures:
    """Mean and the number of people per score 1-5, per sub-area; a skipped sub-area is
    left out of that sub-area's figures only."""
    checks = list(checks)
    subareas = {}
    for sub in content.subarea_ids():
        scores = [c["scores"][sub] for c in checks if isinstance((c.get("scores") or {}).get(sub), int)]
        counts = [scores.count(s) for s in range(1, 6)]
        mean = round(sum(scores) / len(scores), 1) if scores else None
        subareas[sub] = {"mean": mean, "counts": counts}
    return Figures(len(checks), subareas)


async def load_people(store: DocStore, mode: str, teams: dict[str, list[str]] | None = None) -> list[Person]:
    """Every counted person with at least one check. Reads each person's document once,
    handing the loop back every few documents (the bot can run this beside its chats)."""
    member_teams: dict[str, list[str]] = {}
    for team, members in (teams or {}).items():
        for member in members:
            member_teams.setdefault(member, []).append(team)
    people = []
    async for name, doc in store.scan(USERS):  # an unreadable document is set aside, not fatal
        if not counted(doc, mode):
            continue
        checks = [c for c in doc.get("assessments") or [] if c.get("scores") and c.get("at")]
        if checks:
            people.append(Person(name, checks, member_teams.get(name, [])))
    return people


async def read_people(store: DocStore, keys: Iterable[str], mode: str, team: str) -> list[Person]:
    """The counted people among these keys (a team's roster), for the team overview."""
    people = []
    for key in keys:
        doc, _ = await store.read_or_quarantine(USERS, key)
        if not doc or not counted(doc, mode):
            continue
        checks = [c for c in doc.get("assessments") or [] if c.get("scores") and c.get("at")]
        if checks:
            people.append(Person(doc_name(key), checks, [team]))
    return people


@dataclass
class Group:
    key: str
    people: int
    figures: Figures | None  # None: fewer than k released
    waiting: int = 0  # new checks not released yet (fewer than k)


def release(people: list[Person], by: str, ledger: Doc, k: int) -> tuple[dict[str, Group], Doc]:
    """Each group's figures from its released checks, releasing new ones in batches of k.
    Returns the groups and the new ledger ({group: {member: check id}})."""
    current: dict[str, dict[str, Doc]] = {}
    by_member = {p.member: p for p in people}
    for person in people:
        for group, check in contributions(person, by).items():
            current.setdefault(group, {})[person.member] = check
    new_ledger: dict[str, dict[str, str]] = {}
    groups: dict[str, Group] = {}
    for group in sorted(set(current) | set(ledger)):
        now_in = current.get(group, {})
        released = {m: cid for m, cid in (ledger.get(group) or {}).items() if m in by_member}  # withdrawn: out now
        pending = [m for m, check in now_in.items() if released.get(m) != check_id(check)]
        if len(pending) >= k:  # a batch big enough to hide each new check in it
            released = {m: check_id(check) for m, check in now_in.items()}
            pending = []
        checks = [c for m, cid in released.items() if (c := by_member[m].by_id(cid)) is not None]
        if released:
            new_ledger[group] = released
        size = max(len(now_in), len(checks))
        groups[group] = Group(group, size, figures(checks) if len(checks) >= k else None, len(pending))
    return groups, new_ledger


class Overviews:
    """Builds overviews and keeps the release ledger; the only writer of `reports` and `teams`."""

    def __init__(self, store: DocStore, mode: str = "opt-out", k: int = K_MIN) -> None:
        if mode not in MODES:
            raise ValueError(f"AGGREGATES must be one of {MODES}")
        if k < K_MIN:
            raise ValueError(f"a group must have at least {K_MIN} people; {k} would show too little of a crowd")
        self.store = store
        self.mode = mode
        self.k = k

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    async def rosters(self) -> dict[str, list[str]]:
        found = {}
        async for name, doc in self.store.scan(TEAMS):  # an unreadable roster is set aside, not fatal
            found[doc.get("id") or name] = list(doc.get("members") or [])
        return found

    async def report(self, by: str, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
        """The anonymous overview by one dimension in the documented JSON shape, and, for
        the HTML report, each shown group as it stood at the end of the previous quarter."""
        if by not in DIMENSIONS:
            raise ValueError(f"--by must be one of {DIMENSIONS}")
        teams = await self.rosters() if by == "team" else None
        people = await load_people(self.store, self.mode, teams)
        groups = await self._released(people, by)
        shown = [g for g in groups.values() if g.figures is not None]
        names = await self.team_names() if by == "team" else {}
        report: dict[str, Any] = {
            "k": self.k,
            "by": by,
            "groups": [
                {"key": g.key, **({"name": names[g.key]} if g.key in names else {}), **g.figures.as_dict()}
                for g in shown
                if g.figures
            ],
            "suppressed": sum(1 for g in groups.values() if g.figures is None and g.people > 0),
        }
        before = {} if by == "quarter" else self._previous_quarter(people, by, {g.key for g in shown}, now)
        return report, before

    async def _released(self, people: list[Person], by: str) -> dict[str, Group]:
        def change(doc: Doc) -> Any:
            groups, ledger = release(people, by, doc.get("groups") or {}, self.k)
            found.update(groups)
            return UNCHANGED if ledger == (doc.get("groups") or {}) else {"groups": ledger}

        found: dict[str, Group] = {}
        await self.store.update(REPORTS, by, change)
        return found

    def _previous_quarter(self, people: list[Person], by: str, shown: set[str], now: datetime) -> dict[str, Any]:
        """Each shown group as it stood at the end of the last quarter (everyone's latest check
        before this quarter began), where that group reached k then too."""
        this = quarter_of(now.isoformat())
        year, q = int(this[:4]), int(this[-1])
        start = datetime(year, 3 * (q - 1) + 1, 1, tzinfo=timezone.utc).isoformat()
        before: dict[str, list[Doc]] = {}
        for person in people:
            latest = person.latest(before=start)
            if latest is None:
                continue
            groups = person.teams if by == "team" else [latest.get(by)]
            for group in groups:
                if group in shown:
                    before.setdefault(group, []).append(latest)
        return {
            "quarter": previous_quarter(this),
            "groups": [{"key": g, **figures(c).as_dict()} for g, c in sorted(before.items()) if len(c) >= self.k],
        }

    async def team_overview(self, team: str, member_keys: list[str]) -> Group:
        """One team's picture from its roster (for the team channel): released like the rest."""
        people = await read_people(self.store, member_keys, self.mode, team)

        def change(doc: Doc) -> Doc:
            groups = doc.get("groups") or {}
            found, ledger = release(people, "team", {team: groups.get(team) or {}}, self.k)
            result.append(found.get(team) or Group(team, 0, None))
            return {
                "groups": {**groups, **ledger} if team in ledger else {g: v for g, v in groups.items() if g != team}
            }

        result: list[Group] = []
        await self.store.update(REPORTS, "team", change)
        return result[0]

    async def remember_roster(self, team: str, name: str | None, member_keys: list[str]) -> None:
        members = sorted({doc_name(k) for k in member_keys})
        await self.store.update(
            TEAMS, team, lambda doc: {"id": team, "name": name or doc.get("name"), "members": members}
        )

    async def team_names(self) -> dict[str, str]:
        names = {}
        async for name, doc in self.store.scan(TEAMS):
            if doc.get("name"):
                names[doc.get("id") or name] = doc["name"]
        return names

    async def forget(self, key: str, _doc: Doc | None = None) -> None:
        """Deletion: the person leaves every ledger and roster (their checks go with their document)."""
        member = doc_name(key)
        for by in DIMENSIONS:

            def drop(doc: Doc) -> Any:
                groups = doc.get("groups") or {}
                if not any(member in g for g in groups.values()):
                    return doc or None
                return {"groups": {k: {m: c for m, c in g.items() if m != member} for k, g in groups.items()}}

            await self.store.update(REPORTS, by, drop)
        async for name, doc in self.store.scan(TEAMS):  # one unreadable roster must not stop a deletion
            if member in (doc.get("members") or []):
                team = doc.get("id") or name
                await self.store.update(
                    TEAMS, team, lambda d: {**d, "members": [m for m in d.get("members", []) if m != member]}
                )


def as_csv(report: dict[str, Any]) -> str:
    """One row per group and sub-area, for Excel: group, people, sub-area, mean, people per score."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["by", "group", "people", "subarea", "mean", "score_1", "score_2", "score_3", "score_4", "score_5"])
    for group in report["groups"]:
        for sub, data in group["subareas"].items():
            writer.writerow(
                [
                    report["by"],
                    group.get("name") or group["key"],
                    group["people"],
                    sub,
                    "" if data["mean"] is None else data["mean"],
                    *data["counts"],
                ]
            )
    writer.writerow(
        [
            report["by"],
            f"(groups under {report['k']} people left out: {report['suppressed']})",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ]
    )
    return out.getvalue()
