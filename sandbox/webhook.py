"""Push updates to a bot's webhook: in order, one at a time, retrying failures with backoff.

Both faces use it: a bot of either is `Hooked` (its queue, its webhook, how an update is
put in a request's body) and the deliverer is told the secret header's name.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import ClientError, ClientSession, ClientTimeout

from sandbox.params import Params
from sandbox.records import WebhookState

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Hooked(Protocol):
    """A bot whose updates may be pushed to a webhook."""

    webhook: WebhookState
    updates: list[dict[str, Any]]
    closed: bool

    @property
    def id(self) -> object:
        """Identify the bot in task names and logs."""

    async def wait_for_updates(self, timeout: float) -> None:
        """Return when an update is queued, the bot closes or the timeout passes."""

    def webhook_body(self, update: dict[str, Any]) -> object:
        """Return the JSON body that carries one update."""

    def delivered(self, update: dict[str, Any]) -> None:
        """Take an update the webhook accepted off the queue."""


Reply = Callable[[Any, str, Params], Awaitable[object]]


class WebhookDeliverer:
    """One delivery task per bot with a webhook; the update leaves the queue only on a 2xx."""

    def __init__(
        self,
        now: Callable[[], int],
        *,
        secret_header: str = SECRET_HEADER,
        first_delay: float = 0.2,
        max_delay: float = 5.0,
        timeout: float = 10.0,
        on_reply: Reply | None = None,
    ) -> None:
        self.now = now
        self.secret_header = secret_header
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.timeout = timeout
        self.on_reply = on_reply
        self._tasks: dict[object, asyncio.Task[None]] = {}
        self._session: ClientSession | None = None

    def sync(self, bot: Hooked) -> None:
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

    async def _run(self, bot: Hooked) -> None:
        delay = self.first_delay
        while bot.webhook.url and not bot.closed:
            if not bot.updates:
                await bot.wait_for_updates(3600.0)
                continue
            update = bot.updates[0]
            if await self._deliver(bot, update):
                bot.delivered(update)
                delay = self.first_delay
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_delay)

    async def _deliver(self, bot: Hooked, update: dict[str, Any]) -> bool:
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=self.timeout))
        headers = {}
        if bot.webhook.secret_token:
            headers[self.secret_header] = bot.webhook.secret_token
        body = bot.webhook_body(update)
        try:
            async with self._session.post(bot.webhook.url, json=body, headers=headers) as resp:
                body = await resp.read()
                if 200 <= resp.status < 300:
                    await self._run_reply(bot, body)
                    return True
                error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
        except (ClientError, TimeoutError) as exc:
            error = f"Connection failed: {type(exc).__name__}"
        bot.webhook.last_error_date = self.now()
        bot.webhook.last_error_message = error
        log.info("bot %s: webhook delivery failed: %s", bot.id, error)
        return False

    async def _run_reply(self, bot: Hooked, body: bytes) -> None:
        """Execute a method the webhook answered with, as Telegram does."""
        try:
            reply = json.loads(body) if body.strip() else None
        except ValueError:
            return
        if self.on_reply is None or not isinstance(reply, dict) or "method" not in reply:
            return
        params = Params({k: v for k, v in reply.items() if k != "method"})
        await self.on_reply(bot, str(reply["method"]), params)
