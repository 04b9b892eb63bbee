"""A row of a member list read into a person: the columns by their headers, every cell
checked, the unit found by its path of names below the organization."""

from dataclasses import dataclass, field

from sqlmodel import Session

from core.errors import Refused
from core.settings import LANGUAGES
from services import roles, units
from services.imports import cell, fold, unit_key
from services.phones import normalize_phone
from services.sheets import UNREADABLE
from storage.digests import units_under
from storage.models import Unit
from storage.units import unit_by_id

# The headers each column is recognised by (case, diacritics and punctuation aside).
NAMES: dict[str, tuple[str, ...]] = {
    "name": ("Họ và tên", "họ tên", "tên", "name", "full name", "nama", "nama lengkap"),
    "employee_id": (
        "Mã nhân viên",
        "mã nv",
        "msnv",
        "mã số",
        "mã số nhân viên",
        "employee id",
        "employee no",
        "id karyawan",
        "nomor karyawan",
        "nik",
    ),
    "phone": (
        "Số điện thoại",
        "điện thoại",
        "sđt",
        "đt",
        "phone",
        "mobile",
        "telepon",
        "nomor telepon",
        "no hp",
    ),
    "unit": ("Đơn vị", "bộ phận", "unit", "unit path", "unit kerja"),
    "language": ("Ngôn ngữ", "language", "bahasa"),
    "roles": ("Vai trò", "roles", "role", "peran"),
}
REQUIRED = (("name",), ("employee_id", "phone"))
LANGUAGE_WORDS = {
    "vi": ("vi", "tiếng việt", "việt", "việt nam", "vietnamese", "bahasa vietnam"),
    "en": ("en", "english", "tiếng anh", "anh", "inggris", "bahasa inggris"),
    "id": ("id", "indonesia", "tiếng indonesia", "indonesian", "bahasa indonesia"),
}
ROLE_WORDS = {
    "worker": ("worker", "công nhân", "người lao động", "đoàn viên", "pekerja"),
    "reviewer": ("reviewer", "hội đồng", "hội đồng sáng kiến", "thành viên hội đồng", "dewan"),
    "leader": ("leader", "lãnh đạo", "chủ tịch", "chủ tịch công đoàn", "pimpinan", "ketua"),
    "organizer": ("organizer", "tổ chức", "người tổ chức", "cán bộ công đoàn", "penyelenggara"),
    "admin": ("admin", "quản trị", "quản trị viên"),
}
_LANGUAGE = {fold(word): code for code, words in LANGUAGE_WORDS.items() for word in words}
_ROLE = {fold(word): code for code, words in ROLE_WORDS.items() for word in words}
ROLE_SEPARATORS = str.maketrans({";": ",", "/": ",", "+": ",", "\n": ","})
NAME_LIMIT = 100
EMPLOYEE_ID_LIMIT = 64
KNOWN_LIMIT = 100_000  # unit cells remembered, at most


@dataclass(frozen=True)
class Person:
    """A readable row: what it says, None where a cell was left empty."""

    row: int
    cells: tuple[str, ...]
    name: str
    employee_id: str | None
    phone: str | None
    unit_id: int | None
    language: str | None
    roles: str | None  # comma-separated, sorted, always with "worker"


@dataclass(frozen=True)
class Units:
    """The organization's subtree by path of names below it, and the names above it."""

    below: dict[tuple[str, ...], int]
    above: tuple[str, ...]  # the organization's own path of names, root first
    # What each cell text found: a list names few units many times over.
    known: dict[str, int | None] = field(default_factory=dict)

    def find(self, typed: str) -> int | None:
        """Return the unit a cell names ("Tỉnh / KCN / Công ty / Xưởng", or a path
        below the organization, or part of its own path and then below)."""
        if typed in self.known:
            return self.known[typed]
        found = self._find(typed)
        if len(self.known) < KNOWN_LIMIT:
            self.known[typed] = found
        return found

    def _find(self, typed: str) -> int | None:
        parts = tuple(unit_key(part) for part in typed.split("/") if part.strip())
        for k in range(min(len(self.above), len(parts)), 0, -1):
            if parts[:k] == self.above[-k:]:
                parts = parts[k:]
                break
        return self.below.get(parts)


def units_of(*, session: Session, organization: Unit) -> Units:
    """Read the organization's subtree and its ancestors' names."""
    names: dict[int, tuple[str, ...]] = {}
    below: dict[tuple[str, ...], int] = {}
    for unit in sorted(units_under(session=session, path=organization.path), key=units.path_ids):
        uid = unit.id or 0
        above = names.get(unit.parent_id or 0)
        if uid == organization.id:
            names[uid] = ()
        elif above is not None:
            names[uid] = (*above, unit_key(unit.name))
        else:
            continue
        below.setdefault(names[uid], uid)
    ancestors = [unit_by_id(session=session, unit_id=i) for i in units.path_ids(organization)]
    return Units(below, tuple(unit_key(a.name) for a in ancestors if a is not None))


def _roles(typed: str) -> str | None:
    if not typed:
        return None
    found = {"worker"}
    for word in typed.translate(ROLE_SEPARATORS).split(","):
        if not word.strip():
            continue
        role = _ROLE.get(fold(word))
        if role is None:
            raise Refused("import.role_unknown", role=word.strip(), roles=", ".join(roles.ROLES))
        found.add(role)
    return ",".join(sorted(found))


def read_person(number: int, cells: tuple[str, ...], where: dict[str, int], tree: Units) -> Person:
    """Check one row and return the person it describes, or refuse with the reason."""
    if any(UNREADABLE in value for value in cells):
        raise Refused("import.unreadable_characters")
    name = cell(cells, where, "name")
    if not name:
        raise Refused("import.name_missing")
    if len(name) > NAME_LIMIT:
        raise Refused("import.name_too_long", limit=NAME_LIMIT)
    employee_id = cell(cells, where, "employee_id").upper() or None
    if employee_id and len(employee_id) > EMPLOYEE_ID_LIMIT:
        raise Refused("import.employee_id_too_long", limit=EMPLOYEE_ID_LIMIT)
    typed_phone = cell(cells, where, "phone")
    phone = normalize_phone(typed_phone) if typed_phone else None
    if typed_phone and phone is None:
        raise Refused("import.phone_unreadable", phone=typed_phone)
    if not employee_id and not phone:
        raise Refused("import.key_missing")
    typed_language = cell(cells, where, "language")
    language = _LANGUAGE.get(fold(typed_language)) if typed_language else None
    if typed_language and language not in LANGUAGES:
        raise Refused("import.language_unknown", language=typed_language)
    typed_unit = cell(cells, where, "unit")
    unit_id = tree.find(typed_unit) if typed_unit else None
    if typed_unit and unit_id is None:
        raise Refused("import.unit_unknown", unit=typed_unit)
    return Person(
        number,
        cells,
        name,
        employee_id,
        phone,
        unit_id,
        language,
        _roles(cell(cells, where, "roles")),
    )
