"""getMe, authentication, method lookup and getUpdates long polling."""

import asyncio
import time

from aiohttp import ClientSession, FormData

from sandbox.client import SandboxClient
from tests.sandbox.conftest import TOKEN, USER, BotApi


async def test_get_me_describes_the_bot_of_the_token(api: BotApi) -> None:
    me = await api.result("getMe")
    assert me["id"] == 123456789
    assert me["is_bot"] is True
    assert me["username"] == "sandbox_123456789_bot"


async def test_malformed_token_is_unauthorized(http: ClientSession, sandbox_url: str) -> None:
    async with http.get(f"{sandbox_url}/bot123:short/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }


async def test_unknown_method_is_not_found(api: BotApi) -> None:
    status, body = await api.call("sendTelepathy", chat_id=1)
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_method_names_are_case_insensitive_and_get_works(
    http: ClientSession, sandbox_url: str
) -> None:
    async with http.get(f"{sandbox_url}/bot{TOKEN}/getme") as response:
        assert (await response.json())["result"]["is_bot"] is True


async def test_long_poll_returns_as_soon_as_a_user_writes(
    api: BotApi, users: SandboxClient
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(api.call("getUpdates", timeout=10))
    await asyncio.sleep(0.05)
    assert not poll.done()
    sent = await users.send_text(USER, "/start", first_name="An", language_code="vi")
    status, body = await asyncio.wait_for(poll, 2)
    assert status == 200
    assert time.monotonic() - started < 2
    [update] = body["result"]
    assert update == sent
    message = update["message"]
    assert message["text"] == "/start"
    assert message["chat"] == {"id": USER, "type": "private", "first_name": "An"}
    assert message["from"]["language_code"] == "vi"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]


async def test_long_poll_times_out_with_no_updates(api: BotApi) -> None:
    started = time.monotonic()
    assert await api.result("getUpdates", timeout=0.2) == []
    assert 0.15 < time.monotonic() - started < 1.5


async def test_offset_confirms_earlier_updates(api: BotApi, users: SandboxClient) -> None:
    for text in ("one", "two", "three"):
        await users.send_text(USER, text)
    updates = await api.result("getUpdates", limit=2)
    assert [u["message"]["text"] for u in updates] == ["one", "two"]
    again = await api.result("getUpdates")
    assert len(again) == 3  # nothing is confirmed until an offset says so
    after = await api.result("getUpdates", offset=updates[1]["update_id"] + 1)
    assert [u["message"]["text"] for u in after] == ["three"]
    assert len(await users.pending_updates()) == 1


async def test_form_encoded_parameters_are_understood(api: BotApi, users: SandboxClient) -> None:
    await users.send_text(USER, "hello")
    first = (await api.result("getUpdates"))[0]["update_id"]
    status, body = await api.form("getUpdates", FormData({"offset": str(first + 1)}))
    assert status == 200 and body["result"] == []


async def test_second_poller_terminates_the_first(api: BotApi) -> None:
    older = asyncio.create_task(api.call("getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    newer = asyncio.create_task(api.call("getUpdates", timeout=0.1))
    status, body = await asyncio.wait_for(older, 2)
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")
    assert (await newer)[0] == 200


async def test_group_messages_carry_the_group_chat(api: BotApi, users: SandboxClient) -> None:
    await users.send_text(USER, "/report@sandbox_123456789_bot", chat_id=-500, chat_type="group")
    [update] = await api.result("getUpdates")
    assert update["message"]["chat"]["type"] == "group"
    assert update["message"]["chat"]["id"] == -500
    assert update["message"]["entities"][0]["length"] == len("/report@sandbox_123456789_bot")
