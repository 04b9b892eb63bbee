"""`initiative-bot sandbox` serves the Bot API emulator on the port it is given."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:" + "A" * 35


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_sandbox_command_answers_get_me() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe") as answer:
                        body = await answer.json()
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline, "sandbox did not start"
                    await asyncio.sleep(0.1)
        assert body["ok"] is True and body["result"]["id"] == 123456
    finally:
        process.terminate()
        process.wait(timeout=10)
