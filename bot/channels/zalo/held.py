"""Polled updates written down as they arrive, until the database has them.

Zalo forgets an update as it answers a poll. So each answer is written to this file
before anything else is done with it, and the poller polls again at once: the update is
safe from a crash of the process from then on, while the inbox's transaction stores it
(and the transactions after it, if the database is away). On SQLite the channel writes
here only while the database is away (`ZaloChannel.poll`). The next start stores what
the file holds before it polls (redeliveries are recognised, so a file that still lists
updates stored before a crash changes nothing).

One JSON value per line (an update, or, as an earlier version wrote, a list of
updates), up to the first NUL byte. The file is made of zeros first (`SIZE`) and written
over: an update goes where the last one ended, with a NUL after it, and once everything
written is stored a NUL at the start empties it. So writing never changes the file's
size, and neither a sync nor emptying touches the file system's own journal (an append
and a truncate at each update cost SQLite's commits more than the whole rest). Should it
fill up while updates keep waiting (a long outage, or no quiet moment), it grows, and
is rewritten with only what waits at the next commit.

An update is written on the event loop (to the system's cache, microseconds: from then
on a crash of the process cannot lose it) and synced to the disk by a thread of its own
`SYNC_AFTER` later, unless the file was emptied by then (a commit, durable, came first:
most of the time, and a sync at each update slowed the database's own), which the
poller does not wait for: a power cut can also cost what was written in the 50 ms
before it and not yet committed. Should a write or a sync fail, `append` says so,
and the poller waits for each commit instead. The file is beside the kept files
(FILES_DIR), readable by the owner only: it holds what people wrote, as the database
does.
"""

import errno
import json
import logging
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot.channels.zalo.api import Update

logger = logging.getLogger(__name__)
FILE_NAME = "zalo-held-updates.json"
PART = ".held-"  # a file being written
SIZE = 1 << 20  # bytes of zeros the file starts with
END = b"\0"
SYNC_AFTER = 0.05  # seconds: what is stored by then needs no sync of its own


class HeldUpdates:
    """The one file of polled updates the database may not have yet."""

    def __init__(self, files_dir: Path, size: int = SIZE) -> None:
        self.path = files_dir / FILE_NAME
        self.initial = size
        self.descriptor: int | None = None
        self.offset = 0  # where the next update goes
        self.size = 0
        self.failing = False  # a write or a sync failed: the file may miss updates
        self.closed = False
        self.syncer = ThreadPoolExecutor(1, thread_name_prefix="zalo-held")
        self.syncing = False  # a sync is queued that has not started yet

    def start(self) -> None:
        """Make the file anew, empty: what it held is stored (`read`)."""
        try:
            self._replace([])
        except OSError as error:
            self._failed("cannot write polled Zalo updates down", error)

    def append(self, updates: list[Update]) -> bool:
        """Write `updates` down: at once (safe from a crash of the process from then on),
        synced to the disk by the syncer thread. False: the file is failing, so the
        caller should wait for the updates' commit."""
        if self.closed:
            return False
        lines = _lines(updates)
        try:
            if self.descriptor is None:
                self._replace([])  # `start` failed: try again
            assert self.descriptor is not None
            if self.offset + len(lines) + len(END) > self.size:
                grown = max(self.initial, len(lines) + len(END))
                _write(self.descriptor, bytes(grown), self.size)
                self.size += grown
            _write(self.descriptor, lines + END, self.offset)
        except OSError as error:
            self._failed("could not write a polled Zalo update down", error)
            return False
        self.offset += len(lines)
        self._sync_soon()
        return not self.failing

    def stored(self, waiting: list[Update]) -> None:
        """Everything written down is stored but `waiting`: empty the file, or rewrite it
        with `waiting` once it filled up."""
        if self.descriptor is None or self.closed:
            return
        try:
            if not waiting:
                if self.offset:
                    _write(self.descriptor, END, 0)
                    self.offset = 0
                    self._sync_soon()
            elif self.offset >= self.initial:
                self._replace(waiting)
        except OSError as error:  # the file may not take the next updates either
            self._failed("could not empty the held Zalo updates", error)

    def close(self) -> None:
        """Finish the syncs queued, then close the file."""
        self.closed = True
        self.syncer.shutdown(wait=True)
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None

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
        lines = content.split(END, 1)[0].split(b"\n")
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
            self.set_aside(f"had {bad} lines that were not updates")
        return updates

    def sweep(self) -> None:
        """Remove what a crash left half written (`.held-…`); only while nothing writes."""
        for stale in self.path.parent.glob(f"{PART}*"):
            stale.unlink(missing_ok=True)

    def _sync_soon(self) -> None:
        if not self.syncing:  # a sync that has not started covers this write too
            self.syncing = True
            self.syncer.submit(self._sync)

    def _sync(self) -> None:
        """On the syncer thread, `SYNC_AFTER` later: make what was written durable,
        unless it was all stored meanwhile (the database has it: the file is empty).
        The file is the one written now: one made anew meanwhile replaced the other
        (whose descriptor is closed only after this, in the thread's order)."""
        time.sleep(SYNC_AFTER)
        self.syncing = False  # what is written from now on needs a sync of its own
        descriptor = self.descriptor
        if not self.offset or descriptor is None:
            return
        try:
            os.fdatasync(descriptor)
        except OSError as error:
            self._failed("could not sync the polled Zalo updates", error)
            return
        if self.failing:
            logger.info("polled Zalo updates are written down again")
        self.failing = False

    def _replace(self, updates: list[Update]) -> None:
        """Make the file anew with `updates` and zeros after them, durably (written
        aside, synced, renamed), and write on in it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = _lines(updates)
        size = max(self.initial, len(lines) + len(END))
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=PART)
        try:
            _write(handle, lines + bytes(size - len(lines)), 0)
            os.fsync(handle)
            os.replace(temporary, self.path)
        except BaseException:
            os.close(handle)
            Path(temporary).unlink(missing_ok=True)
            raise
        if self.descriptor is not None:  # closed after the syncs queued on it
            self.syncer.submit(os.close, self.descriptor)
        self.descriptor = handle
        self.offset, self.size = len(lines), size
        _sync_directory(self.path.parent)  # the rename, for a power cut

    def _failed(self, what: str, error: OSError) -> None:
        if not self.failing:
            logger.error("%s (%s): each poll now waits for its commit", what, error.strerror)
        self.failing = True

    def set_aside(self, why: str) -> None:
        """Move the file aside (`….unreadable`) for a person to look at, saying `why`;
        only while nothing writes."""
        aside = self.path.with_name(f"{self.path.stem}.{time.time_ns()}.unreadable")
        try:
            os.replace(self.path, aside)
        except OSError as failure:
            logger.error("held Zalo updates cannot be moved aside: %s", failure.strerror)
            return
        logger.error("held Zalo updates %s; the file is now %s", why, aside)


def _lines(updates: list[Update]) -> bytes:
    """One line an update, in ASCII: JSON escapes what a person wrote, a lone surrogate
    too (which UTF-8 cannot encode)."""
    return "".join(json.dumps(update) + "\n" for update in updates).encode("ascii")


def _write(descriptor: int, data: bytes, offset: int) -> None:
    """Write all of `data` at `offset`: a short write (a full disk) is a failure."""
    if os.pwrite(descriptor, data, offset) != len(data):
        raise OSError(errno.ENOSPC, "short write")


def _sync_directory(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
