"""Queries on broadcasts: claiming one to send, where its messages are, the report."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlmodel import Session

from storage import outbox
from storage.models import Broadcast, OutboxMessage, Unit, table

SCHEDULED, SENDING, DONE, CANCELLED = "scheduled", "sending", "done", "cancelled"
_B, _O, _U = table(Broadcast), table(OutboxMessage), table(Unit)


@dataclass
class Tally:
    """Where a broadcast's messages are: how many have each outbox status."""

    by_status: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, status: str) -> int:
        """Return how many messages have `status` (`outbox.SENT`, ...)."""
        return self.by_status.get(status, 0)

    @property
    def total(self) -> int:
        """Every message of the broadcast."""
        return sum(self.by_status.values())


def claim(*, session: Session, broadcast_id: int) -> bool:
    """Move a scheduled broadcast to sending; False if it was not scheduled (so that two
    processes trying at once start it once)."""
    claimed = session.execute(
        update(_B).where(_B.c.id == broadcast_id, _B.c.status == SCHEDULED).values(status=SENDING)
    )
    return bool(getattr(claimed, "rowcount", 0))


def forget_organizer(*, session: Session, member_id: int, now: datetime) -> None:
    """Take an erased organizer's chat off their broadcasts (no progress or report goes
    there again) and cancel those that have not started."""
    mine = _B.c.created_by == member_id
    session.execute(
        update(_B)
        .where(mine, _B.c.status == SCHEDULED)
        .values(status=CANCELLED, finished_at=now, reported_final=True)
    )
    session.execute(
        update(_B).where(mine).values(report_channel="", report_chat_id="", report_message_id=None)
    )


def made_by(*, session: Session, member_id: int) -> list[Broadcast]:
    """Return the broadcasts a member made, oldest first."""
    query = select(Broadcast).where(_B.c.created_by == member_id).order_by(_B.c.id)
    return list(session.execute(query).scalars().all())


def cancelled_among(*, session: Session, ids: Sequence[int]) -> set[int]:
    """Return which of these broadcasts were cancelled."""
    query = select(_B.c.id).where(_B.c.id.in_(ids), _B.c.status == CANCELLED)
    return {int(i) for i in session.execute(query).scalars()}


def due(*, session: Session, now: datetime) -> list[int]:
    """Return the ids of the scheduled broadcasts whose time has come."""
    query = select(_B.c.id).where(_B.c.status == SCHEDULED, _B.c.send_at <= now).order_by(_B.c.id)
    return [int(i) for i in session.execute(query).scalars()]


def newest_under(*, session: Session, paths: Sequence[str], limit: int) -> list[Broadcast]:
    """Return the newest broadcasts to units under any of the unit `paths`."""
    if not paths:
        return []
    query = (
        select(Broadcast)
        .join(Unit, _U.c.id == _B.c.unit_id)
        .where(or_(*(_U.c.path.startswith(path) for path in paths)))
        .order_by(_B.c.id.desc())
        .limit(limit)
    )
    return list(session.execute(query).scalars().all())


def cancel_queued(*, session: Session, broadcast_id: int) -> int:
    """Cancel a broadcast's messages that have not gone; return how many."""
    stopped = session.execute(
        update(_O)
        .where(_O.c.broadcast_id == broadcast_id, _O.c.status == outbox.QUEUED)
        .values(status=outbox.CANCELLED)
    )
    return int(getattr(stopped, "rowcount", 0) or 0)


def tallies(*, session: Session, broadcast_ids: Sequence[int]) -> dict[int, Tally]:
    """Count each broadcast's messages by status, in one grouped query."""
    found = {i: Tally() for i in broadcast_ids}
    if not found:
        return found
    query = (
        select(_O.c.broadcast_id, _O.c.status, func.count())
        .where(_O.c.broadcast_id.in_(list(found)))
        .group_by(_O.c.broadcast_id, _O.c.status)
    )
    for broadcast_id, status, number in session.execute(query).all():
        found[int(broadcast_id)].by_status[str(status)] = int(number)
    return found


def to_report(*, session: Session) -> list[Broadcast]:
    """Return the broadcasts whose organizer has not had the final report yet."""
    query = (
        select(Broadcast)
        .where(_B.c.status.in_((SENDING, DONE, CANCELLED)), _B.c.reported_final.is_(False))
        .order_by(_B.c.id)
    )
    return list(session.execute(query).scalars().all())


def set_reported(
    *, session: Session, broadcast_id: int, message_id: str | None, final: bool
) -> None:
    """Remember the progress message (if one is given), and whether the final report went."""
    values: dict[str, Any] = {"reported_final": final}
    if message_id is not None:
        values["report_message_id"] = message_id
    session.execute(update(_B).where(_B.c.id == broadcast_id).values(**values))
