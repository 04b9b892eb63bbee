"""The baseline: a bare aiogram echo bot, long-polling the same Bot API server.

`python -m bench.echo API_BASE TOKEN` prints `ready` once polling runs and stops on SIGTERM.
"""

import asyncio
import signal
import sys

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


async def main(api_base: str, token: str) -> None:
    """Poll with aiogram's own loop until SIGTERM."""
    bot = Bot(token=token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
    dispatcher = Dispatcher()
    dispatcher.include_router(echo_router())

    async def on_startup() -> None:
        print("ready", flush=True)

    dispatcher.startup.register(on_startup)
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    loop = asyncio.get_running_loop()
    stop = dispatcher.stop_polling
    loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(stop()))
    await polling


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's
    asyncio.run(main(sys.argv[1], sys.argv[2]))
