"""The scheduler's jobs as plain functions: each reads what is due from the database."""

import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from core.settings import Settings
from services import broadcasts, reminders
from storage import reminders as done
from storage.db import reading, transaction
from storage.file_references import referenced_keys
from storage.files import FileStore
from storage.models import Broadcast

logger = logging.getLogger(__name__)
SWEPT = "files_swept"  # a Reminder row per UTC day: the kept files were swept that day
# A handed file's URL is signed just after it is put, so it works a moment longer than
# the file's age says: a handed file stays this much longer than PUBLIC_FILE_TTL_HOURS.
HANDED_MARGIN = timedelta(minutes=5)


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


def expire_handed(settings: Settings, files: FileStore, now: datetime) -> int:
    """Remove the files handed out by URL only (documents sent on Zalo as links) whose
    URLs no longer work (PUBLIC_FILE_TTL_HOURS, and a margin); return how many went."""
    ttl = timedelta(hours=settings.public_file_ttl_hours) + HANDED_MARGIN
    removed = files.expire_handed(now - ttl)
    if removed:
        logger.info("removed %s files handed out by links that expired", removed)
    return removed


def sweep_files(engine: Engine, settings: Settings, files: FileStore, now: datetime) -> int | None:
    """Once a UTC day, remove the kept files nothing refers to that were not put for
    FILES_UNREFERENCED_DAYS; return how many went (None: swept today already).

    The references are read in one short read; the files are walked after it, outside
    any transaction. A file put after that read is young, so it stays. The day is
    recorded after the sweep: a sweep cut short is done again, which removes nothing twice.
    """
    day = now.date().toordinal()
    with reading(engine) as session:
        if done.sent_among(session=session, kinds=[SWEPT], subject_ids=[day]):
            return None
        referenced = referenced_keys(session=session)
    removed = files.sweep(referenced, now - timedelta(days=settings.files_unreferenced_days))
    try:
        with transaction(engine) as session:
            done.record(session=session, kind=SWEPT, subject_id=day, now=now)
    except IntegrityError:
        logger.info("the kept files were swept twice today")
    logger.info("swept the kept files: %s removed, %s referenced", removed, len(referenced))
    return removed
