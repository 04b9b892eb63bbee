"""Before submitting, a worker sees the initiatives like theirs; it never blocks."""

from sqlmodel import select

from bot.app import Core
from storage.db import transaction
from storage.models import Initiative, Member
from tests.conftest import Clock
from tests.person import Person
from tests.test_search import as_member, recognized
from tests.tree import Tree


def draft_like_the_recognized_one(person: Person) -> list[str]:
    """Answer the five questions with the recognized initiative's words, without accents."""
    person.say("/new")
    person.say("may dan nhan tu dong")
    person.say("Dán nhãn bằng tay rất chậm")
    person.say("Lắp cảm biến và cơ cấu dán tự động")
    person.press("field:technical")
    return person.say("50 triệu")


def test_a_worker_sees_the_similar_one_and_submits_anyway(
    core: Core, tree: Tree, clock: Clock
) -> None:
    first = recognized(core, tree, clock)
    colleague = as_member(core, "coauthor")
    draft_like_the_recognized_one(colleague)
    assert colleague.press("next:submit") == ["wizard.similar"]
    assert colleague.last is not None
    (line,) = colleague.last.replies[-1].text.params["lines"].items
    assert line.key == "wizard.similar_line" and line.params["id"] == first
    assert line.params["unit"] == "Xưởng A1"
    assert colleague.press("similar:submit") == ["wizard.submitted", "wizard.complete_later"]
    with transaction(core.engine) as session:
        mine = session.get(Initiative, first + 1)
        assert mine is not None and mine.status == "submitted" and mine.difference is None


def test_a_worker_says_how_theirs_differs_and_the_council_can_read_it(
    core: Core, tree: Tree, clock: Clock
) -> None:
    recognized(core, tree, clock)
    colleague = as_member(core, "coauthor")
    draft_like_the_recognized_one(colleague)
    colleague.press("next:details")
    colleague.say("/skip")  # effects
    colleague.press("authors:alone")
    colleague.press("applied:no")
    colleague.say("/done")  # no attachments
    assert colleague.press("secret:no") == ["wizard.summary"]
    assert colleague.press("summary:submit") == ["wizard.similar"]
    assert colleague.press("similar:differs") == ["wizard.ask_differs"]
    reason = "Cho máy dán nhãn thùng carton, không phải chai"
    assert colleague.say(reason) == ["wizard.submitted", "wizard.track_with_my"]
    with transaction(core.engine) as session:
        worker = session.get(Member, tree.people["coauthor"])
        assert worker is not None
        mine = session.exec(select(Initiative).where(Initiative.submitter_id == worker.id)).one()
        assert mine.difference == reason and mine.status == "submitted"


def test_nothing_alike_elsewhere_or_secret_elsewhere_is_shown(
    core: Core, tree: Tree, clock: Clock
) -> None:
    first = recognized(core, tree, clock, confidential=True)
    other_enterprise = as_member(core, "sibling")
    draft_like_the_recognized_one(other_enterprise)
    assert other_enterprise.press("next:submit")[0] == "wizard.submitted"
    same_enterprise_other_unit = as_member(core, "reviewer")
    draft_like_the_recognized_one(same_enterprise_other_unit)
    assert same_enterprise_other_unit.press("next:submit")[0] == "wizard.submitted"
    same_unit = as_member(core, "coauthor")
    draft_like_the_recognized_one(same_unit)
    assert same_unit.press("next:submit") == ["wizard.similar"]
    assert same_unit.last is not None
    ids = [line.params["id"] for line in same_unit.last.replies[-1].text.params["lines"].items]
    assert first in ids and first + 1 not in ids  # enterprise B's stays out
