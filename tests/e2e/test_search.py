"""Similar initiatives and /search end to end, on each messenger (issue 19)."""

from sqlmodel import select

from bot.app import Core
from core.messages import t
from services import initiatives, review, roles
from services.levels import LEVEL_LABELS
from storage.db import transaction
from storage.models import Initiative, Member, Unit
from tests.conftest import DEMO_CODE, Clock
from tests.e2e.conftest import Leading, Messenger
from tests.e2e.people import text_of

TITLE = "Đồ gá thay khuôn nhanh máy ép <nhựa>"  # markup typed by a person is text


def recognized_in_the_workshop(core: Core, unit_id: int, clock: Clock) -> int:
    """A colleague's initiative, approved by the enterprise's council."""
    with transaction(core.engine) as session:
        shop = session.get(Unit, unit_id)
        assert shop is not None and shop.parent_id is not None
        enterprise = session.get(Unit, shop.parent_id)
        assert enterprise is not None
        people = [
            Member(
                unit_id=unit.id or 0,
                display_name=name,
                language="vi",
                consent_at=clock(),
                created_at=clock(),
            )
            for unit, name in ((shop, "Trần Thị Bình"), (enterprise, "Hội đồng"))
        ]
        session.add_all(people)
        session.flush()
        colleague, council = people
        roles.grant(session=session, member=council, unit=enterprise, role="reviewer", now=clock())
        draft = initiatives.start_draft(session=session, member=colleague, now=clock())
        draft.title = TITLE
        draft.problem = "Thay khuôn máy ép mất 45 phút"
        draft.solution = "Đồ gá định vị, thay khuôn trong 10 phút"
        draft.field = "technical"
        draft.estimated_benefit_vnd = 200_000_000
        initiatives.submit(session=session, member=colleague, initiative=draft, now=clock())
        review.approve(
            session=session,
            reviewer=council,
            initiative_id=draft.id or 0,
            benefit_vnd=150_000_000,
            level="grassroots",
            now=clock(),
        )
        return draft.id or 0


async def test_a_worker_finds_it_without_accents_sees_the_warning_and_submits_anyway(
    core: Core, unit_id: int, clock: Clock, messenger: Messenger, bot: Leading
) -> None:
    first = recognized_in_the_workshop(core, unit_id, clock)
    worker = messenger.person(5101)
    await worker.join(DEMO_CODE)
    found = text_of(await worker.say("/search khuon ep nhua"))
    assert TITLE in found  # as typed: escaped on Telegram, plain on Zalo
    assert "Xưởng 1" in found and "150.000.000 đ" in found
    card = text_of(await worker.choose(f"#{first}"))
    assert "10 phút" in card

    await worker.say("/new", expect=2)
    await worker.say("do ga thay khuon nhanh cho may ep nhua")
    await worker.say("Mỗi lần thay khuôn máy ép mất gần một tiếng")
    await worker.say("Làm đồ gá định vị để thay khuôn nhanh")
    await worker.choose("Cải tiến kỹ thuật", typed=True)
    await worker.say("100 triệu", expect=2)
    warning = text_of(await worker.choose(t("wizard.opt_submit_now")))
    assert f"#{first}" in warning and TITLE in warning
    done = text_of(await worker.choose(t("wizard.opt_submit_anyway"), expect=2))
    assert f"#{first + 1}" in done
    with transaction(core.engine) as session:
        mine = session.exec(select(Initiative).where(Initiative.id == first + 1)).one()
        assert mine.status == "submitted"


async def test_a_reviewer_sees_the_look_alike_opens_it_and_confirms_before_approving(
    core: Core, unit_id: int, enterprise: int, clock: Clock, messenger: Messenger, bot: Leading
) -> None:
    first = recognized_in_the_workshop(core, unit_id, clock)
    worker, reviewer = messenger.person(5201), messenger.person(5202, "Bảo")
    await worker.join(DEMO_CODE)
    await reviewer.join(DEMO_CODE)
    messenger.grant(reviewer, "reviewer", enterprise)
    await worker.say("/new", expect=2)
    await worker.say("Đồ gá thay khuôn nhanh cho máy ép nhựa")
    await worker.say("Thay khuôn máy ép mất gần một tiếng")
    await worker.say("Đồ gá định vị để thay khuôn nhanh")
    await worker.choose("Cải tiến kỹ thuật", typed=True)
    await worker.say("100 triệu", expect=2)
    await worker.choose(t("wizard.opt_submit_now"))
    await worker.choose(t("wizard.opt_similar_differs"))
    await worker.say("Dùng cho máy ép 250 tấn", expect=2)
    await bot.settle(worker, reviewer)
    second = first + 1

    await reviewer.say("/review")
    (card,) = await reviewer.choose(t("review.opt_open", id=second))
    assert f"#{first} {TITLE}" in card.text  # the look-alike, with its status and unit
    assert "được công nhận, Xưởng 1" in card.text and "Dùng cho máy ép 250 tấn" in card.text
    (opened,) = await reviewer.choose(t("review.opt_similar", id=first))
    assert "thay khuôn trong 10 phút" in opened.text  # its solution
    await reviewer.choose(t("review.opt_approve"), edited=1)
    asked = await reviewer.question()
    assert f"#{first} {TITLE}" in asked.text and "Sáng kiến tương tự" not in asked.text
    await reviewer.choose(t("review.opt_approve_anyway"))
    await reviewer.say("100 triệu")
    await reviewer.choose(LEVEL_LABELS["grassroots"], edited=1)
    await reviewer.choose(t("review.opt_done"), expect=0, edited=1)
    await bot.settle(worker, reviewer)
    with transaction(core.engine) as session:
        decided = session.get(Initiative, second)
        assert decided is not None and decided.status == "approved"
        assert decided.difference == "Dùng cho máy ép 250 tấn"
