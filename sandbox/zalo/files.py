"""Photos both ways: the sandbox serves what users send at /zalo/files/<id> (until a test
expires it), and fetches the URL a bot's sendPhoto gives, as Zalo's servers do."""

import logging

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from sandbox.zalo.api import ZALO
from sandbox.zalo.records import ServedFile
from sandbox.zalo.state import ZaloWorld

log = logging.getLogger(__name__)

FILES_PATH = "/zalo/files/"


def keep(world: ZaloWorld, data: bytes, origin: str) -> str:
    """Keep a photo a user sent and return the URL the sandbox serves it at."""
    stored = ServedFile(world.new_id(), data, _mime_type(data))
    world.files[stored.file_id] = stored
    return f"{origin}{FILES_PATH}{stored.file_id}"


def expire(world: ZaloWorld, url: str) -> bool:
    """Stop serving a photo by its URL; False when the sandbox never served it."""
    stored = world.files.get(url.rstrip("/").rsplit("/", 1)[-1])
    if stored is None or FILES_PATH not in url:
        return False
    stored.expired = True
    return True


class Fetcher:
    """GETs the photo URLs bots send, over one session opened at the first fetch."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._session: ClientSession | None = None

    async def fetch(self, url: str) -> bytes | None:
        """Return the bytes at a URL, or None when the fetch fails in any way."""
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=self.timeout))
        try:
            async with self._session.get(url) as response:
                if response.status != 200:
                    return None
                return await response.read()
        except (ClientError, TimeoutError, ValueError) as exc:
            log.info("sendPhoto: fetching the photo failed: %s", type(exc).__name__)
            return None

    async def close(self) -> None:
        """Close the session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


async def serve(request: web.Request) -> web.Response:
    """Serve a photo a user sent; 404 once expired."""
    stored = request.app[ZALO].files.get(request.match_info["file_id"])
    if stored is None or stored.expired:
        return web.Response(status=404, text="Not Found")
    return web.Response(body=stored.data, content_type=stored.mime_type)


def _mime_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"GIF8"):
        return "image/gif"
    return "image/jpeg"
