"""The Zalo face's Bot API methods: answers, refusals and their shapes (docs/zalo.md)."""

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from sandbox.zalo.client import ZaloSandboxClient
from tests.sandbox.conftest import ZALO_USER, ZaloApi

MESSAGE_ID = re.compile(r"^[0-9a-f]{20}$")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200_000)  # more than one network chunk


async def test_get_me_describes_the_bot_with_a_string_id(zapi: ZaloApi) -> None:
    me = await zapi.result("getMe")
    assert me == {
        "id": "1459232241",
        "account_name": "bot.sandbox1459232241",
        "account_type": "BASIC",
        "can_join_groups": True,
    }


async def test_a_wrong_token_is_401_in_an_http_200(
    http: ClientSession, sandbox_url: str, zapi: ZaloApi
) -> None:
    await zapi.result("getMe")  # the bot exists; another secret for its id is wrong
    for token in ("1459232241:another", "not-a-token"):
        async with http.post(f"{sandbox_url}/zalo/bot{token}/getMe", json={}) as answer:
            assert answer.status == 200
            assert await answer.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }


async def test_send_message_answers_a_20_hex_id_and_a_date_in_ms(
    zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    update = await zalo.send_text(ZALO_USER, "Xin chào")
    sent = await zapi.result("sendMessage", chat_id=ZALO_USER, text="Chào bạn")
    assert MESSAGE_ID.match(sent["message_id"])
    assert abs(sent["date"] - update["message"]["date"]) < 60_000  # both in ms
    assert sent["date"] > 10**12
    [shown] = await zalo.messages(ZALO_USER)
    assert shown == {
        "message_id": sent["message_id"],
        "chat_id": ZALO_USER,
        "date": sent["date"],
        "text": "Chào bạn",
    }


async def test_send_message_records_the_text_and_any_markup_unrendered(
    zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    await zalo.send_text(ZALO_USER, "hi")
    await zapi.result("sendMessage", chat_id=ZALO_USER, text="<b>x</b>", parse_mode="html")
    [shown] = await zalo.messages(ZALO_USER)
    assert (shown["text"], shown["parse_mode"]) == ("<b>x</b>", "html")


async def test_text_is_limited_to_2000_utf16_units(zapi: ZaloApi, zalo: ZaloSandboxClient) -> None:
    await zalo.set_limits(chat_per_second=0)
    await zalo.send_text(ZALO_USER, "hi")
    await zapi.result("sendMessage", chat_id=ZALO_USER, text="ệ" * 2000)  # one unit each
    await zapi.result("sendMessage", chat_id=ZALO_USER, text="😀" * 1000)  # two units each
    for text in ("😀" * 1000 + "a", "a" * 2001, "e\u0302\u0323" * 667, ""):
        code, description = await zapi.error("sendMessage", chat_id=ZALO_USER, text=text)
        assert (code, description) == (400, "The text must be 1 to 2000 characters")
    assert len(await zalo.messages(ZALO_USER)) == 2


async def test_sending_to_a_chat_the_bot_never_saw_is_400(zapi: ZaloApi) -> None:
    assert await zapi.error("sendMessage", chat_id="nobody", text="x") == (
        400,
        "The chat_id is invalid",
    )
    assert (await zapi.error("sendMessage", text="x"))[0] == 400


async def chart(request: web.Request) -> web.Response:
    return web.Response(body=PNG, content_type="image/png")


@pytest.fixture
async def images() -> AsyncIterator[str]:
    """Serve a PNG at /chart.png (and 404 elsewhere), as the bot's public files would."""
    app = web.Application()
    app.router.add_get("/chart.png", chart)
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def test_send_photo_fetches_the_url_and_keeps_the_bytes(
    zapi: ZaloApi, zalo: ZaloSandboxClient, images: str
) -> None:
    await zalo.send_text(ZALO_USER, "hi")
    sent = await zapi.result(
        "sendPhoto", chat_id=ZALO_USER, photo=f"{images}/chart.png", caption="Tuần này"
    )
    [shown] = await zalo.messages(ZALO_USER)
    assert shown["photo_url"] == f"{images}/chart.png"
    assert (shown["caption"], shown["photo_size"]) == ("Tuần này", len(PNG))
    assert await zalo.photo(sent["message_id"]) == PNG


async def test_send_photo_refusals_use_zalos_words(
    zapi: ZaloApi, zalo: ZaloSandboxClient, images: str
) -> None:
    await zalo.send_text(ZALO_USER, "hi")
    cases = {
        "": "The photo must not be empty",
        "data:image/png;base64,AAAA": "The photo must start with http:// or https://",
        f"{images}/missing.png": "The photo URL is invalid",
        "http://127.0.0.1:9/chart.png": "The photo URL is invalid",
    }
    for photo, description in cases.items():
        assert await zapi.error("sendPhoto", chat_id=ZALO_USER, photo=photo) == (
            400,
            description,
        )
    code, _ = await zapi.error(
        "sendPhoto", chat_id=ZALO_USER, photo=f"{images}/chart.png", caption="c" * 2001
    )
    assert code == 400
    assert await zalo.messages(ZALO_USER) == []


async def test_stickers_voice_and_the_typing_action(
    zapi: ZaloApi, zalo: ZaloSandboxClient, http: ClientSession
) -> None:
    await zalo.send_text(ZALO_USER, "hi")
    await zalo.set_limits(chat_per_second=0)
    await zapi.result("sendSticker", chat_id=ZALO_USER, sticker="0e078a2fb66a5f34067b")
    await zapi.result("sendVoice", chat_id=ZALO_USER, voice_url="https://x.example/a.aac")
    assert (await zapi.error("sendVoice", chat_id=ZALO_USER, voice_url="https://x/a.mp3"))[
        0
    ] == 400
    assert (await zapi.error("sendSticker", chat_id=ZALO_USER))[0] == 400
    async with http.post(
        f"{zapi.base}/sendChatAction", json={"chat_id": ZALO_USER, "action": "typing"}
    ) as answer:
        assert await answer.json() == {"ok": True}  # no "result" at all
    assert await zapi.error("sendChatAction", chat_id=ZALO_USER, action="upload_photo") == (
        400,
        "The action is invalid",
    )
    shown = await zalo.messages(ZALO_USER)
    assert [m.get("sticker") or m.get("voice_url") for m in shown] == [
        "0e078a2fb66a5f34067b",
        "https://x.example/a.aac",
    ]


async def test_telegram_methods_and_wrong_case_are_400(zapi: ZaloApi) -> None:
    for method in ("editMessageText", "answerCallbackQuery", "setMyCommands", "getme"):
        code, description = await zapi.error(method)
        assert code == 400 and method in description


async def test_parameters_may_come_as_a_form_or_a_query(
    http: ClientSession, zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    await zalo.send_text(ZALO_USER, "hi")
    await zalo.set_limits(chat_per_second=0)
    async with http.post(
        f"{zapi.base}/sendMessage", data={"chat_id": ZALO_USER, "text": "form"}
    ) as answer:
        assert (await answer.json())["ok"] is True
    async with http.get(f"{zapi.base}/sendMessage?chat_id={ZALO_USER}&text=query") as answer:
        assert (await answer.json())["ok"] is True
    assert [m["text"] for m in await zalo.messages(ZALO_USER)] == ["form", "query"]
