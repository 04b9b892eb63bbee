"""Everything the bot sends through Zalo: replies, outbox messages, status messages.

A reply is a list of sends (its text parts, its pictures), each made within the
channel's flood limiter; a retry resumes at the send that failed. Zalo's answers map
onto outcomes as docs/zalo.md says: 429 is a quota (a configured pause: Zalo gives no
hint), 400 and 404 are refusals, anything else is transient; nothing means "blocked",
because Zalo says nothing when a person blocks the bot.

Zalo takes a picture by URL only, so a photo a person sent on another messenger (a
Telegram file id) is fetched from that messenger, kept in the file store and sent by
its signed URL. A fetch that fails now is a transient failure of that send; a file the
other messenger no longer has goes as a line saying the picture cannot be shown.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.channels.contract import Delivery, Fetch, FetchFailed, FileGone
from bot.channels.flood import FloodLimiter
from bot.channels.zalo.api import ZaloApi, ZaloError
from bot.channels.zalo.convert import render
from core.messages import KEPT, OutDocument, Reply, SharedFile, t
from locales import Catalogs
from storage.files import FileStore, picture_suffix, suffix_of

logger = logging.getLogger(__name__)
SEND_ATTEMPTS = 8  # network errors and 5xx in a row before a reply is given up for now
MAX_BACKOFF = 30.0  # seconds
REJECTED = (400, 404)
QUOTA = 429
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
Send = Callable[[], Awaitable[object]]


def outcome(error: ZaloError, pause: float) -> Delivery:
    """Say what a failed send means for a message (see the module's docstring)."""
    detail = f"{error.error_code}: {error.description}"
    if error.error_code == QUOTA:
        return Delivery("retry_after", retry_after=pause, detail=detail)
    if error.error_code in REJECTED:
        return Delivery("rejected", detail=detail)
    return Delivery("transient", detail=detail)


class GaveUp(Exception):
    """A send kept failing; what did not go out is tried again later."""


@dataclass
class Sender:
    """Turn replies into Zalo sends and make them within the flood limits."""

    api: ZaloApi
    catalogs: Catalogs
    limiter: FloodLimiter
    files: FileStore
    pause: float  # seconds a 429 pauses its scope
    # The public URL of a kept file (PUBLIC_BASE_URL), or None: pictures then cannot go
    # out, since Zalo takes them by URL only, and a line says so instead.
    public_url: Callable[[str], str] | None = None
    # The bytes of another messenger's file (the runtime's, see `fetch_with`), or None:
    # such photos then cannot go out either.
    fetch: Fetch | None = None
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)
    # Other messengers' files by (channel, file id): their keys once fetched and kept
    # (or FileGone), so that a photo is fetched once per process however often it is sent.
    keeping: dict[tuple[str, str], asyncio.Future[str]] = field(default_factory=dict)

    def sends(self, chat_id: str, kind: str, reply: Reply, language: str) -> list[Send]:
        """Return the sends of one reply to a chat of `kind` (private or group): its text
        parts, then its pictures, then a link to each other document (a workbook, a
        form): Zalo's bot API sends no files."""
        photos = [f for f in reply.files if f.kind == "photo" and self._can_send(f)]
        pictures = [d for d in reply.documents if suffix_of(d.file_name) in PICTURE_SUFFIXES]
        others = [d for d in reply.documents if d not in pictures]
        shown = len(photos) + len(reply.documents)
        if self.public_url is None:
            shown = 0
        missing = None
        if len(reply.files) + len(reply.documents) > shown:
            missing = self._unavailable(language, kind)
        lines = render(reply, self.catalogs, language, missing)
        result: list[Send] = [self._text(chat_id, text) for text in lines]
        if self.public_url is not None:
            result += [self._photo(chat_id, kind, photo, language) for photo in photos]
            result += [self._built(chat_id, d.file_name, d.content) for d in pictures]
            result += [self._linked(chat_id, d, language) for d in others]
        return result

    def _can_send(self, photo: SharedFile) -> bool:
        return photo.channel == KEPT or self.fetch is not None

    def _unavailable(self, language: str, kind: str) -> str:
        """The line that stands for what cannot be shown (in a group, /link is no help)."""
        if kind == "group":
            return self.catalogs.render(t("channel.picture_unavailable_group"), language)
        return self.catalogs.render(t("channel.picture_unavailable"), language)

    def _text(self, chat_id: str, text: str) -> Send:
        return lambda: self.api.send_message(chat_id, text)

    def _photo(self, chat_id: str, kind: str, photo: SharedFile, language: str) -> Send:
        assert self.public_url is not None
        url = self.public_url
        if photo.channel == KEPT:
            return lambda: self.api.send_photo(chat_id, url(photo.file_ref))

        async def send() -> str:
            try:
                key = await self._keep(photo.channel, photo.file_ref)
            except FileGone:
                return await self.api.send_message(chat_id, self._unavailable(language, kind))
            return await self.api.send_photo(chat_id, url(key))

        return send

    async def _keep(self, channel: str, file_ref: str) -> str:
        """Return the key of another messenger's file, fetched and kept once; a failure
        that may pass is forgotten, so the next try fetches again."""
        source = (channel, file_ref)
        keeping = self.keeping.get(source)
        # Nothing in the database names a fetched file, so the retention sweep may have
        # removed it since: make it young again for its new URL, or fetch it anew.
        done = keeping if keeping is not None and keeping.done() else None
        if (
            done
            and not done.exception()
            and not await asyncio.to_thread(self.files.touch, done.result())
        ):
            del self.keeping[source]
            keeping = None
        if keeping is None:
            keeping = self.keeping[source] = asyncio.ensure_future(self._fetch(channel, file_ref))
        try:
            return await asyncio.shield(keeping)
        except FileGone:
            raise
        except BaseException:
            if keeping.done() and self.keeping.get(source) is keeping:
                del self.keeping[source]
            raise

    async def _fetch(self, channel: str, file_ref: str) -> str:
        assert self.fetch is not None
        try:
            content = await self.fetch(channel, file_ref)
        except FileGone as gone:
            logger.warning("a picture sent on %s is no longer there: %s", channel, gone)
            raise
        return await asyncio.to_thread(self.files.put, content, picture_suffix(content))

    def _built(self, chat_id: str, name: str, content: bytes) -> Send:
        async def send() -> str:
            assert self.public_url is not None
            key = await asyncio.to_thread(self.files.put, content, suffix_of(name), handed=True)
            return await self.api.send_photo(chat_id, self.public_url(key))

        return send

    def _linked(self, chat_id: str, document: OutDocument, language: str) -> Send:
        async def send() -> str:
            assert self.public_url is not None
            suffix = suffix_of(document.file_name)
            # Often personal (a /mydata): it goes once its link stops working.
            key = await asyncio.to_thread(self.files.put, document.content, suffix, handed=True)
            text = t("channel.document_link", name=document.file_name, url=self.public_url(key))
            return await self.api.send_message(chat_id, self.catalogs.render(text, language))

        return send

    async def call(self, chat_id: str, kind: str, send: Send) -> Delivery | None:
        """Make one send of a reply within the flood limits; return the refusal, if refused.

        A 429 pauses the limiter and the send waits its turn again; other failures are
        tried again with a growing pause, SEND_ATTEMPTS times (then GaveUp).
        """
        attempt = 0
        while True:
            try:
                async with self.limiter.slot(chat_id, kind, urgent=True):
                    await send()
                return None
            except ZaloError as error:
                failed = outcome(error, self.pause)
            except FetchFailed as error:
                failed = Delivery("transient", detail=f"fetching a picture: {error}")
            except OSError as error:  # keeping a file for its URL (a full disk)
                failed = Delivery("transient", detail=f"keeping a file: {error.strerror}")
            if failed.outcome == "rejected":
                logger.warning("Zalo refused a reply: %s", failed.detail)
                return failed
            if failed.outcome == "retry_after":
                self.limiter.pause(chat_id, kind, failed.retry_after or self.pause)
                continue
            attempt += 1
            if attempt >= SEND_ATTEMPTS:
                logger.error("a reply failed %s times (%s); trying later", attempt, failed.detail)
                raise GaveUp
            await self.sleep(min(0.5 * 2 ** (attempt - 1), MAX_BACKOFF))

    async def deliver(self, chat_id: str, kind: str, sends: list[Send]) -> Delivery:
        """Send an outbox message's sends once (the sender holds the first one's slot)."""
        done = 0
        try:
            for send in sends:
                if done:
                    async with self.limiter.slot(chat_id, kind):
                        await send()
                else:
                    await send()
                done += 1
        except ZaloError as error:
            failed = outcome(error, self.pause)
        except FetchFailed as error:
            failed = Delivery("transient", detail=f"fetching a picture: {error}")
        except OSError as error:  # keeping a file for its URL: what went out stays counted
            failed = Delivery("transient", detail=f"keeping a file: {error.strerror}")
        else:
            return Delivery("sent")
        return Delivery(failed.outcome, failed.retry_after, failed.detail, parts_sent=done)
