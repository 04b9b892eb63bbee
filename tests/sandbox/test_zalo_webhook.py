"""Zalo webhooks: the secret header, Zalo's envelope, order, redelivery of the same update."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from sandbox.zalo.client import ZaloSandboxClient
from tests.sandbox.conftest import ZALO_USER, ZaloApi

SECRET = "s3cret-s3cret"


class Receiver:
    """A bot's webhook endpoint that records deliveries and fails (500) or hangs up when
    told to."""

    def __init__(self) -> None:
        self.received: list[tuple[Any, str | None, str]] = []
        self.failures = 0
        self.hang_ups = 0
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        secret = request.headers.get("X-Bot-Api-Secret-Token")
        self.received.append((body, secret, request.content_type))
        self.arrived.set()
        if self.hang_ups:
            self.hang_ups -= 1
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)  # never reaches the sandbox
        if self.failures:
            self.failures -= 1
            return web.Response(status=500)
        return web.json_response({"message": "Success"})

    async def wait_for(self, count: int, timeout: float = 3.0) -> None:
        """Wait until count deliveries arrived."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()

    def texts(self) -> list[str]:
        """Return the text of each delivery, in order."""
        return [body["result"]["message"]["text"] for body, _, _ in self.received]


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


async def test_set_webhook_checks_the_url_and_the_secret(zapi: ZaloApi) -> None:
    for params in (
        {"url": "ftp://x/hook", "secret_token": SECRET},
        {"url": "https://x/hook", "secret_token": "short"},
        {"url": "https://x/hook", "secret_token": "s" * 257},
        {"url": "https://x/hook"},
    ):
        assert (await zapi.error("setWebhook", **params))[0] == 400
    assert await zapi.result("getWebhookInfo") == {"url": "", "updated_at": 0}
    hook = await zapi.result("setWebhook", url="https://x/hook", secret_token="s" * 256)
    assert hook["url"] == "https://x/hook" and hook["updated_at"] > 10**12
    assert await zapi.result("getWebhookInfo") == hook  # the secret is never returned
    removed = await zapi.result("deleteWebhook")
    assert removed["url"] == "" and removed["updated_at"] >= hook["updated_at"]


async def test_updates_are_posted_in_order_in_the_envelope_with_the_secret(
    zapi: ZaloApi, zalo: ZaloSandboxClient, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    await zapi.result("setWebhook", url=url, secret_token=SECRET)
    sent = [await zalo.send_text(ZALO_USER, text) for text in ("một", "hai", "ba")]
    await hook.wait_for(3)
    assert [body for body, _, _ in hook.received] == [{"ok": True, "result": u} for u in sent]
    assert {(secret, kind) for _, secret, kind in hook.received} == {(SECRET, "application/json")}
    assert await zalo.pending_updates() == []


async def test_a_failed_delivery_is_redelivered_with_the_same_message_id_before_the_next(
    zapi: ZaloApi, zalo: ZaloSandboxClient, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    hook.failures, hook.hang_ups = 1, 1
    await zapi.result("setWebhook", url=url, secret_token=SECRET)
    await zalo.send_text(ZALO_USER, "first")
    await zalo.send_text(ZALO_USER, "second")
    await hook.wait_for(4)  # hung up on, 500 (after 0.2 s), 200 (after 0.4 s), "second"
    assert hook.texts() == ["first", "first", "first", "second"]
    ids = [body["result"]["message"]["message_id"] for body, _, _ in hook.received[:3]]
    assert len(set(ids)) == 1


async def test_a_redelivery_the_test_asks_for_is_posted_again(
    zapi: ZaloApi, zalo: ZaloSandboxClient, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    await zapi.result("setWebhook", url=url, secret_token=SECRET)
    await zalo.send_text(ZALO_USER, "dup")
    await zalo.redeliver()
    await hook.wait_for(2)
    first, second = (body for body, _, _ in hook.received)
    assert first == second


async def test_a_switch_posts_the_update_bare(
    http: ClientSession, zapi: ZaloApi, zalo: ZaloSandboxClient, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    assert await zalo.set_options(bare_webhook=True) == {"bare_webhook": True, "self_echo": False}
    query = {"token": zalo.token}
    async with http.get(f"{zalo.base_url}/zalo/control/options", params=query) as answer:
        assert (await answer.json())["result"]["bare_webhook"] is True  # reading keeps it
    await zapi.result("setWebhook", url=url, secret_token=SECRET)
    update = await zalo.send_text(ZALO_USER, "bare")
    await hook.wait_for(1)
    assert hook.received[0][0] == update


async def test_get_updates_is_refused_while_a_webhook_is_set(
    zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    await zapi.result("setWebhook", url="http://127.0.0.1:9/hook", secret_token=SECRET)
    await zalo.send_text(ZALO_USER, "waiting")
    code, _ = await zapi.error("getUpdates", timeout=1)
    assert code == 400
    await zapi.result("deleteWebhook")
    update = await zapi.result("getUpdates", timeout=1)
    assert update["message"]["text"] == "waiting"
