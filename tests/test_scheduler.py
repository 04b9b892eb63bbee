"""The scheduler's job: a run cut short by shutdown ends quietly and loses nothing."""

import asyncio
import logging

import pytest

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
