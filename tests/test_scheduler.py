"""The scheduler: a job cut short by shutdown ends quietly and loses nothing; a job store
that fails does not stop the jobs."""

import asyncio
import logging
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.app import Core
from bot.leader import scheduler
from bot.leader.preparing import Preparing


# On SQLite the job's database steps run in place, with nothing to cancel between them; on
# PostgreSQL they wait on worker threads, where shutdown can cut in.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_job_cancelled_at_shutdown_ends_without_an_error(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    woken: list[bool] = []
    preparing = Preparing(core.engine, core.settings, core.catalogs, processes=0)
    scheduler._RUNNING.update(core=core, notify=lambda: woken.append(True), prepare=preparing)
    caplog.set_level(logging.INFO)
    try:
        job = asyncio.create_task(scheduler.reminders_job())
        await asyncio.sleep(0)  # the job runs up to its first database step
        assert not job.done()
        job.cancel()  # what APScheduler's executor does to running jobs at shutdown
        await job  # ends, instead of raising the cancellation for APScheduler to log
    finally:
        scheduler._RUNNING.clear()
        preparing.close()
    assert "stopped by shutdown" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


RUNS: list[float] = []


def tick() -> None:
    """A job the database job store names by reference."""
    RUNS.append(time.monotonic())


async def test_the_jobs_go_on_after_the_job_store_failed_to_move_one_on(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """APScheduler 3 leaves its timer unset when writing a job's next run fails (the
    database away): the jobs would stop until the lease is lost."""
    built = scheduler.build_scheduler(core)
    built.jobstore_retry_interval = 0.2
    store = built._jobstores["default"]
    update_job = store.update_job
    failures = [1]

    def away_once(job: object) -> None:
        if failures[0]:
            failures[0] -= 1
            lost = Exception("server closed the connection unexpectedly")
            raise OperationalError("UPDATE", {}, lost, connection_invalidated=True)
        update_job(job)

    monkeypatch.setattr(store, "update_job", away_once)
    RUNS.clear()
    built.start()
    try:
        built.add_job(tick, "interval", seconds=0.1, id="tick", replace_existing=True)
        async with asyncio.timeout(10):
            while len(RUNS) < 5:
                await asyncio.sleep(0.05)
    finally:
        built.remove_job("tick")  # the job store is the database's: leave no job behind
        built.shutdown(wait=False)
    assert failures == [0]  # it did fail, and the jobs went on


async def test_stopping_the_scheduler_leaves_the_projects_connections_alone(core: Core) -> None:
    pool = core.engine.pool
    built = scheduler.build_scheduler(core)
    built.start()
    built.shutdown(wait=False)
    await asyncio.sleep(0.2)  # APScheduler 3.11 shuts its stores down on the event loop
    assert core.engine.pool is pool  # its own store would have disposed of it


async def test_a_job_an_older_version_left_in_the_store_is_removed_at_start(core: Core) -> None:
    older = scheduler.build_scheduler(core)
    older.start(paused=True)
    older.add_job(tick, "interval", seconds=60, id="renamed_since")
    older.shutdown(wait=False)
    await asyncio.sleep(0.2)
    preparing = Preparing(core.engine, core.settings, core.catalogs, processes=0)
    running = asyncio.create_task(scheduler.run_scheduler(core, lambda: None, preparing))

    def jobs() -> set[str]:
        with core.engine.connect() as connection:
            rows = connection.execute(text(f"SELECT id FROM {scheduler.TABLE}"))
            return {row.id for row in rows}

    try:
        async with asyncio.timeout(10):
            while jobs() != {"reminders", "kept_files"}:
                await asyncio.sleep(0.05)
        assert "renamed_since" not in jobs()
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        preparing.close()
        with core.engine.begin() as connection:  # the table outlives the test's database
            connection.execute(text(f"DELETE FROM {scheduler.TABLE}"))
