"""The Zalo face's limits, injected failures and control API: what tests and benchmarks use."""

import asyncio
import os
import subprocess
import sys

import aiohttp
import pytest
from aiohttp import ClientSession

from sandbox.client import SandboxClient, SandboxError
from sandbox.zalo.client import ZaloSandboxClient
from tests.sandbox.conftest import TOKEN, USER, ZALO_TOKEN, ZALO_USER, Ticks, ZaloApi
from tests.sandbox.test_cli import ROOT, free_port

QUOTA = (429, "Quota exceeded")


@pytest.fixture
def clocked(http: ClientSession, clocked_url: str) -> tuple[ZaloApi, ZaloSandboxClient]:
    return ZaloApi(http, clocked_url), ZaloSandboxClient(clocked_url, ZALO_TOKEN, session=http)


async def test_a_second_message_in_a_second_to_one_chat_is_429_without_a_hint(
    clocked: tuple[ZaloApi, ZaloSandboxClient], ticks: Ticks
) -> None:
    api, zalo = clocked
    await zalo.send_text(ZALO_USER, "hi")
    await api.result("sendMessage", chat_id=ZALO_USER, text="one")
    ticks.now += 0.5
    status, body = await api.call("sendMessage", chat_id=ZALO_USER, text="two")
    assert (status, body) == (
        200,
        {"ok": False, "error_code": 429, "description": "Quota exceeded"},
    )
    ticks.now += 0.5
    await api.result("sendMessage", chat_id=ZALO_USER, text="two")
    assert [c["error_code"] for c in await zalo.calls("sendMessage")] == [None, 429, None]


async def test_the_bot_wide_and_group_limits(
    clocked: tuple[ZaloApi, ZaloSandboxClient], ticks: Ticks
) -> None:
    api, zalo = clocked
    assert await zalo.set_limits(bot_per_second=3, group_per_minute=2) == {
        "bot_per_second": 3,
        "chat_per_second": 1,
        "group_per_minute": 2,
        "max_text": 2000,
    }
    for user in ("1", "2", "3", "4"):
        await zalo.send_text(user, "hi")
    for user in ("1", "2", "3"):
        await api.result("sendMessage", chat_id=user, text="x")
    assert await api.error("sendMessage", chat_id="4", text="x") == QUOTA
    ticks.now += 1.0
    await zalo.send_text(ZALO_USER, "@bot", chat_id="g1", mention=True)
    for _ in range(2):
        await api.result("sendMessage", chat_id="g1", text="news")
        ticks.now += 1.0
    assert await api.error("sendMessage", chat_id="g1", text="news") == QUOTA
    ticks.now += 58.0
    await api.result("sendMessage", chat_id="g1", text="news")


async def test_injected_errors_take_every_shape_the_channel_must_survive(
    http: ClientSession, zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    await zalo.send_text(ZALO_USER, "hi")
    await zalo.set_limits(chat_per_second=0)
    send = {"chat_id": ZALO_USER, "text": "x"}
    await zalo.inject_error("sendMessage", 429, count=1)
    assert await zapi.error("sendMessage", **send) == QUOTA
    await zalo.inject_error("sendMessage", 403, count=1, string_code=True)
    assert await zapi.call("sendMessage", **send) == (
        200,
        {"ok": False, "error_code": "403", "description": "Internal server error"},
    )
    await zalo.inject_error("sendMessage", 502, count=1, http=True, description="upstream")
    assert await zapi.call("sendMessage", **send) == (
        502,
        {"ok": False, "error_code": 502, "description": "upstream"},
    )
    await zalo.inject_error("sendMessage", 502, count=1, html=True)
    async with http.post(f"{zapi.base}/sendMessage", json=send) as answer:
        assert (answer.status, answer.content_type) == (502, "text/html")
        assert "502 Bad Gateway" in await answer.text()
    await zalo.inject_error("sendMessage", 500, count=1, drop=True)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await zapi.call("sendMessage", **send)
    await zapi.result("sendMessage", **send)
    assert len(await zalo.messages(ZALO_USER)) == 1  # none of the failed sends arrived


async def test_an_injected_408_on_get_updates_keeps_the_update(
    zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    await zalo.send_text(ZALO_USER, "kept")
    await zalo.inject_error("getUpdates", 408, count=1)
    assert await zapi.error("getUpdates", timeout=1) == (408, "Request timeout")
    assert (await zapi.result("getUpdates", timeout=1))["message"]["text"] == "kept"


async def test_a_ratio_of_calls_fails_until_cleared(
    zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    await zalo.send_text(ZALO_USER, "hi")
    await zalo.set_limits(chat_per_second=0, bot_per_second=0)
    await zalo.inject_error("sendMessage", 500, ratio=0.3)
    answers = [await zapi.call("sendMessage", chat_id=ZALO_USER, text="x") for _ in range(200)]
    assert 40 <= sum(not body["ok"] for _, body in answers) <= 80
    assert await zapi.result("getMe")  # other methods are untouched
    await zalo.clear_errors()
    assert all([(await zapi.call("getMe"))[1]["ok"] for _ in range(20)])


async def test_start_chats_and_deliveries_for_benchmarks(
    zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    await zalo.set_limits(chat_per_second=0, bot_per_second=0)
    await zalo.start_chats(first_user_id=500, count=3)
    assert await zalo.pending_updates() == []  # no update was queued
    for user in ("500", "502", "502"):
        await zapi.result("sendMessage", chat_id=user, text="tin")
    counted = await zalo.deliveries(first_user_id=500, count=3)
    assert counted["counts"] == [1, 0, 2]
    assert counted["first_at"] <= counted["last_at"]
    assert (await zapi.error("sendMessage", chat_id="503", text="tin"))[0] == 400


async def test_calls_show_the_parameters_and_messages_wait_for_a_count(
    zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    await zalo.send_text(ZALO_USER, "hi")
    await zalo.set_limits(chat_per_second=0)
    for text in ("a", "b", "c"):
        await zapi.result("sendMessage", chat_id=ZALO_USER, text=text)
    [call, *_] = await zalo.calls("sendMessage")
    assert call["params"] == {"chat_id": ZALO_USER, "text": "a"} and call["at"] > 0
    later = await zalo.messages(ZALO_USER, min_count=3, timeout=1, skip=1)
    assert [m["text"] for m in later] == ["b", "c"]
    assert await zalo.calls("getMe") == []


async def test_reset_forgets_the_zalo_face_only(
    http: ClientSession, sandbox_url: str, zapi: ZaloApi, zalo: ZaloSandboxClient
) -> None:
    telegram = SandboxClient(sandbox_url, TOKEN, session=http)
    await telegram.send_text(USER, "/start")
    await zalo.send_text(ZALO_USER, "hi")
    await zalo.reset()
    assert await zalo.pending_updates() == []
    assert (await zapi.error("sendMessage", chat_id=ZALO_USER, text="x"))[0] == 400
    assert len(await telegram.pending_updates()) == 1


async def test_control_refusals(http: ClientSession, sandbox_url: str) -> None:
    unknown_token = ZaloSandboxClient(sandbox_url, "no-token", session=http)
    with pytest.raises(SandboxError) as refused:
        await unknown_token.send_text(ZALO_USER, "x")
    assert refused.value.status == 401
    zalo = ZaloSandboxClient(sandbox_url, ZALO_TOKEN, session=http)
    for call in (
        zalo.send_text(ZALO_USER, ""),
        zalo.redeliver(),
        zalo.expire_file("http://elsewhere/x.png"),
        zalo.inject_error("sendMessage", 200),
        zalo.set_limits(per_second=5),
        zalo.photo("0" * 20),
    ):
        with pytest.raises(SandboxError) as refused:
            await call
        assert 400 <= refused.value.status < 500


async def test_sandbox_command_serves_the_zalo_face_and_names_it_with_zalo() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", str(port), "--zalo"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stderr is not None
        async with asyncio.timeout(30):  # the first log line: the sandbox is up
            line = await asyncio.to_thread(process.stderr.readline)
        assert f"http://127.0.0.1:{port}/zalo/bot<token>/" in line, line
        async with ClientSession() as http:
            url = f"http://127.0.0.1:{port}/zalo/bot{ZALO_TOKEN}/getMe"
            async with http.post(url, json={}) as answer:
                assert (await answer.json())["result"]["id"] == "1459232241"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
