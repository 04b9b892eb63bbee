"""Leadership: among the bot processes that share a database, one runs the scheduler
and the outbox sender. It holds a lease row and renews it; when it dies, the lease
runs out and another process takes over.
"""

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Coroutine
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from storage import db, leases
from storage.db import one_statement

logger = logging.getLogger(__name__)
LEASE = "leader"


def holder_name() -> str:
    """Return a name for this process that no other process shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def together(*works: Coroutine[Any, Any, None]) -> None:
    """Run the leader's works together: when one fails the others stop too (it is logged,
    and the lease's next turn starts them all again), so none runs on outside the lease."""
    try:
        async with asyncio.TaskGroup() as group:
            for work in works:
                group.create_task(work)
    except Exception:
        logger.exception("the leader's work failed; it starts again at the next renewal")


class Leadership:
    """Run `work` only while this process holds the lease; stand by otherwise.

    The lease lasts `ttl` seconds and is renewed every third of it. A leader that
    cannot renew stops its work before the lease can have run out, so two processes
    never lead at once (their clocks agreeing to within a few seconds).
    """

    def __init__(
        self,
        *,
        engine: Engine,
        work: Callable[[], Coroutine[Any, Any, None]],
        clock: Callable[[], datetime],
        ttl: float = 30.0,
        holder: str | None = None,
    ) -> None:
        self.engine = engine
        self.work = work
        self.clock = clock
        self.ttl = ttl
        self.holder = holder or holder_name()
        self.task: asyncio.Task[None] | None = None
        self.renewed = 0.0  # monotonic time of the last successful renewal

    @property
    def leading(self) -> bool:
        """Tell whether this process leads now."""
        return self.task is not None and not self.task.done()

    async def run(self) -> None:
        """Try for the lease, lead while holding it, until cancelled; then give it back."""
        try:
            while True:
                await self._turn()
                await asyncio.sleep(self.ttl / 3)
        finally:
            await self._stop()
            with suppress(Exception):
                await db.run(self.engine, self._give_back)

    async def _turn(self) -> None:
        started = time.monotonic()  # the lease renewed now runs `ttl` from about here
        # A renewal that hangs (a server that accepts and never answers) counts as failed
        # after a third of the lease, and, while leading, by two thirds of it since the
        # last renewal: the work then stops with a third of the lease to spare.
        limit = self.ttl / 3
        if self.leading:
            limit = min(limit, max(0.0, self.renewed + self.ttl * 2 / 3 - started))
        try:
            async with asyncio.timeout(limit):
                held = await db.run(self.engine, self._hold)
        except Exception:
            logger.warning("could not reach the database to renew the lease")
            if self.leading and time.monotonic() - self.renewed >= self.ttl * 2 / 3:
                logger.warning("stopping the leader's work: the lease may run out")
                await self._stop()
            return
        if held:
            self.renewed = started
            if not self.leading:
                logger.info("this process leads: scheduler and outbox run here")
                self.task = asyncio.create_task(self.work())
        elif self.leading:
            logger.warning("another process took the lease; standing by")
            await self._stop()

    async def _stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self.task
            self.task = None

    def _hold(self) -> bool:
        with one_statement(self.engine) as connection:
            return leases.hold(
                connection=connection,
                name=LEASE,
                holder=self.holder,
                now=self.clock(),
                ttl=timedelta(seconds=self.ttl),
            )

    def _give_back(self) -> None:
        with one_statement(self.engine) as connection:
            leases.give_back(connection=connection, name=LEASE, holder=self.holder)
