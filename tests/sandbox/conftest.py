"""Fixtures: a sandbox on a free loopback port, an HTTP session, a control client."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession, FormData
from aiohttp.test_utils import TestServer

from sandbox.client import SandboxClient
from sandbox.server import SandboxConfig, build_app, running
from sandbox.zalo.client import ZaloSandboxClient

TOKEN = "123456789:AAH" + "x" * 32
USER = 1001


@pytest.fixture
def config() -> SandboxConfig:
    """Return the sandbox settings; a test may change them before the server starts."""
    return SandboxConfig(seed=7)


@pytest.fixture
async def sandbox_url(config: SandboxConfig) -> AsyncIterator[str]:
    """Run the sandbox on a free port for one test."""
    async with running(config) as url:
        yield url


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    """Open one HTTP session for the test and close it afterwards."""
    async with ClientSession() as session:
        yield session


@pytest.fixture
async def users(sandbox_url: str, http: ClientSession) -> SandboxClient:
    """Return a control client for the test bot, sharing the test's session."""
    return SandboxClient(sandbox_url, TOKEN, session=http)


class BotApi:
    """Call the sandbox's Bot API the way a client library would."""

    def __init__(self, http: ClientSession, base_url: str, token: str = TOKEN) -> None:
        self.http = http
        self.base = f"{base_url}/bot{token}"

    async def call(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        """POST JSON parameters; return the HTTP status and body."""
        async with self.http.post(f"{self.base}/{method}", json=params) as response:
            return response.status, await response.json()

    async def form(self, method: str, form: FormData) -> tuple[int, dict[str, Any]]:
        """POST form data (urlencoded or multipart); return the HTTP status and body."""
        async with self.http.post(f"{self.base}/{method}", data=form) as response:
            return response.status, await response.json()

    async def result(self, method: str, **params: Any) -> Any:
        """Call a method that must succeed and return its result."""
        status, body = await self.call(method, **params)
        assert status == 200 and body["ok"], body
        return body["result"]


@pytest.fixture
def api(http: ClientSession, sandbox_url: str) -> BotApi:
    """Return a Bot API caller for the test bot."""
    return BotApi(http, sandbox_url)


ZALO_TOKEN = "1459232241:abc-xyz_Sandbox"
ZALO_USER = "6ede9afa66b88fe6d6a9"


@pytest.fixture
async def zalo(sandbox_url: str, http: ClientSession) -> ZaloSandboxClient:
    """Return a control client of the Zalo face for the test bot."""
    return ZaloSandboxClient(sandbox_url, ZALO_TOKEN, session=http)


class ZaloApi:
    """Call the Zalo face's Bot API the way the bot's client does: POST JSON."""

    def __init__(self, http: ClientSession, base_url: str, token: str = ZALO_TOKEN) -> None:
        self.http = http
        self.base = f"{base_url}/zalo/bot{token}"

    async def call(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        """POST JSON parameters; return the HTTP status and body."""
        async with self.http.post(f"{self.base}/{method}", json=params) as response:
            return response.status, await response.json()

    async def result(self, method: str, **params: Any) -> Any:
        """Call a method that must succeed and return its result."""
        status, body = await self.call(method, **params)
        assert status == 200 and body["ok"], body
        return body["result"]

    async def error(self, method: str, **params: Any) -> tuple[int, str]:
        """Call a method that must fail inside an HTTP 200; return its code and description."""
        status, body = await self.call(method, **params)
        assert status == 200 and body["ok"] is False, body
        return body["error_code"], body["description"]


@pytest.fixture
def zapi(http: ClientSession, sandbox_url: str) -> ZaloApi:
    """Return a Zalo Bot API caller for the test bot."""
    return ZaloApi(http, sandbox_url)


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
async def clocked_url(ticks: Ticks) -> AsyncIterator[str]:
    """Run a sandbox whose rate limits follow the hand-moved clock."""
    server = TestServer(build_app(SandboxConfig(seed=3), clock=ticks))
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
