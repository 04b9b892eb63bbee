"""Group commit: updates of different chats that wait at the same time share a transaction.

The inbox processor works on at most one update per chat at a time, so the updates of
a group never belong to the same chat and per-chat order is the processor's, as before.
While one group is in the database the next one gathers; a lone update goes at once.
"""

import asyncio
import logging
from collections.abc import Callable, Sequence

from sqlalchemy import Engine

from core.messages import Incoming, Response
from storage import db

logger = logging.getLogger(__name__)
HandleGroup = Callable[[Sequence[Incoming]], list[Response | None]]
Waiting = tuple[Incoming, "asyncio.Future[Response | None]"]


class GroupCommit:
    """Pass waiting updates to the core in groups of at most `limit`, one group at a time."""

    def __init__(self, *, engine: Engine, handle_group: HandleGroup, limit: int) -> None:
        self.engine = engine
        self.handle_group = handle_group
        self.limit = max(1, limit)
        self.waiting: list[Waiting] = []
        self.runner: asyncio.Task[None] | None = None

    async def __call__(self, incoming: Incoming) -> Response | None:
        """Process one update with whatever else waits; return what the core returned."""
        future: asyncio.Future[Response | None] = asyncio.get_running_loop().create_future()
        self.waiting.append((incoming, future))
        if self.runner is None:
            self.runner = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        group: list[Waiting] = []
        try:
            while self.waiting:
                group, self.waiting = self.waiting[: self.limit], self.waiting[self.limit :]
                try:
                    responses = await db.run(
                        self.engine, self.handle_group, [incoming for incoming, _ in group]
                    )
                except Exception as error:  # the caller decides (the inbox tries again)
                    for _, future in group:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, future), response in zip(group, responses, strict=True):
                    if not future.done():  # its waiter may have been cancelled
                        future.set_result(response)
                group = []
        finally:
            self.runner = None
            for _, future in group + self.waiting:
                future.cancel()
            self.waiting = []
