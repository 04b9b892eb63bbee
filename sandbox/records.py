"""Records the sandbox keeps: users, chats, messages, files, calls, injected errors, webhooks."""

import random
from dataclasses import dataclass, field
from typing import Any, TypeVar


@dataclass
class UserRecord:
    """A Telegram user who talks to bots through the control API."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        """Return the Bot API User object."""
        user: dict[str, Any] = {
            "id": self.id,
            "is_bot": self.is_bot,
            "first_name": self.first_name,
        }
        for name in ("last_name", "username", "language_code"):
            if getattr(self, name) is not None:
                user[name] = getattr(self, name)
        return user


@dataclass
class ChatRecord:
    """A private chat (id = user id) or a group chat (negative id)."""

    id: int
    type: str
    title: str | None = None
    user: UserRecord | None = None
    migrated_to: int | None = None  # a group that became this supergroup

    def to_api(self) -> dict[str, Any]:
        """Return the Bot API Chat object."""
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.user is not None:
            chat["first_name"] = self.user.first_name
            if self.user.last_name:
                chat["last_name"] = self.user.last_name
            if self.user.username:
                chat["username"] = self.user.username
        else:
            chat["title"] = self.title or f"Group {abs(self.id)}"
        return chat


@dataclass
class StoredFile:
    """An uploaded file, reachable by file_id through getFile and the download route."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    name: str
    mime_type: str
    width: int = 0
    height: int = 0

    def to_api(self) -> dict[str, Any]:
        """Return the Bot API File object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def photo_sizes(self) -> list[dict[str, Any]]:
        """Return the PhotoSize array of a photo message (one size in the sandbox)."""
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": self.width,
                "height": self.height,
                "file_size": len(self.data),
            }
        ]

    def document(self) -> dict[str, Any]:
        """Return the Bot API Document object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.name,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }


@dataclass
class MessageRecord:
    """A message in one bot's view of a chat, with its edit history."""

    message_id: int
    chat: ChatRecord
    sender: UserRecord
    date: int
    from_bot: bool
    text: str | None = None
    plain_text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    photo: StoredFile | None = None
    document: StoredFile | None = None
    edit_date: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    service: dict[str, Any] = field(default_factory=dict)  # migrate_to_chat_id and the like

    def to_api(self) -> dict[str, Any]:
        """Return the Bot API Message object."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender.to_api(),
            "chat": self.chat.to_api(),
            "date": self.date,
            **self.service,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        body_key = "text" if self.photo is None and self.document is None else "caption"
        if self.plain_text is not None:
            message[body_key] = self.plain_text
            if self.entities:
                message["entities" if body_key == "text" else "caption_entities"] = self.entities
        if self.photo is not None:
            message["photo"] = self.photo.photo_sizes()
        if self.document is not None:
            message["document"] = self.document.document()
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return message

    def snapshot(self) -> dict[str, Any]:
        """Return the editable part of the message, as kept in the edit history."""
        return {
            "text": self.text,
            "caption": self.caption,
            "parse_mode": self.parse_mode,
            "reply_markup": self.reply_markup,
            "edit_date": self.edit_date,
        }

    def to_control(self) -> dict[str, Any]:
        """Return the message as the control API shows it to tests."""
        return {
            "message_id": self.message_id,
            "chat_id": self.chat.id,
            "from_bot": self.from_bot,
            "date": self.date,
            "text": self.text,
            "plain_text": self.plain_text,
            "caption": self.caption,
            "parse_mode": self.parse_mode,
            "reply_markup": self.reply_markup,
            "photo": self.photo.file_id if self.photo else None,
            "document": self.document.file_id if self.document else None,
            "document_name": self.document.name if self.document else None,
            "edit_date": self.edit_date,
            "edits": list(self.history),
            "deleted": self.deleted,
        }


@dataclass
class CallRecord:
    """One Bot API call as the sandbox answered it."""

    at: float
    bot_id: int
    method: str
    chat_id: int | None
    ok: bool
    error_code: int | None = None
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the call as a JSON object."""
        return {
            "at": self.at,
            "bot_id": self.bot_id,
            "method": self.method,
            "chat_id": self.chat_id,
            "ok": self.ok,
            "error_code": self.error_code,
            "description": self.description,
        }


@dataclass
class ErrorRule:
    """An injected failure: the next `count` calls, or a `ratio` of calls, or every call."""

    method: str
    code: int
    description: str | None = None
    retry_after: int = 1
    count: int | None = None
    ratio: float | None = None
    html: bool = False  # answer with a proxy's HTML page, as Telegram's front does in outages

    def to_json(self) -> dict[str, Any]:
        """Return the rule as a JSON object."""
        return dict(self.__dict__)


Rule = TypeVar("Rule", bound=ErrorRule)


def take_rule(rules: list[Rule], method: str, chance: random.Random) -> Rule | None:
    """Return the injected rule that fails this call, consuming one use of a counted rule."""
    for rule in list(rules):
        if rule.method not in ("*", method.lower()):
            continue
        if rule.count is not None:
            rule.count -= 1
            if rule.count <= 0:
                rules.remove(rule)
        elif rule.ratio is not None and chance.random() >= rule.ratio:
            continue
        return rule
    return None


@dataclass
class CallbackRecord:
    """A callback query a user created by pressing a button, and the bot's answer."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: dict[str, Any] | None = None


@dataclass
class WebhookState:
    """Where and how updates are pushed, and the last delivery failure."""

    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
