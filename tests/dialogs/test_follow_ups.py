"""Follow-ups in a conversation: "og hvordan bliver jeg bedre til det?" after an answer is
about that answer's competence, "og for en pædagog?" about that job, a "Mente du ...?" leaves
nothing to point back at, and a deleted person's chat remembers nothing."""

from __future__ import annotations

import pytest
from chat import _onboard

from model import content
from model.domain import answers, coaching
from model.language.follow_up import Recent


async def test_how_do_i_get_better_at_it_after_an_answer_gets_that_competences_steps(da):
    await _onboard(da)
    await da.send("hvad er en business case?")
    reply = await da.send("og hvordan bliver jeg bedre til det?")
    title = content.t("da", "coaching.improve_title", name=coaching.competence_name("da", "business_cases"))
    assert title in reply
    assert content.t("da", "msg.out_of_scope") not in reply


async def test_and_for_another_job_answers_the_same_competence_for_that_job(en):
    await _onboard(en, role="5", level="3")  # a manager
    await en.send("what is process mapping?")
    reply = await en.send("and for a teacher?")
    name = coaching.competence_name("en", "process_mapping")
    assert name in reply
    assert content.lookup("en", "roles.frontline.in_sentence") in reply
    assert content.lookup("en", "levels.steer.short") not in reply  # the manager's level is not the teacher's


async def test_a_follow_up_in_a_new_language_keeps_the_topic(da):
    await _onboard(da)
    await da.send("hvad er servicedesign?")
    reply = await da.send("how do I get better at it?")
    assert content.t("en", "coaching.improve_title", name=coaching.competence_name("en", "service_design")) in reply


async def test_is_that_the_same_as_compares_the_last_answer_with_the_word_named(da):
    await _onboard(da)
    await da.send("hvad er en business case?")
    reply = await da.send("er det det samme som et udbud?")
    assert content.t("da", "area.compare_title", a="X", b="Y").split("X")[0] in reply  # "Forskellen på "
    for name in ("Business case", "Udbud"):
        assert name in reply


async def test_after_deletion_nothing_is_left_to_point_back_at(da):
    await _onboard(da)
    await da.send("hvad er en business case?")
    assert len(da.services.recent) == 1
    await da.send("slet mine data")
    await da.send("Ja, slet alt")
    assert len(da.services.recent) == 0
    reply = await da.send("og hvordan bliver jeg bedre til det?")
    assert coaching.competence_name("da", "business_cases") not in reply


async def test_a_typed_pick_after_did_you_mean_answers_that_one_as_asked(da):
    await _onboard(da)
    offer = await da.send("hvordan bliver vi bedre til det nye")
    assert content.t("da", "msg.did_you_mean") in offer
    offered = [b["data"]["competence"] for b in da.buttons() if b["data"].get("competence")]
    assert len(offered) >= 2
    reply = await da.send("den anden")
    name = coaching.competence_name("da", offered[1])
    assert content.t("da", "coaching.improve_title", name=name) in reply  # asked how to get better: the steps
    await da.send("hvordan bliver vi bedre til det nye")
    reply = await da.send("1")
    assert coaching.competence_name("da", offered[0]) in reply
    await da.send("hvordan bliver vi bedre til det nye")
    reply = await da.send(f"den {['første', 'anden', 'tredje'][len(offered) - 1]}")  # the last one offered
    assert coaching.competence_name("da", offered[-1]) in reply


async def test_a_new_question_after_did_you_mean_is_read_as_a_new_question(da):
    await _onboard(da)
    await da.send("hvordan bliver vi bedre til det nye")
    reply = await da.send("hvad er en business case?")
    assert content.lookup("da", "coaching.glossary.business_case")["term"] in reply


async def test_an_example_asked_before_a_pick_gets_the_offer_again_not_i_cant_help(da):
    """Nothing was answered yet after "Mente du …?": 'kan du give et eksempel?' gets the same
    options again (and '2' still picks), never the out-of-scope pointer."""
    await _onboard(da)
    await da.send("hvordan bliver vi bedre til det nye")
    offered = [b["data"]["competence"] for b in da.buttons() if b["data"].get("competence")]
    reply = await da.send("kan du give et eksempel?")
    assert content.t("da", "msg.did_you_mean_again") in reply
    assert content.t("da", "msg.out_of_scope")[:30] not in reply
    assert [b["data"]["competence"] for b in da.buttons() if b["data"].get("competence")] == offered
    reply = await da.send("2")
    assert coaching.competence_name("da", offered[1]) in reply
    reply = await da.send("hvornår har HR åbent?")  # not ours, whatever came before
    assert content.t("da", "msg.out_of_scope")[:30] in reply
    await da.send("hvordan bliver vi bedre til det nye")
    reply = await da.send("hvornår er det frokost?")  # a pointing word alone asks nothing of the offer
    assert content.t("da", "msg.did_you_mean_again") not in reply
    assert content.t("da", "msg.out_of_scope")[:30] in reply
    await da.send("hvordan bliver vi bedre til det nye")
    reply = await da.send("can you give an example?")  # the offer again, in the language asked
    assert content.t("en", "msg.did_you_mean_again") in reply


async def test_a_pick_is_answered_in_the_language_of_the_unsure_question(en):
    """Teams in English, the question in Danish: '2' carries no language of its own."""
    await _onboard(en)
    await en.send("hvordan bliver vi bedre til det nye")
    offered = [b["data"]["competence"] for b in en.buttons() if b["data"].get("competence")]
    reply = await en.send("2")
    assert content.t("da", "coaching.improve_title", name=coaching.competence_name("da", offered[1])) in reply


async def test_more_after_an_answer_is_what_it_left_out_never_the_same_answer_again(da):
    await _onboard(da)
    name = coaching.competence_name("da", "business_cases")
    steps = await da.send("hvordan bliver jeg bedre til business cases?")
    assert content.t("da", "coaching.improve_title", name=name) in steps
    more = await da.send("kan du give et eksempel?")
    assert content.t("da", "coaching.more_title", name=name) in more
    assert content.t("da", "coaching.improve_title", name=name) not in more
    # all three steps are above it: no button for 'more steps'
    assert content.t("da", "coaching.more_steps_button") not in [b["title"] for b in da.buttons()]
    # asking how to get better again right after the steps: what they left out, not the same steps
    await da.send("hvordan bliver jeg bedre til business cases?")
    again = await da.send("og hvordan bliver jeg bedre til det?")
    assert content.t("da", "coaching.more_title", name=name) in again
    assert content.t("da", "coaching.improve_title", name=name) not in again


async def test_an_example_after_where_to_start_is_about_the_competence_it_named(da):
    await _onboard(da)
    await da.send("hvad skal jeg starte med?")
    profile = (await da.users.get(da.key))["profile"]
    first = coaching.role_competences(profile["role"], profile["level"])[0]
    more = await da.send("kan du give et eksempel?")
    assert content.t("da", "coaching.more_title", name=coaching.competence_name("da", first)) in more
    assert content.t("da", "coaching.start_here") not in more


async def test_an_example_after_a_sub_areas_answer_is_its_longer_version(da):
    await _onboard(da)
    short = await da.send("hvad går innovation ud på?")
    longer = await da.send("kan du give et eksempel?")
    assert longer != short and len(longer) > len(short)


@pytest.mark.parametrize(
    ("typed", "picked"),
    [
        ("den tredje", "trends"),
        ("the second", "see_possibilities"),
        ("nr. 1", "drive_change"),
        ("det andet", "see_possibilities"),
        ("ved ikke", None),  # none of them
        ("hvordan kortlægger jeg arbejdsgange?", None),  # a new question, never a part of a label
    ],
)
def test_a_typed_pick_by_place_number_or_name(typed, picked):
    from dialogs.answering import _labels, picked_from_offer

    last = Recent("innovation", intent="improve", offered=("drive_change", "see_possibilities", "trends"))
    got = picked_from_offer(typed, last)
    assert (got.competence if got else None) == picked
    name = _labels("trends")[0]  # its button, typed as it reads
    assert picked_from_offer(name, last).competence == "trends"


async def test_after_a_how_to_about_a_sub_area_a_follow_up_is_about_the_competence_its_steps_were_for(da):
    """'hvad skal jeg starte med?' after Innovation gets one competence's steps; 'hvor lang tid
    tager det?' after that is about that competence, not Innovation's answer again."""
    await _onboard(da)
    await da.send("hvad går innovation ud på?")
    steps = await da.send("hvad skal jeg starte med?")
    profile = (await da.users.get(da.key))["profile"]
    first = answers.focus_competences("innovation", profile["role"], profile["level"])[0]
    name = coaching.competence_name("da", first)
    assert content.t("da", "coaching.improve_title", name=name) in steps
    reply = await da.send("hvor lang tid tager det?")
    assert name in reply and content.t("da", "coaching.improve_title", name=name) not in reply
    assert content.t("da", "msg.answer_next_step", name="innovation") not in reply
