"""A wizard answer is checked and written in one statement: the same rules as `editable`.

Each answer has its setter, which cleans it; no setter writes anything but its answer.
"""

import inspect
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import event

from bot.app import Core
from core.errors import Refused
from core.status import Status
from services import answers, initiatives
from storage import initiatives as store
from storage import search
from storage.db import transaction
from storage.models import Initiative, Member
from tests.conftest import Clock
from tests.test_review import act
from tests.tree import Tree, submitted


def write(core: Core, clock: Clock, who: int, initiative_id: int, title: str) -> None:
    answer(core, clock, who, initiative_id, lambda edit: answers.set_title(edit, title))


def answer(
    core: Core,
    clock: Clock,
    who: int,
    initiative_id: int,
    setter: Callable[[answers.Edit], object],
) -> None:
    with transaction(core.engine) as session:
        member = session.get(Member, who)
        assert member is not None
        setter(answers.Edit(session, member, initiative_id, clock()))


def title(core: Core, initiative_id: int) -> str | None:
    with transaction(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        assert initiative is not None
        return initiative.title


def test_the_submitter_writes_until_the_council_decides(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    write(core, clock, tree.people["worker"], initiative_id, "Máy dán nhãn số 2")
    assert title(core, initiative_id) == "Máy dán nhãn số 2"  # submitted: amendable
    act(core, clock, tree.people["reviewer"], "approve", initiative_id)
    with pytest.raises(Refused) as refused:
        write(core, clock, tree.people["worker"], initiative_id, "Đổi sau khi duyệt")
    assert refused.value.text.key == "initiative.decided"
    assert title(core, initiative_id) == "Máy dán nhãn số 2"


@pytest.mark.parametrize("who", ["coauthor", "reviewer"])
def test_nobody_else_writes_and_a_missing_initiative_is_not_yours(
    core: Core, tree: Tree, clock: Clock, who: str
) -> None:
    initiative_id = submitted(core, tree, clock, coauthor_share=20)
    for target in (initiative_id, 999_999):
        with pytest.raises(Refused) as refused:
            write(core, clock, tree.people[who], target, "Không phải của tôi")
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
        answers.set_title(answers.Edit(session, member, initiative_id, clock()), "Tiêu đề mới")
        assert loaded.title == "Tiêu đề mới"
    with transaction(core.engine) as session:
        again = session.get(Initiative, initiative_id)
        assert again is not None
        assert (again.title, again.problem) == ("Tiêu đề mới", "Sửa trên bản đã đọc, chưa ghi")


def test_an_initiative_that_became_editable_after_the_statement_is_written_through_the_orm(
    core: Core, tree: Tree, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    initiative_id = submitted(core, tree, clock)
    monkeypatch.setattr(store, "write_if", lambda **_: None)  # as if it matched nothing
    write(core, clock, tree.people["worker"], initiative_id, "Ghi qua ORM")
    assert title(core, initiative_id) == "Ghi qua ORM"


def row(core: Core, initiative_id: int) -> dict[str, object]:
    with transaction(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        assert initiative is not None
        return initiative.model_dump()


def test_only_answers_can_be_written_never_a_status_or_a_level(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    before = row(core, initiative_id)
    for forged in ({"status": "approved"}, {"level": "national"}, {"title": "x", "level": "x"}):
        with pytest.raises(ValueError, match="not answers"):
            answer(
                core,
                clock,
                tree.people["worker"],
                initiative_id,
                lambda edit, values=forged: answers._save(edit, **values),
            )
    assert row(core, initiative_id) == before
    # Nothing public takes a column by name: a step can only give its own answer.
    for module in (answers, initiatives):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            kinds = {p.kind for p in inspect.signature(function).parameters.values()}
            assert inspect.Parameter.VAR_KEYWORD not in kinds, name


def test_each_setter_cleans_its_answer_and_a_bad_one_writes_nothing(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    worker = tree.people["worker"]

    def give(setter: Callable[[answers.Edit], object]) -> None:
        answer(core, clock, worker, initiative_id, setter)

    give(lambda edit: answers.set_title(edit, "  Đồ gá\n  thay   khuôn  nhanh "))
    give(lambda edit: answers.set_problem(edit, "  Thay khuôn   mất 45 phút \n\n"))
    give(lambda edit: answers.set_benefit(edit, 1_500_000_000))
    give(lambda edit: answers.set_applied_since(edit, "15/03/2026", date(2026, 11, 25)))
    give(lambda edit: answers.set_confidential(edit, True))
    good = row(core, initiative_id)
    assert good["title"] == "Đồ gá thay khuôn nhanh"
    assert good["problem"] == "Thay khuôn mất 45 phút"
    assert good["estimated_benefit_vnd"] == 1_500_000_000
    assert (good["applied"], good["first_applied_on"]) == (True, date(2026, 3, 15))
    assert good["confidential"] is True
    refusals: list[tuple[Callable[[answers.Edit], object], str]] = [
        (lambda edit: answers.set_title(edit, "Ab"), "wizard.text_too_short"),
        (lambda edit: answers.set_solution(edit, "x" * 4001), "wizard.text_too_long"),
        (lambda edit: answers.set_field(edit, "status"), "wizard.field_unknown"),
        (lambda edit: answers.set_effects(edit, " a "), "wizard.text_too_short"),
        (lambda edit: answers.set_benefit(edit, 10**16), "wizard.benefit_retry"),
        (lambda edit: answers.set_benefit(edit, 0), "wizard.benefit_retry"),
        (
            lambda edit: answers.set_applied_since(edit, "01/01/2027", date(2026, 11, 25)),
            "wizard.applied_in_future",
        ),
    ]
    for setter, key in refusals:
        with pytest.raises(Refused) as refused:
            give(setter)
        assert refused.value.text.key == key
    assert row(core, initiative_id) == good


def test_a_draft_answer_is_one_statement_and_an_amended_title_is_searchable(
    core: Core, tree: Tree, clock: Clock
) -> None:
    with transaction(core.engine) as session:
        worker = session.get(Member, tree.people["worker"])
        assert worker is not None
        draft_id = initiatives.start_draft(session=session, member=worker, now=clock()).id or 0
    statements: list[str] = []
    event.listen(core.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    write(core, clock, tree.people["worker"], draft_id, "Máy gấp hộp giấy")
    answering = [s.split()[0] for s in statements if "FROM member" not in s]
    assert [s for s in answering if s != "BEGIN"] == ["UPDATE"]  # a draft is not searchable
    initiative_id = submitted(core, tree, clock)
    write(core, clock, tree.people["worker"], initiative_id, "Máy gấp hộp carton")
    with transaction(core.engine) as session:
        found = search.matching(
            session=session,
            words=["carton"],
            every_word=True,
            unit_id=tree.a1,
            statuses=[Status.SUBMITTED],
            limit=5,
        )
    assert found == [initiative_id]
