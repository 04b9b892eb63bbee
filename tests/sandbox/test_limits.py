"""Flood control like Telegram's, and errors injected by tests."""

import pytest
from aiohttp import ClientSession

from sandbox.client import SandboxClient
from tests.sandbox.conftest import TOKEN, USER, BotApi, Ticks


@pytest.fixture
def clocked(http: ClientSession, clocked_url: str) -> tuple[BotApi, SandboxClient]:
    return BotApi(http, clocked_url), SandboxClient(clocked_url, TOKEN, session=http)


async def test_second_message_in_a_second_to_a_private_chat_is_429(
    clocked: tuple[BotApi, SandboxClient], ticks: Ticks
) -> None:
    api, users = clocked
    await users.send_text(USER, "/start")
    await api.result("sendMessage", chat_id=USER, text="one")
    ticks.now += 0.4
    status, body = await api.call("sendMessage", chat_id=USER, text="two")
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    ticks.now += 0.6
    await api.result("sendMessage", chat_id=USER, text="two")
    assert [c["error_code"] for c in await users.calls("sendMessage")] == [None, 429, None]


async def test_group_chat_allows_20_messages_a_minute(
    clocked: tuple[BotApi, SandboxClient], ticks: Ticks
) -> None:
    api, users = clocked
    await users.send_text(USER, "hi all", chat_id=-77, chat_type="group")
    for _ in range(20):
        await api.result("sendMessage", chat_id=-77, text="news")
        ticks.now += 1.0
    status, body = await api.call("sendMessage", chat_id=-77, text="news")
    assert status == 429
    assert body["parameters"]["retry_after"] == 40  # the first message leaves the window then


async def test_bot_wide_limit_spans_chats(
    clocked: tuple[BotApi, SandboxClient], ticks: Ticks
) -> None:
    api, users = clocked
    await users.set_limits(bot_per_second=3)
    for user in range(1, 5):
        await users.send_text(user, "/start")
    for user in range(1, 4):
        await api.result("sendMessage", chat_id=user, text="hi")
    status, _ = await api.call("sendMessage", chat_id=4, text="hi")
    assert status == 429


async def test_injected_429_ratio_fails_about_that_share_of_calls(
    api: BotApi, users: SandboxClient
) -> None:
    await users.set_limits(private_per_second=0, bot_per_second=0)
    await users.send_text(USER, "/start")
    await users.inject_error("sendMessage", 429, ratio=0.3, retry_after=5)
    answers = [await api.call("sendMessage", chat_id=USER, text="x") for _ in range(200)]
    refused = [body for status, body in answers if status == 429]
    assert 40 <= len(refused) <= 80
    assert all(body["parameters"] == {"retry_after": 5} for body in refused)
    assert await api.result("getMe")  # other methods are untouched


async def test_injected_errors_for_the_next_calls_then_recover(
    api: BotApi, users: SandboxClient
) -> None:
    await users.send_text(USER, "/start")
    await users.inject_error("sendMessage", 500, count=2)
    codes = [(await api.call("sendMessage", chat_id=USER, text="x"))[0] for _ in range(2)]
    assert codes == [500, 500]
    await api.result("sendMessage", chat_id=USER, text="x")


async def test_injected_403_uses_telegrams_wording(api: BotApi, users: SandboxClient) -> None:
    await users.send_text(USER, "/start")
    await users.inject_error("sendmessage", 403, count=1)
    status, body = await api.call("sendMessage", chat_id=USER, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")


async def test_reset_forgets_everything(api: BotApi, users: SandboxClient) -> None:
    await users.send_text(USER, "/start")
    await users.reset()
    assert await api.result("getUpdates") == []
    status, _ = await api.call("sendMessage", chat_id=USER, text="x")
    assert status == 400
