"""What Zalo users send reaches the bot one update per getUpdates call, as on Zalo."""

import asyncio
import time

from aiohttp import ClientSession

from sandbox.zalo.client import ZaloSandboxClient
from tests.sandbox.conftest import ZALO_USER, ZaloApi

JPEG = b"\xff\xd8\xff\xe0" + bytes(200_000)  # more than one network chunk


async def test_get_updates_answers_one_update_and_takes_it(
    zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    first = await zalo.send_text(ZALO_USER, "một", display_name="Ted")
    await zalo.send_text(ZALO_USER, "hai")
    assert await zapi.result("getUpdates", timeout="1") == first
    assert first["event_name"] == "message.text.received"
    assert first["message"]["from"] == {"id": ZALO_USER, "display_name": "Ted", "is_bot": False}
    assert first["message"]["chat"] == {"id": ZALO_USER, "chat_type": "PRIVATE"}
    assert [u["message"]["text"] for u in await zalo.pending_updates()] == ["hai"]
    second = await zapi.result("getUpdates", timeout=1)
    assert second["message"]["text"] == "hai"
    assert second["message"]["from"]["display_name"] == "Ted"  # the name is remembered
    assert await zalo.pending_updates() == []


async def test_an_idle_poll_holds_for_its_timeout_then_answers_408_in_http_200(
    zapi: ZaloApi,
) -> None:
    started = time.monotonic()
    status, body = await zapi.call("getUpdates", timeout="1")
    assert 0.9 <= time.monotonic() - started < 3
    assert (status, body) == (
        200,
        {"ok": False, "error_code": 408, "description": "Request timeout"},
    )


async def test_a_waiting_poll_gets_the_update_as_it_arrives(
    zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    poll = asyncio.create_task(zapi.result("getUpdates", timeout=10))
    done, _ = await asyncio.wait({poll}, timeout=0.3)
    assert not done, "the poll answered with nothing queued"
    started = time.monotonic()
    await zalo.send_text(ZALO_USER, "now")
    async with asyncio.timeout(5):
        update = await poll
    assert update["message"]["text"] == "now" and time.monotonic() - started < 2


async def test_an_answer_the_client_drops_loses_its_update(
    http: ClientSession, zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    await zalo.send_text(ZALO_USER, "lost")
    async with http.post(f"{zapi.base}/getUpdates", json={"timeout": 1}):
        pass  # answered, never read
    assert await zalo.pending_updates() == []
    assert (await zapi.error("getUpdates", timeout=0))[0] == 408


async def test_a_group_message_reaches_the_bot_only_when_it_mentions_it(
    zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    group = "f0e1d2c3b4a5968778695a4b"
    await zalo.send_text(ZALO_USER, "chào cả nhà", chat_id=group)
    assert await zalo.pending_updates() == []
    update = await zalo.send_text(ZALO_USER, "@Bot /help", chat_id=group, mention=True)
    assert update["message"]["chat"] == {"id": group, "chat_type": "GROUP"}
    assert await zapi.result("getUpdates", timeout=1) == update
    await zapi.result("sendMessage", chat_id=group, text="Trợ giúp")  # the bot may answer
    assert [m["text"] for m in await zalo.messages(group)] == ["Trợ giúp"]


async def test_a_users_photo_is_served_until_it_expires(
    http: ClientSession, zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    update = await zalo.send_photo(ZALO_USER, JPEG, caption="Đồ gá mới")
    message = update["message"]
    assert update["event_name"] == "message.image.received"
    assert message["caption"] == "Đồ gá mới" and "photo" not in message
    url = message["photo_url"]
    assert "/zalo/files/" in url
    async with http.get(url) as answer:
        assert (answer.status, answer.content_type) == (200, "image/jpeg")
        assert await answer.read() == JPEG
    await zalo.expire_file(url)
    async with http.get(url) as answer:
        assert answer.status == 404
    other = await zalo.send_photo(ZALO_USER, JPEG, field="photo")
    assert "photo_url" not in other["message"] and "/zalo/files/" in other["message"]["photo"]


async def test_stickers_voice_and_unsupported_messages(zalo: ZaloSandboxClient) -> None:
    sticker = await zalo.send_sticker(ZALO_USER)
    assert sticker["event_name"] == "message.sticker.received"
    assert sticker["message"]["sticker"] and sticker["message"]["url"].startswith("https://")
    voice = await zalo.send_voice(ZALO_USER)
    assert voice["message"]["voice_url"].endswith(".aac")
    unsupported = await zalo.send_unsupported(ZALO_USER)
    assert unsupported["event_name"] == "message.unsupported.received"
    assert set(unsupported["message"]) == {"from", "chat", "message_id", "date"}
    bare = await zalo.send_unsupported(ZALO_USER, bare=True)
    assert bare == {"event_name": "message.unsupported.received"}
    assert len(await zalo.pending_updates()) == 4


async def test_redeliver_queues_the_last_update_again_with_its_message_id(
    zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    update = await zalo.send_text(ZALO_USER, "twice")
    assert await zapi.result("getUpdates", timeout=1) == update
    await zalo.redeliver(count=2)
    for _ in range(2):
        assert await zapi.result("getUpdates", timeout=1) == update


async def test_user_photo_data_must_be_base64(
    http: ClientSession, zalo: ZaloSandboxClient
) -> None:
    body = {"token": zalo.token, "user_id": ZALO_USER, "data": "not base64!"}
    async with http.post(f"{zalo.base_url}/zalo/control/send_photo", json=body) as answer:
        assert answer.status == 400
        assert await answer.json() == {"ok": False, "error": "data must be base64"}


async def test_self_echo_sends_the_bots_messages_back_from_the_bots_id(
    zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    await zalo.send_text(ZALO_USER, "hi")
    await zapi.result("getUpdates", timeout=1)
    await zalo.set_options(self_echo=True)
    await zalo.set_limits(chat_per_second=0)
    sent = await zapi.result("sendMessage", chat_id=ZALO_USER, text="Chào")
    echo = await zapi.result("getUpdates", timeout=1)
    assert echo["event_name"] == "message.text.received"
    assert echo["message"]["from"]["id"] == (await zapi.result("getMe"))["id"]
    assert echo["message"]["from"]["is_bot"] is True
    assert (echo["message"]["message_id"], echo["message"]["text"]) == (sent["message_id"], "Chào")
    await zalo.set_options(self_echo=False)
    await zapi.result("sendSticker", chat_id=ZALO_USER, sticker="abc")
    assert await zalo.pending_updates() == []
