"""The console channel: one message per line from stdin, replies on stdout.

It doubles as the in-memory test backend: `ConsoleSession.send` returns what a
person in a terminal would read.
"""

import hashlib
import shutil
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.channels.text import render_reply
from bot.dispatch.dispatcher import Dispatcher
from core.codec import reply_from_json
from core.messages import InAttachment, Incoming, Reply, Response, t
from locales import Catalogs
from storage import outbox
from storage.db import transaction

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
        self.user_id = user_id
        self.name = name
        self.language = dispatcher.settings.default_language

    def send(self, line: str) -> str:
        """Send one line as the user and return the bot's answer as printed text."""
        incoming = self._incoming(line.rstrip("\r\n"))
        if isinstance(incoming, Reply):
            return self._render(Response(self.language, (incoming,)))
        response = self.dispatcher.handle(incoming)
        if response is None:
            return ""
        self.language = response.language
        return "\n\n".join([self._render(response), *self._notices()])

    def _notices(self) -> list[str]:
        """Deliver the notices queued for this person: they are shown after the answer."""
        shown = []
        with transaction(self.dispatcher.engine) as session:
            now = self.dispatcher.clock()
            while due := outbox.due(
                session=session, now=now, limit=1, chat=(CHANNEL, self.user_id)
            ):
                item = due[0]
                reply = reply_from_json(item.content)
                shown.append(render_reply(reply, self.catalogs, item.language))
                outcome = outbox.Outcome(item.id, "sent", now, outbox.SENT)
                outbox.record(session=session, outcomes=[outcome])
                session.flush()
        return shown

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

    def _keep(self, path: Path, kind: str) -> InAttachment:
        """Copy the file into the bot's file store; its content hash becomes the file id."""
        content = path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        self.files_dir.mkdir(parents=True, exist_ok=True)
        target = self.files_dir / f"{digest}{path.suffix.lower()}"
        if not target.exists():
            shutil.copyfile(path, target)
        return InAttachment(
            kind="photo" if kind == "photo" else "document",
            file_ref=target.name,
            file_name=path.name,
            size=len(content),
        )

    def _render(self, response: Response) -> str:
        blocks = []
        for reply in response.replies:
            blocks.append(render_reply(reply, self.catalogs, response.language))
            for document in reply.documents:
                body = document.content.decode("utf-8", errors="replace")
                blocks.append(f"--- {document.file_name} ---\n{body}\n--- end ---")
            blocks.extend(f"[{f.kind}] {f.file_name or f.file_ref}" for f in reply.files)
        return "\n\n".join(blocks)


def run(session: ConsoleSession, lines: Iterable[str], out: TextIO = sys.stdout) -> None:
    """Feed lines to the bot and print every answer."""
    interactive = sys.stdin.isatty() and out is sys.stdout
    if interactive:
        out.write("> ")
        out.flush()
    for line in lines:
        answer = session.send(line)
        if answer:
            out.write(answer + "\n\n")
        if interactive:
            out.write("> ")
        out.flush()
