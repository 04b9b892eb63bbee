"""A wizard answer is checked and written in one statement: the same rules as `editable`."""

import pytest

from bot.app import Core
from core.errors import Refused
from services import initiatives
from storage import initiatives as store
from storage.db import transaction
from storage.models import Initiative, Member
from tests.conftest import Clock
from tests.test_review import act
from tests.tree import Tree, submitted


def write(core: Core, clock: Clock, who: int, initiative_id: int, **values: object) -> None:
    with transaction(core.engine) as session:
        member = session.get(Member, who)
        assert member is not None
        initiatives.write(
            session=session, member=member, initiative_id=initiative_id, now=clock(), **values
        )


def title(core: Core, initiative_id: int) -> str | None:
    with transaction(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        assert initiative is not None
        return initiative.title


def test_the_submitter_writes_until_the_council_decides(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    write(core, clock, tree.people["worker"], initiative_id, title="Máy dán nhãn số 2")
    assert title(core, initiative_id) == "Máy dán nhãn số 2"  # submitted: amendable
    act(core, clock, tree.people["reviewer"], "approve", initiative_id)
    with pytest.raises(Refused) as refused:
        write(core, clock, tree.people["worker"], initiative_id, title="Đổi sau khi duyệt")
    assert refused.value.text.key == "initiative.decided"
    assert title(core, initiative_id) == "Máy dán nhãn số 2"


@pytest.mark.parametrize("who", ["coauthor", "reviewer"])
def test_nobody_else_writes_and_a_missing_initiative_is_not_yours(
    core: Core, tree: Tree, clock: Clock, who: str
) -> None:
    initiative_id = submitted(core, tree, clock, coauthor_share=20)
    for target in (initiative_id, 999_999):
        with pytest.raises(Refused) as refused:
            write(core, clock, tree.people[who], target, title="Không phải của tôi")
        assert refused.value.text.key == "initiative.not_yours"
    assert title(core, initiative_id) == "Máy dán nhãn tự động"


def test_a_copy_loaded_in_the_session_reads_the_written_values_and_keeps_its_own(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    with transaction(core.engine) as session:
        loaded = session.get(Initiative, initiative_id)
        member = session.get(Member, tree.people["worker"])
        assert loaded is not None and member is not None
        loaded.problem = "Sửa trên bản đã đọc, chưa ghi"  # flushed before the statement
        initiatives.write(
            session=session,
            member=member,
            initiative_id=initiative_id,
            now=clock(),
            title="Tiêu đề mới",
        )
        assert loaded.title == "Tiêu đề mới"
    with transaction(core.engine) as session:
        again = session.get(Initiative, initiative_id)
        assert again is not None
        assert (again.title, again.problem) == ("Tiêu đề mới", "Sửa trên bản đã đọc, chưa ghi")


def test_an_initiative_that_became_editable_after_the_statement_is_written_through_the_orm(
    core: Core, tree: Tree, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    initiative_id = submitted(core, tree, clock)
    monkeypatch.setattr(store, "write_if", lambda **_: False)  # as if it matched nothing
    write(core, clock, tree.people["worker"], initiative_id, title="Ghi qua ORM")
    assert title(core, initiative_id) == "Ghi qua ORM"
