"""The first council member to open a card puts it under review; the author sees it in /my."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.app import Core
from core.errors import Refused
from core.status import Status
from services import digests, initiatives, review, roles
from storage.db import reading, transaction
from storage.models import Initiative, Member, StatusChange, Unit
from tests.conftest import Clock
from tests.person import Person
from tests.test_review import act
from tests.tree import Tree, submitted


def history(core: Core, initiative_id: int) -> list[tuple[str | None, str, int | None]]:
    with reading(core.engine) as session:
        changes = session.exec(
            select(StatusChange)
            .where(StatusChange.initiative_id == initiative_id)
            .order_by(col(StatusChange.id))
        ).all()
        return [(c.from_status, c.to_status, c.actor_id) for c in changes]


def status(core: Core, initiative_id: int) -> str:
    with reading(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        assert initiative is not None
        return initiative.status


def open_from_queue(core: Core, who: str, initiative_id: int) -> list[str]:
    council = Person(core.dispatcher, user_id=who, channel="telegram")
    assert council.say("/review") == ["review.queue"]
    assert f"review:{initiative_id}" in council.options  # waiting, whether opened or not
    return council.say(choice=f"review:{initiative_id}")


def my_list(core: Core, who: str) -> str:
    """Return /my as the person reads it."""
    person = Person(core.dispatcher, user_id=who, channel="telegram")
    assert person.say("/my") == ["my.list"]
    assert person.last is not None
    return core.catalogs.render(person.last.replies[0].text, "vi")


def test_the_first_opening_puts_it_under_review_once_and_my_shows_it(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    assert "đã gửi" in my_list(core, "worker")
    clock.advance(hours=2)
    assert open_from_queue(core, "reviewer", initiative_id) == ["review.card"]
    assert status(core, initiative_id) == Status.UNDER_REVIEW
    opened = history(core, initiative_id)
    assert opened[-1] == ("submitted", "under_review", tree.people["reviewer"])
    # Opening again, or by another council member above, changes nothing.
    assert open_from_queue(core, "reviewer", initiative_id) == ["review.card"]
    assert open_from_queue(core, "superior", initiative_id) == ["review.card"]
    assert history(core, initiative_id) == opened
    listed = my_list(core, "worker")
    assert "đang xem xét" in listed and "đã gửi" not in listed
    with reading(core.engine) as session:
        waiting = session.get(Initiative, initiative_id)
        assert waiting is not None and waiting.waiting_since == clock() - timedelta(hours=2)


def test_nobody_but_a_reviewer_of_it_puts_it_under_review(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock, coauthor_share=20)
    with transaction(core.engine) as session:  # a co-author who sits on the council
        coauthor = session.get(Member, tree.people["coauthor"])
        unit = session.get(Unit, tree.a)
        assert coauthor is not None and unit is not None
        roles.grant(session=session, member=coauthor, unit=unit, role="reviewer", now=clock())
    for who, key in (("coauthor", "review.own_initiative"), ("sibling", "review.not_allowed")):
        with transaction(core.engine) as session:
            member = session.get(Member, tree.people[who])
            assert member is not None
            with pytest.raises(Refused, match=key):
                review.open_card(
                    session=session, member=member, initiative_id=initiative_id, now=clock()
                )
    author = Person(core.dispatcher, user_id="worker", channel="telegram")
    author.say("/my")
    assert author.say(choice=f"open:{initiative_id}") == ["wizard.amend"]  # their own card
    assert status(core, initiative_id) == Status.SUBMITTED
    assert [to for _, to, _ in history(core, initiative_id)] == ["draft", "submitted"]


@pytest.mark.parametrize(
    ("decision", "to"),
    [("approve", "approved"), ("reject", "rejected"), ("request_changes", "changes_requested")],
)
def test_every_decision_is_taken_under_review_as_when_submitted(
    core: Core, tree: Tree, clock: Clock, decision: str, to: str
) -> None:
    initiative_id = submitted(core, tree, clock)
    open_from_queue(core, "reviewer", initiative_id)
    act(core, clock, tree.people["reviewer"], decision, initiative_id)
    assert [s for _, s, _ in history(core, initiative_id)][-2:] == ["under_review", to]


def test_a_resubmitted_initiative_goes_under_review_again_when_next_opened(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    open_from_queue(core, "reviewer", initiative_id)
    act(core, clock, tree.people["reviewer"], "request_changes", initiative_id)
    with transaction(core.engine) as session:
        worker = session.get(Member, tree.people["worker"])
        again = session.get(Initiative, initiative_id)
        assert worker is not None and again is not None
        initiatives.submit(session=session, member=worker, initiative=again, now=clock())
    open_from_queue(core, "reviewer", initiative_id)
    assert [to for _, to, _ in history(core, initiative_id)] == [
        "draft",
        "submitted",
        "under_review",
        "changes_requested",
        "submitted",
        "under_review",
    ]


def test_an_initiative_under_review_is_still_pending_in_the_digest(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    open_from_queue(core, "reviewer", initiative_id)
    clock.advance(days=30)
    with reading(core.engine) as session:
        zone = session.get(Unit, tree.zone)
        assert zone is not None
        digest = digests.build(
            session=session,
            scope=zone,
            start=clock() - timedelta(days=7),
            end=clock(),
            now=clock(),
            sla_days=7,
            zone=ZoneInfo("Asia/Ho_Chi_Minh"),
        )
    assert (digest.totals.pending, digest.totals.overdue) == (1, 1)


def test_a_recommended_initiative_cannot_be_sent_back_for_changes(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    act(core, clock, tree.people["reviewer"], "approve", initiative_id)
    act(core, clock, tree.people["reviewer"], "recommend", initiative_id)
    with pytest.raises(Refused, match="initiative.status_refused"):
        act(core, clock, tree.people["superior"], "request_changes", initiative_id)
    assert status(core, initiative_id) == Status.RECOMMENDED
    # Opening it at the superior council keeps it recommended (it counts as recognized).
    assert open_from_queue(core, "superior", initiative_id) == ["review.card"]
    assert status(core, initiative_id) == Status.RECOMMENDED
