"""Many members at once, for broadcast benchmarks and tests: a workshop full of Telegram
(or Zalo) users whose chat ids are consecutive sandbox user ids, and an organizer above
them."""

from datetime import datetime

from sqlalchemy import Engine, insert, select
from sqlmodel import Session

from services import broadcasts, roles
from services.broadcasts import Audience
from storage.db import transaction
from storage.models import Broadcast, ChannelIdentity, Member, Unit, table

CHUNK = 5_000  # rows per executemany, so that memory stays small at 100,000 members
ANNOUNCEMENT = "Lễ tổng kết phong trào thi đua <b>thứ Sáu</b> lúc 15:00 tại hội trường A"


def add_members(
    engine: Engine,
    *,
    unit_id: int,
    first_user_id: int,
    count: int,
    now: datetime,
    channel: str = "telegram",
) -> None:
    """Add `count` Vietnamese-speaking members to a unit, reached on `channel` in the chats
    `first_user_id`, `first_user_id + 1`, ... (their sandbox user ids)."""
    members, identities = table(Member), table(ChannelIdentity)
    for start in range(first_user_id, first_user_id + count, CHUNK):
        users = range(start, min(start + CHUNK, first_user_id + count))
        with transaction(engine) as session:
            ids = session.execute(
                insert(members).returning(members.c.id, sort_by_parameter_order=True),
                [
                    {
                        "unit_id": unit_id,
                        "display_name": f"Công nhân {user}",
                        "language": "vi",
                        "consent_at": now,
                        "created_at": now,
                    }
                    for user in users
                ],
            ).scalars()
            session.execute(
                insert(identities),
                [
                    {
                        "member_id": member_id,
                        "channel": channel,
                        "external_user_id": str(user),
                        "chat_id": str(user),
                    }
                    for member_id, user in zip(ids, users, strict=True)
                ],
            )


def add_organizer(
    engine: Engine, *, unit_id: int, user_id: int, now: datetime, channel: str = "telegram"
) -> int:
    """Add a member holding the organizer role over the unit's parent; return their id.

    The organizer sits above the audience, so a broadcast to the unit does not reach them
    (their chat gets the broadcast's progress reports instead).
    """
    with transaction(engine) as session:
        unit = session.get(Unit, unit_id)
        assert unit is not None and unit.parent_id is not None
        parent_id = unit.parent_id
    add_members(
        engine, unit_id=parent_id, first_user_id=user_id, count=1, now=now, channel=channel
    )
    with transaction(engine) as session:
        parent = session.get(Unit, parent_id)
        assert parent is not None
        member = session.execute(
            select(Member).where(table(Member).c.display_name == f"Công nhân {user_id}")
        ).scalar_one()
        roles.grant(session=session, member=member, unit=parent, role="organizer", now=now)
        return member.id or 0


def announce(
    engine: Engine, *, organizer_id: int, unit_id: int, now: datetime, channel: str = "telegram"
) -> int:
    """Broadcast the announcement to the unit now; return the broadcast's id."""
    with transaction(engine) as session:
        member = session.get(Member, organizer_id)
        assert member is not None
        made: Broadcast = broadcasts.create(
            session=session,
            member=member,
            audience=Audience(unit_id=unit_id),
            versions={"vi": ANNOUNCEMENT},
            default_language="vi",
            attachment=None,
            send_at=now,
            report_to=(channel, _chat_of(session, organizer_id), "vi"),
            now=now,
        )
        return made.id or 0


def _chat_of(session: Session, member_id: int) -> str:
    identities = table(ChannelIdentity)
    query = select(identities.c.chat_id).where(identities.c.member_id == member_id)
    return str(session.execute(query).scalar_one())
