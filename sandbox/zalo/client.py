"""ZaloSandboxClient: act as Zalo users of one bot and read what it did, through the Zalo
face's control API; the method names and shapes are the Telegram client's."""

import base64
from typing import Any

from aiohttp import ClientSession

from sandbox.client import ControlClient


class ZaloSandboxClient(ControlClient):
    """The Zalo face's control client; user and chat ids are strings."""

    def __init__(self, base_url: str, token: str, *, session: ClientSession | None = None) -> None:
        super().__init__(base_url, token, session=session, face="/zalo")

    @property
    def api_base(self) -> str:
        """Return the Zalo Bot API base (`ZALO_API_BASE`): `{api_base}/bot<TOKEN>/<method>`."""
        return f"{self.base_url}/zalo"

    async def send_text(self, user_id: str, text: str, **details: Any) -> dict[str, Any]:
        """Write as the user (details: chat_id, chat_type, display_name, mention, reply_to);
        return the update (in a group it is queued only with `mention=True` or `reply_to`,
        the id of a message the bot sent there)."""
        result: dict[str, Any] = await self._post(
            "send_text", {"user_id": user_id, "text": text, **details}
        )
        return result

    async def send_photo(self, user_id: str, data: bytes, **details: Any) -> dict[str, Any]:
        """Send a photo as the user (details: caption, chat_id, field="photo"); the update's
        `photo_url` is where the sandbox serves it."""
        body = {"user_id": user_id, "data": base64.b64encode(data).decode(), **details}
        result: dict[str, Any] = await self._post("send_photo", body)
        return result

    async def send_sticker(
        self, user_id: str, sticker: str | None = None, **details: Any
    ) -> dict[str, Any]:
        """Send a sticker as the user; return the update."""
        body = {"user_id": user_id, "sticker": sticker, **details}
        result: dict[str, Any] = await self._post("send_sticker", body)
        return result

    async def send_voice(
        self, user_id: str, voice_url: str | None = None, **details: Any
    ) -> dict[str, Any]:
        """Send a voice note as the user; return the update."""
        body = {"user_id": user_id, "voice_url": voice_url, **details}
        result: dict[str, Any] = await self._post("send_voice", body)
        return result

    async def send_unsupported(
        self, user_id: str, *, bare: bool = False, **details: Any
    ) -> dict[str, Any]:
        """Send something the bot may not read (`bare`: an update without a message)."""
        body = {"user_id": user_id, "bare": bare, **details}
        result: dict[str, Any] = await self._post("send_unsupported", body)
        return result

    async def redeliver(self, count: int = 1) -> None:
        """Deliver the last update again, `count` times, with the same message_id."""
        await self._post("redeliver", {"count": count})

    async def expire_file(self, url: str) -> None:
        """Stop serving a photo a user sent (its URL answers 404 from now on)."""
        await self._post("expire_file", {"url": url})

    async def messages(
        self, chat_id: str, *, min_count: int = 0, timeout: float = 0.0, skip: int = 0
    ) -> list[dict[str, Any]]:
        """List what the bot sent to a chat, waiting up to timeout for min_count messages;
        `skip` leaves out the first ones (they still count towards min_count)."""
        query = {"chat_id": chat_id, "min_count": min_count, "timeout": timeout, "skip": skip}
        result: list[dict[str, Any]] = await self._get("messages", query)
        return result

    async def photo(self, message_id: str) -> bytes:
        """Return the bytes the sandbox fetched for a photo the bot sent."""
        result = await self._get("photo", {"message_id": message_id})
        return base64.b64decode(result["data"])

    async def inject_error(
        self,
        method: str,
        code: int,
        *,
        count: int | None = None,
        ratio: float | None = None,
        description: str | None = None,
        http: bool = False,
        string_code: bool = False,
        html: bool = False,
        drop: bool = False,
    ) -> None:
        """Make the next count calls (or a ratio, or all) of a method fail with code: in
        Zalo's HTTP-200 envelope, or with the HTTP status (`http`), a string code, an HTML
        page, or a connection closed without an answer (`drop`)."""
        body = {
            "method": method,
            "code": code,
            "count": count,
            "ratio": ratio,
            "description": description,
            "http": http,
            "string_code": string_code,
            "html": html,
            "drop": drop,
        }
        await self._post("errors", body)

    async def set_options(
        self, *, bare_webhook: bool | None = None, self_echo: bool | None = None
    ) -> dict[str, Any]:
        """Post webhook updates bare (`{event_name, message}`) instead of in the envelope;
        send each of the bot's messages back to it as an update. Return the switches."""
        body = {"bare_webhook": bare_webhook, "self_echo": self_echo}
        result: dict[str, Any] = await self._post("options", body)
        return result
