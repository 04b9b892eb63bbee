"""Malformed updates are logged by id and dropped: answered 200, never stored or retried.

Issue 14: `"text": 12345`, `"photo": "abc"` or an update_id of 2**70 posted to the
webhook with the right secret got a 500, which Telegram redelivers forever.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession, web
from sqlmodel import Session, col, select

from bot.app import Core
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.convert import CHANNEL, Update
from bot.channels.telegram.webhook import SECRET_HEADER
from sandbox.client import SandboxClient
from storage import inbox
from storage.db import one_statement
from storage.models import InboxUpdate
from tests.conftest import DEMO_CODE
from tests.telegram.conftest import TelegramUser, each_driver, wait_until

pytestmark = each_driver
SECRET = "s3cret-token"
NAME = "Nguyễn Bí Mật"  # personal data that must never reach a log line
TEXT = "tiền lương tháng này"


def message(update_id: Any, user: int, **fields: Any) -> Update:
    """Return a message update from `user` in its private chat; `fields` replace any."""
    base = {
        "message_id": 1,
        "date": 1764000000,
        "chat": {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": False, "first_name": NAME},
        "text": f"/start {DEMO_CODE}",
    }
    return {"update_id": update_id, "message": {**base, **fields}}


def malformed(user: int) -> list[Update]:
    """Return updates from `user` that Telegram never sends, each answered were it valid."""
    press = {
        "id": "q1",
        "from": {"id": user, "is_bot": False, "first_name": NAME},
        "chat_instance": "c",
        "data": 5,
        "message": {"message_id": 1, "date": 1764000000, "chat": {"id": user, "type": "private"}},
    }
    return [
        message(990001, user, text=12345),
        message(990002, user, photo="abc", caption=TEXT),
        message(2**70, user),
        message(990003, user, **{"from": NAME}),
        message(990004, user, chat={"id": str(user), "type": "private"}),
        message(990005, user, photo=[{"file_id": 7, "width": 1, "height": 1}], caption=TEXT),
        message(True, user),
        message(str(990006), user),
        {"update_id": 990007, "callback_query": press},
    ]


def stored(core: Core) -> dict[str, Any]:
    """Return the inbox: update id -> when it was done (None while it waits)."""
    with Session(core.engine) as session:
        rows = session.exec(select(InboxUpdate).order_by(col(InboxUpdate.seq))).all()
        return {row.update_id: row for row in rows}


def dropped_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    assert all(NAME not in line and TEXT not in line and "12345" not in line for line in lines)
    return [line for line in lines if "malformed" in line]


@pytest.fixture
async def webhook(
    channel: TelegramChannel, unused_tcp_port: int
) -> AsyncIterator[tuple[TelegramChannel, str]]:
    """Serve the channel's webhook, registered with the sandbox, and process the inbox."""
    runner = web.AppRunner(channel.webhook_app("/hook", SECRET))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    processor = asyncio.create_task(channel.processor.run())
    url = f"http://127.0.0.1:{unused_tcp_port}/hook"
    await channel.set_webhook(url, SECRET)
    try:
        yield channel, url
    finally:
        processor.cancel()
        await runner.cleanup()


async def test_the_webhook_answers_malformed_updates_200_and_drops_them(
    core: Core,
    unit_id: int,
    webhook: tuple[TelegramChannel, str],
    users: SandboxClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, url = webhook
    caplog.set_level(logging.WARNING, logger="bot")
    posts: list[object] = [*malformed(8101), [message(990008, 8101)], "update"]
    async with ClientSession() as http:
        for body in posts:
            async with http.post(url, json=body, headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 200
    assert stored(core) == {}
    lines = dropped_lines(caplog)
    assert len(lines) == len(posts)
    assert "update 990001: message.text is not a string" in lines[0]
    assert "update 990002: message.photo is not an array" in lines[1]
    assert "update ?: update_id is not a 64-bit integer" in lines[2]

    # The bot goes on: an update the sandbox posts next is answered, and only that one.
    user = TelegramUser(users, 8101)
    sent = await users.send_text(8101, f"/start {DEMO_CODE}", first_name=NAME)
    [answer] = await user.replies(1)
    assert "Tiếng Việt" in str(answer["reply_markup"])
    await asyncio.sleep(0.2)  # time for a wrongly stored update to be answered too
    assert len(await users.messages(8101)) == 1
    assert list(stored(core)) == [str(sent["update_id"])]


async def test_polling_drops_malformed_updates_and_goes_on(
    core: Core,
    unit_id: int,
    polling: TelegramChannel,
    users: SandboxClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The sandbox posts only well-formed updates, so this hands the channel what a client
    # library would return from getUpdates: malformed ones among valid ones.
    caplog.set_level(logging.WARNING, logger="bot")
    await users.start_chats(8201, 1)
    updates = malformed(8201)
    await polling.receive([*updates, message(990100, 8201)])
    user = TelegramUser(users, 8201)
    [answer] = await user.replies(1)
    assert "Tiếng Việt" in str(answer["reply_markup"])
    assert len(dropped_lines(caplog)) == len(updates)

    other = TelegramUser(users, 8202)  # polling itself goes on
    assert "Tiếng Việt" in str((await other.say(f"/start {DEMO_CODE}"))[0]["reply_markup"])
    await asyncio.sleep(0.2)  # time for a wrongly stored update to be answered too
    assert len(await users.messages(8201)) == 1
    inbox_ids = stored(core)
    assert len(inbox_ids) == 2 and "990100" in inbox_ids
    assert all(row.done_at is not None for row in inbox_ids.values())


async def test_a_malformed_update_already_stored_is_dropped_at_once_not_retried(
    core: Core, unit_id: int, channel: TelegramChannel, users: SandboxClient
) -> None:
    # Stored before the edge checked updates: the processor must drop it, not retry it.
    await users.start_chats(8301, 1)
    bad = [message(990201, 8301, text=12345), message(990202, 8301, photo="abc")]
    with one_statement(core.engine) as connection:
        inbox.store(
            connection=connection,
            channel=CHANNEL,
            updates=[inbox.Row(str(u["update_id"]), u["update_id"], "8301", u) for u in bad],
            now=core.dispatcher.clock(),
        )

    def all_done() -> bool:
        return all(row.done_at is not None for row in stored(core).values())

    processor = asyncio.create_task(channel.processor.run())
    try:
        await wait_until(all_done, timeout=10)
    finally:
        processor.cancel()
    assert [row.attempts for row in stored(core).values()] == [0, 0]
    assert await users.messages(8301) == []
