"""The baseline: a bare aiogram echo bot, long-polling the same Bot API server."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message


def echo_router() -> Router:
    """Return a router that answers every message with its own text."""
    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        """Send the text back."""
        await message.answer(message.text or "")

    return router


@asynccontextmanager
async def echo_bot(api_base: str, token: str) -> AsyncIterator[None]:
    """Run the echo bot with aiogram's own polling while the block runs."""
    bot = Bot(token=token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
    dispatcher = Dispatcher()
    dispatcher.include_router(echo_router())
    started = asyncio.Event()

    async def on_startup() -> None:
        started.set()

    dispatcher.startup.register(on_startup)
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    waiting = asyncio.create_task(started.wait())
    try:
        await asyncio.wait([polling, waiting], return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if polling.done():
            polling.result()  # raises why polling stopped
            raise RuntimeError("the echo bot stopped polling before it started")
        yield
    finally:
        if not polling.done():
            await dispatcher.stop_polling()
        await polling
