"""Forged answers are refused with a clear answer in the person's language and change
nothing: an option that was not offered (a forged button on Telegram, a typed number or
label on Zalo and Telegram alike), and a council decision by someone without the role."""

import pytest
from sqlmodel import Session, select

from bot.app import Core
from core.messages import t
from storage.models import ConversationState, Initiative, Member, OutboxMessage
from tests.conftest import DEMO_CODE
from tests.e2e.conftest import EVERY_CLIENT, Leading, Messenger, submit
from tests.e2e.people import TelegramPerson, text_of
from views.labels import LANGUAGE_LABELS


def step_of(core: Core, user_id: str) -> str | None:
    with Session(core.engine) as session:
        state = session.exec(
            select(ConversationState).where(ConversationState.user_id == user_id)
        ).one()
        return state.step


@pytest.mark.parametrize("messenger", EVERY_CLIENT, indirect=True)
async def test_answers_that_were_not_offered_are_refused_and_change_nothing(
    core: Core, unit_id: int, messenger: Messenger, bot: Leading
) -> None:
    person = messenger.person(6001)
    await person.say(f"/start {DEMO_CODE}")
    pick_one = core.catalogs.render(t("common.pick_option"), "vi")
    if isinstance(person, TelegramPerson):  # a consent button before it was offered
        assert await person.press("consent:yes") == pick_one
        assert await person.silence(0.2) == []  # the notice at the button said it all
    for typed in ("4", "Tiếng Pháp", "/done"):  # three languages are offered
        refusal, again = await person.say(typed, expect=2)
        assert refusal.text == pick_one
        assert [label for label, _ in again.options] == [
            core.catalogs.render(label, "vi") for label in LANGUAGE_LABELS.values()
        ]
    assert step_of(core, person.user_id) == "onboarding.language"
    with Session(core.engine) as session:
        assert session.exec(select(Member)).all() == []
    consent = await person.choose(LANGUAGE_LABELS["en"], expect=2)  # then it goes on
    assert "Do you agree" in text_of(consent)


async def test_a_council_decision_without_the_role_is_refused_and_changes_nothing(
    core: Core, enterprise: int, messenger: Messenger, bot: Leading
) -> None:
    worker, reviewer = messenger.person(6101), messenger.person(6102, "Bao Tran")
    await worker.join(DEMO_CODE)
    await reviewer.join(DEMO_CODE, "en")  # refusals come in the person's language
    await submit(worker, "Máy dán nhãn tự động")
    await bot.settle(worker, reviewer)
    nothing = core.catalogs.render(t("review.queue_empty"), "vi")
    assert text_of(await worker.say("/review")) == nothing  # a worker sits on no council

    messenger.grant(reviewer, "reviewer", enterprise)
    await reviewer.say("/review")
    card = await reviewer.choose(t("review.opt_open", id=1))
    assert "Máy dán nhãn tự động" in card[0].text
    for typed in ("7", "Approve all"):  # no such option: asked again
        refusal, again = await reviewer.say(typed, expect=2)
        assert (
            refusal.text
            == "Please choose one of the options (the button, its number or its text)."
        )
        assert "Máy dán nhãn tự động" in again.text and again.options
    messenger.revoke(reviewer, "reviewer", enterprise)  # while the card is open
    not_allowed = core.catalogs.render(t("review.not_allowed"), "en")
    assert await reviewer.refused(t("review.opt_approve")) == not_allowed

    assert step_of(core, reviewer.user_id) is None  # the card is closed, nothing decided
    with Session(core.engine) as session:
        initiative = session.exec(select(Initiative)).one()
        assert (initiative.status, initiative.verified_benefit_vnd) == ("under_review", None)
        notices = session.exec(select(OutboxMessage)).all()
        assert [n.content["text"]["$text"] for n in notices] == ["notice.received"]
