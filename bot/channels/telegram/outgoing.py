"""Everything the bot sends through Telegram: replies, outbox messages, status messages.

Every call waits for the channel's flood limiter (replies ahead of the outbox), and a 429
pauses the limiter's scope for its `retry_after`, so replies, notices and broadcasts share
one budget. A reply is sent part by part (texts, files, documents); a retry resumes at the
part that failed, so nothing that went out is sent twice by the bot's own retries.

It knows the channel only as `Api`: the Bot API calls and the limiter it sends through.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Any, Protocol

from bot.channels.contract import Delivery
from bot.channels.flood import FloodLimiter
from bot.channels.replies import Progress
from bot.channels.telegram.convert import CHANNEL, Keyboard, render
from core.codec import reply_from_json
from core.messages import KEPT, AttachmentKind, Reply, Response
from locales import Catalogs
from storage.outbox import Due

logger = logging.getLogger(__name__)
SEND_ATTEMPTS = 8  # network errors and 5xx in a row before a reply is given up for now
MAX_BACKOFF = 30.0  # seconds
NOT_MODIFIED = "message is not modified"
Part = Callable[[], Awaitable[object]]


class Api(Protocol):
    """What sending needs of the Telegram api."""

    catalogs: Catalogs
    limiter: FloodLimiter
    errors: tuple[type[Exception], ...]  # what the client raises when a call fails

    def expect(self, error: Exception, *outcomes: str) -> Delivery: ...
    async def send_text(self, chat_id: int, text: str, keyboard: Keyboard | None) -> int: ...
    async def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None
    ) -> None: ...
    async def send_file(self, chat_id: int, kind: AttachmentKind, file_ref: str) -> None: ...
    async def send_kept(
        self, chat_id: int, kind: AttachmentKind, key: str, file_name: str | None
    ) -> None: ...
    async def send_document(self, chat_id: int, file_name: str, content: bytes) -> None: ...


class Blocked(Exception):
    """The person blocked the bot: nothing more can reach the chat."""


class GaveUp(Exception):
    """A send kept failing; what did not go out is tried again later."""


def chat_kind(chat_id: int) -> str:
    """Return the flood-limit kind of a Telegram chat: groups have negative ids."""
    return "group" if chat_id < 0 else "private"


async def send_response(
    api: Api,
    chat_id: int,
    response: Response,
    *,
    edit: str | None = None,
    progress: Progress | None = None,
) -> bool:
    """Send a response's replies from where `progress` stopped; False: try again later.

    A reply marked `edit` replaces the message `edit` (the pressed button's) when it fits
    in one message; if Telegram refuses the edit, it is sent as a new message. A blocked
    chat ends the sending (True: there is nothing to try again).
    """
    progress = progress or Progress()
    parts = _reply_parts(api, chat_id, response, edit)
    try:
        for part in parts[progress.sent :]:
            await part()
            progress.sent += 1
    except Blocked:
        logger.info("a chat blocked the bot; its replies are dropped")
    except GaveUp:
        return False
    return True


def _reply_parts(api: Api, chat_id: int, response: Response, edit: str | None) -> list[Part]:
    """Each send of the replies, each made within the limits and retried (see `call`)."""
    parts: list[Part] = []
    for reply in response.replies:
        texts, files = _sends(api, chat_id, reply, response.language)
        if reply.edit and edit is not None and len(texts) == 1:
            _, (_, text, keyboard) = texts.pop()
            parts.append(partial(_edit_or_send, api, chat_id, int(edit), text, keyboard))
            edit = None  # one message, replaced once
        parts += [partial(call, api, chat_id, method, *args) for method, args in texts + files]
    return parts


Send = tuple[Callable[..., Awaitable[Any]], tuple[Any, ...]]  # a call and its arguments


def _sends(api: Api, chat_id: int, reply: Reply, language: str) -> tuple[list[Send], list[Send]]:
    """Return the calls that send a reply: its text pieces, and its files and documents.

    A file another messenger keeps (its file id means nothing here) is left out; one the
    bot keeps itself is uploaded.
    """
    texts: list[Send] = [
        (api.send_text, (chat_id, text, keyboard))
        for text, keyboard in render(reply, api.catalogs, language)
    ]
    files: list[Send] = [
        (api.send_file, (chat_id, shared.kind, shared.file_ref))
        for shared in reply.files
        if shared.channel == CHANNEL
    ]
    files += [
        (api.send_kept, (chat_id, shared.kind, shared.file_ref, shared.file_name))
        for shared in reply.files
        if shared.channel == KEPT
    ]
    files += [
        (api.send_document, (chat_id, document.file_name, document.content))
        for document in reply.documents
    ]
    return texts, files


async def _edit_or_send(
    api: Api, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None
) -> None:
    """Replace a message's text and buttons; send a new message if Telegram refuses."""
    refused = await call(api, chat_id, api.edit_text, chat_id, message_id, text, keyboard)
    if refused is not None and NOT_MODIFIED not in (refused.detail or ""):
        logger.info("could not edit a message in place: %s", refused.detail)
        await call(api, chat_id, api.send_text, chat_id, text, keyboard)


async def call(
    api: Api, chat_id: int, method: Callable[..., Awaitable[Any]], *args: Any
) -> Delivery | None:
    """Make one call of a reply within the flood limits; return the refusal, if refused.

    A 429 pauses the limiter for its `retry_after` and the call waits its turn again;
    network errors and 5xx are tried again with a growing pause, `SEND_ATTEMPTS` times.
    """
    kind = chat_kind(chat_id)
    attempt = 0
    while True:
        try:
            async with api.limiter.slot(str(chat_id), kind, urgent=True):
                await method(*args)
            return None
        except api.errors as error:
            failed = api.expect(error, "retry_after", "transient", "rejected", "blocked")
        if failed.outcome == "rejected":
            logger.warning("Telegram refused a reply: %s", failed.detail)
            return failed
        if failed.outcome == "blocked":
            raise Blocked
        if failed.outcome == "retry_after":
            api.limiter.pause(str(chat_id), kind, failed.retry_after or 1.0)
            continue
        attempt += 1
        if attempt >= SEND_ATTEMPTS:
            logger.error("a reply failed %s times (%s); trying later", attempt, failed.detail)
            raise GaveUp
        await asyncio.sleep(min(0.5 * 2 ** (attempt - 1), MAX_BACKOFF))


async def deliver(api: Api, item: Due) -> Delivery:
    """Send one outbox message (no retries here: the outbox decides).

    Its texts, files and documents are separate sends; those that went out in earlier
    attempts (`item.parts_sent`) are not sent again.
    """
    reply = reply_from_json(item.content)
    texts, files = _sends(api, int(item.chat_id), reply, item.language)
    parts: list[Part] = [partial(method, *args) for method, args in texts + files]
    done = 0
    try:
        for send in parts[item.parts_sent :]:
            if done:  # the sender counted the first send; each further one counts too
                async with api.limiter.slot(item.chat_id, item.chat_kind):
                    await send()
            else:
                await send()
            done += 1
    except api.errors as error:
        failed = api.expect(error, "retry_after", "blocked", "rejected", "transient")
        return replace(failed, parts_sent=done)
    except OSError as error:  # reading a kept file: what went out stays counted
        return Delivery("transient", detail=f"reading a file: {error.strerror}", parts_sent=done)
    return Delivery("sent")


async def post_status(
    api: Api, chat_id: str, reply: Reply, language: str, message_id: str | None
) -> str | None:
    """Send a status message, or edit the one sent before; its id, None if it failed.

    An edit that changes nothing counts as done.
    """
    text, _ = render(reply, api.catalogs, language)[0]
    try:
        if message_id is None:
            return str(await api.send_text(int(chat_id), text, None))
        await api.edit_text(int(chat_id), int(message_id), text, None)
    except api.errors as error:
        failed = api.expect(error, "rejected", "retry_after", "transient", "blocked")
        if failed.outcome == "retry_after":
            api.limiter.pause(chat_id, chat_kind(int(chat_id)), failed.retry_after or 1.0)
        if failed.outcome != "rejected" or message_id is None:
            logger.info("could not post a status message: %s", failed.outcome)
            return None
    return message_id
