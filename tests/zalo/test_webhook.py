"""The Zalo webhook server: the secret is checked first, an update is committed before 200."""

from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession, web
from pydantic import ValidationError
from sqlmodel import col, select

from bot.app import Core
from bot.channels.zalo.api import ZaloApi
from bot.channels.zalo.channel import ZaloChannel
from bot.channels.zalo.webhook import SECRET_HEADER, webhook_app
from core.settings import Settings
from storage.db import reading
from storage.models import InboxUpdate

SECRET = "s3cret-of-the-webhook"
UPDATE = {
    "event_name": "message.text.received",
    "message": {
        "from": {"id": "u7", "display_name": "Ted", "is_bot": False},
        "chat": {"id": "u7", "chat_type": "PRIVATE"},
        "text": "/start",
        "message_id": "2d758cb5e222177a4e35",
        "date": 1750316131602,
    },
}


@pytest.fixture
async def hook(core: Core) -> AsyncIterator[str]:
    """Serve the webhook of a Zalo channel (not started: nothing is processed) on loopback."""
    channel = ZaloChannel(core, ZaloApi("1:x", "http://127.0.0.1:9"), concurrency=2)
    runner = web.AppRunner(webhook_app("/zalo", SECRET, channel.receive))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/zalo"
    await runner.cleanup()


def stored(core: Core) -> list[tuple[str, str]]:
    with reading(core.engine) as session:
        rows = session.exec(select(InboxUpdate).order_by(col(InboxUpdate.seq))).all()
        return [(row.update_id, row.chat_id) for row in rows]


@pytest.mark.parametrize("given", [None, "wrong-secret", SECRET + "x"])
async def test_a_call_without_the_right_secret_gets_401_and_stores_nothing(
    core: Core, hook: str, given: str | None
) -> None:
    headers = {} if given is None else {SECRET_HEADER: given}
    async with ClientSession() as http, http.post(hook, json=UPDATE, headers=headers) as answer:
        assert answer.status == 401
    assert stored(core) == []


async def test_an_update_is_stored_once_before_200_wrapped_or_bare(core: Core, hook: str) -> None:
    headers = {SECRET_HEADER: SECRET}
    async with ClientSession() as http:
        for body in ({"ok": True, "result": UPDATE}, UPDATE):  # a redelivery, bare
            async with http.post(hook, json=body, headers=headers) as answer:
                assert answer.status == 200
                assert await answer.json() == {"message": "Success"}
                assert stored(core) == [("message.text.received:2d758cb5e222177a4e35", "u7")]
        async with http.post(hook, data=b"not json", headers=headers) as answer:
            assert answer.status == 400


@pytest.mark.parametrize("secret", ["short", "x" * 257, "change-me-to-a-long-random-string"])
def test_a_webhook_secret_zalo_would_refuse_or_the_example_one_is_refused_at_start(
    secret: str,
) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, zalo_webhook_secret=secret)  # type: ignore[call-arg]
    assert Settings(_env_file=None, zalo_webhook_secret="x" * 8)  # type: ignore[call-arg]
