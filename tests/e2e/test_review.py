"""A round of review on each messenger: submit, changes requested, resubmit, approve;
each author and council member gets one notice per step, in their own language."""

from sqlmodel import Session, select

from bot.app import Core
from core.messages import t
from services.levels import LEVEL_LABELS
from storage.models import Initiative
from tests.conftest import DEMO_CODE
from tests.e2e.conftest import Leading, Messenger
from tests.e2e.people import Person
from views.labels import FIELD_LABELS

PHOTO = b"\x89PNG\r\n\x1a\n" + b"the line " * 40
# A phrase only each notice has, in the language of its recipient.
WORKER_NOTICES = {  # the worker reads English
    "has been received": "received",
    "asks you to revise": "changes",
    "has been recognized": "approved",
}
REVIEWER_NOTICE = "chờ bạn xem xét"  # the reviewer reads Vietnamese


async def open_card(reviewer: Person, initiative_id: int) -> str:
    """Open the council's queue and the initiative's card; return the card."""
    await reviewer.say("/review")
    (card,) = await reviewer.choose(t("review.opt_open", id=initiative_id))
    return card.text


async def test_a_round_of_review_notifies_each_person_once_per_step_in_their_language(
    core: Core, enterprise: int, messenger: Messenger, bot: Leading
) -> None:
    worker, reviewer = messenger.person(8101, "Ann"), messenger.person(8102, "Bảo")
    await worker.join(DEMO_CODE, "en")
    await reviewer.join(DEMO_CODE, "vi")
    messenger.grant(reviewer, "reviewer", enterprise)

    await worker.say("/new", expect=2)
    await worker.say("Automatic labelling machine")
    await worker.say("Labels are stuck on by hand, which takes a long time")
    await worker.say("Fit a sensor and an automatic labeller on the line")
    await worker.choose(FIELD_LABELS["technical"])
    await worker.say("120 million", expect=2)
    await worker.choose(t("wizard.opt_submit_now"), expect=2)
    await bot.settle(worker, reviewer)
    with Session(core.engine) as session:
        initiative_id = session.exec(select(Initiative)).one().id or 0
    await worker.say("/my")
    await worker.choose(t("my.opt_open", id=initiative_id))
    await worker.choose(t("edit.attachments"))
    await worker.send_photo(PHOTO)
    await worker.say("/done")
    await worker.choose(t("wizard.opt_done"))

    card = await open_card(reviewer, initiative_id)
    assert "Automatic labelling machine" in card
    assert "History" not in card and "Lịch sử" in card  # in the reviewer's language
    header, photo = await reviewer.choose(t("review.opt_files", count=1), expect=2)
    assert "(1)" in header.text and photo.picture  # the worker's photo, on either messenger
    await reviewer.choose(t("review.opt_changes"), edited=1)  # the card keeps the choice
    assert (await reviewer.shown("→ Đề nghị bổ sung")).options == ()
    await reviewer.say("Bổ sung ảnh chụp dây chuyền")
    await bot.settle(worker, reviewer)

    await worker.say("/my")
    (mine,) = await worker.choose(t("my.opt_open", id=initiative_id))
    assert "History:" in mine.text
    assert "Bổ sung ảnh chụp dây chuyền" in mine.text  # the council's comment
    await worker.choose(t("wizard.opt_resubmit"))
    await bot.settle(worker, reviewer)

    await open_card(reviewer, initiative_id)
    await reviewer.choose(t("review.opt_approve"), edited=1)
    await reviewer.say("100 triệu")
    await reviewer.choose(LEVEL_LABELS["grassroots"], edited=1)  # the question: approved
    assert "7.000.000 đ" in (await reviewer.shown("7.000.000 đ")).text  # 7% a year
    await reviewer.choose(t("review.opt_done"), expect=0, edited=1)
    await reviewer.shown(reviewer.label(t("review.done")))
    await bot.settle(worker, reviewer)

    sent_to_worker = [m.text for m in await worker.messages()]
    notices = [
        name
        for text in sent_to_worker
        for phrase, name in WORKER_NOTICES.items()
        if phrase in text
    ]
    assert notices == ["received", "changes", "received", "approved"]
    changes = next(text for text in sent_to_worker if "asks you to revise" in text)
    assert "Bổ sung ảnh chụp dây chuyền" in changes  # the comment, word for word
    approval = next(text for text in sent_to_worker if "has been recognized" in text)
    assert "100,000,000" in approval or "100.000.000" in approval
    to_reviewer = [m.text for m in await reviewer.messages()]
    assert sum(REVIEWER_NOTICE in text for text in to_reviewer) == 2  # submitted, resubmitted
    with Session(core.engine) as session:
        decided = session.get(Initiative, initiative_id)
        assert decided is not None
        assert (decided.status, decided.level) == ("approved", "grassroots")
        assert decided.verified_benefit_vnd == 100_000_000
