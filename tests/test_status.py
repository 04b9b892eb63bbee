"""Statuses are one enum, and `change_status` makes only the moves of the table."""

import pytest
from sqlmodel import col, func, select

from bot.app import Core
from core.errors import Refused
from core.status import Status
from services import initiatives
from storage.db import reading, transaction
from storage.models import Initiative, Member, StatusChange
from tests.conftest import Clock
from tests.tree import Tree, submitted
from views.labels import STATUS_LABELS

ALLOWED = {
    (Status.DRAFT, Status.SUBMITTED),
    (Status.SUBMITTED, Status.UNDER_REVIEW),
    (Status.SUBMITTED, Status.APPROVED),
    (Status.SUBMITTED, Status.REJECTED),
    (Status.SUBMITTED, Status.CHANGES_REQUESTED),
    (Status.UNDER_REVIEW, Status.APPROVED),
    (Status.UNDER_REVIEW, Status.REJECTED),
    (Status.UNDER_REVIEW, Status.CHANGES_REQUESTED),
    (Status.CHANGES_REQUESTED, Status.SUBMITTED),
    (Status.APPROVED, Status.RECOMMENDED),
    (Status.RECOMMENDED, Status.APPROVED),
}


def test_the_table_names_every_status_and_every_status_has_a_label() -> None:
    assert set(initiatives.TRANSITIONS) == set(Status)
    assert set(STATUS_LABELS) == set(Status)
    moves = {(a, b) for a in Status for b in Status if initiatives.allows(a, b)}
    assert moves == ALLOWED
    assert not initiatives.allows("archived", Status.DRAFT)  # a string no status has
    assert [str(s) for s in initiatives.WAITING] == ["submitted", "under_review", "recommended"]


def history(core: Core, initiative_id: int) -> list[tuple[str | None, str]]:
    with reading(core.engine) as session:
        changes = session.exec(
            select(StatusChange)
            .where(StatusChange.initiative_id == initiative_id)
            .order_by(col(StatusChange.id))
        ).all()
        return [(c.from_status, c.to_status) for c in changes]


def move(core: Core, clock: Clock, tree: Tree, initiative_id: int, to: Status) -> None:
    with transaction(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        actor = session.get(Member, tree.people["reviewer"])
        assert initiative is not None and actor is not None
        initiatives.change_status(
            session=session, initiative=initiative, actor=actor, to=to, now=clock()
        )


@pytest.mark.parametrize(
    "to",
    [
        Status.DRAFT,
        Status.UNDER_REVIEW,
        Status.SUBMITTED,
        Status.CHANGES_REQUESTED,
        Status.REJECTED,
    ],
)
def test_a_move_the_table_lacks_is_refused_and_changes_nothing(
    core: Core, tree: Tree, clock: Clock, to: Status
) -> None:
    initiative_id = submitted(core, tree, clock)
    move(core, clock, tree, initiative_id, Status.APPROVED)
    before = history(core, initiative_id)
    with pytest.raises(Refused) as refused:
        move(core, clock, tree, initiative_id, to)
    assert refused.value.text.key == "initiative.status_refused"
    assert history(core, initiative_id) == before
    with reading(core.engine) as session:
        approved = session.get(Initiative, initiative_id)
        assert approved is not None and approved.status == Status.APPROVED


def test_a_rejected_initiative_moves_nowhere(core: Core, tree: Tree, clock: Clock) -> None:
    initiative_id = submitted(core, tree, clock)
    move(core, clock, tree, initiative_id, Status.REJECTED)
    for to in Status:
        with pytest.raises(Refused, match="initiative.status_refused"):
            move(core, clock, tree, initiative_id, to)
    with reading(core.engine) as session:
        count = session.exec(select(func.count()).select_from(StatusChange)).one()
    assert count == 3  # draft, submitted, rejected


def test_going_under_review_keeps_the_time_it_has_been_waiting_since(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    sent = clock()
    clock.advance(days=2)
    move(core, clock, tree, initiative_id, Status.UNDER_REVIEW)
    with reading(core.engine) as session:
        waiting = session.get(Initiative, initiative_id)
        assert waiting is not None
        assert (waiting.status, waiting.waiting_since) == ("under_review", sent)
    move(core, clock, tree, initiative_id, Status.CHANGES_REQUESTED)
    with reading(core.engine) as session:
        back = session.get(Initiative, initiative_id)
        assert back is not None and back.waiting_since is None
