"""Webhook delivery: secret header, order, redelivery after failures, conflict with polling."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from sandbox.client import SandboxClient
from tests.sandbox.conftest import USER, BotApi


class Receiver:
    """A bot's webhook endpoint that records deliveries and fails when told to."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], str | None]] = []
        self.failures = 0
        self.reply: dict[str, Any] | None = None
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.received.append((update, request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        self.arrived.set()
        if self.failures:
            self.failures -= 1
            return web.Response(status=500)
        return web.json_response(self.reply or {})

    async def wait_for(self, count: int, timeout: float = 1.5) -> None:
        """Wait until count deliveries arrived."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    server = TestServer(app)
    await server.start_server()
    try:
        yield hook, str(server.make_url("/hook"))
    finally:
        await server.close()


async def test_updates_are_posted_in_order_with_the_secret(
    api: BotApi, users: SandboxClient, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    await api.result("setWebhook", url=url, secret_token="s3cret")
    for text in ("one", "two", "three"):
        await users.send_text(USER, text)
    await hook.wait_for(3)
    assert [u["message"]["text"] for u, _ in hook.received] == ["one", "two", "three"]
    assert {secret for _, secret in hook.received} == {"s3cret"}
    info = await api.result("getWebhookInfo")
    assert info["url"] == url and info["pending_update_count"] == 0


async def test_failed_delivery_is_retried_before_later_updates(
    api: BotApi, users: SandboxClient, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    hook.failures = 2
    await api.result("setWebhook", url=url)
    await users.send_text(USER, "first")
    await users.send_text(USER, "second")
    await hook.wait_for(4)  # 500, 500 (after 0.2 s), 200 (after 0.4 s), then "second"
    texts = [u["message"]["text"] for u, _ in hook.received]
    assert texts == ["first", "first", "first", "second"]
    assert all(secret is None for _, secret in hook.received)
    info = await api.result("getWebhookInfo")
    assert (
        info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    )


async def test_unreachable_webhook_keeps_updates_pending(
    api: BotApi, users: SandboxClient
) -> None:
    await api.result("setWebhook", url="http://127.0.0.1:9/hook")
    await users.send_text(USER, "anyone?")
    await asyncio.sleep(0.1)
    info = await api.result("getWebhookInfo")
    assert info["pending_update_count"] == 1
    assert info["last_error_message"].startswith("Connection failed")
    await api.result("deleteWebhook")
    [update] = await api.result("getUpdates")
    assert update["message"]["text"] == "anyone?"


async def test_get_updates_conflicts_with_an_active_webhook(
    api: BotApi, receiver: tuple[Receiver, str]
) -> None:
    await api.result("setWebhook", url=receiver[1])
    status, body = await api.call("getUpdates")
    assert status == 409
    assert body["description"] == "Conflict: can't use getUpdates method while webhook is active"


async def test_a_method_in_the_webhook_answer_is_executed(
    api: BotApi, users: SandboxClient, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    hook.reply = {"method": "sendMessage", "chat_id": USER, "text": "pong"}
    await api.result("setWebhook", url=url)
    await users.send_text(USER, "ping")
    [reply] = await users.messages(USER, min_count=1, timeout=1.5)
    assert reply["text"] == "pong"


async def test_drop_pending_updates_on_set_webhook(
    api: BotApi, users: SandboxClient, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    await users.send_text(USER, "stale")
    await api.result("setWebhook", url=url, drop_pending_updates=True)
    await users.send_text(USER, "fresh")
    await hook.wait_for(1)
    assert [u["message"]["text"] for u, _ in hook.received] == ["fresh"]
