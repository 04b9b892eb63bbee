"""A person in a private chat with the bot, on Telegram or on Zalo, through the emulator.

The tests say what the person does (writes, answers a question, sends a photo) and read
what they see; how that is done is the messenger's: a Telegram user presses the offered
button (its callback data goes to the bot), a Zalo user types the option's number or
label (Zalo has no buttons). What the person reads is plain text on both: Telegram's
HTML is shown as the app shows it.
"""

import asyncio
import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from core.messages import Text, t
from locales import Catalogs
from sandbox.client import SandboxClient
from sandbox.zalo.client import ZaloSandboxClient
from views.labels import LANGUAGE_LABELS

WAIT = 30.0  # seconds a person waits for an answer (a restarted run on a loaded CI
# machine takes over ten) before the test fails
# A Zalo option line: "  2. English" (bot.channels.text.render_reply).
NUMBERED = re.compile(r"^  (\d+)\. (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Sent:
    """A message of the bot as the person sees it now (an edit shows its new text)."""

    id: str
    text: str  # what the person reads: the text or caption, plain
    picture: str | None  # the picture's id (Telegram) or address (Zalo), if it has one
    options: tuple[tuple[str, str], ...]  # (label, what answering with it sends)
    raw: dict[str, Any]


def text_of(messages: list[Sent]) -> str:
    """Return the texts of messages, one after the other."""
    return "\n".join(message.text for message in messages)


class Person(ABC):
    """One person writing to the bot in their private chat (the chat id is theirs)."""

    messenger: str  # the channel's name

    def __init__(self, user_id: str, name: str, language: str, catalogs: Catalogs) -> None:
        self.user_id = user_id
        self.name = name
        self.language = language  # what labels are written in (set when joining)
        self.catalogs = catalogs
        self.seen = 0  # the bot's messages counted so far

    @abstractmethod
    async def _write(self, text: str) -> dict[str, Any]:
        """Send text as the person; return the update."""

    @abstractmethod
    async def _press(self, sent: Sent, value: str) -> None:
        """Answer the question `sent` with an option's `value`, as the messenger does."""

    @abstractmethod
    async def _send_photo(self, data: bytes, caption: str | None) -> None:
        """Send a photo as the person."""

    @abstractmethod
    async def _messages(self, min_count: int, timeout: float) -> list[dict[str, Any]]:
        """Return what the bot sent to the chat, waiting up to `timeout` for `min_count`."""

    @abstractmethod
    def _sent(self, raw: dict[str, Any]) -> Sent:
        """Read one message of the emulator's control API."""

    @property
    @abstractmethod
    def edits(self) -> bool:
        """Whether the bot edits a message in place here (else it sends a new one)."""

    async def write(self, text: str) -> None:
        """Write text and count nothing as seen: `answered` then waits for the answer
        (`say(text, expect=0)` would count an answer already there as seen)."""
        await self._write(text)

    async def say(self, text: str, expect: int = 1) -> list[Sent]:
        """Write text; return the `expect` messages the bot answers with."""
        await self._write(text)
        return await self.replies(expect)

    async def choose(
        self, label: str | Text, expect: int = 1, edited: int = 0, *, typed: bool = False
    ) -> list[Sent]:
        """Answer the last question with the option labelled `label` (`typed`: by typing
        the label); return the bot's new messages: `expect`, and the `edited` ones that
        come as new messages where the bot cannot edit (Zalo)."""
        await self.pick(label, typed=typed)
        return await self.replies(expect + (0 if self.edits else edited))

    async def pick(self, label: str | Text, *, typed: bool = False) -> None:
        """Answer the last question with the option labelled `label`; wait for nothing."""
        sent = await self.question()
        wanted = self.label(label)
        exact = [o for o in sent.options if o[0] == wanted]
        close = exact or [o for o in sent.options if wanted in o[0]]
        assert len(close) == 1, f"{wanted!r} is not one of {[o[0] for o in sent.options]}"
        if typed:
            await self._write(close[0][0])
        else:
            await self._press(sent, close[0][1])

    async def refused(self, label: str | Text) -> str:
        """Answer the last question with the option labelled `label`, which the bot
        refuses; return the refusal as shown (here: its answer)."""
        await self.pick(label)
        return text_of(await self.replies(1))

    async def question(self) -> Sent:
        """Return the bot's last message that offers options."""
        asked = [m for m in await self.messages() if m.options]
        assert asked, "the bot asked nothing with options"
        return asked[-1]

    async def send_photo(
        self, data: bytes, caption: str | None = None, expect: int = 1
    ) -> list[Sent]:
        """Send a photo (with a caption); return the `expect` messages answering it."""
        await self._send_photo(data, caption)
        return await self.replies(expect)

    async def replies(self, expect: int, timeout: float = WAIT) -> list[Sent]:
        """Wait for `expect` new messages from the bot and return them."""
        raw = await self._messages(self.seen + expect, timeout)
        assert len(raw) >= self.seen + expect, f"the bot sent {raw[self.seen :]}"
        new, self.seen = raw[self.seen :], len(raw)
        return [self._sent(message) for message in new]

    async def silence(self, seconds: float = 0.5) -> list[Sent]:
        """Return what the bot sent beyond what was seen, after waiting `seconds` for it."""
        raw = await self._messages(self.seen + 1, seconds)
        return [self._sent(message) for message in raw[self.seen :]]

    async def messages(self) -> list[Sent]:
        """Return every message the bot sent to this person, as it looks now."""
        return [self._sent(message) for message in await self._messages(0, 0)]

    async def shown(self, phrase: str, timeout: float = WAIT) -> Sent:
        """Wait until one of the bot's messages shows `phrase` (new or edited); return it."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in await self.messages() if phrase in m.text]
            if found:
                return found[-1]
            assert time.monotonic() < deadline, f"{phrase!r} never shown: {await self.messages()}"
            await asyncio.sleep(0.05)

    async def answered(self, *phrases: str, timeout: float = 120.0) -> str:
        """Wait for a new message showing one of `phrases` (a repeat of an earlier one,
        after a crash, passes by); count everything so far as seen; return the phrase."""
        deadline = time.monotonic() + timeout
        wanted = self.seen + 1
        while True:
            raw = await self._messages(wanted, max(0.0, deadline - time.monotonic()))
            shown = [self._sent(message).text for message in raw[self.seen :]]
            found = [phrase for phrase in phrases if any(phrase in text for text in shown)]
            if found:
                self.seen = len(raw)
                return found[0]
            last = [self._sent(message).text[:60] for message in raw[-6:]]
            assert time.monotonic() < deadline, f"{self.user_id}: no {phrases!r} after {last}"
            wanted = len(raw) + 1  # wait for one more

    async def catch_up(self) -> None:
        """Count every message the bot sent so far as seen."""
        self.seen = len(await self._messages(0, 0))

    async def join(self, code: str, language: str = "vi") -> None:
        """Join a unit with its invite code, a language and consent."""
        await self.say(f"/start {code}")
        self.language = language
        await self.choose(LANGUAGE_LABELS[language], expect=2)
        await self.choose(t("onboarding.opt_agree"), expect=2)

    def label(self, text: str | Text) -> str:
        """Return a text as this person reads it."""
        return self.catalogs.render(text, self.language)


class TelegramPerson(Person):
    """A Telegram user: presses buttons, reads the HTML as the app shows it."""

    messenger = "telegram"

    def __init__(
        self, users: SandboxClient, user_id: int, name: str, language: str, catalogs: Catalogs
    ) -> None:
        super().__init__(str(user_id), name, language, catalogs)
        self.users = users
        self.number = user_id

    @property
    def edits(self) -> bool:
        """Telegram edits a message in place."""
        return True

    async def _write(self, text: str) -> dict[str, Any]:
        return await self.users.send_text(self.number, text, first_name=self.name)

    async def _press(self, sent: Sent, value: str) -> None:
        await self.users.press(self.number, self.number, int(sent.id), value)

    async def _send_photo(self, data: bytes, caption: str | None) -> None:
        await self.users.send_photo(self.number, data, caption=caption, first_name=self.name)

    async def send_document(self, data: bytes, name: str, expect: int = 1) -> list[Sent]:
        """Send a document (Telegram only: Zalo takes pictures only)."""
        await self.users.send_document(self.number, data, name, first_name=self.name)
        return await self.replies(expect)

    async def refused(self, label: str | Text) -> str:
        """Press the button labelled `label`, which the bot refuses; return the notice
        shown at the button (no message comes with it)."""
        sent = await self.question()
        wanted = self.label(label)
        (value,) = [value for shown, value in sent.options if shown == wanted]
        notice = await self.press(value)
        assert notice is not None, "the press was answered without a notice"
        assert await self.silence(0.2) == [], "a refused press also got a message"
        return notice

    async def press(self, data: str) -> str | None:
        """Press any button data under the last question (a forged one too); return the
        notice shown at the button. Fails unless the press is answered."""
        sent = await self.messages()
        with_keyboard = [m for m in sent if m.options] or sent
        update = await self.users.press(self.number, self.number, int(with_keyboard[-1].id), data)
        query_id = update["callback_query"]["id"]
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if answer := await self.users.callback_answer(query_id):
                text: str | None = answer["text"]
                return text
            await asyncio.sleep(0.05)
        raise AssertionError("the press was never answered")

    async def _messages(self, min_count: int, timeout: float) -> list[dict[str, Any]]:
        return await self.users.messages(self.number, min_count=min_count, timeout=timeout)

    def _sent(self, raw: dict[str, Any]) -> Sent:
        keyboard = (raw.get("reply_markup") or {}).get("inline_keyboard") or []
        options = tuple(
            (button["text"], button["callback_data"])
            for row in keyboard
            for button in row
            if "callback_data" in button
        )
        return Sent(
            str(raw["message_id"]),
            raw.get("plain_text") or "",
            raw.get("photo"),
            options,
            raw,
        )


class ZaloPerson(Person):
    """A Zalo user: answers a question by typing the option's number (or its label)."""

    messenger = "zalo"

    def __init__(
        self, zalo: ZaloSandboxClient, user_id: str, name: str, language: str, catalogs: Catalogs
    ) -> None:
        super().__init__(user_id, name, language, catalogs)
        self.zalo = zalo

    @property
    def edits(self) -> bool:
        """Zalo cannot edit: what Telegram edits comes as a new message."""
        return False

    async def _write(self, text: str) -> dict[str, Any]:
        return await self.zalo.send_text(self.user_id, text, display_name=self.name)

    async def _press(self, sent: Sent, value: str) -> None:
        await self._write(value)  # the option's number

    async def _send_photo(self, data: bytes, caption: str | None) -> None:
        await self.zalo.send_photo(self.user_id, data, caption=caption, display_name=self.name)

    async def _messages(self, min_count: int, timeout: float) -> list[dict[str, Any]]:
        return await self.zalo.messages(self.user_id, min_count=min_count, timeout=timeout)

    def _sent(self, raw: dict[str, Any]) -> Sent:
        text = raw.get("text") or raw.get("caption") or ""
        options = tuple((label, number) for number, label in NUMBERED.findall(text))
        return Sent(str(raw["message_id"]), text, raw.get("photo_url"), options, raw)
