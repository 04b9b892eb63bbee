"""Rows of an officer's spreadsheet, streamed: XLSX, or CSV in the encodings Excel writes."""

import codecs
import csv
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any

from core.errors import Refused

XLSX = "xlsx"
# Excel's old binary format, and the zip container XLSX is.
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
ZIP_MAGIC = b"PK\x03\x04"
DELIMITERS = (",", ";", "\t")
CHUNK = 1 << 20
# A cell cp1258 could not decode (or a byte no encoding explains) reads as this.
UNREADABLE = "\ufffd"
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1258")


@dataclass
class Sheet:
    """A spreadsheet's header and its rows, numbered as Excel shows them (header: 1)."""

    header: tuple[str, ...]
    rows: Iterator[tuple[int, tuple[str, ...]]]
    encoding: str  # "xlsx", or the CSV's codec: utf-8, utf-8-sig, utf-16 or cp1258
    total: int | None  # about how many rows follow the header, for a progress bar


# Control characters (NUL among them, which PostgreSQL cannot store) part words as spaces do.
_CONTROLS = dict.fromkeys([*range(32), *range(127, 160)], " ")


def _printable(text: str) -> str:
    """Return text without control characters (looked for only where there are some)."""
    return text if text.isprintable() else text.translate(_CONTROLS)


def cell_text(value: Any) -> str:
    """Return a cell as trimmed NFC text without control characters (Excel's 912345678.0
    as 912345678)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime | date):
        value = value.strftime("%d/%m/%Y")
    return " ".join(unicodedata.normalize("NFC", _printable(str(value))).split())


def sniff_encoding(path: Path) -> tuple[str, int]:
    """Return a CSV's encoding and its number of line breaks, reading it once.

    A byte-order mark decides; else UTF-8 if every byte is valid UTF-8; else
    Windows-1258, the Vietnamese code page older Excel saves CSV in.
    """
    lines = 0
    decoder = codecs.getincrementaldecoder("utf-8")()
    valid = True
    with path.open("rb") as handle:
        head = handle.read(4)
        handle.seek(0)
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            lines += chunk.count(b"\n")
            if valid:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    valid = False
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", lines
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", lines  # Excel's "Unicode text": tab-separated
    if valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            valid = False
    return ("utf-8" if valid else "cp1258"), lines


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: counts[d])


def _csv_rows(
    handle: IO[str], path: Path
) -> tuple[tuple[str, ...], Iterator[tuple[int, tuple[str, ...]]]]:
    first = handle.readline()
    header = next(csv.reader([first], delimiter=_delimiter(first)), [])
    reader = csv.reader(handle, delimiter=_delimiter(first), strict=True)

    def rows() -> Iterator[tuple[int, tuple[str, ...]]]:
        nfc = partial(unicodedata.normalize, "NFC")  # inlined: this runs for every cell
        try:
            for number, cells in enumerate(reader, start=2):
                yield number, tuple(" ".join(nfc(_printable(c)).split()) for c in cells)
        except csv.Error as error:  # a quote never closed would swallow the rest of the file
            where = f"line {reader.line_num}: {error}"
            raise Refused("import.file_unreadable", path=str(path), error=where) from error

    return tuple(cell_text(cell) for cell in header), rows()


def _xlsx_rows(sheet: Any) -> Iterator[tuple[int, tuple[str, ...]]]:
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield number, tuple(cell_text(value) for value in values)


@contextmanager
def _open_xlsx(path: Path) -> Iterator[Sheet]:
    from openpyxl import load_workbook  # only an XLSX import pays for loading it

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise Refused("import.file_unreadable", path=str(path), error=str(error)) from error
    try:
        sheet = book.worksheets[0]
        rows = _xlsx_rows(sheet)
        _, header = next(rows, (1, ()))
        yield Sheet(header, rows, XLSX, max((sheet.max_row or 1) - 1, 0) or None)
    finally:
        book.close()


@contextmanager
def open_sheet(path: Path, encoding: str | None = None) -> Iterator[Sheet]:
    """Open an XLSX or CSV file as a sheet of text rows; refuse what is neither."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        raise Refused("import.file_unreadable", path=str(path), error=error.strerror) from error
    if magic == OLE_MAGIC:
        raise Refused("import.old_excel", path=str(path))
    if magic == ZIP_MAGIC:
        with _open_xlsx(path) as sheet:
            yield sheet
        return
    if encoding is not None and encoding not in ENCODINGS:
        raise Refused("import.encoding_unknown", encoding=encoding, known=", ".join(ENCODINGS))
    found, lines = sniff_encoding(path)
    encoding = encoding or found
    with path.open(encoding=encoding, errors="replace", newline="") as text:
        header, body = _csv_rows(text, path)
        yield Sheet(header, body, encoding, max(lines - 1, 0))
