"""The organisation's view: anonymous pictures of where a group stands, never of a person.

Privacy first, in this order:

- **Who counts.** Only a person's latest check counts (per quarter, for the quarter view),
  and only while they allow it (`profile.counted`; the municipality picks the default with
  AGGREGATES=opt-out|opt-in, or turns the feature off). Withdrawing (`tæl mig ikke med`),
  deletion and retention take a person out of every overview at once.
- **One tenant at a time.** A shared deployment stores several tenants (municipalities);
  an overview is always about one of them (`tenant`), and a store with several refuses to
  guess (`SeveralTenants`).
- **Groups of at least k = 5.** A smaller group is left out and only counted in
  `suppressed`. k can be raised, never lowered below 5. No overview crosses two dimensions.
- **No picture of one person by difference.** Two overviews a week apart that differ by one
  new check would show that person's scores. So new and changed checks are *released* in
  batches: a group's figures change only when at least k of its members have a new check
  since its last release; until then it shows what was last released (minus anyone who
  withdrew). Teams are stricter, because a team owner chooses the roster: a team's picture
  is shown only when its people and checks are exactly those of a picture shown before, or
  differ by at least k people from *every* team picture released before (a removed member,
  a second team with the same members minus one, a member's new check: each counts as one).
  Otherwise it shows the team's last released picture if everyone in it still counts there,
  else nothing.
- **A ledger that names no one.** The released state (collection "reports", one document
  per dimension and tenant) holds, per group, one hash per released check: sha256 of the
  person's hashed name and the check's random id. The id is stored only in the person's
  document, so once that is deleted the hash matches nothing and points to no one: deleting
  a person needs no ledger change, and its cost does not grow with the ledgers. The ledger
  also keeps the figures each group last showed per quarter (the HTML report's "change since
  last quarter" is computed from those released figures only), never scores of a person.
- **Rosters** (collection "teams") hold a team's hashed member names and its tenant; a
  per-member index document in the same collection lists the teams that name the member, so
  a deletion touches only those rosters.

Figures per group and sub-area: the mean and the number of people per score 1-5.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from model import content
from model.domain.users import USERS, key_of
from model.storage.docstore import UNCHANGED, CorruptDocument, Doc, DocStore, doc_name

K_MIN = 5  # the smallest group any overview shows (Danish public-sector surveys and Viva Insights use 5)
DIMENSIONS = ("role", "level", "team", "quarter")
REPORTS = "reports"  # the release ledgers, one document per dimension and tenant
TEAMS = "teams"  # team rosters (hashed member names) and, per member, the teams naming them
MODES = ("opt-out", "opt-in", "off")
FORMAT = "format"  # the REPORTS document saying the ledgers are hashed and the rosters indexed
FORMAT_VERSION = 2
MEMBER_INDEX = "member-index"  # `kind` of a roster index document in TEAMS
SNAPSHOTS_KEPT = 500  # released team pictures remembered per tenant (the oldest go first)
QUARTERS_KEPT = 4  # released figures kept per group


class SeveralTenants(ValueError):
    """The store holds people of several tenants and no tenant was named."""

    def __init__(self, count: int) -> None:
        super().__init__(f"the store holds people of {count} tenants; name one")
        self.count = count


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


def contribution_hash(member: str, check: Doc | str) -> str:
    """What the ledger keeps of one released check: a hash of the person's hashed name and
    the check's id (a random nonce kept only in the person's document)."""
    cid = check if isinstance(check, str) else check_id(check)
    return hashlib.sha256(f"{member}|{cid}".encode("utf-8")).hexdigest()[:32]


def tenant_of_key(key: str) -> str:
    """The tenant part of a person key (`tenant|aadObjectId`, see `users.user_key`)."""
    return key.split("|", 1)[0] if "|" in key else "-"


def _readable(check: Any) -> bool | None:
    """True for a check an overview can use, None for one without scores (not a check yet),
    False for one it cannot read (a bad date, scores that are not a mapping)."""
    if not isinstance(check, dict) or not check.get("scores"):
        return None
    if not isinstance(check["scores"], dict) or not isinstance(check.get("at"), str):
        return False
    try:
        quarter_of(check["at"])
    except (ValueError, OverflowError):
        return False
    return True


@dataclass
class Person:
    """What an overview needs of one counted person: hashed name, checks, teams, tenant."""

    member: str  # doc_name of the person's key: the ledger never holds an id
    checks: list[Doc]
    teams: list[str] = field(default_factory=list)
    tenant: str = "-"

    def latest(self) -> Doc | None:
        return self.checks[-1] if self.checks else None


def contributions(person: Person, by: str) -> dict[str, Doc]:
    """group key -> the check that counts there, for one person and one dimension."""
    if by == "quarter":
        found: dict[str, Doc] = {}
        for check in person.checks:
            found[quarter_of(check["at"])] = check  # the latest of each quarter wins
        return found
    latest = person.latest()
    if latest is None:
        return {}
    if by == "team":
        return {team: latest for team in person.teams}
    group = latest.get(by)
    return {group: latest} if isinstance(group, str) and group else {}


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


@dataclass
class Loaded:
    """People read for an overview, and what was left out on the way."""

    people: list[Person]
    tenants: set[str]
    skipped: dict[str, int] = field(default_factory=dict)  # per tenant: checks it could not read (a bad date)


def _person(name: str, doc: Doc, mode: str, tenant: str, loaded: Loaded) -> Person | None:
    if not counted(doc, mode):
        return None
    items = doc.get("assessments")
    checks = []
    for check in items if isinstance(items, list) else []:
        readable = _readable(check)
        if readable:
            checks.append(check)
        elif readable is False:
            loaded.skipped[tenant] = (
                loaded.skipped.get(tenant, 0) + 1
            )  # one unreadable check costs that check, never the overview
    return Person(name, checks, [], tenant) if checks else None


def _tenant_of_doc(doc: Doc) -> str:
    try:
        key = key_of(doc)
    except (AttributeError, TypeError):  # a mangled conversation reference
        key = None
    if key:
        return tenant_of_key(key)
    items = doc.get("assessments")
    for check in reversed(items if isinstance(items, list) else []):
        if isinstance(check, dict) and isinstance(check.get("tenant"), str) and check["tenant"]:
            return str(check["tenant"])
    return "-"


async def load_people(store: DocStore, mode: str) -> Loaded:
    """Every counted person with at least one readable check, and every tenant with a
    stored person. Reads each person's document once, handing the loop back every few
    documents (the bot can run this beside its chats)."""
    loaded = Loaded([], set())
    async for name, doc in store.scan(USERS):  # an unreadable document is set aside, not fatal
        tenant = _tenant_of_doc(doc)
        loaded.tenants.add(tenant)
        person = _person(name, doc, mode, tenant, loaded)
        if person is not None:
            loaded.people.append(person)
    return loaded


async def read_people(store: DocStore, keys: Iterable[str], mode: str, team: str) -> list[Person]:
    """The counted people among these keys (a team's roster), for the team overview."""
    loaded = Loaded([], set())
    for key in keys:
        doc, _ = await store.read_or_quarantine(USERS, key)
        person = _person(doc_name(key), doc, mode, tenant_of_key(key), loaded) if doc else None
        if person is not None:
            person.teams = [team]
            loaded.people.append(person)
    return loaded.people


@dataclass
class Group:
    key: str
    people: int  # members who count now (internal: never shown for a group under k)
    figures: Figures | None  # None: fewer than k released, or (teams) too close to an earlier picture
    waiting: int = 0  # new checks not released yet (fewer than k)


def _differ(now_in: dict[str, str], snapshot: set[str], hashes: dict[str, set[str]]) -> int:
    """By how many people a team's contributions (member -> hash of the check that counts)
    differ from a released picture: each one who is new, gone, or counts with another
    check, counts once."""
    kept = differ = 0
    for member, now in now_in.items():
        if now in snapshot:
            kept += 1
            continue
        differ += 1
        if not hashes[member].isdisjoint(snapshot):
            kept += 1  # a changed check: one person, not also one gone
    return differ + (len(snapshot) - kept)


def release(people: list[Person], by: str, ledger: Doc, k: int, quarter: str) -> tuple[dict[str, Group], Doc]:
    """Each group's figures from its released checks, releasing new ones in batches of k
    (teams: see the module docstring). `ledger` is the stored ledger document, `quarter`
    the quarter now; returns the groups and the new ledger document."""
    index = {contribution_hash(p.member, c): (p.member, c) for p in people for c in p.checks}
    hashes: dict[str, set[str]] = {}
    for h, (member, _check) in index.items():
        hashes.setdefault(member, set()).add(h)
    current: dict[str, dict[str, Doc]] = {}
    for person in people:
        for group, check in contributions(person, by).items():
            current.setdefault(group, {})[person.member] = check
    old_groups = ledger.get("groups") or {}
    old_figures = ledger.get("figures") or {}
    old_released = ledger.get("released") or {}
    snapshots = [set(s) for s in ledger.get("snapshots") or [] if isinstance(s, list)]
    new: Doc = {"v": FORMAT_VERSION, "groups": {}, "figures": {}, "released": {}}
    groups: dict[str, Group] = {}
    for group in sorted(set(current) | set(old_groups)):
        now_in = current.get(group, {})
        stored = [h for h in old_groups.get(group) or [] if isinstance(h, str)]
        released = {index[h][0]: index[h][1] for h in stored if h in index}  # withdrawn, deleted: out now
        pending = [m for m, c in now_in.items() if m not in released or check_id(released[m]) != check_id(c)]
        fresh = False
        if by == "team":
            now_pairs = {m: contribution_hash(m, c) for m, c in now_in.items()}
            now_hashes = set(now_pairs.values())
            everyone_still_here = all(h in index and index[h][0] in now_in for h in stored)
            if len(now_in) >= k and (now_hashes == set(stored) or now_hashes in snapshots):
                shown, stored = list(now_in.values()), sorted(now_hashes)  # a picture shown before
            elif len(now_in) >= k and all(_differ(now_pairs, s, hashes) >= k for s in snapshots):
                shown, stored, fresh = list(now_in.values()), sorted(now_hashes), True
            elif stored and everyone_still_here:
                shown = list(released.values())  # the last released picture, unchanged
            else:
                shown = []
        else:
            if len(pending) >= k:  # a batch big enough to hide each new check in it
                released, fresh = dict(now_in), True
            stored = sorted(contribution_hash(m, c) for m, c in released.items())
            shown = list(released.values())
        if stored:
            new["groups"][group] = stored
        found = figures(shown) if len(shown) >= k else None
        if by == "team" and found is not None and set(stored) not in snapshots:
            snapshots.append(set(stored))  # every team picture shown, also one kept from before
        history = dict(old_figures.get(group) or {})
        if found is not None:
            history[quarter] = found.as_dict()
        if history:
            new["figures"][group] = {q: history[q] for q in sorted(history)[-QUARTERS_KEPT:]}
        if fresh or old_released.get(group):
            new["released"][group] = quarter if fresh else old_released[group]
        groups[group] = Group(group, len(now_in), found, 0 if found is None and by == "team" else len(pending))
    if by == "team":
        new["snapshots"] = [sorted(s) for s in snapshots[-SNAPSHOTS_KEPT:]]
    return groups, new


def _hashed(doc: Doc) -> Any:
    """A ledger document of the first format ({group: {member: check id}}), hashed in place."""
    groups = doc.get("groups") or {}
    if not any(isinstance(v, dict) for v in groups.values()):
        return UNCHANGED
    return {
        **doc,
        "v": FORMAT_VERSION,
        "groups": {
            g: sorted(contribution_hash(m, str(c)) for m, c in v.items()) if isinstance(v, dict) else v
            for g, v in groups.items()
        },
    }


class Overviews:
    """Builds overviews and keeps the release ledgers; the only writer of `reports` and `teams`
    (`model.domain.retention` removes a roster nobody refreshed for the retention period)."""

    def __init__(self, store: DocStore, mode: str = "opt-out", k: int = K_MIN) -> None:
        if mode not in MODES:
            raise ValueError(f"AGGREGATES must be one of {MODES}")
        if k < K_MIN:
            raise ValueError(f"a group must have at least {K_MIN} people; {k} would show too little of a crowd")
        self.store = store
        self.mode = mode
        self.k = k
        self._upgraded = False

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    async def upgrade(self, mark_empty: bool = True) -> None:
        """Once per store: hash the ledgers of the first format (they named members) and
        index the rosters written before the index existed, then mark the store done.
        `mark_empty` False (a deletion): a store with no overview data yet is left unmarked,
        so a deletion from it leaves no file behind."""
        if self._upgraded:
            return
        marker, _ = await self.store.read_or_quarantine(REPORTS, FORMAT)
        if not (marker and marker.get("version", 0) >= FORMAT_VERSION):
            found = False
            for by in DIMENSIONS:
                found = bool(await self.store.update(REPORTS, by, _hashed)) or found
            async for name, doc in self.store.scan(TEAMS):  # an unreadable roster is set aside
                found = True
                if doc.get("kind") != MEMBER_INDEX:
                    team = doc.get("id") or name
                    for member in doc.get("members") or []:
                        await self._index(member, add=team)
            if not found and not mark_empty:
                return  # nothing to upgrade yet: look again next time
            await self.store.update(REPORTS, FORMAT, lambda d: {"version": FORMAT_VERSION})
        self._upgraded = True

    async def _index(self, member: str, add: str | None = None, drop: str | None = None) -> None:
        """Add or drop one team in a member's roster index (always written: it must be no
        older than the roster, which retention expires by the time it was last written)."""

        def change(doc: Doc) -> Doc | None:
            teams = [t for t in doc.get("teams") or [] if t not in (add, drop)] + ([add] if add else [])
            return {"kind": MEMBER_INDEX, "teams": sorted(teams)} if teams else None

        if drop and not add:
            doc, _ = await self.store.read_or_quarantine(TEAMS, f"member|{member}")
            if doc and [t for t in doc.get("teams") or [] if t != drop] == []:
                await self.store.delete(TEAMS, f"member|{member}")
                return
        await self.store.update(TEAMS, f"member|{member}", change)

    async def rosters(self, tenant: str | None = None) -> dict[str, list[str]]:
        """Team id -> hashed members, of one tenant (a roster written before rosters carried a
        tenant is kept: only that tenant's people can match its members)."""
        found = {}
        async for name, doc in self.store.scan(TEAMS):  # an unreadable roster is set aside, not fatal
            if doc.get("kind") == MEMBER_INDEX or (tenant and doc.get("tenant") not in (None, tenant)):
                continue
            found[doc.get("id") or name] = list(doc.get("members") or [])
        return found

    async def report(self, by: str, now: datetime, tenant: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """The anonymous overview of one tenant by one dimension in the documented JSON shape,
        and, for the HTML report, each shown group's released figures as they stood at the
        end of the previous quarter, where a batch was released this quarter.
        Without `tenant`, the store's only tenant; SeveralTenants when it has more."""
        if by not in DIMENSIONS:
            raise ValueError(f"--by must be one of {DIMENSIONS}")
        await self.upgrade()
        loaded = await load_people(self.store, self.mode)
        if tenant is None:
            if len(loaded.tenants) > 1:
                raise SeveralTenants(len(loaded.tenants))
            tenant = next(iter(loaded.tenants), "-")
        people = [p for p in loaded.people if p.tenant == tenant]
        names: dict[str, str] = {}
        if by == "team":
            member_teams: dict[str, list[str]] = {}
            for team, members in (await self.rosters(tenant)).items():
                for member in members:
                    member_teams.setdefault(member, []).append(team)
            for person in people:
                person.teams = member_teams.get(person.member, [])
            names = await self.team_names(tenant)
        quarter = quarter_of(now.isoformat())
        groups, ledger = await self._released(people, by, tenant, quarter)
        shown = [g for g in groups.values() if g.figures is not None]
        report: dict[str, Any] = {
            "k": self.k,
            "by": by,
            "groups": [
                {"key": g.key, **({"name": names[g.key]} if g.key in names else {}), **g.figures.as_dict()}
                for g in shown
                if g.figures
            ],
            "suppressed": sum(1 for g in groups.values() if g.figures is None and g.people > 0),
            "skipped_checks": loaded.skipped.get(tenant, 0),
        }
        before = {} if by == "quarter" else previous_figures(ledger, {g.key for g in shown}, quarter)
        return report, before

    async def _released(self, people: list[Person], by: str, tenant: str, quarter: str) -> tuple[dict[str, Group], Doc]:
        async def change(doc: Doc) -> Any:
            base = doc
            if not doc:  # this tenant's first ledger: go on from the one kept before tenants
                legacy, _ = await self.store.read_or_quarantine(REPORTS, by)
                base = legacy or {}
            groups, ledger = release(people, by, base, self.k, quarter)
            found.update(groups)
            result.append(ledger)
            return UNCHANGED if ledger == doc else ledger

        found: dict[str, Group] = {}
        result: list[Doc] = []
        await self.store.update(REPORTS, f"{by}|{tenant}", change)
        return found, result[-1]

    async def team_overview(self, team: str, member_keys: list[str], now: datetime | None = None) -> Group:
        """One team's picture from its roster (for the team channel): released like the rest,
        and never within k people of an earlier team picture (see the module docstring)."""
        await self.upgrade()
        tenant = tenant_of_key(member_keys[0]) if member_keys else "-"
        people = await read_people(self.store, member_keys, self.mode, team)
        quarter = quarter_of((now or datetime.now(timezone.utc)).isoformat())

        async def change(doc: Doc) -> Any:
            base = doc
            if not doc:
                legacy, _ = await self.store.read_or_quarantine(REPORTS, "team")
                base = legacy or {}
            mine = {
                part: {team: (base.get(part) or {})[team]} if team in (base.get(part) or {}) else {}
                for part in ("groups", "figures", "released")
            }
            found, ledger = release(people, "team", {**mine, "snapshots": base.get("snapshots") or []}, self.k, quarter)
            result.append(found.get(team) or Group(team, 0, None))
            new = {"v": FORMAT_VERSION, "snapshots": ledger["snapshots"]}
            for part in ("groups", "figures", "released"):
                others = {g: v for g, v in (base.get(part) or {}).items() if g != team}
                new[part] = {**others, **ledger[part]}
            return UNCHANGED if new == doc else new

        result: list[Group] = []
        await self.store.update(REPORTS, f"team|{tenant}", change)
        return result[0]

    async def remember_roster(self, team: str, name: str | None, member_keys: list[str]) -> None:
        """Store a team's roster (hashed names, its tenant) and index it by member: the new
        members' index first, the roster, then the leavers' index, so a crash never leaves a
        roster naming someone whose index does not point to it."""
        await self.upgrade()
        members = sorted({doc_name(k) for k in member_keys})
        tenants = {tenant_of_key(k) for k in member_keys}
        old, _ = await self.store.read_or_quarantine(TEAMS, team)
        for member in members:
            await self._index(member, add=team)
        await self.store.update(
            TEAMS,
            team,
            lambda doc: {
                "id": team,
                "name": name or doc.get("name"),
                "tenant": next(iter(tenants)) if len(tenants) == 1 else doc.get("tenant"),
                "members": members,
            },
        )
        for member in set((old or {}).get("members") or []) - set(members):
            await self._index(member, drop=team)

    async def team_names(self, tenant: str | None = None) -> dict[str, str]:
        names = {}
        async for name, doc in self.store.scan(TEAMS):
            if doc.get("kind") == MEMBER_INDEX or (tenant and doc.get("tenant") not in (None, tenant)):
                continue
            if doc.get("name"):
                names[doc.get("id") or name] = doc["name"]
        return names

    async def forget(self, key: str, _doc: Doc | None = None) -> None:
        """Deletion: the person leaves every roster that names them (found through their
        roster index). The ledgers need no change: they hold hashes of check ids that were
        only in the person's document, which goes with them."""
        await self.upgrade(mark_empty=False)
        member = doc_name(key)
        try:
            index, _ = await self.store.read(TEAMS, f"member|{member}")
            teams = list((index or {}).get("teams") or [])
        except CorruptDocument:  # an unreadable index: look in every roster (rare, and only then)
            await self.store.quarantine(TEAMS, f"member|{member}")
            teams = [
                doc.get("id") or name async for name, doc in self.store.scan(TEAMS) if doc.get("kind") != MEMBER_INDEX
            ]
        for team in teams:

            def drop(doc: Doc) -> Any:
                if member not in (doc.get("members") or []):
                    return UNCHANGED
                return {**doc, "members": [m for m in doc["members"] if m != member]}

            await self.store.update(TEAMS, team, drop)
        await self.store.delete(TEAMS, f"member|{member}")  # with a set-aside copy


def previous_figures(ledger: Doc, shown: set[str], quarter: str) -> dict[str, Any]:
    """For the HTML report: each shown group whose figures changed by a batch released this
    quarter, with its released figures as they stood at the end of the previous quarter
    (the last ones shown before this quarter). Nothing for a group with no release this
    quarter: its figures have not moved."""
    groups = []
    for group in sorted(shown):
        if (ledger.get("released") or {}).get(group) != quarter:
            continue
        earlier = {q: f for q, f in ((ledger.get("figures") or {}).get(group) or {}).items() if q < quarter}
        if earlier:
            groups.append({"key": group, **earlier[max(earlier)]})
    return {"quarter": previous_quarter(quarter), "groups": groups}


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A cell Excel will not run: text starting like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_text(rows: Iterable[list[Any]]) -> str:
    """Every CSV the bot writes goes through here, so no cell can start a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()


def as_csv(report: dict[str, Any]) -> str:
    """One row per group and sub-area, for Excel: group, people, sub-area, mean, people per score."""
    rows: list[list[Any]] = [
        ["by", "group", "people", "subarea", "mean", "score_1", "score_2", "score_3", "score_4", "score_5"]
    ]
    for group in report["groups"]:
        for sub, data in group["subareas"].items():
            rows.append(
                [
                    report["by"],
                    group.get("name") or group["key"],
                    group["people"],
                    sub,
                    "" if data["mean"] is None else data["mean"],
                    *data["counts"],
                ]
            )
    rows.append([report["by"], f"(groups under {report['k']} people left out: {report['suppressed']})", *[""] * 8])
    return csv_text(rows)
