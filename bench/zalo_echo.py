"""The Zalo baseline: a bare echo bot, long-polling the emulator's Zalo face.

`python -m bench.zalo_echo API_BASE TOKEN` prints `ready` once polling runs and stops on
SIGTERM. No library: Zalo's `getUpdates` hands out one update per call, so the loop
polls again at once and answers each text in a task of its own (as aiogram's echo bot
does), with nothing stored and no flood limiter.
"""

import asyncio
import contextlib
import signal
import sys
from typing import Any

from aiohttp import ClientSession, ClientTimeout, TCPConnector

POLL_SECONDS = 20


async def echo(http: ClientSession, base: str, update: dict[str, Any]) -> None:
    """Send a text message's text back to its chat."""
    message = update.get("message") or {}
    text, chat = message.get("text"), (message.get("chat") or {}).get("id")
    if text and chat:
        async with http.post(base + "sendMessage", json={"chat_id": chat, "text": text}) as r:
            await r.read()


async def poll(http: ClientSession, base: str) -> None:
    """Long-poll forever, answering each update in its own task."""
    answering: set[asyncio.Task[None]] = set()
    timeout = ClientTimeout(total=POLL_SECONDS + 5)
    while True:
        async with http.post(
            base + "getUpdates", json={"timeout": str(POLL_SECONDS)}, timeout=timeout
        ) as answer:
            body = await answer.json()
        result = body.get("result") if body.get("ok") else None
        for update in result if isinstance(result, list) else [result] if result else []:
            task = asyncio.create_task(echo(http, base, update))
            answering.add(task)
            task.add_done_callback(answering.discard)


async def main(api_base: str, token: str) -> None:
    """Poll until SIGTERM."""
    base = f"{api_base.rstrip('/')}/bot{token}/"
    async with ClientSession(connector=TCPConnector(limit=0)) as http:
        polling = asyncio.create_task(poll(http, base))
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, polling.cancel)
        print("ready", flush=True)
        with contextlib.suppress(asyncio.CancelledError):
            await polling


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's
    asyncio.run(main(sys.argv[1], sys.argv[2]))
