"""The digest job: read what is due; prepare each leader's period (read it, draw its
charts) away from the event loop and outside any transaction; then mark the period sent
and queue its messages in a short write transaction.

Preparing takes far longer than the write after it, and a transaction held open for it
would keep SQLite's write lock from every reply meanwhile. The write re-checks that the
period is still due (a conditional UPDATE of `sent_until`), so two leaders, or a job run
twice, never send a period twice.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from core.messages import Reply
from core.settings import Settings
from locales import Catalogs
from services import digest_schedule, digests, notices, reminders, roles
from services.digest_schedule import DueDigest
from storage import db
from storage import digest_settings as marks
from storage.db import reading, transaction
from storage.models import GroupChat, Member
from views.charts import draw
from views.digest import digest_chart, with_chart

logger = logging.getLogger(__name__)


@dataclass
class Gathered:
    """One scope's digest, and the group chats still due to get it when read."""

    digest: digests.Digest
    groups: list[GroupChat]


@dataclass
class LeaderDigest:
    """What one leader's due period needs, read in one read transaction."""

    item: DueDigest
    member: Member
    scopes: list[Gathered] = field(default_factory=list)


@dataclass
class Ready:
    """A scope's messages, charts drawn: to the leader, and to its groups."""

    reply: Reply
    groups: list[GroupChat]
    group_reply: Reply | None = None
    group_language: str = ""


@dataclass
class Prepared:
    """A leader's period, read, with its messages drawn: all that the write needs."""

    gathered: LeaderDigest
    ready: list[Ready]


Prepare = Callable[[DueDigest, datetime], Awaitable[Prepared | None]]


async def run_digests(engine: Engine, settings: Settings, now: datetime, prepare: Prepare) -> int:
    """Queue the digests whose period ended (not in quiet hours); return how many.

    `prepare` reads and draws a leader's period off the event loop (see
    `bot.leader.preparing`); only the short write runs here.
    """
    if reminders.quiet(now, settings.tz, settings.quiet):
        return 0
    due = await db.run(engine, _due, engine, settings, now)
    queued = 0
    for item in due:
        try:
            prepared = await prepare(item, now)
            if prepared is not None:
                queued += await db.run(engine, deliver, engine, prepared, now)
        except Exception:
            logger.exception("the digest of member %s failed", item.member_id)
    return queued


def prepare(
    engine: Engine, catalogs: Catalogs, settings: Settings, item: DueDigest, now: datetime
) -> Prepared | None:
    """Read a leader's due period and draw its charts; None when the leader is gone.
    Blocking, and slow (a chart is ~115 ms of matplotlib): run it in a worker."""
    gathered = gather(engine, item, settings, now)
    if gathered is None:
        return None
    return Prepared(gathered, drawn(gathered, settings, catalogs))


def _due(engine: Engine, settings: Settings, now: datetime) -> list[DueDigest]:
    with reading(engine) as session:
        return digest_schedule.due(session=session, now=now, zone=settings.tz)


def gather(
    engine: Engine, item: DueDigest, settings: Settings, now: datetime
) -> LeaderDigest | None:
    """Read a leader's digests for a due period; None when the leader is gone."""
    with reading(engine) as session:
        member = session.get(Member, item.member_id)
        if member is None:
            return None
        to_groups = marks.setting_of(session=session, member_id=item.member_id).to_groups
        found = LeaderDigest(item, member)
        for scope in roles.scopes(session=session, member=member, role=digest_schedule.LEADER):
            digest = digests.build(
                session=session,
                scope=scope,
                start=item.start,
                end=item.end,
                now=now,
                sla_days=settings.review_sla_days,
                zone=settings.tz,
            )
            groups = (
                marks.groups_of(session=session, unit_ids=[scope.id or 0], due_before=item.end)
                if to_groups
                else []
            )
            found.scopes.append(Gathered(digest, groups))
        return found


def drawn(gathered: LeaderDigest, settings: Settings, catalogs: Catalogs) -> list[Ready]:
    """Draw each scope's chart in the leader's language, and in the bot's own for the
    groups still due (a group has many languages), once when both are the same."""
    language = gathered.member.language
    ready = []
    for scope in gathered.scopes:
        digest = scope.digest
        png = draw(digest_chart(digest, catalogs, language))
        found = Ready(with_chart(digest, settings.tz, png), scope.groups)
        if scope.groups:
            found.group_language = settings.default_language
            if found.group_language != language:
                png = draw(digest_chart(digest, catalogs, found.group_language))
            found.group_reply = with_chart(digest, settings.tz, png)
        ready.append(found)
    return ready


def deliver(engine: Engine, prepared: Prepared, now: datetime) -> int:
    """Mark the period sent and queue the drawn digests, unless another run marked it
    first; each group gets the period once, whichever leader's digest brings it."""
    item, member = prepared.gathered.item, prepared.gathered.member
    queued = 0
    with transaction(engine) as session:
        connection = session.connection()
        if not marks.mark_sent(connection=connection, member_id=item.member_id, end=item.end):
            return 0
        for scope in prepared.ready:
            queued += notices.to_member(session=session, member=member, reply=scope.reply, now=now)
            for group in scope.groups:
                if scope.group_reply and marks.mark_group_sent(
                    connection=connection, group=group, end=item.end
                ):
                    notices.to_group(
                        session=session,
                        group=group,
                        reply=scope.group_reply,
                        language=scope.group_language,
                        now=now,
                    )
                    queued += 1
    return queued
