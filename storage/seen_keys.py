"""The keys one import has met, each with the row that had it first, kept on disk."""

import sqlite3
from collections.abc import Mapping, Sequence

# SQLite's own limit on the parameters of one statement, with room to spare.
CHUNK = 900
CACHE_KIB = 16 * 1024


class SeenKeys:
    """A set of keys in a private temporary SQLite file (removed on close), so that an
    import's memory does not grow with the number of rows it reads."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("")  # "": a temporary file of this connection's own
        # Throwaway data: no journal, no syncs; a bounded cache (memory stays flat).
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        self._db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID")

    def rows_of(self, keys: Sequence[str]) -> dict[str, int]:
        """Return the first row of each of these keys that was already seen."""
        found: dict[str, int] = {}
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, row FROM seen WHERE key IN ({marks})"
            found.update(self._db.execute(query, chunk).fetchall())
        return found

    def add(self, rows: Mapping[str, int]) -> None:
        """Remember each key with its row (a key already seen keeps its first row)."""
        self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", rows.items())

    def close(self) -> None:
        """Drop the keys and their file."""
        self._db.close()
