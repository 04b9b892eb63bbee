"""The review card lists the organization's initiatives like the one opened, each can be
opened (no other through a forged press), and approving a look-alike asks once more."""

import pytest
from sqlmodel import select

from bot.app import Core
from core.errors import Refused
from core.messages import Reply
from services import initiatives, similar
from storage.db import transaction
from storage.models import Author, Initiative, Member
from tests.conftest import Clock
from tests.person import Person
from tests.test_review import act
from tests.tree import Tree, submitted


def submit_as(
    core: Core, clock: Clock, who: int, title: str, solution: str, *, confidential: bool
) -> int:
    """Submit an initiative of `who` with this title and solution."""
    with transaction(core.engine) as session:
        member = session.get(Member, who)
        assert member is not None
        draft = initiatives.start_draft(session=session, member=member, now=clock())
        draft.title, draft.field, draft.confidential = title, "technical", confidential
        draft.problem, draft.solution = "Tốn thời gian và điện năng", solution
        initiatives.submit(session=session, member=member, initiative=draft, now=clock())
        return draft.id or 0


def card_text(core: Core, person: Person) -> str:
    """The text of the last answer, rendered in Vietnamese."""
    assert person.last is not None
    reply: Reply = person.last.replies[-1]
    return core.catalogs.render(reply.text, "vi")


def test_the_card_lists_look_alikes_opens_them_and_asks_before_approving(
    monkeypatch: pytest.MonkeyPatch, core: Core, tree: Tree, clock: Clock
) -> None:
    first = submitted(core, tree, clock)
    act(core, clock, tree.people["reviewer"], "approve", first)
    worker, coauthor = tree.people["worker"], tree.people["coauthor"]
    other = submit_as(
        core, clock, worker, "Băng tải tiết kiệm điện", "Hẹn giờ ngắt băng tải", confidential=False
    )
    hidden = submit_as(
        core, clock, coauthor, "Máy dán nhãn tự động", "Cơ cấu dán tự động", confidential=True
    )
    second = submitted(core, tree, clock)
    with transaction(core.engine) as session:
        initiative = session.get(Initiative, second)
        assert initiative is not None
        initiative.difference = "Dùng cho dòng thùng carton lớn"

    council = Person(core.dispatcher, "reviewer", channel="telegram")
    council.say("/review")
    assert council.say(choice=f"review:{second}") == ["review.card_similar"]
    shown = card_text(core, council)
    assert f"#{first} Máy dán nhãn tự động — được công nhận, Xưởng A1" in shown
    assert "Dùng cho dòng thùng carton lớn" in shown  # how the authors say it differs
    assert f"#{other} " not in shown and f"#{hidden} " not in shown  # unlike; confidential
    assert f"sim:{first}:{second}" in council.shown
    assert council.press(f"sim:{first}") == ["review.similar_card"]
    assert "Lắp cảm biến và cơ cấu dán tự động" in card_text(core, council)
    # A press naming an initiative the card did not list opens nothing: the step knows
    # its options, and the services check again (a payload proves nothing).
    for forged in (other, hidden):
        refused = ["common.pick_option", "review.card_similar"]
        assert council.say(choice=f"sim:{forged}:{second}") == refused
        with transaction(core.engine) as session, pytest.raises(Refused) as no:
            reviewer = session.get(Member, tree.people["reviewer"])
            assert reviewer is not None
            similar.opened_for_review(
                session=session, reviewer=reviewer, initiative_id=second, similar_id=forged
            )
        assert no.value.text.key == "review.not_found"
    with transaction(core.engine) as session, pytest.raises(Refused) as no:
        sibling = session.get(Member, tree.people["sibling"])  # Công ty B's council
        assert sibling is not None
        similar.for_review(session=session, reviewer=sibling, initiative_id=second)
    assert no.value.text.key == "review.not_allowed"
    council.say("/review")
    council.say(choice=f"review:{second}")
    searches = []
    real_like = similar.like
    monkeypatch.setattr(similar, "like", lambda **kw: searches.append(1) or real_like(**kw))
    assert council.press("act:approve")[-2:] == ["review.chosen", "review.ask_duplicate"]
    # One search in the update: for the press's options, the answer and the question.
    assert len(searches) == 1
    monkeypatch.undo()
    assert council.press("dup:back") == ["review.card_similar"]
    council.press("act:approve")
    assert council.press("dup:approve") == ["review.ask_benefit"]


def test_a_card_with_nothing_alike_goes_straight_to_the_benefit(
    core: Core, tree: Tree, clock: Clock
) -> None:
    alone = submitted(core, tree, clock)
    council = Person(core.dispatcher, "reviewer", channel="telegram")
    council.say("/review")
    assert council.say(choice=f"review:{alone}") == ["review.card"]
    assert not [value for value in council.shown if value.startswith("sim:")]
    assert council.press("act:approve")[-1] == "review.ask_benefit"
    with transaction(core.engine) as session:
        authors = session.exec(select(Author).where(Author.initiative_id == alone)).all()
    assert [a.member_id for a in authors] == [tree.people["worker"]]
