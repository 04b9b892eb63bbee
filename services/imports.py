"""What every spreadsheet import shares: its columns, its rows' outcomes and its batches."""

import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice

from core import folding
from core.errors import Refused
from core.messages import Text

# Rows written in one transaction: a batch commits whole or not at all.
BATCH = 1000


class Outcome(StrEnum):
    """What an import did with one row."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass(frozen=True)
class RowError:
    """A row that was not imported: its number as Excel shows it, why, and its cells."""

    row: int
    reason: Text
    cells: tuple[str, ...]


@dataclass
class Summary:
    """How many rows of a file ended how."""

    encoding: str
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))

    @property
    def rows(self) -> int:
        """Return how many data rows were read."""
        return sum(self.counts.values())

    def add(self, outcome: Outcome, n: int = 1) -> None:
        """Count `n` rows that ended in `outcome`."""
        self.counts[outcome] += n


Rows = Iterator[tuple[int, tuple[str, ...]]]
OnError = Callable[[RowError], None]
OnProgress = Callable[[int], None]


def fold(text: str) -> str:
    """Fold a header or a word for matching: `core.folding.fold` (no case, no
    diacritics, đ is d), and no punctuation."""
    kept = (c if c.isalnum() else " " for c in folding.fold(text))
    return " ".join("".join(kept).split())


def unit_key(name: str) -> str:
    """Return a unit name as the import compares it (case and spacing aside)."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def columns(
    header: Sequence[str], names: Mapping[str, Sequence[str]], required: Sequence[Sequence[str]]
) -> dict[str, int]:
    """Return each known column's position, by the header's words in vi, en or id.

    `names` gives the accepted headers of each column; `required` lists groups of
    columns of which at least one must be present (e.g. phone or employee id).
    """
    accepted = {fold(word): column for column, words in names.items() for word in words}
    found: dict[str, int] = {}
    for position, title in enumerate(header):
        column = accepted.get(fold(title))
        if column is not None and column not in found:
            found[column] = position
    for group in required:
        if not any(column in found for column in group):
            wanted = " | ".join(names[column][0] for column in group)
            raise Refused("import.columns_missing", columns=wanted)
    return found


def cell(cells: tuple[str, ...], where: dict[str, int], column: str) -> str:
    """Return a row's cell of a column ('' when the column or the cell is absent)."""
    position = where.get(column)
    return cells[position] if position is not None and position < len(cells) else ""


def batches(rows: Rows, size: int = BATCH) -> Iterator[list[tuple[int, tuple[str, ...]]]]:
    """Yield the non-empty rows in lists of `size`."""
    filled = ((number, cells) for number, cells in rows if any(cells))
    while batch := list(islice(filled, size)):
        yield batch
