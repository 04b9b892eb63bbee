"""The scheduler's jobs as plain functions: each reads what is due from the database."""

import logging
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.settings import Settings
from locales import Catalogs
from services import broadcasts, digest_schedule, digests, notices, reminders, roles
from services.digest_schedule import DueDigest
from storage.db import reading, transaction
from storage.models import Broadcast, Member
from views.digest import digest_reply

logger = logging.getLogger(__name__)


def run_reminders(engine: Engine, settings: Settings, now: datetime) -> int:
    """Send every reminder that is due, each in its own transaction; return notices queued.

    In quiet hours nothing is sent: what is due stays due until they end.
    """
    if reminders.quiet(now, settings.tz, settings.quiet):
        return 0
    with reading(engine) as session:
        due = reminders.due(session=session, now=now, sla_days=settings.review_sla_days)
    queued = 0
    for item in due:
        try:
            with transaction(engine) as session:
                queued += reminders.send(session=session, item=item, now=now, zone=settings.tz)
        except IntegrityError:
            logger.info("reminder %s of %s went out already", item.kind, item.subject_id)
        except Exception:
            logger.exception(
                "reminder %s of %s failed; next run tries again", item.kind, item.subject_id
            )
    return queued


def run_broadcasts(engine: Engine, now: datetime) -> int:
    """Start the scheduled broadcasts whose time has come; return messages queued.

    An organizer picked the time, so quiet hours do not hold these back.
    """
    with reading(engine) as session:
        due = broadcasts.due(session=session, now=now)
    queued = 0
    for broadcast_id in due:
        try:
            with transaction(engine) as session:
                broadcast = session.get(Broadcast, broadcast_id)
                if broadcast is not None:
                    queued += broadcasts.start(session=session, broadcast=broadcast, now=now)
        except Exception:
            logger.exception("starting broadcast %s failed; next run tries again", broadcast_id)
    return queued


def run_digests(engine: Engine, settings: Settings, catalogs: Catalogs, now: datetime) -> int:
    """Queue the digests whose period ended (not in quiet hours); return how many."""
    if reminders.quiet(now, settings.tz, settings.quiet):
        return 0
    with reading(engine) as session:
        due = digest_schedule.due(session=session, now=now, zone=settings.tz)
    queued = 0
    for item in due:
        try:
            with transaction(engine) as session:
                queued += _digest(session, item, settings, catalogs, now)
        except Exception:
            logger.exception("the digest of member %s failed", item.member_id)
    return queued


def _digest(
    session: Session, item: DueDigest, settings: Settings, catalogs: Catalogs, now: datetime
) -> int:
    """Mark the period sent and queue the member's digests, in the caller's transaction."""
    sent = digest_schedule.mark_sent(
        connection=session.connection(), member_id=item.member_id, end=item.end
    )
    member = session.get(Member, item.member_id)
    if not sent or member is None:
        return 0
    queued = 0
    to_groups = digest_schedule.setting_of(session=session, member_id=item.member_id).to_groups
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
        reply = digest_reply(digest, catalogs, member.language, settings.tz)
        queued += notices.to_member(session=session, member=member, reply=reply, now=now)
        if to_groups:
            queued += _to_groups(session, digest, item.end, settings, catalogs, now)
    return queued


def _to_groups(
    session: Session,
    digest: digests.Digest,
    end: datetime,
    settings: Settings,
    catalogs: Catalogs,
    now: datetime,
) -> int:
    """Post a digest to the group chats linked to its unit, each period once."""
    language = settings.default_language  # a group has many languages: the bot's own
    reply = None  # drawn once (the chart is the costly part), only if a group gets it
    queued = 0
    for group in digest_schedule.groups_of(session=session, unit_ids=[digest.scope.id or 0]):
        if digest_schedule.mark_group_sent(connection=session.connection(), group=group, end=end):
            reply = reply or digest_reply(digest, catalogs, language, settings.tz)
            notices.to_group(session=session, group=group, reply=reply, language=language, now=now)
            queued += 1
    return queued
