"""Long polling: `ZALO_POLLERS` polls in flight, and what they bring stored together.

Zalo forgets an update as it answers a poll, so a poller first has the update written
down (`hold`: the channel's file of held updates, microseconds on the event loop) and
then polls again at once, while the update is stored: what polls bring while a
transaction runs is stored by the next one together (a group commit, as Telegram's
batches give). So a crash costs at most the update Zalo hands to a poll at the instant
of the death, one per poll in flight (README, "Zalo"). When the file cannot be written,
a poller waits for its update's commit before it polls again, as it would without one.
At most `AHEAD` updates wait to be stored: beyond them (a database that is away)
polling pauses.

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
AHEAD = 100  # updates polled and not yet stored, at most
Pending = Callable[[], list[Update]]  # what polls brought and waits to be stored
Store = Callable[[list[Update], Pending], Awaitable[None]]
Hold = Callable[[list[Update]], bool]  # write down; False: the writing is failing


async def poll(
    api: ZaloApi,
    store: Store,
    stop: asyncio.Event,
    *,
    pollers: int,
    timeout: int,
    hold: Hold,
) -> None:
    """Run `pollers` long polls until `stop`, then store what they brought; `store`
    commits each batch.

    A poller whose update was not written down (`hold` false) waits for its commit
    before it polls again. `store` may wait out a database that is away (the channel's
    does); it is told what waits behind its batch. A failure it raises ends polling (the
    runtime stops), as does a wrong token; other errors of a poll are waited out.
    """
    waiting: list[tuple[list[Update], asyncio.Future[None] | None]] = []
    arrived, room = asyncio.Event(), asyncio.Event()
    finished = False

    def count() -> int:
        return sum(len(got) for got, _ in waiting)

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
            if not updates:
                continue
            stored = None if hold(updates) else asyncio.get_running_loop().create_future()
            waiting.append((updates, stored))
            arrived.set()
            if stored is not None:
                await stored
            else:
                # The storer first: a lone update's transaction runs on the event loop
                # and keeps it anyway, so polling then would only lengthen its way; one
                # in a worker thread leaves the loop to the next poll at once.
                await asyncio.sleep(0)
            while count() >= AHEAD:
                room.clear()
                await room.wait()

    async def storer() -> None:
        while waiting or not finished:
            await arrived.wait()
            arrived.clear()
            batch = waiting[:]
            del waiting[:]
            room.set()
            if not batch:
                continue
            updates = ordered([u for got, _ in batch for u in got])
            try:
                await store(updates, pending)
            except Exception as error:
                for _, stored in batch:
                    if stored is not None:
                        stored.set_exception(error)
                raise
            for _, stored in batch:
                if stored is not None:
                    stored.set_result(None)

    def ordered(updates: list[Update]) -> list[Update]:
        # One poll's updates come in Zalo's order; several polls' by Zalo's message time.
        return updates if pollers <= 1 else sorted(updates, key=sent_at)

    def pending() -> list[Update]:
        return ordered([u for got, _ in waiting for u in got])

    storing = asyncio.create_task(storer())
    polls = [asyncio.create_task(poller()) for _ in range(max(1, pollers))]
    polling = asyncio.gather(*polls)
    try:
        await asyncio.wait((storing, polling), return_when=asyncio.FIRST_COMPLETED)
        if storing.done():
            storing.result()  # it ends early only by a failure
        polling.result()  # a failure of a poll: the token
        finished = True  # what the last polls brought is stored before polling ends
        arrived.set()
        await storing
    finally:
        for task in (*polls, storing):
            task.cancel()
        await asyncio.gather(*polls, storing, return_exceptions=True)
