"""What an adversarial run got out of the overviews (issue 23), each now refused: one member's
scores by changing a team's roster, a held-back check by the quarter change, one bad date
stopping the quarter report, a formula in a CSV cell, two tenants in one report, and a
deletion whose cost grew with the ledgers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from model.domain import aggregates
from model.domain.aggregates import Overviews, SeveralTenants
from model.domain.users import USERS, Users, user_key
from model.rendering import report_html
from model.storage.memory_store import MemoryStore

Q3 = datetime(2026, 9, 1, 9, 0, tzinfo=timezone.utc)
Q4 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
Q1 = datetime(2027, 2, 1, 9, 0, tzinfo=timezone.utc)


async def _check(
    users: Users,
    n: int,
    scores: tuple[int, int, int],
    at: str = "2026-08-20T10:00:00+00:00",
    role: str = "frontline",
    tenant: str = "tenant-1",
) -> str:
    key = user_key(tenant, f"aad-{n}")
    await users.save_profile(key, Q3, role=role, level="use")
    await users.add_assessment(
        key,
        {
            "id": f"c-{n}-{at}",
            "at": at,
            "tenant": tenant,
            "role": role,
            "level": "use",
            "scores": dict(zip(("implementation", "development", "innovation"), scores, strict=True)),
        },
    )
    return key


@pytest.fixture
def store():
    return MemoryStore()


# -- 3: the team overview ---------------------------------------------------------------


async def test_a_team_owner_cannot_read_one_member_off_two_rosters(store):
    """Ask, remove the member (or make a second team without them), ask again: the second
    answer must not exist, or the difference would be that member's answers."""
    users = Users(store)
    others = [await _check(users, n, (3, 3, 3)) for n in range(6)]
    target = await _check(users, 6, (1, 5, 2))
    overviews = Overviews(store)
    first = await overviews.team_overview("team-1", others + [target])
    assert first.figures is not None and first.figures.people == 7

    removed = await overviews.team_overview("team-1", others)  # the owner removes the member
    assert removed.figures is None
    second = await overviews.team_overview("team-2", others)  # or makes a second team without them
    assert second.figures is None
    again = await overviews.team_overview("team-1", others + [target])  # the same picture again: nothing new
    assert again.figures == first.figures

    # a member's new check is held back, the last picture stays
    await users.add_assessment(
        others[0],
        {"id": "new", "at": "2026-11-01T10:00:00+00:00", "role": "frontline", "scores": {"implementation": 5}},
    )
    held = await overviews.team_overview("team-1", others + [target])
    assert held.figures == first.figures and held.waiting == 1

    # a roster that differs from every earlier picture by at least 5 people is shown
    newcomers = [await _check(users, n, (4, 4, 4)) for n in range(7, 12)]
    bigger = await overviews.team_overview("team-3", others + newcomers)
    assert bigger.figures is not None and bigger.figures.people == 11


async def test_the_report_by_team_does_not_show_two_teams_one_person_apart(store):
    users = Users(store)
    others = [await _check(users, n, (3, 3, 3)) for n in range(5)]
    target = await _check(users, 5, (1, 5, 2))
    overviews = Overviews(store)
    await overviews.remember_roster("team-a", "A", others + [target])
    await overviews.remember_roster("team-b", "B", others)
    report, _ = await overviews.report("team", Q4)
    assert [g["name"] for g in report["groups"]] == ["A"] and report["suppressed"] == 1


# -- 4 and 16: the change since last quarter --------------------------------------------


async def test_the_quarter_change_comes_from_released_figures_only(store):
    users = Users(store)
    keys = [await _check(users, n, (3, 3, 3)) for n in range(5)]
    overviews = Overviews(store)
    await overviews.report("role", Q3)  # released in Q3
    await users.add_assessment(  # one new check in Q4: held back, fewer than 5 new
        keys[0],
        {"id": "held", "at": "2026-11-10T10:00:00+00:00", "role": "frontline", "scores": {"implementation": 1}},
    )
    for now in (Q4, Q1):
        report, previous = await overviews.report("role", now)
        assert report["groups"][0]["subareas"]["implementation"]["mean"] == 3.0
        assert previous["groups"] == []  # nothing new released: no change, and nothing held back shows
        page = report_html.render(report, previous, "da")
        assert 'class="change"' not in page


async def test_the_danish_report_writes_a_released_change_with_a_comma(store):
    users = Users(store)
    keys = [await _check(users, n, (3, 3, 3)) for n in range(5)]
    overviews = Overviews(store)
    await overviews.report("role", Q3)
    for n, key in enumerate(keys):  # five new checks in Q4: a batch, released
        await users.add_assessment(
            key,
            {
                "id": f"q4-{n}",
                "at": "2026-11-10T10:00:00+00:00",
                "role": "frontline",
                "scores": {"implementation": 4 if n < 2 else 3},
            },
        )
    report, previous = await overviews.report("role", Q4)
    assert previous["quarter"] == "2026-Q3" and previous["groups"][0]["subareas"]["implementation"]["mean"] == 3.0
    assert "(+0,4 siden sidste kvartal)" in report_html.render(report, previous, "da")
    assert "(+0.4 since last quarter)" in report_html.render(report, previous, "en")


# -- 8: one bad date ----------------------------------------------------------------------


async def test_one_bad_date_is_skipped_and_counted_not_fatal_for_the_quarter_report(store):
    users = Users(store)
    for n in range(5):
        await _check(users, n, (3, 3, 3), at="2026-11-20T10:00:00+00:00")
    await _check(users, 5, (2, 2, 2), at="2026-13-45T10:00:00+00:00")  # one changed character
    report, _ = await Overviews(store).report("quarter", Q4)
    assert [(g["key"], g["people"]) for g in report["groups"]] == [("2026-Q4", 5)]
    assert report["skipped_checks"] == 1


# -- 10: formulas in CSV cells ------------------------------------------------------------


async def test_a_team_name_that_is_a_formula_is_neutralised_in_the_csv(store):
    users = Users(store)
    keys = [await _check(users, n, (3, 3, 3)) for n in range(5)]
    overviews = Overviews(store)
    await overviews.remember_roster("team-x", '=HYPERLINK("https://evil.example","klik")', keys)
    report, _ = await overviews.report("team", Q4)
    rows = aggregates.as_csv(report).splitlines()
    assert rows[1].startswith("team,\"'=HYPERLINK(")
    for cell in ("+1", "-1", "@SUM(A1)", "\tx", "\rx", "=1"):
        assert aggregates.csv_cell(cell) == "'" + cell
    assert aggregates.csv_cell("Hjemmeplejen") == "Hjemmeplejen" and aggregates.csv_cell(3.5) == 3.5


# -- 12: one tenant at a time -------------------------------------------------------------


async def test_a_store_with_two_tenants_reports_one_at_a_time(store):
    users = Users(store)
    a = [await _check(users, n, (3, 3, 3), tenant="kommune-a") for n in range(5)]
    b = [await _check(users, n, (5, 5, 5), tenant="kommune-b") for n in range(5, 10)]
    overviews = Overviews(store)
    with pytest.raises(SeveralTenants) as refused:
        await overviews.report("role", Q4)
    assert refused.value.count == 2 and "kommune" not in str(refused.value)
    report, _ = await overviews.report("role", Q4, tenant="kommune-a")
    assert [(g["key"], g["people"]) for g in report["groups"]] == [("frontline", 5)]
    assert report["groups"][0]["subareas"]["implementation"]["mean"] == 3.0
    await overviews.remember_roster("team-a", "Team A", a)
    await overviews.remember_roster("team-b", "Team B", b)
    by_team, _ = await overviews.report("team", Q4, tenant="kommune-b")
    assert [g["name"] for g in by_team["groups"]] == ["Team B"]
    roster, _ = await store.read(aggregates.TEAMS, "team-b")
    assert roster["tenant"] == "kommune-b"


# -- 17: deletion's cost -----------------------------------------------------------------


class CountingStore(MemoryStore):
    """Counts what a deletion asks of the store, per collection."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[tuple[str, str]] = []

    async def read_named(self, collection, name):  # every read, by key or by name, comes here
        self.ops.append(("read", collection))
        return await super().read_named(collection, name)

    async def write_named(self, collection, name, doc):  # every write comes here
        self.ops.append(("write", collection))
        return await super().write_named(collection, name, doc)

    async def delete_named(self, collection, name):  # every delete comes here
        self.ops.append(("delete", collection))
        return await super().delete_named(collection, name)

    async def keys(self, collection):
        self.ops.append(("keys", collection))
        return await super().keys(collection)


async def _deletion_ops(people: int, teams: int) -> list[tuple[str, str]]:
    store = CountingStore()
    overviews = Overviews(store)
    users = Users(store, on_delete=(overviews.forget,))
    keys = [await _check(users, n, (1 + n % 5, 3, 3), role=("frontline", "it")[n % 2]) for n in range(people)]
    for team in range(teams):
        await overviews.remember_roster(f"team-{team}", None, keys[team * 5 : team * 5 + 8])
    for by in aggregates.DIMENSIONS:
        await overviews.report(by, Q4)
    store.ops.clear()
    await overviews.forget(keys[0])
    return [op for op in store.ops if op[1] != USERS]


async def test_a_deletion_touches_only_what_names_the_person_whatever_the_ledgers_hold():
    small = await _deletion_ops(people=20, teams=2)
    large = await _deletion_ops(people=400, teams=40)
    assert not [op for op in large if op[1] == aggregates.REPORTS], "the ledgers name no one: nothing to change"
    assert large == small and len(large) <= 4  # the index, the one roster naming them (read, write), the index gone


async def test_ledgers_and_rosters_of_the_first_format_are_upgraded_and_keep_their_releases(store):
    """A store written before: ledgers named members ({member: check id}), rosters had no
    tenant and no index. A deletion still leaves nothing naming the person, and the next
    report goes on from what was released (a check not released then stays held back)."""
    from model.storage.docstore import doc_name

    users = Users(store)
    keys = [await _check(users, n, (3, 3, 3)) for n in range(7)]
    members = [doc_name(k) for k in keys]
    released = {m: f"c-{n}-2026-08-20T10:00:00+00:00" for n, m in enumerate(members[:6])}  # not the 7th
    await store.write(aggregates.REPORTS, "role", {"groups": {"frontline": released}})
    await store.write(aggregates.TEAMS, "team-1", {"id": "team-1", "name": "Hold", "members": members})
    overviews = Overviews(store)
    users = Users(store, on_delete=(overviews.forget,))
    await users.delete(keys[0])
    for collection in (aggregates.REPORTS, aggregates.TEAMS):
        for name in await store.keys(collection):
            doc, _ = await store.read_named(collection, name)
            assert members[0] not in str(doc)
    report, _ = await Overviews(store).report("role", Q4)
    assert report["groups"][0]["people"] == 5  # the five released still there; the 7th held back


async def test_a_team_picture_released_before_the_upgrade_also_guards_other_rosters(store):
    from model.storage.docstore import doc_name

    users = Users(store)
    others = [await _check(users, n, (3, 3, 3)) for n in range(5)]
    target = await _check(users, 5, (1, 5, 2))
    team = others + [target]
    released = {doc_name(k): f"c-{n}-2026-08-20T10:00:00+00:00" for n, k in enumerate(team)}
    await store.write(aggregates.REPORTS, "team", {"groups": {"team-1": released}})
    overviews = Overviews(store)
    assert (await overviews.team_overview("team-1", team)).figures is not None  # shown before, shown again
    assert (await overviews.team_overview("team-2", others)).figures is None
