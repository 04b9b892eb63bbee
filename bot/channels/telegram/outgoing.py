"""Everything the bot sends through Telegram: replies, outbox messages, status messages.

Every call waits for the channel's flood limiter (replies ahead of the outbox), and a 429
pauses the limiter's scope for its `retry_after`, so replies, notices and broadcasts share
one budget. A reply is sent part by part (texts, files, documents); a retry resumes at the
part that failed, so nothing that went out is sent twice by the bot's own retries.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.channels.contract import Delivery
from bot.channels.replies import Progress
from bot.channels.telegram.convert import CHANNEL, Keyboard, render
from core.codec import reply_from_json
from core.messages import Reply, Response
from storage.outbox import Due

if TYPE_CHECKING:
    from bot.channels.telegram.channel import TelegramChannel

logger = logging.getLogger(__name__)
SEND_ATTEMPTS = 8  # network errors and 5xx in a row before a reply is given up for now
MAX_BACKOFF = 30.0  # seconds
NOT_MODIFIED = "message is not modified"
Part = Callable[[], Awaitable[object]]


class Blocked(Exception):
    """The person blocked the bot: nothing more can reach the chat."""


class GaveUp(Exception):
    """A send kept failing; what did not go out is tried again later."""


def chat_kind(chat_id: int) -> str:
    """Return the flood-limit kind of a Telegram chat: groups have negative ids."""
    return "group" if chat_id < 0 else "private"


async def send_response(
    channel: "TelegramChannel",
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
    parts = _reply_parts(channel, chat_id, response, edit)
    try:
        for part in parts[progress.sent :]:
            await part()
            progress.sent += 1
    except Blocked:
        logger.info("a chat blocked the bot; its replies are dropped")
    except GaveUp:
        return False
    return True


def _reply_parts(
    channel: "TelegramChannel", chat_id: int, response: Response, edit: str | None
) -> list[Part]:
    parts: list[Part] = []
    for reply in response.replies:
        pieces = render(reply, channel.core.catalogs, response.language)
        if reply.edit and edit is not None and len(pieces) == 1:
            text, keyboard = pieces[0]
            parts.append(partial(_edit_or_send, channel, chat_id, int(edit), text, keyboard))
            edit = None  # one message, replaced once
        else:
            parts += [
                partial(call, channel, chat_id, channel.send_text, chat_id, text, keyboard)
                for text, keyboard in pieces
            ]
        parts += [
            partial(call, channel, chat_id, method, *args)
            for method, args in _file_sends(channel, chat_id, reply)
        ]
    return parts


Send = tuple[Callable[..., Awaitable[Any]], tuple[Any, ...]]  # a call and its arguments


def _file_sends(channel: "TelegramChannel", chat_id: int, reply: Reply) -> list[Send]:
    """Return the calls that send a reply's files and documents, with their arguments."""
    sends: list[Send] = [
        (channel.send_file, (chat_id, shared.kind, shared.file_ref))
        for shared in reply.files
        if shared.channel == CHANNEL  # another messenger's file id means nothing here
    ]
    sends += [
        (channel.send_document, (chat_id, document.file_name, document.content))
        for document in reply.documents
    ]
    return sends


async def _edit_or_send(
    channel: "TelegramChannel", chat_id: int, message_id: int, text: str, keyboard: Keyboard | None
) -> None:
    """Replace a message's text and buttons; send a new message if Telegram refuses."""
    refused = await call(channel, chat_id, channel.edit_text, chat_id, message_id, text, keyboard)
    if refused is not None and NOT_MODIFIED not in (refused.detail or ""):
        logger.info("could not edit a message in place: %s", refused.detail)
        await call(channel, chat_id, channel.send_text, chat_id, text, keyboard)


async def call(
    channel: "TelegramChannel", chat_id: int, method: Callable[..., Awaitable[Any]], *args: Any
) -> Delivery | None:
    """Make one call of a reply within the flood limits; return the refusal, if refused.

    A 429 pauses the limiter for its `retry_after` and the call waits its turn again;
    network errors and 5xx are tried again with a growing pause, `SEND_ATTEMPTS` times.
    """
    kind = chat_kind(chat_id)
    attempt = 0
    while True:
        try:
            async with channel.limiter.slot(str(chat_id), kind, urgent=True):
                await method(*args)
            return None
        except channel.errors as error:
            failed = channel.expect(error, "retry_after", "transient", "rejected", "blocked")
        if failed.outcome == "rejected":
            logger.warning("Telegram refused a reply: %s", failed.detail)
            return failed
        if failed.outcome == "blocked":
            raise Blocked
        if failed.outcome == "retry_after":
            channel.limiter.pause(str(chat_id), kind, failed.retry_after or 1.0)
            continue
        attempt += 1
        if attempt >= SEND_ATTEMPTS:
            logger.error("a reply failed %s times (%s); trying later", attempt, failed.detail)
            raise GaveUp
        await asyncio.sleep(min(0.5 * 2 ** (attempt - 1), MAX_BACKOFF))


async def deliver(channel: "TelegramChannel", item: Due) -> Delivery:
    """Send one outbox message (no retries here: the outbox decides).

    Its texts, files and documents are separate sends; those that went out in earlier
    attempts (`item.parts_sent`) are not sent again.
    """
    reply = reply_from_json(item.content)
    chat_id = int(item.chat_id)
    parts: list[Part] = [
        partial(channel.send_text, chat_id, text, keyboard)
        for text, keyboard in render(reply, channel.core.catalogs, item.language)
    ]
    parts += [partial(method, *args) for method, args in _file_sends(channel, chat_id, reply)]
    done = 0
    try:
        for send in parts[item.parts_sent :]:
            if done:  # the sender counted the first send; each further one counts too
                async with channel.limiter.slot(item.chat_id, item.chat_kind):
                    await send()
            else:
                await send()
            done += 1
    except channel.errors as error:
        failed = channel.expect(error, "retry_after", "blocked", "rejected", "transient")
        return replace(failed, parts_sent=done)
    return Delivery("sent")


async def post_status(
    channel: "TelegramChannel", chat_id: str, reply: Reply, language: str, message_id: str | None
) -> str | None:
    """Send a status message, or edit the one sent before; its id, None if it failed.

    An edit that changes nothing counts as done.
    """
    text, _ = render(reply, channel.core.catalogs, language)[0]
    try:
        if message_id is None:
            sent = await channel.bot.send_message(
                chat_id=int(chat_id), text=text, parse_mode="HTML", reply_markup=None
            )
            return str(sent.message_id)
        await channel.edit_text(int(chat_id), int(message_id), text, None)
    except channel.errors as error:
        failed = channel.expect(error, "rejected", "retry_after", "transient", "blocked")
        if failed.outcome == "retry_after":
            channel.limiter.pause(chat_id, chat_kind(int(chat_id)), failed.retry_after or 1.0)
        if failed.outcome != "rejected" or message_id is None:
            logger.info("could not post a status message: %s", failed.outcome)
            return None
    return message_id
