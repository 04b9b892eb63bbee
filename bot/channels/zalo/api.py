"""The Zalo Bot Platform API as the bot uses it: a small aiohttp client (docs/zalo.md).

Every call is a POST with a JSON body to `{api_base}/bot<TOKEN>/<method>`. The answer's
envelope, not its HTTP status, says whether it worked (Zalo answers an empty long poll
with HTTP 200 and `ok: false, error_code: 408`); every failure, the network's included,
is one `ZaloError`. The token sits in the URL path, so no URL is ever logged or put in
an error: `redact` takes it out of any text that might hold it.
"""

import asyncio
import json
import logging
import re
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector

logger = logging.getLogger(__name__)
POLL_TIMEOUT = 20  # seconds a getUpdates call waits; short, so that stopping stays prompt
POLL_MARGIN = 7  # seconds the HTTP request waits longer than the long poll itself
CALL_TIMEOUT = 30  # seconds for any other call
DOWNLOAD_LIMIT = 5 * 1024 * 1024  # bytes of a picture a person sent
DOWNLOAD_CHUNK = 64 * 1024
EMPTY_POLL = 408  # getUpdates' "nothing arrived"
_TOKEN = re.compile(r"/bot\d+:[^/\s]+")

Update = dict[str, Any]  # one update, as Zalo sends it: {event_name, message}


def redact(text: str) -> str:
    """Take the token out of a text that may hold a request URL."""
    return _TOKEN.sub("/bot<token>", text)


class ZaloError(Exception):
    """A call failed: Zalo refused it (`error_code`), or the network or a proxy did
    (`error_code` None, or the HTTP status of a body that was not Zalo's JSON)."""

    def __init__(
        self, method: str, error_code: int | None, description: str, http_status: int | None
    ) -> None:
        self.method = method
        self.error_code = error_code
        self.description = redact(description)
        self.http_status = http_status
        super().__init__(f"{method}: {error_code} {self.description}")


def _code(body: dict[str, Any]) -> int | None:
    """Return an envelope's error code, sent as a number or a string, in either spelling."""
    value = body.get("error_code", body.get("errorCode"))
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None


class ZaloApi:
    """One bot's calls, over one keep-alive HTTP session (opened at the first call)."""

    def __init__(self, token: str, api_base: str) -> None:
        self._base = f"{api_base.rstrip('/')}/bot{token}/"
        self._session: ClientSession | None = None

    def _http(self) -> ClientSession:
        if self._session is None or self._session.closed:
            self._session = ClientSession(connector=TCPConnector(keepalive_timeout=60))
        return self._session

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float = CALL_TIMEOUT
    ) -> Any:
        """Make one call and return its `result`; raise ZaloError if it failed."""
        try:
            async with self._http().post(
                self._base + method, json=params or {}, timeout=ClientTimeout(total=timeout)
            ) as answer:
                status = answer.status
                raw = await answer.read()
        except (ClientError, TimeoutError) as error:
            raise ZaloError(method, None, f"network: {type(error).__name__}", None) from None
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):  # a proxy's page: its HTTP status is all there is
            raise ZaloError(method, status, f"not a Zalo answer (HTTP {status})", status)
        if body.get("ok") is True:
            return body.get("result")
        description = str(body.get("description") or body.get("message") or "")
        raise ZaloError(method, _code(body), description, status)

    async def get_me(self) -> dict[str, Any]:
        """Return the bot's identity: {id, account_name, account_type, can_join_groups}."""
        result = await self.call("getMe")
        if not isinstance(result, dict) or "id" not in result:
            raise ZaloError("getMe", None, "no bot id in the answer", None)
        return result

    async def get_updates(self, timeout: int = POLL_TIMEOUT) -> list[Update]:
        """Long-poll for the next update; [] when none arrived within `timeout` seconds.

        Zalo hands out one update per call and forgets it as it answers: there is no
        offset to move, so an answer lost on the way loses its update.
        """
        try:
            result = await self.call(
                "getUpdates", {"timeout": str(timeout)}, timeout=timeout + POLL_MARGIN
            )
        except ZaloError as error:
            if error.error_code == EMPTY_POLL:
                return []
            raise
        found = result if isinstance(result, list) else [result]
        return [u for u in found if isinstance(u, dict) and u.get("event_name")]

    async def set_webhook(self, url: str, secret: str) -> None:
        """Ask Zalo to post updates to `url`, with `secret` in every call."""
        await self.call("setWebhook", {"url": url, "secret_token": secret})

    async def delete_webhook(self) -> None:
        """Stop webhook delivery (long polling needs it off)."""
        await self.call("deleteWebhook")

    async def webhook_url(self) -> str:
        """Return the webhook URL set now, "" for none."""
        result = await self.call("getWebhookInfo")
        return str(result.get("url") or "") if isinstance(result, dict) else ""

    async def send_message(self, chat_id: str, text: str) -> str:
        """Send a plain text (1-2000 characters); return its message id."""
        result = await self.call("sendMessage", {"chat_id": chat_id, "text": text})
        return str(result.get("message_id", "")) if isinstance(result, dict) else ""

    async def send_photo(self, chat_id: str, url: str, caption: str | None = None) -> str:
        """Send a picture Zalo fetches from `url` (a public http(s) URL); its message id."""
        params = {"chat_id": chat_id, "photo": url}
        if caption:
            params["caption"] = caption
        result = await self.call("sendPhoto", params)
        return str(result.get("message_id", "")) if isinstance(result, dict) else ""

    async def send_typing(self, chat_id: str) -> None:
        """Show the typing indicator for a few seconds."""
        await self.call("sendChatAction", {"chat_id": chat_id, "action": "typing"})

    async def download(self, url: str) -> tuple[bytes, str | None]:
        """Fetch a picture a person sent (at most DOWNLOAD_LIMIT bytes) and its type.

        Raise ZaloError when it cannot be had: its HTTP status (Zalo's picture URLs
        expire), 413 when it is too large, None for the network.
        """
        try:
            async with self._http().get(url, timeout=ClientTimeout(total=CALL_TIMEOUT)) as got:
                if got.status != 200:
                    raise ZaloError("download", got.status, f"HTTP {got.status}", got.status)
                if (got.content_length or 0) > DOWNLOAD_LIMIT:
                    raise ZaloError("download", 413, "larger than the limit", None)
                content = bytearray()
                # Not `content.read(n)`: that returns what has arrived so far, not n bytes.
                async for chunk in got.content.iter_chunked(DOWNLOAD_CHUNK):
                    content += chunk
                    if len(content) > DOWNLOAD_LIMIT:
                        raise ZaloError("download", 413, "larger than the limit", None)
                kind = got.content_type
        except (ClientError, TimeoutError) as error:
            raise ZaloError("download", None, f"network: {type(error).__name__}", None) from None
        return bytes(content), kind

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            await asyncio.sleep(0)  # let the connector's transports close
        self._session = None
