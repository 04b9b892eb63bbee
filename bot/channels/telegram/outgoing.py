"""What the leader's outbox and broadcast reports send through the Telegram channel."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from bot.channels.telegram.convert import CHANNEL, render
from bot.codec import reply_from_json
from bot.messages import Reply
from bot.outbox import Delivery
from storage.outbox import Due

if TYPE_CHECKING:
    from bot.channels.telegram.channel import TelegramChannel

logger = logging.getLogger(__name__)


async def deliver(channel: "TelegramChannel", item: Due) -> Delivery:
    """Send one outbox message (no retries here: the outbox decides).

    Its texts, files and documents are separate sends; those that went out in earlier
    attempts (`item.parts_sent`) are not sent again.
    """
    reply = reply_from_json(item.content)
    chat_id = int(item.chat_id)
    parts: list[Callable[[], Awaitable[None]]] = [
        partial(channel.send_text, chat_id, text, keyboard)
        for text, keyboard in render(reply, channel.core.catalogs, item.language)
    ]
    parts += [  # a broadcast's photo or document
        partial(channel.send_file, chat_id, shared.kind, shared.file_ref)
        for shared in reply.files
        if shared.channel == CHANNEL
    ]
    parts += [  # a digest's chart
        partial(channel.send_document, chat_id, document.file_name, document.content)
        for document in reply.documents
    ]
    done = 0
    try:
        for send in parts[item.parts_sent :]:
            await send()
            done += 1
    except channel.errors as error:
        failed = channel._expect(error, "retry_after", "blocked", "rejected", "transient")
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
        failed = channel._expect(error, "rejected", "retry_after", "transient", "blocked")
        if failed.outcome != "rejected" or message_id is None:
            logger.info("could not post a status message: %s", failed.outcome)
            return None
    return message_id
