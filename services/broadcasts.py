"""Broadcasts: an organizer's announcement to an audience inside their own subtree.

The audience is chosen by filters and always cut to a unit's subtree the organizer
holds the organizer role over, whatever a button said. Sending turns the audience into
outbox messages with one INSERT ... SELECT (no list of recipients in memory, however
many); each message names the broadcast, which keeps the text once per language.
"""

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select, update
from sqlalchemy.types import JSON
from sqlmodel import Session

from core.codec import reply_to_json
from core.errors import Refused
from core.messages import Reply, SharedFile, t
from services import roles
from storage import outbox
from storage.models import (
    Broadcast,
    ChannelIdentity,
    GroupChat,
    Member,
    OutboxMessage,
    Role,
    Unit,
    table,
)
from storage.units import unit_by_id

logger = logging.getLogger(__name__)
ORGANIZER = "organizer"
TEXT_LIMIT = 3500  # leaves room in Telegram's 4096 for the message's frame
SCHEDULED, SENDING, DONE, CANCELLED = "scheduled", "sending", "done", "cancelled"
LOW_PRIORITY = 1
_B, _O = table(Broadcast), table(OutboxMessage)
_M, _U, _I = table(Member), table(Unit), table(ChannelIdentity)
_G, _R = table(GroupChat), table(Role)


@dataclass
class Audience:
    """Who gets a broadcast: a unit's subtree, narrowed by role, language and unit kind."""

    unit_id: int
    members: bool = True
    groups: bool = False
    role: str | None = None
    language: str | None = None
    kind: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Audience":
        """Rebuild an audience from its saved form (unknown keys are ignored)."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Tally:
    """Where a broadcast's messages are."""

    sent: int = 0
    failed: int = 0
    blocked: int = 0
    cancelled: int = 0
    queued: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Every message of the broadcast."""
        return self.sent + self.failed + self.blocked + self.cancelled + self.queued


def organizer_units(*, session: Session, member: Member) -> list[Unit]:
    """Return the units whose subtrees the member may address."""
    return roles.scopes(session=session, member=member, role=ORGANIZER)


def audience_unit(*, session: Session, member: Member, unit_id: int) -> Unit:
    """Return the audience's unit if the member organizes it; refuse any other."""
    unit = unit_by_id(session=session, unit_id=unit_id)
    if unit is None:
        raise Refused("broadcast.unit_unknown")
    if not roles.holds(session=session, member=member, role=ORGANIZER, unit=unit):
        logger.warning("refused a broadcast by member %s to unit %s", member.id, unit.id)
        raise Refused("broadcast.not_organizer")
    return unit


def check_text(text: str) -> str:
    """Return an announcement text that fits in one message, or refuse it."""
    text = text.strip()
    if not text:
        raise Refused("broadcast.need_text")
    if len(text) > TEXT_LIMIT:
        raise Refused("broadcast.too_long", limit=TEXT_LIMIT, length=len(text))
    return text


def _member_rows(unit: Unit, audience: Audience) -> Select[Any]:
    """Select (channel, chat, member, language) of each member of the audience, on the
    first messenger that reaches them (one they blocked the bot on does not)."""
    first = (
        select(func.min(_I.c.id))
        .where(_I.c.unreachable_at.is_(None))
        .group_by(_I.c.member_id)
        .scalar_subquery()
    )
    conditions: list[ColumnElement[bool]] = [
        _U.c.path.startswith(unit.path),
        _I.c.id.in_(first),
    ]
    if audience.language:
        conditions.append(_M.c.language == audience.language)
    if audience.kind:
        conditions.append(_U.c.kind == audience.kind)
    if audience.role:
        conditions.append(
            exists().where(and_(_R.c.member_id == _M.c.id, _R.c.role == audience.role))
        )
    return (
        select(_I.c.channel, _I.c.chat_id, _M.c.id, _M.c.language)
        .select_from(_I.join(_M, _M.c.id == _I.c.member_id).join(_U, _U.c.id == _M.c.unit_id))
        .where(*conditions)
    )


def _group_rows(unit: Unit, audience: Audience) -> Select[Any]:
    """Select (channel, chat) of the group chats linked to units of the audience, except
    those that removed the bot."""
    conditions: list[ColumnElement[bool]] = [
        _U.c.path.startswith(unit.path),
        _G.c.removed_at.is_(None),
    ]
    if audience.kind:
        conditions.append(_U.c.kind == audience.kind)
    return (
        select(_G.c.channel, _G.c.chat_id)
        .select_from(_G.join(_U, _U.c.id == _G.c.unit_id))
        .where(*conditions)
    )


def count(*, session: Session, member: Member, audience: Audience) -> tuple[int, int]:
    """Return how many members and group chats the audience reaches right now."""
    unit = audience_unit(session=session, member=member, unit_id=audience.unit_id)
    members = groups = 0
    if audience.members:
        rows = _member_rows(unit, audience).subquery()
        members = int(session.execute(select(func.count()).select_from(rows)).scalar_one())
    if audience.groups and not audience.role and not audience.language:
        rows = _group_rows(unit, audience).subquery()
        groups = int(session.execute(select(func.count()).select_from(rows)).scalar_one())
    return members, groups


def announcement(text: str, attachment: dict[str, Any] | None) -> Reply:
    """Build the message recipients get: the text, and the photo or document if any."""
    files: tuple[SharedFile, ...] = ()
    if attachment:
        channel, ref = str(attachment["channel"]), str(attachment["ref"])
        shared = SharedFile("photo", channel, ref) if attachment.get("kind") == "photo" else None
        files = (shared or SharedFile("document", channel, ref),)
    return Reply(t("broadcast.message", text=text), files=files)


def create(
    *,
    session: Session,
    member: Member,
    audience: Audience,
    versions: dict[str, str],
    default_language: str,
    attachment: dict[str, Any] | None,
    send_at: datetime,
    report_to: tuple[str, str, str],
    now: datetime,
) -> Broadcast:
    """Save a broadcast (the organizer role is checked again here) and start it if due.

    `versions` maps a language to its text; recipients whose language has none get the
    `default_language` one. `report_to` is (channel, chat, language) of the progress.
    """
    unit = audience_unit(session=session, member=member, unit_id=audience.unit_id)
    if default_language not in versions:
        raise Refused("broadcast.need_text")
    contents = {
        "default": default_language,
        "versions": {
            language: reply_to_json(announcement(check_text(text), attachment))
            for language, text in versions.items()
        },
    }
    channel, chat_id, language = report_to
    broadcast = Broadcast(
        unit_id=unit.id or 0,
        created_by=member.id,
        audience=asdict(audience),
        contents=contents,
        status=SCHEDULED,
        send_at=max(send_at, now),
        created_at=now,
        report_channel=channel,
        report_chat_id=chat_id,
        report_language=language,
    )
    session.add(broadcast)
    session.flush()
    if broadcast.send_at <= now:
        start(session=session, broadcast=broadcast, now=now)
    return broadcast


def start(*, session: Session, broadcast: Broadcast, now: datetime) -> int:
    """Queue a message for everyone in the audience now; return how many."""
    unit = unit_by_id(session=session, unit_id=broadcast.unit_id)
    claimed = session.execute(  # once, even if two processes try
        update(_B).where(_B.c.id == broadcast.id, _B.c.status == SCHEDULED).values(status=SENDING)
    )
    if unit is None or not _rowcount(claimed):
        return 0
    audience = Audience.from_json(broadcast.audience)
    content = literal({outbox.BROADCAST: broadcast.id}, JSON)
    fixed: dict[str, Any] = {
        "status": literal(outbox.QUEUED),
        "attempts": literal(0),
        "next_attempt_at": literal(now, _O.c.next_attempt_at.type),
        "created_at": literal(now, _O.c.created_at.type),
        "broadcast_id": literal(broadcast.id),
        "priority": literal(LOW_PRIORITY),
        "parts_sent": literal(0),
        "content": content,
    }
    if audience.members:
        rows = _member_rows(unit, audience).subquery()
        source = select(
            rows.c.channel,
            rows.c.chat_id,
            literal("private").label("chat_kind"),
            rows.c.id.label("member_id"),
            rows.c.language,
            *(value.label(name) for name, value in fixed.items()),
        )
        names = ["channel", "chat_id", "chat_kind", "member_id", "language", *fixed]
        session.execute(_O.insert().from_select(names, source))
    if audience.groups and not audience.role and not audience.language:
        rows = _group_rows(unit, audience).subquery()
        default = str(broadcast.contents["default"])
        source = select(
            rows.c.channel,
            rows.c.chat_id,
            literal("group").label("chat_kind"),
            literal(default).label("language"),
            *(value.label(name) for name, value in fixed.items()),
        )
        names = ["channel", "chat_id", "chat_kind", "language", *fixed]
        session.execute(_O.insert().from_select(names, source))
    queued = int(
        session.execute(select(func.count()).where(_O.c.broadcast_id == broadcast.id)).scalar_one()
    )  # the drivers do not all report the rows an INSERT ... SELECT wrote
    outbox.refresh_statistics(session=session)
    broadcast.status, broadcast.started_at, broadcast.recipients = SENDING, now, queued
    session.add(broadcast)
    session.info[outbox.QUEUED_FLAG] = True
    return queued


def due(*, session: Session, now: datetime) -> list[int]:
    """Return the scheduled broadcasts whose time has come."""
    query = select(_B.c.id).where(_B.c.status == SCHEDULED, _B.c.send_at <= now).order_by(_B.c.id)
    return [int(i) for i in session.execute(query).scalars()]


def manageable(*, session: Session, member: Member, broadcast_id: int) -> Broadcast:
    """Return a broadcast the member organizes; refuse any other, whatever was pressed."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise Refused("broadcast.not_found")
    audience_unit(session=session, member=member, unit_id=broadcast.unit_id)
    return broadcast


def cancel(*, session: Session, member: Member, broadcast_id: int, now: datetime) -> int:
    """Stop what has not gone out yet; return how many messages were stopped."""
    broadcast = manageable(session=session, member=member, broadcast_id=broadcast_id)
    if broadcast.status not in (SCHEDULED, SENDING):
        raise Refused("broadcast.not_running")
    stopped = _rowcount(
        session.execute(
            update(_O)
            .where(_O.c.broadcast_id == broadcast.id, _O.c.status == outbox.QUEUED)
            .values(status=outbox.CANCELLED)
        )
    )
    # One that never started has no progress message to turn into a report.
    broadcast.reported_final = broadcast.status == SCHEDULED
    broadcast.status, broadcast.finished_at = CANCELLED, now
    session.add(broadcast)
    return stopped


def _rowcount(result: Any) -> int:
    """Rows an INSERT ... SELECT or UPDATE touched."""
    return int(result.rowcount or 0)


def running(*, session: Session, member: Member) -> list[Broadcast]:
    """Return the scheduled and sending broadcasts the member may cancel."""
    scopes = organizer_units(session=session, member=member)
    return [b for b in _in_scopes(session, scopes, 50) if b.status in (SCHEDULED, SENDING)]


def history(*, session: Session, member: Member, limit: int = 10) -> list[Broadcast]:
    """Return the newest broadcasts over the units the member organizes."""
    return _in_scopes(session, organizer_units(session=session, member=member), limit)


def _in_scopes(session: Session, scopes: list[Unit], limit: int) -> list[Broadcast]:
    if not scopes:
        return []
    query = (
        select(Broadcast)
        .join(Unit, _U.c.id == _B.c.unit_id)
        .where(or_(*(_U.c.path.startswith(unit.path) for unit in scopes)))
        .order_by(_B.c.id.desc())
        .limit(limit)
    )
    return list(session.execute(query).scalars().all())


def tallies(*, session: Session, broadcast_ids: list[int]) -> dict[int, Tally]:
    """Count each broadcast's messages by status, in one grouped query."""
    found = {i: Tally() for i in broadcast_ids}
    if not broadcast_ids:
        return found
    query = (
        select(_O.c.broadcast_id, _O.c.status, func.count())
        .where(_O.c.broadcast_id.in_(broadcast_ids))
        .group_by(_O.c.broadcast_id, _O.c.status)
    )
    for broadcast_id, status, number in session.execute(query).all():
        tally = found[int(broadcast_id)]
        tally.by_status[status] = int(number)
        attribute = {outbox.SENT: "sent", outbox.FAILED: "failed", outbox.BLOCKED: "blocked"}
        name = attribute.get(status, "cancelled" if status == outbox.CANCELLED else "queued")
        setattr(tally, name, getattr(tally, name) + int(number))
    return found


def to_report(*, session: Session) -> list[Broadcast]:
    """Return the broadcasts whose organizer has not had the final report yet."""
    query = (
        select(Broadcast)
        .where(_B.c.status.in_((SENDING, DONE, CANCELLED)), _B.c.reported_final.is_(False))
        .order_by(_B.c.id)
    )
    return list(session.execute(query).scalars().all())


def finish(*, session: Session, broadcast_id: int, now: datetime) -> bool:
    """Mark a sending broadcast done when nothing of it is queued; True if it is over."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return True
    if broadcast.status == SENDING:
        if tallies(session=session, broadcast_ids=[broadcast_id])[broadcast_id].queued:
            return False
        broadcast.status, broadcast.finished_at = DONE, now
        session.add(broadcast)
    return True


def reported(*, session: Session, broadcast_id: int, message_id: str | None, final: bool) -> None:
    """Remember the progress message, and whether the final report went out."""
    values: dict[str, Any] = {"reported_final": final}
    if message_id is not None:
        values["report_message_id"] = message_id
    session.execute(update(_B).where(_B.c.id == broadcast_id).values(**values))
