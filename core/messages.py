"""The channel-neutral message model: what comes in and what goes out."""

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

AttachmentKind = Literal["photo", "document"]
# The "channel" of a file the bot keeps itself (storage.files), which every channel sends.
KEPT = "kept"
# What is kept of an attachment's name and type (the columns' lengths).
FILE_NAME_MAX, MIME_TYPE_MAX = 255, 100
_DROPPED = ("Cc", "Cs")  # control characters and lone surrogates
# What happened to a chat itself: the person blocked or unblocked the bot, the bot was
# removed from or added to a group, a group moved to a new chat id.
ChatEvent = Literal["blocked", "unblocked", "removed", "added", "migrated"]


@dataclass(frozen=True)
class Text:
    """A translatable text: a catalog key plus its parameters, rendered at the edge."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


def t(key: str, **params: Any) -> Text:
    """Mark a catalog key for translation and bind its parameters."""
    return Text(key, params)


@dataclass(frozen=True)
class Money:
    """An integer VND amount, formatted per language when rendered."""

    vnd: int


@dataclass(frozen=True)
class Number:
    """A count shown with the language's digit grouping (1.500 in vi, 1,500 in en)."""

    value: int


@dataclass(frozen=True)
class Lines:
    """Several texts rendered one per line."""

    items: tuple[Text | str, ...]


@dataclass(frozen=True)
class Option:
    """A choice offered to the user: a button, or a numbered line."""

    value: str
    label: Text
    # Other answers that pick it, comma-separated, in any language ("ok, đồng ý, setuju");
    # only matched, never shown.
    words: Text | None = None


@dataclass(frozen=True)
class Link:
    """A button that opens something instead of answering the bot.

    Without a `url` it opens the person's private chat with the bot, started with
    `start` if any; each channel spells that link its own way (Telegram:
    `https://t.me/<bot>?start=<start>`).
    """

    label: Text
    start: str = ""
    url: str | None = None


@dataclass(frozen=True)
class InAttachment:
    """A photo or document the user sent, referenced by the channel's file id (or, with
    `channel` KEPT, by the key of its bytes kept by the bot)."""

    kind: AttachmentKind
    file_ref: str
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    channel: str | None = None  # whose id `file_ref` is; None: the update's channel

    def cleaned(self) -> "InAttachment":
        """Return it with its name and type as the person's texts are cleaned, cut to
        what is kept of them (a messenger passes on whatever the sender's app wrote)."""
        name, mime = clean_text(self.file_name), clean_text(self.mime_type)
        return replace(
            self,
            file_name=name[:FILE_NAME_MAX] if name else None,
            mime_type=mime[:MIME_TYPE_MAX] if mime else None,
        )


@dataclass(frozen=True)
class OutDocument:
    """A document the bot sends, built in memory."""

    file_name: str
    content: bytes


@dataclass(frozen=True)
class LaterDocument:
    """A document made when its queued message is sent, not in the transaction that
    queues it (a workbook of thousands of rows, a certificate): `kind` names its maker
    (`views.later`), `params` are JSON values it reads the data by."""

    kind: str
    params: dict[str, Any]


@dataclass(frozen=True)
class SharedFile:
    """A file a user sent earlier, sent on by the channel's own file id; a file of the
    channel `KEPT` is the key of its bytes in the bot's file store, which any channel
    can send."""

    kind: AttachmentKind
    channel: str
    file_ref: str
    file_name: str | None = None


def clean_text(text: str | None) -> str | None:
    """Return text in NFC with control characters (NUL included) and lone surrogates
    (which no database can store as UTF-8) removed, keeping newlines."""
    if text is None:
        return None
    text = unicodedata.normalize("NFC", text)
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in _DROPPED)


@dataclass(frozen=True)
class Incoming:
    """One normalized update from any messenger."""

    channel: str
    chat_id: str
    user_id: str
    text: str | None = None
    choice: str | None = None
    attachments: tuple[InAttachment, ...] = ()
    update_id: str | None = None
    display_name: str | None = None
    unsupported: bool = False
    picture_lost: bool = False  # a picture came that could not be had (unsupported too)
    in_group: bool = False
    message_ref: str | None = None  # the message whose button was pressed, if any
    # A photo's or document's caption: kept apart, so a file is never taken for a typed
    # answer; the steps that take a file with text read it.
    caption: str | None = None
    sent_ref: str | None = None  # the person's own message, which a later edit names
    edited: bool = False  # a new version of the message `sent_ref`, not a new message
    event: ChatEvent | None = None  # not a message: what happened to the chat
    moved: tuple[str, str] | None = None  # a "migrated" group's old and new chat ids

    def cleaned(self) -> "Incoming":
        """Return the update with its texts in NFC and without control characters."""
        return replace(
            self,
            text=clean_text(self.text),
            caption=clean_text(self.caption),
            display_name=clean_text(self.display_name),
            attachments=tuple(attachment.cleaned() for attachment in self.attachments),
        )

    @property
    def command(self) -> str | None:
        """Return the lowercase command name of a `/command args` text, if any."""
        if not self.text or not self.text.startswith("/"):
            return None
        head = self.text.split(maxsplit=1)[0][1:]
        return head.split("@", 1)[0].lower() or None

    @property
    def argument(self) -> str:
        """Return what follows the command, stripped."""
        parts = (self.text or "").split(maxsplit=1)
        return parts[1].strip() if len(parts) > 1 else ""


@dataclass(frozen=True)
class Reply:
    """One message the bot answers with."""

    text: Text
    options: tuple[Option, ...] = ()
    documents: tuple[OutDocument, ...] = ()
    files: tuple[SharedFile, ...] = ()
    links: tuple[Link, ...] = ()  # shown after the options
    later: tuple[LaterDocument, ...] = ()  # outbox messages only: made as they are sent
    # Replace the message whose button was pressed (a card after a decision) instead of
    # sending a new one, where the channel can.
    edit: bool = False


@dataclass(frozen=True)
class Response:
    """Everything the bot answers to one update, and the language to render it in."""

    language: str
    replies: tuple[Reply, ...] = ()
    failed: bool = False
    queued: bool = False  # the update also queued outbox messages
    # A refused button press: a channel that can show a notice at the button shows this
    # instead of the replies (the refusal and the question again); others send those.
    toast: Text | None = None
