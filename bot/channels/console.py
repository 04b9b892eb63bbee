"""The console channel: one message per line from stdin, replies on stdout.

It doubles as the in-memory test backend: `ConsoleSession.send` returns what a
person in a terminal would read.
"""

import asyncio
import itertools
import logging
import sys
import threading
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.channels.contract import Capabilities, Delivery
from bot.channels.flood import FloodLimiter, Rates
from bot.channels.text import render_reply
from bot.dispatch.dispatcher import Dispatcher
from core.codec import reply_from_json
from core.messages import (
    KEPT,
    InAttachment,
    Incoming,
    OutDocument,
    Reply,
    Response,
    SharedFile,
    t,
)
from locales import Catalogs
from storage import db, outbox
from storage.db import reading, transaction
from storage.file_references import referenced_keys
from storage.files import FileStore, UnknownFile, suffix_of
from storage.outbox import Due
from views import later

logger = logging.getLogger(__name__)
CHANNEL = "console"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic"}


class ConsoleSession:
    """One person typing into the bot from a terminal."""

    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        catalogs: Catalogs,
        files_dir: Path,
        user_id: str,
        name: str | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.catalogs = catalogs
        self.files_dir = files_dir
        self.store = FileStore(files_dir)
        self.user_id = user_id
        self.name = name
        self.language = dispatcher.settings.default_language

    def send(self, line: str) -> str:
        """Send one line as the user and return the bot's answer as printed text."""
        incoming = self._incoming(line.rstrip("\r\n"))
        if isinstance(incoming, Reply):
            return self._render(Response(self.language, (incoming,)))
        try:
            response = self.dispatcher.handle(incoming)
        except Exception as error:
            if not db.unavailable(error):  # the dispatcher raises only the database away
                raise
            # The console keeps no inbox: the person sees it failed and types it again.
            logger.warning("the database is away (%s)", type(error).__name__)
            response = Response(self.language, (Reply(t("common.internal_error")),), failed=True)
        finally:
            self._forget_unkept(incoming.attachments)
        if response is None:
            return ""
        self.language = response.language
        if response.failed:
            return self._render(response)
        try:
            notices = self._notices()
        except Exception as error:
            if not db.unavailable(error):
                raise
            notices = []  # they wait in the outbox for the next answer
        return "\n\n".join([self._render(response), *notices])

    def _notices(self) -> list[str]:
        """Deliver the notices queued for this person: they are shown after the answer."""
        shown = []
        with transaction(self.dispatcher.engine) as session:
            now = self.dispatcher.clock()
            while due := outbox.due(
                session=session, now=now, limit=1, chat=(CHANNEL, self.user_id)
            ):
                item = due[0]
                content = later.made(
                    session=session,
                    catalogs=self.catalogs,
                    settings=self.dispatcher.settings,
                    content=item.content,
                    language=item.language,
                )
                shown.append(self.render_notice(replace(item, content=content)))
                outcome = outbox.Outcome(item.id, "sent", now, outbox.SENT)
                outbox.record(session=session, outcomes=[outcome])
                session.flush()
        return shown

    def render_notice(self, item: Due) -> str:
        """Return a queued message as the person reads it (its documents saved)."""
        return self._render(Response(item.language, (reply_from_json(item.content),)))

    def _incoming(self, line: str) -> Incoming | Reply:
        base = Incoming(
            channel=CHANNEL, chat_id=self.user_id, user_id=self.user_id, display_name=self.name
        )
        command, _, argument = line.strip().partition(" ")
        if command not in ("/photo", "/file"):
            return replace(base, text=line)
        path = Path(argument.strip()).expanduser()
        if not argument.strip() or not path.is_file():
            return Reply(t("console.file_missing", path=argument.strip()))
        kind = "photo" if command == "/photo" else "document"
        if kind == "photo" and path.suffix.lower() not in IMAGE_SUFFIXES:
            return Reply(t("console.not_an_image", path=path.name))
        return replace(base, attachments=(self._keep(path, kind),))

    def _forget_unkept(self, attachments: tuple[InAttachment, ...]) -> None:
        """Remove the files of a message no answer kept (a photo where text was asked); a
        file a conversation holds (an announcement's photo) or a message names is kept,
        and all are while the database cannot say (the files sweep removes them later)."""
        if not attachments:
            return
        try:
            with reading(self.dispatcher.engine) as session:
                referenced = referenced_keys(session=session)
        except Exception as error:
            if not db.unavailable(error):
                raise
            return
        for item in attachments:
            if item.file_ref not in referenced:
                self.store.remove(item.file_ref)

    def _keep(self, path: Path, kind: str) -> InAttachment:
        """Copy the file into the bot's file store (any messenger can then send it on).

        It is copied before the message is handled (a kept attachment never points at a
        missing file) and removed after, if nothing refers to it."""
        content = path.read_bytes()
        return InAttachment(
            kind="photo" if kind == "photo" else "document",
            file_ref=self.store.put(content, suffix_of(path.name)),
            file_name=path.name,
            size=len(content),
            channel=KEPT,
        )

    def _save(self, document: OutDocument) -> Path:
        """Save a file the bot sends under the files directory; return where it is."""
        folder = self.files_dir / "received"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / Path(document.file_name).name
        target.write_bytes(document.content)
        return target

    def _shown(self, shared: SharedFile) -> str:
        """Name a file sent on: where it is, when the bot keeps it."""
        if shared.channel == KEPT:
            with suppress(UnknownFile):
                return str(self.store.path(shared.file_ref))
        return shared.file_name or shared.file_ref

    def _render(self, response: Response) -> str:
        blocks = []
        for reply in response.replies:
            blocks.append(render_reply(reply, self.catalogs, response.language))
            blocks.extend(f"[{self._save(document)}]" for document in reply.documents)
            blocks.extend(f"[{f.kind}] {self._shown(f)}" for f in reply.files)
        return "\n\n".join(blocks)


def run(
    session: ConsoleSession,
    lines: Iterable[str],
    out: TextIO | None = None,
    first: Iterable[str] = (),
) -> None:
    """Feed lines to the bot and print every answer (on stdout as it is when called,
    unless `out`); `first` are sent (and shown) first."""
    interactive = out is None and sys.stdin.isatty()
    out = out or sys.stdout
    given = ((line, True) for line in first)
    typed = ((line, False) for line in lines)
    if interactive:
        out.write("> ")
        out.flush()
    for line, shown in itertools.chain(given, typed):
        if shown:  # not typed: say what was sent
            out.write(f"{line}\n" if interactive else f"> {line}\n")
        answer = session.send(line)
        if answer:
            out.write(answer + "\n\n")
        if interactive:
            out.write("> ")
        out.flush()


class ConsoleChannel:
    """The console as a `bot.channels.contract.Channel`: one person in this terminal.

    A line is handled in the transaction that records it, before its answer is printed;
    there is nothing to acknowledge. The console cannot reach a person unprompted, so
    their notices are shown after their next answer, and the outbox sender leaves them.
    """

    name = CHANNEL
    capabilities = Capabilities(buttons=False, edits=False, max_text=0, markup="plain", push=False)

    def __init__(self, session: ConsoleSession, lines: Iterable[str], out: TextIO) -> None:
        self.session = session
        self.lines = lines
        self.out = out
        self.limiter = FloodLimiter(Rates(0, 0, 0))  # a terminal has no flood limits
        self.after_update = lambda: None

    async def start(self) -> None:
        """Nothing to connect to."""

    async def serve(self, stop: asyncio.Event) -> None:
        """Answer lines until the input ends (or `stop`: the reading thread is left)."""
        loop = asyncio.get_running_loop()
        ended = loop.create_future()

        def read() -> None:
            try:
                run(self.session, self.lines, self.out)
            except BaseException as error:  # noqa: BLE001 - handed to the event loop
                loop.call_soon_threadsafe(_settle, ended, error)
            else:
                loop.call_soon_threadsafe(_settle, ended, None)

        # A daemon thread: a blocked read of the terminal must not keep the process up.
        threading.Thread(target=read, name="console", daemon=True).start()
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait((ended, stopped), return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if ended.done():
            ended.result()

    async def deliver(self, item: Due) -> Delivery:
        """Print a queued message (the runtime does not call it: see the class)."""
        self.out.write(self.session.render_notice(item) + "\n\n")
        self.out.flush()
        return Delivery("sent")

    async def post_status(
        self,
        chat_id: str,
        reply: Reply,
        language: str,
        message_id: str | None,
        *,
        final: bool = False,
        done: float = 0.0,
    ) -> str | None:
        """No live status messages in a terminal: the history shows a broadcast's end."""
        return None

    async def close(self) -> None:
        """Nothing to release."""


def _settle(future: "asyncio.Future[None]", error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
