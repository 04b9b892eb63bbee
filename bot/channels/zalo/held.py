"""Polled updates written down as they arrive, until the database has them.

Zalo forgets an update as it answers a poll. So each answer is written to this file
before anything else is done with it, and the poller polls again at once: the update is
safe from a crash of the process from then on, while the inbox's transaction stores it
(and the transactions after it, if the database is away). The next start stores what
the file holds before it polls (redeliveries are recognised, so a file that still lists
updates stored before a crash changes nothing). Once everything the file lists is
stored, the file is emptied; should it grow past `COMPACT_AT` meanwhile (a long outage,
or no quiet moment), it is rewritten with only what still waits.

One JSON value per line: an update, or (as an earlier version wrote) a list of updates.
Writes go through one thread of their own, in order, each synced to the disk, so that
the event loop never waits for the disk; the poller does not wait for them either
(`failing` tells it when it should: then it waits for the commit instead). The file is
beside the kept files (FILES_DIR), readable by the owner only: it holds what people
wrote, as the database does.
"""

import json
import logging
import os
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot.channels.zalo.api import Update

logger = logging.getLogger(__name__)
FILE_NAME = "zalo-held-updates.json"
PART = ".held-"  # a file being written
COMPACT_AT = 1 << 20  # bytes


class HeldUpdates:
    """The one file of polled updates the database may not have yet."""

    def __init__(self, files_dir: Path) -> None:
        self.path = files_dir / FILE_NAME
        self.descriptor: int | None = None
        self.size = 0
        self.failing = False  # the last write failed: the file may miss updates
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="zalo-held")

    # Called on the event loop: each queues work for the writer thread, in order.

    def append(self, updates: list[Update]) -> Future[None]:
        """Write `updates` down (appended, synced)."""
        lines = "".join(json.dumps(u, ensure_ascii=False) + "\n" for u in updates)
        return self.writer.submit(self._append, lines.encode("utf-8"))

    def stored(self, waiting: list[Update]) -> Future[None]:
        """Everything written down is stored but `waiting`: empty the file, or rewrite it
        with `waiting` once it grew too large."""
        return self.writer.submit(self._stored, list(waiting))

    def close(self) -> None:
        """Finish the writes queued, then close the file."""
        self.writer.shutdown(wait=True)
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None

    # Called before polling starts, or on the writer thread.

    def read(self) -> list[Update]:
        """Return the updates the file holds (none when there is none).

        A last line cut short is what a crash interrupted: it is left out. A file with
        any other line that is not an update is moved aside (`….unreadable`) for a person
        to look at, and the updates it could read are returned.
        """
        try:
            content = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as error:
            logger.error("held Zalo updates cannot be read: %s", error.strerror)
            return []
        lines = content.split(b"\n")
        updates: list[Update] = []
        bad = 0
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                value: Any = json.loads(line.decode("utf-8"))
            except ValueError:
                if number == len(lines) - 1:
                    logger.warning("the last held Zalo update was cut short by a crash")
                    continue
                value = None
            found = value if isinstance(value, list) else [value]
            if all(isinstance(update, dict) for update in found):
                updates.extend(found)
            else:
                bad += 1
        if bad:
            self._move_aside(bad)
        return updates

    def sweep(self) -> None:
        """Remove what a crash left half written (`.held-…`); only while nothing writes."""
        for stale in self.path.parent.glob(f"{PART}*"):
            stale.unlink(missing_ok=True)

    def _append(self, lines: bytes) -> None:
        try:
            if self.descriptor is None:
                self._open()
            assert self.descriptor is not None
            os.write(self.descriptor, lines)
            os.fdatasync(self.descriptor)
        except OSError as error:
            self._failed("could not write a polled Zalo update down", error)
            raise
        self.size += len(lines)
        self._recovered()

    def _stored(self, waiting: list[Update]) -> None:
        try:
            if not waiting:
                if self.size or self.descriptor is None:
                    if self.descriptor is None:
                        self._open()
                    assert self.descriptor is not None
                    os.ftruncate(self.descriptor, 0)
                    self.size = 0
            elif self.size >= COMPACT_AT:
                self._rewrite(waiting)
        except OSError as error:  # the file may not take the next updates either
            self._failed("could not empty the held Zalo updates", error)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        self.descriptor = os.open(self.path, flags, 0o600)
        self.size = os.fstat(self.descriptor).st_size

    def _rewrite(self, updates: list[Update]) -> None:
        """Replace the file with `updates`, durably (written aside, synced, renamed)."""
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=PART)
        try:
            lines = "".join(json.dumps(u, ensure_ascii=False) + "\n" for u in updates)
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(lines)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        if self.descriptor is not None:
            os.close(self.descriptor)
        self._open()

    def _failed(self, what: str, error: OSError) -> None:
        if not self.failing:
            logger.error("%s (%s): each poll now waits for its commit", what, error.strerror)
        self.failing = True

    def _recovered(self) -> None:
        if self.failing:
            logger.info("polled Zalo updates are written down again")
        self.failing = False

    def _move_aside(self, bad: int) -> None:
        aside = self.path.with_name(f"{self.path.stem}.{time.time_ns()}.unreadable")
        try:
            os.replace(self.path, aside)
        except OSError as failure:
            logger.error("held Zalo updates cannot be moved aside: %s", failure.strerror)
            return
        logger.error("%s held Zalo lines were not updates; the file is now %s", bad, aside)
