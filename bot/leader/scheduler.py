"""The scheduler (APScheduler 3, jobs kept in the project database), run by the leader.

Jobs are few and fixed, with stable ids: each runs often and reads what is due from
the database (reminders are rows, not jobs), so a restart, a missed run or a second
run loses or doubles nothing. Missed runs are coalesced into one.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import Core
from bot.leader import digests, jobs
from bot.leader.preparing import Preparing
from storage import db

logger = logging.getLogger(__name__)
TABLE = "scheduler_job"
EVERY_SECONDS = 60
GRACE_SECONDS = 600
# Jobs are stored by reference, so they find the running core here.
_RUNNING: dict[str, Any] = {}


class _Scheduler(AsyncIOScheduler):  # type: ignore[misc]  # APScheduler 3 is untyped
    """APScheduler's, going on when its job store fails.

    APScheduler 3 waits out a failure to read the due jobs, but not one to write a job's
    next run after it ran (or to read the next run time): the exception ends its wake-up
    and the timer is never set again, so the jobs silently stop until the process loses
    the lease. The database away (a full disk, a lost connection) is such a failure;
    here the scheduler wakes up again `jobstore_retry_interval` later, and the job, not
    moved on, runs again then (each run is idempotent).
    """

    def _process_jobs(self) -> float | None:
        try:
            wait: float | None = super()._process_jobs()
        except Exception as error:
            logger.warning(
                "the scheduler's job store failed (%s); waking up again in %s s",
                type(error).__name__,
                self.jobstore_retry_interval,
            )
            return float(self.jobstore_retry_interval)
        return wait


class _JobStore(SQLAlchemyJobStore):  # type: ignore[misc]  # APScheduler 3 is untyped
    """APScheduler's database job store, on the project's engine, which it must not close:
    its own shutdown disposes of the engine, every connection pool the channels use
    included, whenever the leader stops (a lost lease, while the process serves on)."""

    def shutdown(self) -> None:
        return None


def build_scheduler(core: Core) -> AsyncIOScheduler:
    """Build a scheduler whose jobs live in the project database."""
    return _Scheduler(
        jobstores={"default": _JobStore(engine=core.engine, tablename=TABLE)},
        job_defaults={"coalesce": True, "misfire_grace_time": GRACE_SECONDS, "max_instances": 1},
        timezone=UTC,
    )


async def run_scheduler(core: Core, notify: Callable[[], None], preparing: Preparing) -> None:
    """Run the jobs until cancelled; `notify` wakes the outbox sender after queuing, and
    `preparing` prepares the digests (its owner closes it)."""
    _RUNNING.update(core=core, notify=notify, prepare=preparing)
    scheduler = build_scheduler(core)
    scheduler.start()
    try:
        fixed = {"reminders": reminders_job, "kept_files": files_job}
        for stale in scheduler.get_jobs():  # a job of an older version, or left by hand
            if stale.id not in fixed:
                stale.remove()
        for job_id, job in fixed.items():
            scheduler.add_job(
                job,
                "interval",
                seconds=EVERY_SECONDS,
                id=job_id,
                replace_existing=True,
                next_run_time=core.dispatcher.clock(),
            )
        await asyncio.Event().wait()
    finally:
        scheduler.shutdown(wait=False)
        _RUNNING.clear()


async def reminders_job() -> None:
    """Queue what is due; a run cut short by shutdown ends quietly (the next one redoes it)."""
    try:
        await _queue_due()
    except asyncio.CancelledError:
        # APScheduler cancels running jobs at shutdown and would log the cancellation as a
        # failure. Each step commits on its own and is re-read from the database next
        # time, so nothing is lost: say so and end the job.
        logger.info("reminders job stopped by shutdown; the next run picks it up")


async def _queue_due() -> None:
    core: Core = _RUNNING["core"]
    now = core.dispatcher.clock()
    queued = await db.run(core.engine, jobs.run_reminders, core.engine, core.settings, now)
    queued += await digests.run_digests(core.engine, core.settings, now, _RUNNING["prepare"])
    queued += await db.run(core.engine, jobs.run_broadcasts, core.engine, now)
    if queued:
        logger.info("queued %s reminders", queued)
        _RUNNING["notify"]()


async def files_job() -> None:
    """Remove the handed files whose links expired, and sweep the kept files when today's
    sweep is due (see `jobs.expire_handed`, `jobs.sweep_files`)."""
    core: Core = _RUNNING["core"]
    try:
        # Walks of the files folders: off the event loop, whatever the database.
        now = core.dispatcher.clock()
        await asyncio.to_thread(jobs.expire_handed, core.settings, core.files, now)
        await asyncio.to_thread(jobs.sweep_files, core.engine, core.settings, core.files, now)
    except asyncio.CancelledError:
        logger.info("kept files' sweep stopped by shutdown; the next run picks it up")
