"""Where the leader prepares digests and makes documents: never on the event loop, never
in a transaction.

Preparing a leader's period is reading it (a few milliseconds of SQL, which on SQLite
would run on the event loop like all its database work) and drawing its charts (~115 ms
of matplotlib each, nearly all of it holding the GIL). Making a queued message's
documents (`views.later`) is the same kind of work: a certificate a third of a second of
fpdf2, an /export workbook of 20,000 rows seconds of openpyxl. In a worker thread that
still slows the event loop serving replies; a pool of processes (created at the first
use, shut down when the leader stops, at a lower priority, each with its own database
engine) leaves it alone: only the short writes that queue and record run in the bot.
"""

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Engine

from bot.leader import digests
from bot.leader.digests import Prepared
from core.settings import Settings
from locales import Catalogs
from services.digest_schedule import DueDigest
from storage.db import make_engine
from storage.outbox import Due
from views import later

T = TypeVar("T")
# Digests and documents can wait: on a machine with few cores the processes serving
# replies (the bot, its database server) come first.
NICENESS = 10
# What a worker process prepares with, set when it starts.
_WORKER: dict[str, Any] = {}


def _start_worker(url: str, settings: Settings) -> None:
    os.nice(NICENESS)
    _WORKER.update(engine=make_engine(url), settings=settings, catalogs=Catalogs(zone=settings.tz))


def _prepare_in_worker(item: DueDigest, now: datetime) -> Prepared | None:
    return digests.prepare(_WORKER["engine"], _WORKER["catalogs"], _WORKER["settings"], item, now)


def _make_in_worker(item: Due) -> Due:
    return later.maker(_WORKER["engine"], _WORKER["catalogs"], _WORKER["settings"])(item)


class Preparing:
    """Prepare digests and make documents in `processes` worker processes, or in a worker
    thread when 0."""

    def __init__(
        self, engine: Engine, settings: Settings, catalogs: Catalogs, processes: int = 0
    ) -> None:
        self.engine, self.settings, self.catalogs = engine, settings, catalogs
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._starting = asyncio.Lock()
        self._make_here = later.maker(engine, catalogs, settings)

    async def __call__(self, item: DueDigest, now: datetime) -> Prepared | None:
        """Read and draw a leader's due period away from the event loop."""
        here = partial(digests.prepare, self.engine, self.catalogs, self.settings)
        return await self._away(here, _prepare_in_worker, item, now)

    async def make(self, item: Due) -> Due:
        """Return a due message with its later documents made, away from the event loop
        (what the outbox sender calls before sending one that has some)."""
        return await self._away(self._make_here, _make_in_worker, item)

    async def _away(self, here: Callable[..., T], in_worker: Callable[..., T], *args: Any) -> T:
        """Run `here` in a thread, or `in_worker` (the same, with the worker's engine) in
        the pool."""
        if not self.processes:
            return await asyncio.to_thread(here, *args)
        async with self._starting:
            if self._pool is None:
                # Starting a worker blocks until the fork server has imported what it
                # needs (~0.5 s, once): not on the event loop.
                self._pool = await asyncio.to_thread(self._start)
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, in_worker, *args)
        except BrokenProcessPool:
            self.close()  # a worker died (killed, out of memory): the next use starts anew
            raise

    def _start(self) -> ProcessPoolExecutor:
        # Not fork: the bot runs threads (database work, the scheduler), and a forked
        # child could inherit one of their locks held.
        context = multiprocessing.get_context("forkserver")
        # The server would import the main script (`initiative-bot`: the whole bot) to
        # fork the workers from; they need only the digests and the documents.
        context.set_forkserver_preload([__name__])
        url = self.engine.url.render_as_string(hide_password=False)
        pool = ProcessPoolExecutor(
            self.processes,
            mp_context=context,
            initializer=_start_worker,
            initargs=(url, self.settings),
        )
        # The executor starts its workers in the thread that submits the first task:
        # this one.
        pool.submit(os.getpid).result()
        return pool

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
