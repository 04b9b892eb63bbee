"""CSV export of initiatives, one row each, readable by Excel (UTF-8 with BOM)."""

import csv
import io
from collections.abc import Iterator

from sqlmodel import Session

from storage import initiatives as store
from storage.models import Unit

COLUMNS = (
    "id",
    "title",
    "unit",
    "authors",
    "field",
    "estimated_benefit_vnd",
    "status",
    "submitted_at",
    "confidential",
)
BOM = "\ufeff"
# A cell starting with one of these is a formula to Excel; user text must never run.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ANONYMOUS = "anonymous"


def cell(text: str) -> str:
    """Return user text made safe for a spreadsheet cell."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_lines(*, session: Session, unit: Unit | None) -> Iterator[str]:
    """Yield the CSV text piece by piece: the BOM and header first, then a row each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield BOM + buffer.getvalue()
    for initiative, owner, authors in store.export_rows(
        session=session, unit_path=unit.path if unit else None
    ):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            (
                initiative.id,
                cell(initiative.title or ""),
                cell(owner.name),
                cell("; ".join(f"{a.name or ANONYMOUS}:{a.share_percent}" for a in authors)),
                initiative.field or "",
                ""
                if initiative.estimated_benefit_vnd is None
                else initiative.estimated_benefit_vnd,
                initiative.status,
                initiative.submitted_at.isoformat() if initiative.submitted_at else "",
                "yes" if initiative.confidential else "no",
            )
        )
        yield buffer.getvalue()
