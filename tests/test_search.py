"""/search: recognized initiatives of one's enterprise and one's own, accents optional."""

import pytest

from bot.app import Core
from core.errors import Refused
from core.messages import Text
from locales import escape_html
from services import answers
from services.search import readable
from storage import search
from storage.db import transaction
from storage.models import Initiative, Member
from tests.conftest import Clock
from tests.person import Person
from tests.test_review import act
from tests.tree import Tree, submitted


def as_member(core: Core, name: str) -> Person:
    """Talk to the bot as one of the tree's people (they joined on Telegram)."""
    return Person(core.dispatcher, user_id=name, channel="telegram")


def recognized(core: Core, tree: Tree, clock: Clock, confidential: bool = False) -> int:
    """Submit the worker's initiative ("Máy dán nhãn tự động") and have it approved."""
    initiative_id = submitted(core, tree, clock)
    if confidential:
        with transaction(core.engine) as session:
            worker = session.get(Member, tree.people["worker"])
            assert worker is not None
            edit = answers.Edit(session, worker, initiative_id, clock())
            answers.set_confidential(edit, True)
    act(core, clock, tree.people["reviewer"], "approve", initiative_id)
    return initiative_id


def lines(person: Person) -> list[Text]:
    """Return the lines of the result list the person was shown last."""
    assert person.last is not None
    found = person.last.replies[-1].text.params["lines"]
    return list(found.items)


def test_words_without_accents_find_the_accented_title(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = recognized(core, tree, clock)
    council = as_member(core, "reviewer")
    assert council.say("/search may DAN nhan") == ["search.results"]
    (line,) = lines(council)
    assert line.key == "search.line"
    assert line.params["id"] == initiative_id and line.params["unit"] == "Xưởng A1"
    assert line.params["benefit"].vnd == 100_000_000
    assert council.options == [f"open:{initiative_id}"]
    assert council.press("open") == ["search.card"]


def test_another_enterprise_and_unrecognized_initiatives_stay_out(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    assert as_member(core, "reviewer").say("/search dán nhãn") == ["search.none"]
    author = as_member(core, "worker")
    assert author.say("/search dán nhãn") == ["search.results"]
    assert [line.key for line in lines(author)] == ["search.line_own"]
    act(core, clock, tree.people["reviewer"], "approve", initiative_id)
    assert as_member(core, "sibling").say("/search dán nhãn") == ["search.none"]
    assert as_member(core, "reviewer").say("/search dán nhãn") == ["search.results"]


def test_a_confidential_initiative_shows_its_title_to_its_unit_only(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = recognized(core, tree, clock, confidential=True)
    same_unit = as_member(core, "coauthor")
    assert same_unit.say("/search dan nhan") == ["search.results"]
    assert [line.key for line in lines(same_unit)] == ["search.line_confidential"]
    assert same_unit.options == []
    assert same_unit.say(choice=f"open:{initiative_id}")[0] == "common.stale_button"
    with transaction(core.engine) as session, pytest.raises(Refused):
        member = session.get(Member, tree.people["coauthor"])
        assert member is not None
        readable(session=session, member=member, initiative_id=initiative_id)
    assert same_unit.say("/search cảm biến") == ["search.none"]  # its solution's words
    assert as_member(core, "reviewer").say("/search dan nhan") == ["search.none"]
    author = as_member(core, "worker")
    author.say("/search dan nhan")
    assert [line.key for line in lines(author)] == ["search.line"]
    assert author.press("open") == ["search.card"]


def test_search_asks_for_words_and_refuses_only_function_words(
    core: Core, tree: Tree, clock: Clock
) -> None:
    recognized(core, tree, clock)
    council = as_member(core, "reviewer")
    assert council.say("/search") == ["search.ask_words"]
    assert council.say("và là") == ["search.no_words", "search.ask_words"]
    assert council.say("nhãn tự động") == ["search.results"]
    assert council.say("băng tải") == ["search.none"]  # typed again: a new search


def test_a_title_is_escaped_for_html_and_a_new_title_is_found(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = recognized(core, tree, clock)
    with transaction(core.engine) as session:
        worker = session.get(Member, tree.people["worker"])
        assert worker is not None
        initiative = session.get(Initiative, initiative_id)
        assert initiative is not None
        initiative.title = "Máy <b>dán</b> nhãn & gấp hộp"
        search.refresh(session=session, initiative_ids=[initiative_id])
    council = as_member(core, "reviewer")
    assert council.say("/search gap hop") == ["search.results"]
    assert council.last is not None
    shown = core.catalogs.render(council.last.replies[-1].text, "vi", escape_html)
    assert "Máy &lt;b&gt;dán&lt;/b&gt; nhãn &amp; gấp hộp" in shown
