"""What a channel does with the updates it received: the inbox first, then the processor.

The first update of each chat the processor is not busy with is processed in the
transaction that stores the updates (one commit, not two); the processor then only
delivers its replies. Every messenger channel takes its updates in this way.
"""

from collections.abc import Callable

from bot.app import Core
from bot.channels.inbox import InboxProcessor, Queued
from storage import db, inbox
from storage.db import one_statement, transaction


async def take_in(
    core: Core,
    processor: InboxProcessor,
    channel: str,
    items: list[Queued],
    parse: Callable[[Queued], bool],
) -> None:
    """Store updates, then hand the new ones to the processor.

    `parse` keeps an update's Incoming in `parsed` and says whether it may be processed
    as it is stored. Redeliveries of stored updates are left out: they are known already.
    """
    ready = processor.reserve(item for item in items if parse(item))
    try:
        if len(processor.active) == len(ready) == 1:
            # Nothing else is in hand, so the event loop would only wait for the
            # database: a worker thread would add its hand-overs and nothing else.
            new = _store(core, channel, items, ready)
        else:
            new = await db.run(core.engine, _store, core, channel, items, ready)
    except BaseException:
        processor.release(ready)
        raise
    processor.resume(ready)
    taken = {item.update_id for item in ready}
    processor.submit(i for i in items if i.update_id in new and i.update_id not in taken)


def _store(core: Core, channel: str, items: list[Queued], ready: list[Queued]) -> set[str]:
    """Write updates to the inbox, processing `ready` in the same transaction.

    Return the ids that were new (not redeliveries); a redelivered `ready` update is
    neither claimed nor processed here.
    """
    received = inbox.Received(
        channel,
        [inbox.Row(i.update_id, i.seq, i.chat_id, i.payload) for i in items],
        frozenset(item.update_id for item in ready),
    )
    if not ready:
        with one_statement(core.engine) as connection:
            return inbox.store(
                connection=connection,
                channel=channel,
                updates=received.updates,
                now=core.dispatcher.clock(),
            )
    responses = core.dispatcher.handle_group([i.parsed for i in ready], received=received)
    for item, response in zip(ready, responses, strict=True):
        item.handled = (response,)
        item.processed = response is None or not response.failed
    return received.new


def forget(core: Core, channel: str, update_id: str) -> None:
    """Mark a stored update done without processing it (nobody to answer, or malformed)."""
    with transaction(core.engine) as session:
        inbox.finish(
            session=session, channel=channel, update_id=update_id, now=core.dispatcher.clock()
        )
