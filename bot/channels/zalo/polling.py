"""Long polling: `ZALO_POLLERS` polls in flight, and what they bring stored together.

Zalo forgets an update as it answers a poll, so a poller polls again only once the
update it brought is committed: at most one update per poller is ever between Zalo and
the inbox, and that is what a crash can cost (README, "Zalo"). With more than one poller
the updates that arrive while a transaction runs are stored by the next one together (a
group commit), which is what lets one process keep up with many chats; Zalo hands one
update per call, so a lone poller pays a poll and a transaction for each.

Two polls answered at the same moment may bring one chat's updates in either order: a
batch is stored in the order of Zalo's message time, so only updates split between two
batches by a transaction's length can be reordered (docs/zalo.md).
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.channels.zalo.api import Update, ZaloApi, ZaloError
from bot.channels.zalo.convert import sent_at

logger = logging.getLogger(__name__)
UNAUTHORIZED = 401
ERROR_PAUSE = 5.0  # seconds after a failed poll
PAUSE_ON_429 = 30.0
Pending = Callable[[], list[Update]]  # what other polls brought while a batch is stored
Store = Callable[[list[Update], Pending], Awaitable[None]]


async def poll(
    api: ZaloApi,
    store: Store,
    stop: asyncio.Event,
    *,
    pollers: int,
    timeout: int,
    brought: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run `pollers` long polls until `stop`; `store` commits what they bring.

    While `store` runs nobody polls again, so it may wait out a database that is away
    (the channel's does); it is told what polls in flight brought meanwhile, and
    `brought` is called each time one does. A failure it raises reaches the pollers
    whose updates it held, and ends polling (the runtime stops). A wrong token ends it
    too; other errors of a poll are waited out.
    """
    waiting: list[tuple[list[Update], asyncio.Future[None]]] = []
    arrived = asyncio.Event()

    async def poller() -> None:
        while not stop.is_set():
            try:
                updates = await api.get_updates(timeout)
            except ZaloError as error:
                if error.error_code == UNAUTHORIZED:
                    raise  # the token is wrong or was reset: nothing will work
                pause = PAUSE_ON_429 if error.error_code == 429 else ERROR_PAUSE
                logger.warning("getUpdates failed (%s); retrying in %s s", error, pause)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                continue
            if updates:
                stored = asyncio.get_running_loop().create_future()
                waiting.append((updates, stored))
                arrived.set()
                if brought is not None:
                    await brought()
                await stored

    async def storer() -> None:
        while True:
            await arrived.wait()
            arrived.clear()
            batch = waiting[:]
            del waiting[:]
            updates = sorted((u for got, _ in batch for u in got), key=sent_at)
            try:
                await store(updates, pending)
            except Exception as error:
                for _, stored in batch:
                    stored.set_exception(error)
                raise
            for _, stored in batch:
                stored.set_result(None)

    def pending() -> list[Update]:
        return sorted((u for got, _ in waiting for u in got), key=sent_at)

    storing = asyncio.create_task(storer())
    polls = [asyncio.create_task(poller()) for _ in range(max(1, pollers))]
    try:
        await asyncio.gather(*polls)
    finally:
        for task in polls:
            task.cancel()
        storing.cancel()
        await asyncio.gather(*polls, storing, return_exceptions=True)
