"""What a channel does with the updates it received: the inbox first, then the processor.

The first update of each chat the processor is not busy with is processed in the
transaction that stores the updates (one commit, not two); the processor then only
delivers its replies. Every messenger channel takes its updates in this way.
"""

from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial

from bot.app import Core
from bot.channels.inbox import InboxProcessor, Queued
from bot.channels.replies import Progress
from core.messages import Incoming, Response
from storage import db, inbox
from storage.db import one_statement, transaction

Waiting = Callable[[], Awaitable[None]] | None


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


async def until_stored(
    core: Core, store: Callable[[], Awaitable[None]], count: int, waiting: Waiting = None
) -> None:
    """Run `store` (of `count` received updates) until the database takes them, waiting
    out a database that is away (`db.away`; `waiting` runs before each pause). A
    failure of the work itself is raised."""
    await db.until_answers(
        store,
        f"storing {count} received updates",
        away=partial(db.away, core.engine),
        waiting=waiting,
    )


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


Translate = Callable[[Queued], Awaitable[Incoming | None]]
Deliver = Callable[[Queued, Response], Awaitable[bool]]


async def process(
    core: Core,
    channel: str,
    row: Queued,
    *,
    translate: Translate,
    group: Callable[[Incoming], Awaitable[Response | None]],
    deliver: Deliver,
    wake: Callable[[], None],
) -> bool:
    """Handle one stored update and send its replies; False means try again.

    `translate` turns the stored update into an Incoming (None: nobody to answer; it is
    marked done here). The core marks the row done in the transaction that processes it
    (`group`), and keeps the replies with the person's state until the channel confirms
    them. A retry of a processed update only sends (`deliver`) what did not go out.
    `wake` is called once when the update queued outbox messages.
    """
    if row.handled is None:
        incoming = await translate(row)
        if incoming is None:
            await db.run(core.engine, forget, core, channel, row.update_id)
            return True
        row.parsed = incoming
        response = await group(incoming)
        # A new response is sent from its start: what went out before was the text of
        # a failed attempt. A pressed button's spinner, stopped then, stays stopped.
        row.progress = Progress(answered=row.progress.answered)
        row.processed = response is None or not response.failed
        row.handled = (response,)
    (response,) = row.handled
    if response is None:
        return True  # a duplicate: the core already marked it done in the inbox
    if response.failed:
        row.handled = None  # processed again next time
    elif response.queued:
        wake()
        response = replace(response, queued=False)  # wake the sender once
        row.handled = (response,)
    return await deliver(row, response)
