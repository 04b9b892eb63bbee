"""Starting and stopping the sandbox, and the control client's own session."""

import asyncio
import gc
import socket

import pytest
from aiohttp import ClientConnectionError, ClientSession

from sandbox.client import SandboxClient, SandboxError
from sandbox.server import SandboxConfig, keep_records_out_of_collections, serve
from tests.sandbox.conftest import TOKEN, USER


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_serve_answers_until_cancelled(http: ClientSession) -> None:
    port = free_port()
    task = asyncio.create_task(serve("127.0.0.1", port, SandboxConfig()))
    url = f"http://127.0.0.1:{port}/bot{TOKEN}/getMe"
    for _ in range(100):
        try:
            async with http.get(url) as response:
                assert (await response.json())["ok"] is True
            break
        except ClientConnectionError:
            await asyncio.sleep(0.01)
    else:
        raise AssertionError("the sandbox never answered")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_pending_long_poll_does_not_delay_shutdown(http: ClientSession) -> None:
    port = free_port()
    task = asyncio.create_task(serve("127.0.0.1", port))
    await asyncio.sleep(0.1)
    poll = asyncio.create_task(
        http.get(f"http://127.0.0.1:{port}/bot{TOKEN}/getUpdates?timeout=30")
    )
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1.5)
    response = await asyncio.wait_for(poll, 1)
    assert (await response.json())["result"] == []
    response.release()


async def test_client_with_its_own_session_closes_it(sandbox_url: str) -> None:
    async with SandboxClient(sandbox_url, TOKEN) as users:
        update = await users.send_text(USER, "hi")
        assert update["message"]["text"] == "hi"
        with pytest.raises(SandboxError) as refused:
            await users.press(USER, USER, 99, "x")
        assert refused.value.status == 404
        sent = await users.api("sendMessage", chat_id=USER, text="reply")
        assert sent["ok"] is True


async def test_a_sandbox_in_its_own_process_keeps_its_records_out_of_collections() -> None:
    """Full collections would walk every message the sandbox keeps, pausing it."""
    gc.unfreeze()
    records = [{"message_id": n} for n in range(1000)]  # what the sandbox keeps for good
    task = asyncio.create_task(keep_records_out_of_collections(every=0.01))
    try:
        for _ in range(100):
            await asyncio.sleep(0.01)
            if gc.get_freeze_count() >= len(records):
                break
        assert gc.get_freeze_count() >= len(records)
    finally:
        task.cancel()
        gc.unfreeze()  # this test process collects as usual again
