"""What the Zalo face keeps: its limits, the bots' messages, served files, calls, errors."""

from dataclasses import dataclass
from typing import Any

from sandbox.limits import LimitSet
from sandbox.records import ErrorRule

Update = dict[str, Any]  # {event_name, message}, as Zalo sends it
PRIVATE, GROUP = "PRIVATE", "GROUP"


@dataclass
class ZaloLimits(LimitSet):
    """Zalo publishes no rates: these follow the bot's own conservative defaults (0: off)."""

    bot_per_second: int = 10
    chat_per_second: int = 1
    group_per_minute: int = 20
    max_text: int = 2000  # in UTF-16 code units, text and caption alike


@dataclass
class ZaloMessage:
    """A message the bot sent, as the control API shows it."""

    message_id: str
    chat_id: str
    date: int  # milliseconds since the epoch, as Zalo's
    at: float  # the sandbox's monotonic clock, for benchmarks
    text: str | None = None
    caption: str | None = None
    photo_url: str | None = None
    photo: bytes | None = None
    sticker: str | None = None
    voice_url: str | None = None
    parse_mode: str | None = None
    text_styles: Any = None

    def to_control(self) -> dict[str, Any]:
        """Return the message for tests: only the fields it has."""
        shown: dict[str, Any] = {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "date": self.date,
        }
        for name in ("text", "caption", "photo_url", "sticker", "voice_url", "parse_mode"):
            if getattr(self, name) is not None:
                shown[name] = getattr(self, name)
        if self.text_styles is not None:
            shown["text_styles"] = self.text_styles
        if self.photo is not None:
            shown["photo_size"] = len(self.photo)
        return shown


@dataclass
class ServedFile:
    """A photo a user sent, served at /zalo/files/<id> until a test expires it."""

    file_id: str
    data: bytes
    mime_type: str
    expired: bool = False


@dataclass
class ZaloCall:
    """One Bot API call as the Zalo face answered it."""

    at: float
    bot_id: str
    method: str
    params: dict[str, Any]
    error_code: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the call as a JSON object."""
        return {
            "method": self.method,
            "params": self.params,
            "at": self.at,
            "ok": self.error_code is None,
            "error_code": self.error_code,
        }


@dataclass
class ZaloErrorRule(ErrorRule):
    """An injected failure, and how it reaches the client: in Zalo's HTTP-200 envelope, with
    the HTTP status too (`http`), with a string code, as an HTML page, or as a dropped
    connection."""

    http: bool = False
    string_code: bool = False
    html: bool = False
    drop: bool = False
