"""Who hears about what: notices queued in the outbox with the change that causes them."""

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from core.codec import reply_to_json
from core.messages import Reply, t
from storage import outbox, recipients
from storage.initiatives import authors_of
from storage.members import holders_of, members_by_id, reachable_identities
from storage.models import Author, GroupChat, Initiative, Member, Unit


def to_member(*, session: Session, member: Member, reply: Reply, now: datetime) -> bool:
    """Queue a private notice to a member; False when no channel reaches them (none, or
    they blocked the bot on each)."""
    return bool(to_members(session=session, members=[member], reply=reply, now=now))


def to_members(*, session: Session, members: Sequence[Member], reply: Reply, now: datetime) -> int:
    """Queue a private notice to each of a few members on their first messenger that
    reaches them, reading their identities in one query; return how many were queued."""
    ids = [member.id or 0 for member in members]
    identities = reachable_identities(session=session, member_ids=ids)
    queued = 0
    for member in members:
        identity = identities.get(member.id or 0)
        if identity is not None:
            chat = (identity.channel, identity.chat_id)
            to_chat(
                session=session,
                chat=chat,
                reply=reply,
                language=member.language,
                now=now,
                member_id=member.id,
            )
            queued += 1
    return queued


def to_group(
    *, session: Session, group: GroupChat, reply: Reply, language: str, now: datetime
) -> None:
    """Queue a message to a linked group chat."""
    chat = (group.channel, group.chat_id)
    to_chat(session=session, chat=chat, reply=reply, language=language, now=now, kind="group")


def to_chat(
    *,
    session: Session,
    chat: tuple[str, str],
    reply: Reply,
    language: str,
    now: datetime,
    member_id: int | None = None,
    kind: str = "private",
) -> None:
    """Queue a message to a (channel, chat): a member's private chat, or a group's."""
    channel, chat_id = chat
    outbox.enqueue(
        session=session,
        channel=channel,
        chat_id=chat_id,
        chat_kind=kind,
        language=language,
        content=reply_to_json(reply),
        now=now,
        member_id=member_id,
    )


def to_members_in(*, session: Session, unit: Unit, reply: Reply, now: datetime) -> int:
    """Queue a notice to every member of a unit's subtree, on their first channel that
    reaches them (not one they blocked the bot on).

    One read and one bulk insert, however many members: a province has hundreds of
    thousands.
    """
    members = recipients.members(path=unit.path)
    content = reply_to_json(reply)
    return outbox.enqueue_to_members(session=session, members=members, content=content, now=now)


def to_authors(*, session: Session, authors: list[Author], reply: Reply, now: datetime) -> int:
    """Queue a notice to every author who is a member; return how many were queued."""
    ids = list(dict.fromkeys(a.member_id for a in authors if a.member_id))
    members = members_by_id(session=session, member_ids=ids)
    return to_members(session=session, members=members, reply=reply, now=now)


def holders(*, session: Session, unit: Unit, role: str) -> list[Member]:
    """Return the members holding `role` on exactly this unit."""
    return list(holders_of(session=session, unit_id=unit.id or 0, role=role))


def to_reviewers(
    *, session: Session, unit: Unit, reply: Reply, now: datetime, skip: set[int]
) -> int:
    """Queue a notice to the reviewers of a unit (its council), except those in `skip`."""
    council = holders(session=session, unit=unit, role="reviewer")
    members = [member for member in council if member.id not in skip]
    return to_members(session=session, members=members, reply=reply, now=now)


def review_waiting(*, session: Session, initiative: Initiative, unit: Unit, now: datetime) -> int:
    """Tell a unit's reviewers that an initiative waits for them (its authors excluded)."""
    authors = authors_of(session=session, initiative_id=initiative.id or 0)
    skip = {a.member_id for a in authors if a.member_id is not None}
    return to_reviewers(
        session=session,
        unit=unit,
        reply=Reply(t("notice.review_waiting", title=initiative.title or "", unit=unit.name)),
        now=now,
        skip=skip,
    )
