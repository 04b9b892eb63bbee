"""Importing a unit tree from a spreadsheet: one path of names a row, created as needed."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from core.errors import Refused
from services import units
from services.imports import (
    OnError,
    OnProgress,
    Outcome,
    RowError,
    Summary,
    batches,
    cell,
    columns,
    fold,
    unit_key,
)
from services.sheets import UNREADABLE, Sheet
from storage.db import reading, transaction
from storage.models import Unit
from storage.units import all_units

NAMES: dict[str, tuple[str, ...]] = {
    "path": ("Đơn vị", "đường dẫn", "unit", "unit path", "path", "unit kerja"),
    "kind": ("Loại", "loại đơn vị", "kind", "type", "jenis"),
}
# A kind the file does not give is guessed from how the name starts, else from the depth
# ("Tỉnh / KCN / Công ty / Xưởng", then teams).
NAME_KINDS = (
    ("lien doan lao dong", "federation"),
    ("cong doan nganh", "sector_union"),
    ("cong doan cac khu cong nghiep", "zone_union"),
    ("kcn", "zone_union"),
    ("khu cong nghiep", "zone_union"),
    ("ban quan ly", "management_board"),
    ("cum thi dua", "cluster"),
    ("khoi thi dua", "cluster"),
    ("cong ty", "enterprise"),
    ("cong doan co so", "enterprise"),
    ("xuong", "workshop"),
    ("phan xuong", "workshop"),
    ("to ", "team"),
)
DEPTH_KINDS = ("federation", "zone_union", "enterprise", "workshop")
KIND_WORDS = {fold(kind): kind for kind in units.KINDS} | {
    "tinh": "federation",
    "lien doan": "federation",
    "kcn": "zone_union",
    "cong ty": "enterprise",
    "doanh nghiep": "enterprise",
    "xuong": "workshop",
    "to": "team",
    "cum": "cluster",
}
NAME_LIMIT = 200


def guess_kind(name: str, depth: int) -> str:
    """Return the kind a unit's name suggests, else the usual kind at its depth."""
    folded = fold(name) + " "
    for start, kind in NAME_KINDS:
        if folded.startswith(start):
            return kind
    return DEPTH_KINDS[depth] if depth < len(DEPTH_KINDS) else "team"


@dataclass(frozen=True)
class Path:
    """A readable row: the names from the root down, and the kind of the last one."""

    names: tuple[str, ...]
    kind: str | None


def read_path(cells: tuple[str, ...], where: dict[str, int]) -> Path:
    """Check one row and return the path it names, or refuse with the reason."""
    if any(UNREADABLE in value for value in cells):
        raise Refused("import.unreadable_characters")
    names = tuple(" ".join(part.split()) for part in cell(cells, where, "path").split("/"))
    if not any(names):
        raise Refused("import.unit_path_missing")
    if not all(names):
        raise Refused("import.unit_path_gap")
    if any(len(name) > NAME_LIMIT for name in names):
        raise Refused("import.name_too_long", limit=NAME_LIMIT)
    typed = cell(cells, where, "kind")
    kind = KIND_WORDS.get(fold(typed)) if typed else None
    if typed and kind is None:
        raise Refused("import.kind_unknown", kind=typed, kinds=", ".join(units.KINDS))
    return Path(names, kind)


Known = dict[tuple[int | None, str], Unit]


def _walk(
    *, session: Session | None, known: Known, path: Path, now: datetime
) -> tuple[Outcome, list[str]]:
    """Find or create each unit of the path (only find them without a session)."""
    parent: Unit | None = None
    created: list[str] = []
    missing = False
    for depth, name in enumerate(path.names):
        last = depth == len(path.names) - 1
        kind = (path.kind if last else None) or guess_kind(name, depth)
        key = (parent.id if parent else None, unit_key(name))
        found = None if missing else known.get(key)
        if found is not None:
            if last and path.kind and found.kind != path.kind:
                raise Refused("import.kind_differs", unit=found.name, kind=found.kind)
            parent = found
            continue
        missing = True
        created.append(kind)
        if session is not None:
            parent = units.add_unit(session=session, name=name, kind=kind, parent=parent, now=now)
            known[(parent.parent_id, unit_key(name))] = parent
    return (Outcome.CREATED if created else Outcome.UNCHANGED), created


def import_units(
    *,
    engine: Engine,
    sheet: Sheet,
    now: datetime,
    dry_run: bool,
    on_error: OnError,
    on_progress: OnProgress | None = None,
) -> Summary:
    """Create the units a file names that do not exist yet, a batch per transaction."""
    where = columns(sheet.header, NAMES, (("path",),))
    with reading(engine) as session:
        known: Known = {(u.parent_id, unit_key(u.name)): u for u in all_units(session=session)}
    would_create: set[tuple[str, ...]] = set()  # a dry run's units, by folded path
    summary = Summary(sheet.encoding)
    for batch in batches(sheet.rows):
        paths: list[tuple[int, tuple[str, ...], Path]] = []
        for number, cells in batch:
            try:
                paths.append((number, cells, read_path(cells, where)))
            except Refused as refusal:
                on_error(RowError(number, refusal.text, cells))
                summary.add(Outcome.ERROR)
        if dry_run:
            for number, cells, path in paths:
                try:
                    outcome, _ = _walk(session=None, known=known, path=path, now=now)
                except Refused as refusal:
                    on_error(RowError(number, refusal.text, cells))
                    outcome = Outcome.ERROR
                folded = tuple(unit_key(name) for name in path.names)
                if outcome is Outcome.CREATED and folded in would_create:
                    outcome = Outcome.UNCHANGED
                would_create.update(folded[:k] for k in range(1, len(folded) + 1))
                summary.add(outcome)
        else:
            _write(engine, paths, known, now, on_error, summary)
        if on_progress is not None:
            on_progress(len(batch))
    return summary


def _write(
    engine: Engine,
    paths: Sequence[tuple[int, tuple[str, ...], Path]],
    known: Known,
    now: datetime,
    on_error: OnError,
    summary: Summary,
) -> None:
    """Create a batch's missing units in one transaction."""
    outcomes: list[Outcome] = []
    with transaction(engine) as session:
        # Check every row first, so that a refused row creates nothing of its path.
        checked = []
        for number, cells, path in paths:
            try:
                _walk(session=None, known=known, path=path, now=now)
            except Refused as refusal:
                on_error(RowError(number, refusal.text, cells))
                outcomes.append(Outcome.ERROR)
                continue
            checked.append(path)
        for path in checked:
            outcomes.append(_walk(session=session, known=known, path=path, now=now)[0])
    for outcome in outcomes:
        summary.add(outcome)
