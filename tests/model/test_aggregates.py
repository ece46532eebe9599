"""The anonymous overviews: groups of at least 5, only latest checks of people who allow it,
new checks released in batches so two overviews never differ by one person's scores, and
deletion removes a person from every overview."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from model.domain import aggregates
from model.domain.aggregates import Overviews
from model.domain.users import Users, user_key
from model.rendering import report_html
from model.storage.docstore import doc_name
from model.storage.memory_store import MemoryStore

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


async def _person(
    users: Users,
    n: int,
    role: str,
    scores: tuple[int, int, int],
    at="2026-11-20T10:00:00+00:00",
    check: str | None = None,
    **profile,
) -> str:
    key = user_key("tenant-1", f"aad-{n}")
    await users.save_profile(key, NOW, role=role, level="use", **profile)
    await users.add_assessment(
        key,
        {
            "id": check or f"c-{n}-{at}",
            "at": at,
            "role": role,
            "level": "use",
            "scores": dict(zip(("implementation", "development", "innovation"), scores, strict=True)),
        },
    )
    return key


@pytest.fixture
def store():
    return MemoryStore()


async def test_a_group_of_seven_is_shown_and_a_group_of_three_is_only_counted(store):
    users = Users(store)
    for n in range(7):
        await _person(users, n, "frontline", (1 + n % 5, 3, 4))
    for n in range(7, 10):
        await _person(users, n, "manager", (5, 5, 5))
    report, _ = await Overviews(store).report("role", NOW)
    assert report["k"] == 5 and report["by"] == "role" and report["suppressed"] == 1
    (group,) = report["groups"]
    assert group["key"] == "frontline" and group["people"] == 7
    assert group["subareas"]["implementation"] == {"mean": 2.6, "counts": [2, 2, 1, 1, 1]}
    assert group["subareas"]["development"] == {"mean": 3.0, "counts": [0, 0, 7, 0, 0]}


async def test_leaving_out_takes_effect_at_once_and_counting_in_comes_back(store):
    users = Users(store)
    keys = [await _person(users, n, "frontline", (3, 3, 3)) for n in range(7)]
    overviews = Overviews(store)
    await overviews.report("role", NOW)
    await users.save_profile(keys[0], NOW, counted=False)
    report, _ = await overviews.report("role", NOW)
    assert report["groups"][0]["people"] == 6


async def test_two_overviews_a_week_apart_never_differ_by_one_persons_check(store):
    """The differencing attack: run a report, one more person takes a check, run it again."""
    users = Users(store)
    for n in range(7):
        await _person(users, n, "frontline", (3, 3, 3))
    overviews = Overviews(store)
    before, _ = await overviews.report("role", NOW)
    await _person(users, 7, "frontline", (1, 1, 1), at="2026-11-27T10:00:00+00:00")  # the newcomer
    after, _ = await overviews.report("role", NOW)
    assert after == before  # held back: the newcomer's scores cannot be read off the difference
    for n in range(8, 12):  # four more: five new checks in all, released together
        await _person(users, n, "frontline", (2, 2, 2), at="2026-11-28T10:00:00+00:00")
    released, _ = await overviews.report("role", NOW)
    assert released["groups"][0]["people"] == 12
    # a re-check by someone already counted is held back the same way
    await users.add_assessment(
        user_key("tenant-1", "aad-0"),
        {
            "id": "again",
            "at": "2026-11-29T10:00:00+00:00",
            "role": "frontline",
            "level": "use",
            "scores": {"implementation": 5, "development": 5, "innovation": 5},
        },
    )
    assert (await overviews.report("role", NOW))[0] == released


async def test_opt_in_mode_counts_only_those_who_said_yes_and_off_counts_nobody(store):
    users = Users(store)
    for n in range(6):
        await _person(users, n, "it", (3, 3, 3), **({"counted": True} if n < 5 else {}))
    assert (await Overviews(store, "opt-in").report("role", NOW))[0]["groups"][0]["people"] == 5
    assert not Overviews(store, "off").enabled
    with pytest.raises(ValueError):
        Overviews(store, "opt-out", k=4)  # k can never be set below 5


async def test_only_the_latest_check_counts_and_quarters_keep_their_own(store):
    users = Users(store)
    keys = [await _person(users, n, "it", (1, 1, 1), at="2026-08-10T10:00:00+00:00") for n in range(5)]
    await Overviews(store).report("role", datetime(2026, 9, 1, tzinfo=timezone.utc))  # released in Q3
    for n, key in enumerate(keys):
        await users.add_assessment(
            key,
            {
                "id": f"q4-{n}",
                "at": "2026-11-10T10:00:00+00:00",
                "role": "it",
                "level": "use",
                "scores": {"implementation": 4},
            },
        )
    by_role, previous = await Overviews(store).report("role", NOW)
    assert by_role["groups"][0]["subareas"]["implementation"]["mean"] == 4.0
    assert previous["quarter"] == "2026-Q3" and previous["groups"][0]["subareas"]["implementation"]["mean"] == 1.0
    by_quarter, _ = await Overviews(store).report("quarter", NOW)
    assert [g["key"] for g in by_quarter["groups"]] == ["2026-Q3", "2026-Q4"]


async def test_deleting_a_person_removes_them_from_every_overview_and_ledger(store):
    reminders_free = Overviews(store)
    users = Users(store, on_delete=(reminders_free.forget,))
    keys = [await _person(users, n, "frontline", (3, 3, 3)) for n in range(6)]
    await reminders_free.remember_roster("team-1", "Hjemmeplejen Nord", keys)
    for by in aggregates.DIMENSIONS:
        await reminders_free.report(by, NOW)
    await users.delete(keys[0])
    member = doc_name(keys[0])
    for name in await store.keys(aggregates.REPORTS) + await store.keys(aggregates.TEAMS):
        for collection in (aggregates.REPORTS, aggregates.TEAMS):
            doc, _ = await store.read_named(collection, name)
            assert member not in str(doc or "")
    assert (await reminders_free.report("role", NOW))[0]["groups"][0]["people"] == 5


async def test_team_overview_counts_only_the_roster(store):
    users = Users(store)
    keys = [await _person(users, n, "frontline", (3, 4, 2)) for n in range(4)]
    group = await Overviews(store).team_overview("team-1", keys + [user_key("tenant-1", "never-checked")])
    assert group.figures is None and group.people == 4
    keys.append(await _person(users, 4, "it", (3, 4, 2)))
    group = await Overviews(store).team_overview("team-1", keys)
    assert group.figures.people == 5 and group.figures.subareas["development"]["mean"] == 4.0


async def test_csv_and_html_reports_hold_the_groups_and_explain_the_figures(store):
    users = Users(store)
    for n in range(5):
        await _person(users, n, "specialist", (2, 3, 4))
    report, previous = await Overviews(store).report("role", NOW)
    csv_text = aggregates.as_csv(report)
    assert "specialist,5,development,3.0,0,0,5,0,0" in csv_text
    page = report_html.render(report, previous, "da")
    assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page
    assert "Fagspecialist eller konsulent" in page and "aldrig til at vurdere en medarbejder" in page
    assert "http" not in page.replace("http://adaptivecards", "").split("<body>")[1].split("data:image")[0]
