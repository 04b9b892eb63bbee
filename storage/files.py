"""Kept files: the bytes of pictures and documents, on disk, named by their content.

A messenger's own file ids open only in that messenger, and Zalo's picture URLs do not
last, so a file that must cross over (a Zalo worker's photo opened by a reviewer on
Telegram, a digest chart sent to Zalo, which takes pictures by URL only) is kept here.
A file's key is the SHA-256 of its bytes and its suffix: the same bytes are kept once,
and a key names nothing outside the store (see `KEY`).
"""

import hashlib
import os
import re
import tempfile
from pathlib import Path

KEPT = "kept"
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
    """Files under `root`/kept, written atomically (a crash leaves no half file)."""

    def __init__(self, root: Path) -> None:
        self.folder = root / KEPT

    def put(self, data: bytes, suffix: str = "") -> str:
        """Keep `data` (once, however often it is put); return its key."""
        suffix = suffix.lower()
        key = hashlib.sha256(data).hexdigest() + suffix
        if not KEY.fullmatch(key):
            raise ValueError(f"a file suffix is a dot and 1-8 letters or digits: {suffix!r}")
        target = self.folder / key
        if not target.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".part-")
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
        """Return where a kept file is; UnknownFile for a bad key or a missing file."""
        if not KEY.fullmatch(key):
            raise UnknownFile(key)
        target = self.folder / key
        if not target.is_file():
            raise UnknownFile(key)
        return target

    def read(self, key: str) -> bytes:
        """Return a kept file's bytes."""
        return self.path(key).read_bytes()

    def remove(self, key: str) -> None:
        """Forget a kept file (nothing if it is not kept)."""
        if KEY.fullmatch(key):
            (self.folder / key).unlink(missing_ok=True)
