"""Broadcasts: an organizer's announcement to an audience inside their own subtree.

The audience is chosen by filters and always cut to a unit's subtree the organizer
holds the organizer role over, whatever a button said. Sending turns the audience into
outbox messages with one INSERT ... SELECT (no list of recipients in memory, however
many); each message names the broadcast, which keeps the text once per language.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, time, tzinfo
from typing import Any

from sqlalchemy import Select
from sqlmodel import Session

from core.codec import reply_to_json
from core.errors import Refused
from core.messages import Reply, SharedFile, t
from services import notices, roles
from services.dates import read_day
from storage import broadcasts as store
from storage import outbox, recipients
from storage.broadcasts import CANCELLED, DONE, SCHEDULED, SENDING, Tally
from storage.broadcasts import due as due  # the leader's job asks here
from storage.models import Broadcast, Member, Unit
from storage.units import unit_by_id

logger = logging.getLogger(__name__)
ORGANIZER = "organizer"
TEXT_LIMIT = 3500  # leaves room in Telegram's 4096 for the message's frame


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

    def members_of(self, unit: Unit) -> Select[Any] | None:
        """Select the members it reaches under `unit` (None: no members)."""
        if not self.members:
            return None
        return recipients.members(
            path=unit.path, role=self.role, language=self.language, kind=self.kind
        )

    def groups_of(self, unit: Unit) -> Select[Any] | None:
        """Select the group chats it reaches under `unit` (None: none, or a filter only a
        person has, a role or a language, narrows it)."""
        if not self.groups or self.role or self.language:
            return None
        return recipients.groups(path=unit.path, kind=self.kind)


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


def read_send_at(text: str, *, zone: tzinfo, now: datetime) -> datetime:
    """Read a local 'dd/mm/yyyy hh:mm' (or 'hh' or '8h30' for the time) in the future."""
    day_text, _, clock_text = text.rpartition(" ")
    hour, _, minute = clock_text.replace("h", ":").partition(":")
    minute = minute or "0"
    if not day_text or not (hour.isascii() and hour.isdigit()):
        raise Refused("broadcast.when_format")
    if not (minute.isascii() and minute.isdigit()) or int(hour) > 23 or int(minute) > 59:
        raise Refused("broadcast.when_format")
    local = datetime.combine(read_day(day_text), time(int(hour), int(minute)), tzinfo=zone)
    if local <= now:
        raise Refused("broadcast.when_past")
    return local


def count(*, session: Session, member: Member, audience: Audience) -> tuple[int, int]:
    """Return how many members and group chats the audience reaches right now."""
    unit = audience_unit(session=session, member=member, unit_id=audience.unit_id)
    members, groups = (
        0 if rows is None else recipients.count(session=session, rows=rows)
        for rows in (audience.members_of(unit), audience.groups_of(unit))
    )
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
    # Once, even if two processes try.
    if unit is None or not store.claim(session=session, broadcast_id=broadcast.id or 0):
        return 0
    if not _still_organized(session, broadcast):
        logger.warning("broadcast %s cancelled: its organizer no longer is one", broadcast.id)
        broadcast.status, broadcast.finished_at, broadcast.reported_final = CANCELLED, now, True
        session.add(broadcast)
        return 0
    audience = Audience.from_json(broadcast.audience)
    queued = outbox.enqueue_broadcast(
        session=session,
        broadcast_id=broadcast.id or 0,
        members=audience.members_of(unit),
        groups=audience.groups_of(unit),
        group_language=str(broadcast.contents["default"]),
        now=now,
    )
    broadcast.status, broadcast.started_at, broadcast.recipients = SENDING, now, queued
    session.add(broadcast)
    return queued


def _still_organized(session: Session, broadcast: Broadcast) -> bool:
    """Whether the member who scheduled a broadcast still organizes its audience (the
    role may have been taken away, or the member erased, since)."""
    creator = session.get(Member, broadcast.created_by) if broadcast.created_by else None
    if creator is None:
        return False
    try:
        audience_unit(session=session, member=creator, unit_id=broadcast.unit_id)
    except Refused:
        return False
    return True


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
    stopped = store.cancel_queued(session=session, broadcast_id=broadcast.id or 0)
    # One that never started has no progress message to turn into a report.
    broadcast.reported_final = broadcast.status == SCHEDULED
    broadcast.status, broadcast.finished_at = CANCELLED, now
    session.add(broadcast)
    return stopped


def running(*, session: Session, member: Member) -> list[Broadcast]:
    """Return the scheduled and sending broadcasts the member may cancel."""
    return [b for b in _in_scopes(session, member, 50) if b.status in (SCHEDULED, SENDING)]


def history(*, session: Session, member: Member, limit: int = 10) -> list[Broadcast]:
    """Return the newest broadcasts over the units the member organizes."""
    return _in_scopes(session, member, limit)


def _in_scopes(session: Session, member: Member, limit: int) -> list[Broadcast]:
    scopes = organizer_units(session=session, member=member)
    return store.newest_under(session=session, paths=[u.path for u in scopes], limit=limit)


def finish(*, session: Session, broadcast: Broadcast, tally: Tally, now: datetime) -> bool:
    """Mark a sending broadcast done when its `tally` has nothing queued; True if over."""
    if broadcast.status == SENDING:
        if tally[outbox.QUEUED]:
            return False
        broadcast.status, broadcast.finished_at = DONE, now
        session.add(broadcast)
    return True


def report_final(
    *, session: Session, broadcast: Broadcast, reply: Reply, message_id: str | None, now: datetime
) -> None:
    """Mark the final report done and queue a copy of it to the organizer's chat."""
    store.set_reported(
        session=session, broadcast_id=broadcast.id or 0, message_id=message_id, final=True
    )
    notices.to_chat(
        session=session,
        chat=(broadcast.report_channel, broadcast.report_chat_id),
        reply=reply,
        language=broadcast.report_language,
        now=now,
        member_id=broadcast.created_by,
    )
