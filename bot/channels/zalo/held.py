"""Polled updates the database could not take yet, kept in a file until it does.

Zalo forgets an update as it answers a poll. While the database is away the channel
holds what it polled and polls nothing more (`ZaloChannel.poll`); what it holds is also
written here at the first failed try, so that a stop or a crash during the outage loses
none of it: the next start stores it before it polls (redeliveries are recognised, so a
file left by a crash just after the commit changes nothing). The file is beside the kept
files (FILES_DIR), readable by the owner only: it holds what people wrote, as the
database does.
"""

import json
import logging
import os
import tempfile
import time
from pathlib import Path

from bot.channels.zalo.api import Update

logger = logging.getLogger(__name__)
FILE_NAME = "zalo-held-updates.json"
PART = ".held-"  # a file being written


class HeldUpdates:
    """The one file of polled updates waiting for the database (one batch is stored at
    a time, so one file is enough)."""

    def __init__(self, files_dir: Path) -> None:
        self.path = files_dir / FILE_NAME

    def write(self, updates: list[Update]) -> None:
        """Replace the file with `updates`, durably (written aside, synced, renamed)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=PART)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(updates, file, ensure_ascii=False)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def read(self) -> list[Update]:
        """Return the held updates (none when there is no file). A file that cannot be
        read as updates is moved aside (`….unreadable`) for a person to look at."""
        try:
            updates = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(updates, list) or not all(isinstance(u, dict) for u in updates):
                raise ValueError("not a list of updates")
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as error:
            aside = self.path.with_name(f"{self.path.stem}.{time.time_ns()}.unreadable")
            try:
                os.replace(self.path, aside)
            except OSError as failure:
                logger.error("held Zalo updates cannot be read or moved: %s", failure.strerror)
                return []
            logger.error(
                "held Zalo updates could not be read (%s); moved to %s",
                type(error).__name__,
                aside,
            )
            return []
        return updates

    def sweep(self) -> None:
        """Remove what a crash left half written (`.held-…`); only while nothing writes."""
        for stale in self.path.parent.glob(f"{PART}*"):
            stale.unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove the file: what it held is stored."""
        self.path.unlink(missing_ok=True)
