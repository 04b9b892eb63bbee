"""Process stored updates: one chat's updates in order, different chats concurrently."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from sqlalchemy import Engine

from storage import inbox
from storage.db import reading, transaction
from storage.models import InboxUpdate

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
Handle = Callable[[InboxUpdate], Awaitable[bool]]


class InboxProcessor:
    """Drain the inbox of one channel with at most `concurrency` chats at a time."""

    def __init__(self, *, engine: Engine, channel: str, handle: Handle, concurrency: int) -> None:
        self.engine = engine
        self.channel = channel
        self.handle = handle
        self.concurrency = concurrency
        self.active: dict[str, asyncio.Task[None]] = {}
        self.wakeup = asyncio.Event()

    def notify(self) -> None:
        """Tell the processor that new updates were stored."""
        self.wakeup.set()

    async def run(self) -> None:
        """Start a drain task per waiting chat until cancelled."""
        try:
            while True:
                self.wakeup.clear()
                free = self.concurrency - len(self.active)
                if free > 0:
                    chats = await asyncio.to_thread(self._pending, free + len(self.active))
                    for chat_id in chats:
                        if chat_id not in self.active and len(self.active) < self.concurrency:
                            self.active[chat_id] = asyncio.create_task(self._drain(chat_id))
                # Not wait_for: on 3.11 it can swallow a cancel that races with the event.
                with suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await self.wakeup.wait()
        finally:
            for task in self.active.values():
                task.cancel()
            await asyncio.gather(*self.active.values(), return_exceptions=True)

    def _pending(self, limit: int) -> list[str]:
        with reading(self.engine) as session:
            return inbox.pending_chats(session=session, channel=self.channel, limit=limit)

    def _next(self, chat_id: str) -> list[InboxUpdate]:
        with reading(self.engine) as session:
            return list(
                inbox.next_for_chat(session=session, channel=self.channel, chat_id=chat_id)
            )

    def _failed(self, update: InboxUpdate) -> None:
        with transaction(self.engine) as session:
            stored = session.get(InboxUpdate, (update.channel, update.update_id))
            if stored is None:
                return
            stored.attempts += 1
            if stored.attempts >= MAX_ATTEMPTS:
                logger.error("dropped update %s after %s attempts", update.update_id, MAX_ATTEMPTS)
                session.delete(stored)
            else:
                session.add(stored)

    async def _drain(self, chat_id: str) -> None:
        try:
            while updates := await asyncio.to_thread(self._next, chat_id):
                for update in updates:
                    if not await self.handle(update):
                        await asyncio.to_thread(self._failed, update)
                        await asyncio.sleep(0.2 * (update.attempts + 1))
                        break  # read the chat again: the order must hold
        except Exception:
            logger.exception("draining a chat failed")
        finally:
            self.active.pop(chat_id, None)
            self.wakeup.set()
