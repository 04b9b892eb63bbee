"""Kept files: the bytes of pictures and documents, on disk, named by their content.

A messenger's own file ids open only in that messenger, and Zalo's picture URLs do not
last, so a file that must cross over (a Zalo worker's photo opened by a reviewer on
Telegram, a digest chart sent to Zalo, which takes pictures by URL only) is kept here.
A file's key is the SHA-256 of its bytes and its suffix: the same bytes are kept once,
and a key names nothing outside the store (see `KEY`).

A file's modification time is when it was last put (or touched): the retention sweep
(`sweep`) removes only files that nothing refers to and that were not put for a while,
so a file put just now, whose reference is not committed yet, stays.

A file only handed out by URL (a document Zalo cannot take as a file, such as a person's
/mydata or a workbook, sent as a link instead) is put `handed`: it lives beside the kept
ones, is served alike, and goes once its URL no longer works (`expire_handed`), instead
of staying for the sweep's days: what it holds is often personal.
"""

import contextlib
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Container, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

KEPT = "kept"
HANDED = "handed"  # the folder of files handed out by URL only
PART = ".part-"  # the prefix of a file being written
KEY = re.compile(r"[0-9a-f]{64}(\.[a-z0-9]{1,8})?")
# A picture's format by its first bytes: a messenger's file id says nothing of it, and a
# file served by URL needs a suffix for its Content-Type.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
)


def suffix_of(name: str) -> str:
    """Return a file name's suffix as a key takes it (lowercase), or "" if it cannot."""
    suffix = Path(name).suffix.lower()
    return suffix if KEY.fullmatch("0" * 64 + suffix) else ""


def picture_suffix(data: bytes) -> str:
    """Return the suffix of a picture's format read from its first bytes ("" if unknown)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return next((suffix for magic, suffix in SIGNATURES if data.startswith(magic)), "")


class UnknownFile(LookupError):
    """A key that is malformed or names no kept file."""


class FileStore:
    """Files under `root`/kept (and `root`/handed), written atomically (a crash leaves no
    half file)."""

    def __init__(self, root: Path) -> None:
        self.folder = root / KEPT
        self.handed = root / HANDED

    def put(self, data: bytes, suffix: str = "", *, handed: bool = False) -> str:
        """Keep `data` (once, however often it is put); return its key. A `handed` file is
        one only handed out by URL: it goes when its URL stops working (`expire_handed`)."""
        suffix = suffix.lower()
        key = hashlib.sha256(data).hexdigest() + suffix
        if not KEY.fullmatch(key):
            raise ValueError(f"a file suffix is a dot and 1-8 letters or digits: {suffix!r}")
        folder = self.handed if handed else self.folder
        target = folder / key
        if not _touch(target):
            folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=PART)
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return key

    def path(self, key: str) -> Path:
        """Return where a kept (or handed) file is; UnknownFile for a bad key or a missing
        file."""
        if not KEY.fullmatch(key):
            raise UnknownFile(key)
        for folder in (self.folder, self.handed):
            if (target := folder / key).is_file():
                return target
        raise UnknownFile(key)

    def read(self, key: str) -> bytes:
        """Return a kept file's bytes."""
        return self.path(key).read_bytes()

    def touch(self, key: str) -> bool:
        """Make a kept file young again (the sweep leaves it for a while); False if it is
        not kept. Call it before handing out a URL of a file nothing in the database names."""
        return bool(KEY.fullmatch(key)) and _touch(self.folder / key)

    def remove(self, key: str) -> None:
        """Forget a kept file (nothing if it is not kept)."""
        if KEY.fullmatch(key):
            (self.folder / key).unlink(missing_ok=True)

    def idle_since(self, before: datetime) -> Iterator[str]:
        """Yield the keys of the kept files not put (or touched) since `before`.

        Only names that are keys count: a file being written (`.part-…`) and anything
        else in the folder are never yielded.
        """
        return (name for name in _older(self.folder, before) if KEY.fullmatch(name))

    def sweep(self, referenced: Container[str], before: datetime) -> int:
        """Remove the kept files not put since `before` that `referenced` does not name,
        and what writes a crash interrupted before then left (`.part-…`); return how many
        went. One that cannot be removed is logged and left for next time."""
        return _remove_older(self.folder, before, referenced)

    def expire_handed(self, before: datetime) -> int:
        """Remove the handed files not put since `before` (their URLs no longer work),
        whatever refers to them; return how many went."""
        return _remove_older(self.handed, before, ())


def _touch(target: Path) -> bool:
    try:
        os.utime(target)
    except FileNotFoundError:
        return False
    except OSError:  # kept, but its time cannot change (a read-only disk)
        return target.is_file()
    return True


def _remove_older(folder: Path, before: datetime, referenced: Container[str]) -> int:
    removed = 0
    for name in _older(folder, before):
        idle = KEY.fullmatch(name) and name not in referenced
        if not (idle or name.startswith(PART)):
            continue
        try:
            (folder / name).unlink(missing_ok=True)
        except OSError as error:
            logger.warning("could not remove kept file %s: %s", name, error.strerror)
        else:
            removed += 1
    return removed


def _older(folder: Path, before: datetime) -> Iterator[str]:
    """Yield the names of the plain files in `folder` last changed before `before`."""
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    limit = before.timestamp()
    for entry in entries:
        with contextlib.suppress(FileNotFoundError):  # removed meanwhile
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < limit:
                yield entry.name


def keys_in(value: Any) -> set[str]:
    """Return the kept files' keys named anywhere in a JSON value (a reply, a state)."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if KEY.fullmatch(item):
                found.add(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found
