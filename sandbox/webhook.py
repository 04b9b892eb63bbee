"""Push updates to a bot's webhook: in order, one at a time, retrying failures with backoff."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout

from sandbox.params import Params
from sandbox.state import BotState, World

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Reply = Callable[[BotState, str, Params], Awaitable[object]]


class WebhookDeliverer:
    """One delivery task per bot with a webhook; the update leaves the queue only on a 2xx."""

    def __init__(
        self,
        world: World,
        *,
        first_delay: float = 0.2,
        max_delay: float = 5.0,
        timeout: float = 10.0,
        on_reply: Reply | None = None,
    ) -> None:
        self.world = world
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.timeout = timeout
        self.on_reply = on_reply
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._session: ClientSession | None = None

    def sync(self, bot: BotState) -> None:
        """Restart delivery after the bot's webhook was set, changed or removed."""
        task = self._tasks.pop(bot.id, None)
        if task is not None:
            task.cancel()
        if bot.webhook.url:
            self._tasks[bot.id] = asyncio.create_task(self._run(bot), name=f"webhook-{bot.id}")

    async def stop_all(self) -> None:
        """Cancel every delivery task and wait for them to end."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        """Stop delivering and close the HTTP session."""
        await self.stop_all()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self, bot: BotState) -> None:
        delay = self.first_delay
        while bot.webhook.url and not bot.closed:
            if not bot.updates:
                await bot.wait_for_updates(3600.0)
                continue
            update = bot.updates[0]
            if await self._deliver(bot, update):
                bot.confirm(update["update_id"] + 1)
                delay = self.first_delay
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_delay)

    async def _deliver(self, bot: BotState, update: dict[str, Any]) -> bool:
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=self.timeout))
        headers = {}
        if bot.webhook.secret_token:
            headers[SECRET_HEADER] = bot.webhook.secret_token
        try:
            async with self._session.post(bot.webhook.url, json=update, headers=headers) as resp:
                body = await resp.read()
                if 200 <= resp.status < 300:
                    await self._run_reply(bot, body)
                    return True
                error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
        except (ClientError, TimeoutError) as exc:
            error = f"Connection failed: {type(exc).__name__}"
        bot.webhook.last_error_date = self.world.now()
        bot.webhook.last_error_message = error
        log.info("bot %s: webhook delivery of update %s failed", bot.id, update["update_id"])
        return False

    async def _run_reply(self, bot: BotState, body: bytes) -> None:
        """Execute a method the webhook answered with, as Telegram does."""
        try:
            reply = json.loads(body) if body.strip() else None
        except ValueError:
            return
        if self.on_reply is None or not isinstance(reply, dict) or "method" not in reply:
            return
        params = Params({k: v for k, v in reply.items() if k != "method"})
        await self.on_reply(bot, str(reply["method"]), params)
