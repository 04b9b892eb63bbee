"""A small aiohttp client of the sandbox's control API (and its Bot API), for tests and demos."""

import base64
from types import TracebackType
from typing import Any, Self

from aiohttp import ClientSession


class SandboxError(Exception):
    """The sandbox refused a control request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class ControlClient:
    """What both faces' control clients share: the session, the common actions, the calls."""

    def __init__(
        self, base_url: str, token: str, *, session: ClientSession | None = None, face: str = ""
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._face = f"{self.base_url}{face}"
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client opened it."""
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    async def start_chats(self, first_user_id: int, count: int) -> None:
        """Let `count` users from `first_user_id` on have started the bot (no updates)."""
        await self._post("start_chats", {"first_user_id": first_user_id, "count": count})

    async def deliveries(self, first_user_id: int, count: int) -> dict[str, Any]:
        """Count the bot's messages to each of `count` users from `first_user_id` on, with
        the sandbox's monotonic times of the first and the last of them."""
        query = {"first_user_id": first_user_id, "count": count}
        result: dict[str, Any] = await self._get("deliveries", query)
        return result

    async def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """List the bot's Bot API calls, optionally of one method."""
        result: list[dict[str, Any]] = await self._get("calls", {"method": method or ""})
        return result

    async def pending_updates(self) -> list[dict[str, Any]]:
        """List updates the bot has not confirmed or received yet."""
        result: list[dict[str, Any]] = await self._get("updates", {})
        return result

    async def clear_errors(self) -> None:
        """Remove the bot's injected errors."""
        await self._post("clear_errors", {})

    async def set_limits(self, **limits: int) -> dict[str, int]:
        """Change some of this face's rate or size limits; return them all."""
        result: dict[str, int] = await self._request("POST", "limits", json=limits)
        return result

    async def reset(self) -> None:
        """Forget everything the sandbox knows."""
        await self._request("POST", "reset", json={})

    async def api(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a Bot API method as the bot would; return the raw JSON answer, errors included."""
        session = self._open()
        url = f"{self._face}/bot{self.token}/{method}"
        async with session.post(url, json=params) as response:
            answer: dict[str, Any] = await response.json()
            return answer

    async def _post(self, name: str, body: dict[str, Any]) -> Any:
        payload = {k: v for k, v in body.items() if v is not None}
        return await self._request("POST", name, json={"token": self.token, **payload})

    async def _get(self, name: str, query: dict[str, Any]) -> Any:
        params = {k: str(v) for k, v in query.items()}
        return await self._request("GET", name, params={"token": self.token, **params})

    async def _request(self, verb: str, name: str, **kwargs: Any) -> Any:
        session = self._open()
        async with session.request(verb, f"{self._face}/control/{name}", **kwargs) as response:
            answer = await response.json()
        if not answer.get("ok"):
            raise SandboxError(response.status, str(answer.get("error")))
        return answer["result"]

    def _open(self) -> ClientSession:
        if self._session is None:
            self._session = ClientSession()
            self._owns_session = True
        return self._session


class SandboxClient(ControlClient):
    """Act as Telegram users of one bot and read what the bot did, through the control API."""

    @property
    def api_base(self) -> str:
        """Return the Bot API base for python-telegram-bot (`base_url=`); add the token after."""
        return f"{self.base_url}/bot"

    @property
    def file_base(self) -> str:
        """Return the file download base for python-telegram-bot (`base_file_url=`)."""
        return f"{self.base_url}/file/bot"

    async def send_text(
        self, user_id: int, text: str, *, chat_id: int | None = None, **details: Any
    ) -> dict[str, Any]:
        """Send text as the user (details: first_name, language_code, chat_type, title...)."""
        body = {"user_id": user_id, "text": text, "chat_id": chat_id, **details}
        result: dict[str, Any] = await self._post("send_text", body)
        return result

    async def edit_text(
        self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """Edit a text message the user sent (the bot gets edited_message); return the update."""
        body = {"user_id": user_id, "message_id": message_id, "text": text, "chat_id": chat_id}
        result: dict[str, Any] = await self._post("edit_text", body)
        return result

    async def send_photo(self, user_id: int, data: bytes, **details: Any) -> dict[str, Any]:
        """Send a photo as the user (details: caption, chat_id, filename...)."""
        body = {"user_id": user_id, "data": base64.b64encode(data).decode(), **details}
        result: dict[str, Any] = await self._post("send_photo", body)
        return result

    async def send_document(
        self, user_id: int, data: bytes, filename: str, **details: Any
    ) -> dict[str, Any]:
        """Send a document as the user (details: caption, mime_type, chat_id...)."""
        encoded = base64.b64encode(data).decode()
        body = {"user_id": user_id, "data": encoded, "filename": filename, **details}
        result: dict[str, Any] = await self._post("send_document", body)
        return result

    async def press(
        self, user_id: int, chat_id: int, message_id: int, data: str
    ) -> dict[str, Any]:
        """Press an inline button, with any callback data (forged data included)."""
        body = {"user_id": user_id, "chat_id": chat_id, "message_id": message_id, "data": data}
        result: dict[str, Any] = await self._post("press", body)
        return result

    async def block(self, user_id: int, *, notify: bool = True) -> None:
        """Block the bot as the user (`notify=False`: the bot never gets the update)."""
        await self._post("block", {"user_id": user_id, "notify": notify})

    async def unblock(self, user_id: int) -> None:
        """Unblock the bot as the user."""
        await self._post("unblock", {"user_id": user_id})

    async def remove_bot(self, chat_id: int, user_id: int, *, status: str = "kicked") -> None:
        """Remove the bot from a group as the user ("kicked", or "left")."""
        await self._post("remove_bot", {"chat_id": chat_id, "user_id": user_id, "status": status})

    async def add_bot(self, chat_id: int, user_id: int, **details: Any) -> None:
        """Add the bot to a group as the user (details: chat_type, title)."""
        await self._post("add_bot", {"chat_id": chat_id, "user_id": user_id, **details})

    async def migrate_group(
        self, chat_id: int, user_id: int, *, new_chat_id: int | None = None
    ) -> int:
        """Turn a group into a supergroup as the user; return the supergroup's chat id."""
        body = {"chat_id": chat_id, "user_id": user_id, "new_chat_id": new_chat_id}
        return int(await self._post("migrate_group", body))

    async def messages(
        self,
        chat_id: int,
        *,
        min_count: int = 0,
        timeout: float = 0.0,
        include_user: bool = False,
        skip: int = 0,
    ) -> list[dict[str, Any]]:
        """List what the bot sent to a chat, waiting up to timeout for min_count messages.

        `skip` leaves out the first messages (they still count towards min_count).
        """
        query = {"chat_id": chat_id, "min_count": min_count, "timeout": timeout, "skip": skip}
        if include_user:
            query["include_user"] = 1
        result: list[dict[str, Any]] = await self._get("messages", query)
        return result

    async def callback_answer(self, callback_query_id: str) -> dict[str, Any] | None:
        """Return the bot's answerCallbackQuery for a press, or None if unanswered."""
        result: dict[str, Any] | None = await self._get(
            "callback_answer", {"callback_query_id": callback_query_id}
        )
        return result

    async def commands(self) -> dict[str, list[dict[str, str]]]:
        """Return the command lists the bot set, keyed "scope:language_code"."""
        result: dict[str, list[dict[str, str]]] = await self._get("commands", {})
        return result

    async def file(self, file_id: str) -> bytes:
        """Return the bytes of a stored file."""
        result = await self._get("file", {"file_id": file_id})
        return base64.b64decode(result["data"])

    async def inject_error(
        self,
        method: str,
        code: int,
        *,
        count: int | None = None,
        ratio: float | None = None,
        retry_after: int = 1,
        description: str | None = None,
        html: bool = False,
    ) -> None:
        """Make the next count calls (or a ratio, or all) of a method fail with code (with
        a proxy's HTML page instead of Telegram's JSON: `html`)."""
        body = {
            "method": method,
            "code": code,
            "count": count,
            "ratio": ratio,
            "retry_after": retry_after,
            "description": description,
            "html": html,
        }
        await self._post("errors", body)
