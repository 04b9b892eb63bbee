"""Chat events in the services and storage: a person who blocked the bot and a group that
removed it are left out of every audience; a group follows its new chat id, once."""

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from bot.app import Core
from core.codec import reply_to_json
from core.messages import Reply, t
from services import broadcasts, chats, notices
from services.broadcasts import Audience
from storage import digest_settings, outbox
from storage.db import transaction
from storage.models import ChannelIdentity, ConversationState, GroupChat, Member, OutboxMessage
from storage.units import unit_by_id
from tests.conftest import Clock
from tests.test_broadcasts import send
from tests.test_campaigns import organizer
from tests.tree import Tree

GROUP, SUPERGROUP = "-500", "-100500"
NOTICE = Reply(t("common.resume"))
EVERYONE = 7  # the tree's six people and the organizer


def counted(core: Core, who: int, unit_id: int) -> tuple[int, int]:
    """Return the members and groups an announcement to the unit's subtree would reach."""
    with transaction(core.engine) as session:
        member = session.get(Member, who)
        assert member is not None
        audience = Audience(unit_id=unit_id, members=True, groups=True)
        return broadcasts.count(session=session, member=member, audience=audience)


def queue_to(core: Core, clock: Clock, chat_id: str, kind: str) -> int:
    with transaction(core.engine) as session:
        message = outbox.enqueue(
            session=session,
            channel="telegram",
            chat_id=chat_id,
            chat_kind=kind,
            language="vi",
            content=reply_to_json(Reply(t("common.resume"))),
            now=clock(),
        )
        session.flush()
        return message.id or 0


def unreachable(core: Core) -> set[str]:
    with Session(core.engine) as session:
        query = select(ChannelIdentity.external_user_id).where(
            col(ChannelIdentity.unreachable_at).is_not(None)
        )
        return set(session.exec(query).all())


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_blocked_people_and_removed_groups_are_skipped_and_a_group_follows_its_new_id(
    core: Core, clock: Clock, tree: Tree
) -> None:
    boss = organizer(core, clock, tree.zone)
    with transaction(core.engine) as session:
        session.add(
            GroupChat(channel="telegram", chat_id=GROUP, unit_id=tree.a, linked_at=clock())
        )
        session.add(
            ConversationState(
                channel="telegram", chat_id=GROUP, user_id="worker", data={}, updated_at=clock()
            )
        )
    assert counted(core, boss, tree.zone) == (EVERYONE, 1)

    with transaction(core.engine) as session:
        chats.blocked(session=session, channel="telegram", user_id="worker", now=clock())
        chats.blocked(session=session, channel="telegram", user_id="nobody", now=clock())
        chats.removed(session=session, channel="telegram", chat_id=GROUP, now=clock())
    assert unreachable(core) == {"worker"}
    assert counted(core, boss, tree.zone) == (EVERYONE - 1, 0)
    with Session(core.engine) as session:  # never committed: the notices are not kept
        worker = session.get(Member, tree.people["worker"])
        zone = unit_by_id(session=session, unit_id=tree.zone)
        assert worker is not None and zone is not None
        assert not notices.to_member(session=session, member=worker, reply=NOTICE, now=clock())
        assert notices.to_members_in(session=session, unit=zone, reply=NOTICE, now=clock()) == (
            EVERYONE - 1
        )
        assert digest_settings.groups_of(session=session, unit_ids=[tree.a]) == []

    # A notice the outbox found blocked marks its person too (the event may never come).
    refused = queue_to(core, clock, "coauthor", "private")
    with transaction(core.engine) as session:
        outcome = outbox.Outcome(refused, "blocked", clock(), outbox.BLOCKED)
        outbox.record(session=session, outcomes=[outcome])
    assert unreachable(core) == {"worker", "coauthor"}
    assert counted(core, boss, tree.zone) == (EVERYONE - 2, 0)

    with transaction(core.engine) as session:
        chats.unblocked(session=session, channel="telegram", user_id="worker")
        chats.added(session=session, channel="telegram", chat_id=GROUP)
    assert counted(core, boss, tree.zone) == (EVERYONE - 1, 1)

    sent, queued = queue_to(core, clock, GROUP, "group"), queue_to(core, clock, GROUP, "group")
    with transaction(core.engine) as session:
        outbox.record(session=session, outcomes=[outbox.Outcome(sent, "sent", clock(), "sent")])
    for _ in range(2):  # Telegram tells it in the old chat and in the new one
        with transaction(core.engine) as session:
            chats.moved(session=session, channel="telegram", old=GROUP, new=SUPERGROUP)
    with Session(core.engine) as session:
        assert [g.chat_id for g in session.exec(select(GroupChat)).all()] == [SUPERGROUP]
        moved = {m.id: m.chat_id for m in session.exec(select(OutboxMessage)).all()}
        assert (moved[sent], moved[queued]) == (GROUP, SUPERGROUP)  # what went out stays
        state = session.exec(select(ConversationState)).one()
        assert state.chat_id == SUPERGROUP
    assert counted(core, boss, tree.zone) == (EVERYONE - 1, 1)
    audience = Audience(unit_id=tree.zone, members=True, groups=True)
    _, recipients = send(core, clock, boss, audience)
    assert recipients == (EVERYONE - 1) + 1  # the members who did not block it, the group


def test_a_notice_to_a_few_members_reaches_each_on_a_messenger_they_did_not_block(
    core: Core, clock: Clock, tree: Tree
) -> None:
    with transaction(core.engine) as session:  # the reviewer is on a second messenger too
        session.add(
            ChannelIdentity(
                member_id=tree.people["reviewer"],
                channel="zalo",
                external_user_id="z-reviewer",
                chat_id="z-reviewer",
            )
        )
        chats.blocked(session=session, channel="telegram", user_id="reviewer", now=clock())
        chats.blocked(session=session, channel="telegram", user_id="coauthor", now=clock())
    statements: list[str] = []
    event.listen(core.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with transaction(core.engine) as session:
        ids = [tree.people[name] for name in ("reviewer", "coauthor", "worker", "superior")]
        members = [session.get(Member, member_id) for member_id in ids]
        statements.clear()
        queued = notices.to_members(
            session=session, members=[m for m in members if m], reply=NOTICE, now=clock()
        )
        identities = [s for s in statements if "FROM channelidentity" in s]
    assert queued == 3 and len(identities) == 1  # the co-author blocked the bot everywhere
    with Session(core.engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        chats_ = [(row.channel, row.chat_id, row.member_id) for row in rows]
    assert chats_ == [
        ("zalo", "z-reviewer", tree.people["reviewer"]),
        ("telegram", "worker", tree.people["worker"]),
        ("telegram", "superior", tree.people["superior"]),
    ]
