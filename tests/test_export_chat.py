"""/export in chat: a workbook of the subtrees a member reviews, leads or organizes, in
their language; nobody else gets one, and a subtree too large for chat is refused."""

import io

import openpyxl
import pytest

from bot.app import Core
from core.messages import Reply
from services import roles
from storage.db import transaction
from storage.models import Member, Unit
from tests.person import Person
from tests.queued import queued
from tests.test_export_xlsx import Exported, column, exported
from tests.tree import Tree

__all__ = ["exported"]  # the fixture, shared with the CLI export's tests


def sent(core: Core, person: Person, text: str = "/export") -> list[Reply]:
    """Send /export and return the messages it queued, their workbooks made as when
    they are sent; the answer itself only says they are being prepared."""
    before = {row.id for row, _ in queued(core, chat_id=person.user_id)}
    person.say(text)
    assert person.last is not None
    answered = {reply.text.key for reply in person.last.replies}
    assert answered <= {"export.preparing", "export.nothing", "export.too_many"}
    assert not any(reply.documents for reply in person.last.replies)  # none in the update
    return [reply for row, reply in queued(core, chat_id=person.user_id) if row.id not in before]


def workbooks(core: Core, person: Person, text: str = "/export") -> list[openpyxl.Workbook]:
    """Send /export and open every workbook it queued."""
    return [
        openpyxl.load_workbook(io.BytesIO(document.content))
        for reply in sent(core, person, text)
        for document in reply.documents
    ]


def test_a_council_member_gets_their_subtree_in_their_language(
    core: Core, exported: Exported
) -> None:
    first, second, third = exported.ids
    reviewer = Person(core.dispatcher, "reviewer", channel="telegram")  # Công ty A, vi
    (reply,) = sent(core, reviewer)
    assert reviewer.last is not None
    (preparing,) = reviewer.last.replies
    assert preparing.text.params == {"unit": "Công ty A", "count": 2}
    assert reply.text.key == "export.sent" and reply.text.params["count"] == 2
    (document,) = reply.documents
    assert document.file_name.startswith("sang-kien-cong-ty-a-")
    assert document.file_name.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(document.content))
    assert book.sheetnames == ["Sáng kiến", "Tổng hợp"]
    assert column(book["Sáng kiến"], "A") == [first, second]  # not Công ty B's


def test_nested_roles_give_one_workbook_and_a_campaign_narrows_it(
    core: Core, exported: Exported
) -> None:
    first, second, third = exported.ids
    superior = Person(core.dispatcher, "superior", channel="telegram")  # the zone, id
    (book,) = workbooks(core, superior)  # reviewer and organizer of the zone: one subtree
    assert book.sheetnames == ["Inisiatif", "Ringkasan"]
    assert column(book["Inisiatif"], "A") == [first, second, third]
    (campaign,) = workbooks(core, superior, "/export dot cao diem quy IV")
    assert column(campaign["Inisiatif"], "A") == [first, second]
    assert superior.say("/export Tết") == ["cli.campaign_unknown"]


@pytest.mark.parametrize("who", ["worker", "coauthor", "revoked"])
def test_members_without_a_role_over_a_unit_get_no_workbook(
    core: Core, exported: Exported, who: str
) -> None:
    person = Person(core.dispatcher, who, channel="telegram")
    assert person.say("/export") == ["export.not_allowed"]
    assert person.last is not None and not person.last.replies[0].documents


def test_a_subtree_larger_than_chat_takes_is_refused_with_what_to_do(
    core: Core, exported: Exported
) -> None:
    core.settings.chat_export_max_rows = 1
    reviewer = Person(core.dispatcher, "reviewer", channel="telegram")
    assert reviewer.say("/export") == ["export.too_many"]
    assert reviewer.last is not None
    assert reviewer.last.replies[0].text.params == {"unit": "Công ty A", "count": 2, "limit": 1}
    assert not reviewer.last.replies[0].documents


def test_a_subtree_with_nothing_in_it_says_so(core: Core, exported: Exported) -> None:
    sibling = Person(core.dispatcher, "sibling", channel="telegram")  # Công ty B: one
    assert [len(column(book["Sáng kiến"], "A")) for book in workbooks(core, sibling)] == [1]
    assert sibling.say("/export dot cao diem quy iv") == ["export.nothing"]


def test_a_right_lost_before_the_workbook_is_made_sends_the_refusal_instead(
    core: Core, exported: Exported, tree: Tree
) -> None:
    """The workbook is made when its message goes out; the right to it is checked then
    too (a queued message's parameters prove nothing either)."""
    reviewer = Person(core.dispatcher, "reviewer", channel="telegram")
    reviewer.say("/export")
    with transaction(core.engine) as session:
        member, unit = session.get(Member, tree.people["reviewer"]), session.get(Unit, tree.a)
        assert member is not None and unit is not None
        roles.revoke(session=session, member=member, unit=unit, role="reviewer")
    (reply,) = [r for _, r in queued(core, chat_id="reviewer") if r.text.key.startswith("export")]
    assert reply.text.key == "export.not_allowed" and not reply.documents
