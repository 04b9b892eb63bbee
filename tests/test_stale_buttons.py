"""A button names its object: a press on an older message changes nothing (issue 14, 3)."""

from sqlmodel import func, select

from bot.app import Core
from core.messages import t
from services import initiatives
from storage.db import reading, transaction
from storage.models import Broadcast, Campaign, Initiative, OutboxMessage, StatusChange, Unit
from tests.conftest import Clock
from tests.person import Person
from tests.test_campaigns import create, organizer
from tests.tree import UNLIKE, Tree, person, submitted

REASON = "Chưa chứng minh được hiệu quả"


def refusal(who: Person) -> str:
    """Return the key of the refusal the last press got (at the button, or as a message)."""
    assert who.last is not None
    if who.last.toast is not None:
        return who.last.toast.key
    return who.last.replies[0].text.key


def statuses(core: Core) -> dict[int, str]:
    with reading(core.engine) as session:
        return {i.id or 0: i.status for i in session.exec(select(Initiative)).all()}


def writes(core: Core) -> tuple[int, int]:
    """Count the status changes and the queued messages: a refused press adds neither."""
    with reading(core.engine) as session:
        changes = session.exec(select(func.count()).select_from(StatusChange)).one()
        queued = session.exec(select(func.count()).select_from(OutboxMessage)).one()
        return changes, queued


def opened(reviewer: Person, initiative_id: int) -> None:
    """Run /review and open one card, as a reviewer does."""
    assert reviewer.say("/review") == ["review.queue"]
    assert reviewer.say(choice=f"review:{initiative_id}") == ["review.card"]


def test_reject_under_an_older_card_is_refused_and_rejects_nothing(
    core: Core, tree: Tree, clock: Clock
) -> None:
    first, second = submitted(core, tree, clock), submitted(core, tree, clock, **UNLIKE)
    reviewer = Person(core.dispatcher, "reviewer", channel="telegram")
    opened(reviewer, first)
    assert f"act:reject:{first}" in reviewer.options
    opened(reviewer, second)
    assert all(len(value.encode()) < 64 for value in reviewer.options)  # Telegram's limit
    before = writes(core)
    reviewer.say(choice=f"act:reject:{first}")  # under #1's card, while #2 is open
    assert refusal(reviewer) == "common.stale_card"
    # The reason that would have followed finds #2's card still waiting for a decision.
    assert reviewer.say(REASON) == ["common.pick_option", "review.card"]
    assert statuses(core) == {first: "under_review", second: "under_review"}  # opened
    assert writes(core) == before
    # The open card's own button, and its label typed, still work.
    typed = core.catalogs.render(t("review.opt_reject"), "vi")
    assert reviewer.say(typed) == ["review.chosen", "review.ask_reason"]
    assert reviewer.say(REASON) == ["review.rejected"]
    assert statuses(core) == {first: "under_review", second: "rejected"}


def test_a_command_is_no_reason_to_reject_or_comment(core: Core, tree: Tree, clock: Clock) -> None:
    first = submitted(core, tree, clock)
    reviewer = Person(core.dispatcher, "reviewer", channel="telegram")
    opened(reviewer, first)
    reviewer.press("act:reject")
    assert reviewer.say("/skip") == ["wizard.cannot_skip", "review.ask_reason"]
    assert reviewer.say("/done") == ["wizard.need_text", "review.ask_reason"]
    assert statuses(core) == {first: "under_review"}  # rejection is final: not on a command
    assert reviewer.say(REASON) == ["review.rejected"]


def test_a_level_under_an_older_approval_is_refused_and_approves_nothing(
    core: Core, tree: Tree, clock: Clock
) -> None:
    first, second = submitted(core, tree, clock), submitted(core, tree, clock, **UNLIKE)
    reviewer = Person(core.dispatcher, "reviewer", channel="telegram")
    opened(reviewer, first)
    reviewer.say(choice=f"act:approve:{first}")
    assert reviewer.say("100 triệu") == ["review.ask_level"]
    assert f"level:grassroots:{first}" in reviewer.options
    opened(reviewer, second)
    reviewer.say(choice=f"act:approve:{second}")
    assert reviewer.say("200 triệu") == ["review.ask_level"]
    before = writes(core)
    reviewer.say(choice=f"level:grassroots:{first}")
    assert refusal(reviewer) == "common.stale_card"
    assert statuses(core) == {first: "under_review", second: "under_review"}  # opened
    assert writes(core) == before
    assert reviewer.say(choice=f"level:grassroots:{second}") == [
        "review.approved",
        "review.ask_after",
    ]
    with reading(core.engine) as session:
        approved = session.get(Initiative, second)
        assert approved is not None and approved.verified_benefit_vnd == 200_000_000
    assert statuses(core)[first] == "under_review"


def test_an_amend_button_of_an_initiative_opened_before_is_refused(
    core: Core, tree: Tree, clock: Clock
) -> None:
    first, second = submitted(core, tree, clock), submitted(core, tree, clock, **UNLIKE)
    worker = Person(core.dispatcher, "worker", channel="telegram")
    worker.say("/my")
    assert worker.say(choice=f"open:{first}") == ["wizard.amend"]
    assert f"amend:effects:{first}" in worker.options
    worker.say("/my")
    assert worker.say(choice=f"open:{second}") == ["wizard.amend"]
    for stale in (f"amend:effects:{first}", f"amend:done:{first}"):
        worker.say(choice=stale)
        assert refusal(worker) == "common.stale_card"
    # Still on #2's menu: text is not taken for #1's effects, nor for #2's.
    assert worker.say("Giảm phế phẩm 5%") == ["common.pick_option", "wizard.amend"]
    with reading(core.engine) as session:
        effects = [i.other_effects for i in session.exec(select(Initiative)).all()]
    assert effects == [None, None]
    typed = core.catalogs.render(t("edit.effects"), "vi")
    assert worker.say(typed) == ["wizard.ask_effects"]
    assert worker.say("Giảm phế phẩm 5%") == ["wizard.amend"]
    with reading(core.engine) as session:
        kept, changed = session.get(Initiative, first), session.get(Initiative, second)
        assert kept is not None and changed is not None
    assert (kept.other_effects, changed.other_effects) == (None, "Giảm phế phẩm 5%")


def test_a_wizard_answer_under_another_drafts_question_is_refused(
    core: Core, tree: Tree, clock: Clock
) -> None:
    first = submitted(core, tree, clock)
    worker = Person(core.dispatcher, "worker", channel="telegram")
    worker.say("/my")
    worker.say(choice=f"open:{first}")
    worker.say(choice=f"amend:confidential:{first}")
    assert worker.options == [f"secret:no:{first}", f"secret:yes:{first}"]
    worker.say("/cancel")
    worker.core_answers()  # a new draft, now at "submit now or add details?"
    with reading(core.engine) as session:
        draft = session.exec(select(Initiative).where(Initiative.status == "draft")).one()
    worker.say(choice=f"next:submit:{first}")
    assert refusal(worker) == "common.stale_card"
    assert statuses(core) == {first: "submitted", draft.id: "draft"}


def test_a_forged_button_naming_an_initiative_out_of_the_reviewers_reach_is_refused(
    core: Core, tree: Tree, clock: Clock
) -> None:
    mine = submitted(core, tree, clock)
    with transaction(core.engine) as session:  # an initiative reviewed by enterprise B
        b = session.get(Unit, tree.b)
        assert b is not None
        author = person(session, b, "worker_b", "vi", clock)
        draft = initiatives.start_draft(session=session, member=author, now=clock())
        draft.title, draft.field = "Băng tải tự động", "technical"
        draft.problem = "Vận chuyển bằng tay mất nhiều thời gian"
        draft.solution = "Lắp băng tải giữa hai công đoạn"
        initiatives.submit(session=session, member=author, initiative=draft, now=clock())
        elsewhere = draft.id or 0
    reviewer = Person(core.dispatcher, "reviewer", channel="telegram")
    opened(reviewer, mine)
    before = writes(core)
    for forged in (f"act:reject:{elsewhere}", f"act:approve:{elsewhere}"):
        reviewer.say(choice=forged)
        assert refusal(reviewer) == "review.not_allowed"
    assert statuses(core) == {mine: "under_review", elsewhere: "submitted"}
    assert writes(core) == before


def test_a_campaign_card_replaced_by_another_closes_nothing(
    core: Core, tree: Tree, clock: Clock
) -> None:
    boss = organizer(core, clock, tree.zone)
    older, newer = create(core, clock, boss, tree.zone), create(core, clock, boss, tree.zone)
    chat = Person(core.dispatcher, "organizer", channel="telegram")
    chat.say("/campaign")
    chat.say(choice=f"campaign:{older}")
    chat.say("/campaign")
    assert chat.say(choice=f"campaign:{newer}") == ["campaign.full_card"]
    chat.say(choice=f"card:close:{older}")
    assert refusal(chat) == "common.stale_card"
    assert chat.press("card:close") == ["campaign.ask_close"]
    chat.say(choice=f"close:yes:{older}")
    assert refusal(chat) == "common.stale_card"
    with reading(core.engine) as session:
        closed = [c.closed_at for c in session.exec(select(Campaign)).all()]
    assert closed == [None, None]


def test_send_under_an_earlier_announcements_preview_sends_nothing(
    core: Core, tree: Tree, clock: Clock
) -> None:
    organizer(core, clock, tree.a1)
    boss = Person(core.dispatcher, "organizer", channel="telegram")
    boss.say("/broadcast")
    boss.say("Họp tổ lúc 8h")
    boss.press("aud:go")
    earlier = [value for value in boss.options if value.startswith("send:now:")]
    boss.say("/broadcast")
    boss.say("Họp tổ dời sang 9h")
    boss.say(choice=earlier[0].replace("send:now", "aud:go"))
    assert refusal(boss) == "common.stale_card"
    boss.press("aud:go")
    boss.say(choice=earlier[0])
    assert refusal(boss) == "common.stale_card"
    with reading(core.engine) as session:
        assert session.exec(select(Broadcast)).all() == []
    assert boss.press("send:now") == ["broadcast.started"]
