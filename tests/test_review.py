"""The council's decisions in services: permissions as a table, notices, history, reward."""

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlmodel import Session, col, select

from bot.app import Core
from core.codec import reply_from_json
from core.errors import Refused
from services import initiatives, review, reward
from storage.db import transaction
from storage.models import (
    Initiative,
    Member,
    OutboxMessage,
    RewardPolicy,
    StatusChange,
)
from tests.conftest import DEMO_CODE, Clock
from tests.conftest import Chat as ConsoleChat
from tests.person import Person
from tests.tree import Tree, submitted


def act(core: Core, clock: Clock, who: int, action: str, initiative_id: int) -> None:
    with transaction(core.engine) as session:
        actor = session.get(Member, who)
        assert actor is not None
        calls: dict[str, Callable[[], object]] = {
            "approve": lambda: review.approve(
                session=session,
                reviewer=actor,
                initiative_id=initiative_id,
                benefit_vnd=100_000_000,
                level="grassroots",
                now=clock(),
            ),
            "reject": lambda: review.reject(
                session=session,
                reviewer=actor,
                initiative_id=initiative_id,
                reason="Chưa chứng minh được hiệu quả",
                now=clock(),
            ),
            "request_changes": lambda: review.request_changes(
                session=session,
                reviewer=actor,
                initiative_id=initiative_id,
                comment="Bổ sung bản vẽ",
                now=clock(),
            ),
            "recommend": lambda: review.recommend(
                session=session, reviewer=actor, initiative_id=initiative_id, now=clock()
            ),
        }
        calls[action]()


ACTIONS = ("approve", "reject", "request_changes")
TABLE = [
    # who, relation to the initiative's unit, allowed?
    ("worker", "author, no reviewer role", False),
    ("coauthor", "co-author", False),
    ("reviewer", "reviewer of the enterprise above the workshop", True),
    ("superior", "reviewer of the zone above everything", True),
    ("sibling", "reviewer of a sibling enterprise", False),
    ("revoked", "reviewer whose role was revoked", False),
]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(("who", "relation", "allowed"), TABLE)
def test_permissions(
    core: Core, tree: Tree, clock: Clock, action: str, who: str, relation: str, allowed: bool
) -> None:
    initiative_id = submitted(core, tree, clock, coauthor_share=20)
    if allowed:
        act(core, clock, tree.people[who], action, initiative_id)
        return
    with pytest.raises(Refused) as refused:
        act(core, clock, tree.people[who], action, initiative_id)
    assert refused.value.text.key.startswith("review."), relation
    with Session(core.engine) as session:
        assert session.get(Initiative, initiative_id).status == "submitted"  # type: ignore[union-attr]


def test_a_forged_payload_for_an_unknown_or_decided_initiative_is_refused(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    with pytest.raises(Refused, match="review.not_found"):
        act(core, clock, tree.people["reviewer"], "approve", 999_999)
    act(core, clock, tree.people["reviewer"], "reject", initiative_id)
    with pytest.raises(Refused, match="review.already_decided"):
        act(core, clock, tree.people["reviewer"], "approve", initiative_id)
    with pytest.raises(Refused, match="review.cannot_recommend"):
        act(core, clock, tree.people["reviewer"], "recommend", initiative_id)


def notices_to(core: Core, member: str) -> list[tuple[str, str]]:
    """Return (catalog key, language) of the notices queued for a member, in order."""
    with Session(core.engine) as session:
        messages = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.chat_id == member)
            .order_by(col(OutboxMessage.id))
        ).all()
        return [(reply_from_json(m.content).text.key, m.language) for m in messages]


def test_changes_resubmission_approval_and_recommendation_notify_each_author_once_per_step(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock, coauthor_share=30)
    # The nearest council hears of it, not the zone's.
    assert notices_to(core, "reviewer") == [("notice.review_waiting", "vi")]
    assert notices_to(core, "superior") == []
    act(core, clock, tree.people["reviewer"], "request_changes", initiative_id)
    with transaction(core.engine) as session:
        worker = session.get(Member, tree.people["worker"])
        draft = session.get(Initiative, initiative_id)
        assert worker is not None and draft is not None
        initiatives.submit(session=session, member=worker, initiative=draft, now=clock())
    act(core, clock, tree.people["reviewer"], "approve", initiative_id)
    superior = None
    with transaction(core.engine) as session:
        reviewer = session.get(Member, tree.people["reviewer"])
        assert reviewer is not None
        superior = review.recommend(
            session=session, reviewer=reviewer, initiative_id=initiative_id, now=clock()
        )
    assert superior.id == tree.zone
    steps = [
        "notice.received",
        "notice.changes_requested",
        "notice.received",
        "notice.approved",
        "notice.recommended",
    ]
    assert notices_to(core, "worker") == [(key, "vi") for key in steps]
    assert notices_to(core, "coauthor") == [(key, "en") for key in steps]
    assert notices_to(core, "reviewer") == [("notice.review_waiting", "vi")] * 2
    assert notices_to(core, "superior") == [("notice.review_waiting", "id")]
    with Session(core.engine) as session:
        history = session.exec(
            select(StatusChange)
            .where(StatusChange.initiative_id == initiative_id)
            .order_by(col(StatusChange.id))
        ).all()
        assert [(h.from_status, h.to_status) for h in history] == [
            (None, "draft"),
            ("draft", "submitted"),
            ("submitted", "changes_requested"),
            ("changes_requested", "submitted"),
            ("submitted", "approved"),
            ("approved", "recommended"),
        ]
        assert history[2].comment == "Bổ sung bản vẽ"
        assert history[2].actor_id == tree.people["reviewer"]
    # The zone's council can now raise the level; the enterprise's no longer decides.
    with pytest.raises(Refused, match="review.not_allowed"):
        act(core, clock, tree.people["reviewer"], "reject", initiative_id)
    with transaction(core.engine) as session:
        queue = review.queue(session=session, member=session.get(Member, tree.people["superior"]))  # type: ignore[arg-type]
        assert [i.id for i in queue] == [initiative_id]
        with pytest.raises(Refused, match="review.level_invalid"):
            review.approve(
                session=session,
                reviewer=session.get(Member, tree.people["superior"]),  # type: ignore[arg-type]
                initiative_id=initiative_id,
                benefit_vnd=100_000_000,
                level="grassroots",
                now=clock(),
            )
    # The zone's council declines to raise it: it stays recognized at grassroots level.
    act(core, clock, tree.people["superior"], "reject", initiative_id)
    with Session(core.engine) as session:
        kept = session.get(Initiative, initiative_id)
        assert kept is not None and (kept.status, kept.level) == ("approved", "grassroots")
    assert notices_to(core, "worker")[-1] == ("notice.declined", "vi")


def test_reward_is_7_percent_a_year_split_by_shares_or_5_base_wages(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock, coauthor_share=30)
    with transaction(core.engine) as session:
        reviewer = session.get(Member, tree.people["reviewer"])
        assert reviewer is not None
        suggestion = review.approve(
            session=session,
            reviewer=reviewer,
            initiative_id=initiative_id,
            benefit_vnd=100_000_001,
            level="grassroots",
            now=clock(),
        )
    assert suggestion.per_year and suggestion.total_vnd == 7_000_001  # at least 7%, rounded up
    assert sorted(amount for _, amount in suggestion.shares) == [2_100_000, 4_900_001]
    with transaction(core.engine) as session:
        session.add(RewardPolicy(unit_id=tree.a, rate_percent=10, base_wage_vnd=2_340_000))
    other = submitted(core, tree, clock)
    with transaction(core.engine) as session:
        reviewer = session.get(Member, tree.people["reviewer"])
        assert reviewer is not None
        suggestion = review.approve(
            session=session,
            reviewer=reviewer,
            initiative_id=other,
            benefit_vnd=None,
            level="grassroots",
            now=clock(),
        )
    assert not suggestion.per_year and suggestion.total_vnd == 5 * 2_340_000


def test_the_queue_filters_by_field_and_a_button_outside_it_is_refused(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    council = Person(core.dispatcher, user_id="reviewer", channel="telegram")
    assert council.say("/review") == ["review.queue"]
    assert f"review:{initiative_id}" in council.options
    assert council.say(choice="review:filter") == ["review.ask_filter"]
    assert council.say(choice="field:safety") == ["review.queue"]
    assert council.options == ["review:filter"]  # nothing in that field
    council.say(choice="review:filter")
    council.say(choice="field:technical")
    assert f"review:{initiative_id}" in council.options
    # A forged button for an initiative that is not offered is refused.
    assert council.say(choice="review:999") == ["common.pick_option", "review.queue"]
    sibling = Person(core.dispatcher, user_id="sibling", channel="telegram")
    assert sibling.say("/review") == ["review.queue_empty"]


def test_each_year_of_reward_is_due_a_month_after_that_year_of_application() -> None:
    assert reward.due_dates(date(2026, 3, 15)) == (
        date(2027, 4, 15),
        date(2028, 4, 15),
        date(2029, 4, 15),
    )
    assert reward.due_dates(date(2026, 1, 31)) == (
        date(2027, 2, 28),
        date(2028, 2, 29),
        date(2029, 2, 28),
    )
    assert reward.due_dates(date(2026, 12, 10))[0] == date(2028, 1, 10)


def test_the_approval_notice_carries_the_authors_share_and_due_dates(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock, coauthor_share=30)
    with transaction(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        assert initiative is not None
        initiative.first_applied_on = date(2026, 3, 15)
    act(core, clock, tree.people["reviewer"], "approve", initiative_id)
    with Session(core.engine) as session:
        last = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.chat_id == "coauthor")
            .order_by(col(OutboxMessage.id).desc())
        ).first()
        assert last is not None
        text = core.catalogs.render(reply_from_json(last.content).text, "en")
    assert "2,100,000" in text or "2.100.000" in text  # 30% of 7% of 100 million
    assert "2029" in text and "2027" in text


def test_the_console_shows_a_persons_notices_after_the_answer(
    core: Core, unit_id: int, chat: ConsoleChat
) -> None:
    me = chat("c1")
    for line in (f"/start {DEMO_CODE}", "1", "1", "/new", "Máy dán nhãn tự động"):
        me.send(line)
    me.send("Công nhân dán nhãn bằng tay, mất nhiều thời gian")
    me.send("Lắp cảm biến và cơ cấu dán nhãn tự động")
    me.send("1")  # technical
    me.send("100 triệu")
    printed = me.send("1")  # submit now
    assert "đã được tiếp nhận" in printed  # the outbox notice, right after the answer
    assert "đã được tiếp nhận" not in me.send("/help")  # shown once
    with Session(core.engine) as session:
        assert {m.status for m in session.exec(select(OutboxMessage)).all()} == {"sent"}


def test_the_queue_shows_the_longest_waiting_first(core: Core, tree: Tree, clock: Clock) -> None:
    first = submitted(core, tree, clock)
    clock.advance(hours=1)
    second = submitted(core, tree, clock)
    with transaction(core.engine) as session:
        reviewer = session.get(Member, tree.people["reviewer"])
        assert reviewer is not None
        assert [i.id for i in review.queue(session=session, member=reviewer)] == [first, second]
        older = session.get(Initiative, second)
        assert older is not None
        older.submitted_at = clock() - timedelta(days=3)
        session.add(older)
        session.flush()
        assert [i.id for i in review.queue(session=session, member=reviewer)] == [second, first]
