"""The Zalo client against a small HTTP server answering as Zalo does (and as proxies do).

The emulator's Zalo face drives the channel end to end; this server plays the answers
that are awkward to provoke there: a 408 sent as a string, an HTML page, a dead socket.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bot.channels.zalo.api import ZaloApi, ZaloError, redact

TOKEN = "1459232241454765289:sEcReT-tOkEn"


class FakeZalo:
    """Answer each method with the next canned (HTTP status, body) and record the calls."""

    def __init__(self) -> None:
        self.answers: dict[str, list[tuple[int, Any]]] = {}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def answer(self, method: str, body: Any, status: int = 200) -> None:
        self.answers.setdefault(method, []).append((status, body))

    async def handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        self.calls.append((token, method, await request.json()))
        status, body = self.answers[method].pop(0)
        if isinstance(body, str):
            return web.Response(status=status, text=body, content_type="text/html")
        return web.json_response(body, status=status)


@pytest.fixture
async def zalo() -> AsyncIterator[tuple[FakeZalo, ZaloApi]]:
    fake = FakeZalo()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    api = ZaloApi(TOKEN, f"http://127.0.0.1:{port}/")
    yield fake, api
    await api.close()
    await runner.cleanup()


async def test_a_call_posts_json_and_returns_the_result(zalo: tuple[FakeZalo, ZaloApi]) -> None:
    fake, api = zalo
    fake.answer("sendMessage", {"ok": True, "result": {"message_id": "ab12", "date": 1}})
    assert await api.send_message("u1", "Xin chào") == "ab12"
    assert fake.calls == [(TOKEN, "sendMessage", {"chat_id": "u1", "text": "Xin chào"})]


@pytest.mark.parametrize("code", [408, "408"])
@pytest.mark.parametrize("status", [200, 408])
async def test_an_empty_long_poll_is_no_update_whatever_its_spelling(
    zalo: tuple[FakeZalo, ZaloApi], code: object, status: int
) -> None:
    fake, api = zalo
    fake.answer("getUpdates", {"ok": False, "error_code": code, "description": "timeout"}, status)
    assert await api.get_updates(3) == []
    assert fake.calls[0][2] == {"timeout": "3"}  # a string, as Zalo's table says


async def test_a_poll_returns_its_one_update_and_an_empty_result_is_none(
    zalo: tuple[FakeZalo, ZaloApi],
) -> None:
    fake, api = zalo
    update = {"event_name": "message.text.received", "message": {"text": "a"}}
    fake.answer("getUpdates", {"ok": True, "result": update})
    fake.answer("getUpdates", {"ok": True, "result": {}})
    fake.answer("getUpdates", {"ok": True, "result": [update, update]})
    assert await api.get_updates(1) == [update]
    assert await api.get_updates(1) == []
    assert await api.get_updates(1) == [update, update]


async def test_a_refusal_in_an_http_200_is_an_error_with_code_and_method(
    zalo: tuple[FakeZalo, ZaloApi],
) -> None:
    fake, api = zalo
    fake.answer("sendMessage", {"ok": False, "error_code": 400, "description": "text too long"})
    fake.answer("sendMessage", {"ok": False, "errorCode": "429", "description": "Quota"}, 429)
    with pytest.raises(ZaloError) as refused:
        await api.send_message("u1", "x")
    assert (refused.value.method, refused.value.error_code) == ("sendMessage", 400)
    assert refused.value.description == "text too long" and refused.value.http_status == 200
    with pytest.raises(ZaloError) as quota:
        await api.send_message("u1", "x")
    assert quota.value.error_code == 429 and quota.value.http_status == 429


async def test_a_proxy_page_is_an_error_by_its_http_status_without_the_token(
    zalo: tuple[FakeZalo, ZaloApi],
) -> None:
    fake, api = zalo
    fake.answer("getMe", f"<html>502 Bad Gateway for /bot{TOKEN}/getMe</html>", 502)
    with pytest.raises(ZaloError) as failed:
        await api.get_me()
    assert failed.value.error_code == 502 and TOKEN not in str(failed.value)


async def test_a_network_failure_is_an_error_that_names_no_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    api = ZaloApi(TOKEN, f"http://127.0.0.1:{port}")
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(ZaloError) as failed:
            await api.send_message("u1", "x")
    finally:
        await api.close()
        server.close()
        await server.wait_closed()
    assert failed.value.error_code is None and failed.value.method == "sendMessage"
    assert "sEcReT" not in str(failed.value) and "sEcReT" not in caplog.text


def test_redact_takes_any_token_out_of_a_url() -> None:
    assert redact(f"https://bot-api.zaloplatforms.com/bot{TOKEN}/getMe") == (
        "https://bot-api.zaloplatforms.com/bot<token>/getMe"
    )
    assert redact("https://bot-api.zaloplatforms.com/files/bot1") == (
        "https://bot-api.zaloplatforms.com/files/bot1"
    )
