"""Fixtures: a sandbox on a free loopback port, an HTTP session, a control client."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession, FormData

from sandbox.client import SandboxClient
from sandbox.server import SandboxConfig, running

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
