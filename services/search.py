"""Finding initiatives by their words: /search over what the organization recognized.

The organization is the member's enterprise (the nearest enterprise on the path up from
their unit; a member above every enterprise, their own unit). Anyone finds what it
recognized (approved, or recommended up) and their own initiatives, best matches first.
A confidential initiative is found by its title only, and only by its own unit's
members and its authors; the others never learn it exists.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from core.errors import Refused
from core.folding import syllables
from core.similar import Profile, joined, profile, score
from core.status import Status
from storage import initiatives as store
from storage import search as index
from storage.models import Initiative, Member, Unit
from storage.units import unit_by_id, units_by_ids

RECOGNIZED = (Status.APPROVED, Status.RECOMMENDED)
CANDIDATES = 200  # the newest matches ranked; a query that matches more is too vague
SHOWN = 10
MAX_QUERY = 200  # characters


@dataclass(frozen=True)
class Found:
    """An initiative a search found, with its unit and whether only its title may show."""

    initiative: Initiative
    unit: Unit
    title_only: bool


def organization_of(*, session: Session, unit: Unit) -> Unit:
    """Return the nearest enterprise on the path up from `unit`, else `unit` itself."""
    path = [int(part) for part in unit.path.strip("/").split("/") if part]
    above = units_by_ids(session=session, unit_ids=path)
    enterprises = [u for u in above if u.kind == "enterprise"]
    return max(enterprises, key=lambda u: len(u.path), default=unit)


def query_words(query: str) -> list[str]:
    """Return the folded syllables of a query, or refuse one with nothing to look for."""
    words = syllables(query[:MAX_QUERY])
    if not words:
        raise Refused("search.no_words")
    return words


def find(*, session: Session, member: Member, query: str, limit: int = SHOWN) -> list[Found]:
    """Return what the member may see that holds every word of the query, best first.

    The candidates are ranked from their texts alone; only those shown are loaded.
    """
    words = query_words(query)
    organization = _organization_of(session, member)
    ids = index.matching(
        session=session,
        words=words,
        every_word=True,
        unit_id=organization.id or 0,
        statuses=RECOGNIZED,
        limit=CANDIDATES,
    )
    own = index.texts(session=session, member_id=member.id or 0)
    mine = {row.id for row in own}
    candidates = {row.id: row for row in index.texts(session=session, initiative_ids=ids)}
    candidates.update(
        (row.id, row) for row in own if set(words) <= set(index.words_of(row.title, *_body(row)))
    )
    # What `_seen` would drop, dropped before ranking: a confidential one of another unit.
    visible = [
        row
        for row in candidates.values()
        if row.id in mine or not row.confidential or row.unit_id == member.unit_id
    ]
    wanted = profile(query)
    ranked = sorted(visible, key=lambda row: (_relevance(wanted, row), row.id), reverse=True)
    best = [row.id for row in ranked[:limit]]
    loaded = {i.id: i for i in store.initiatives_by_ids(session=session, initiative_ids=best)}
    shown = [loaded[i] for i in best if i in loaded]
    return _seen(session, member, organization, mine, shown)


def shown_again(
    *, session: Session, member: Member, shown: Sequence[tuple[int, bool]]
) -> list[Found]:
    """Return the initiatives a list showed, in its order, as the member may see them now."""
    ids = [initiative_id for initiative_id, _ in shown]
    by_id = {i.id: i for i in store.initiatives_by_ids(session=session, initiative_ids=ids)}
    listed = [by_id[i] for i in ids if i in by_id]
    organization = _organization_of(session, member)
    return _seen(session, member, organization, _own(session, member), listed)


def readable(*, session: Session, member: Member, initiative_id: int) -> Found:
    """Return an initiative a search may open for the member in full, or refuse."""
    initiative = session.get(Initiative, initiative_id)
    organization = _organization_of(session, member)
    listed = [initiative] if initiative is not None else []
    seen = _seen(session, member, organization, _own(session, member), listed)
    if not seen or seen[0].title_only:
        raise Refused("search.not_found")
    return seen[0]


def _organization_of(session: Session, member: Member) -> Unit:
    own_unit = unit_by_id(session=session, unit_id=member.unit_id)
    if own_unit is None:
        raise Refused("common.join_first")
    return organization_of(session=session, unit=own_unit)


def _own(session: Session, member: Member) -> set[int]:
    """The ids of the member's initiatives past their draft (submitted or co-authored)."""
    return {row.id for row in index.texts(session=session, member_id=member.id or 0)}


def _seen(
    session: Session,
    member: Member,
    organization: Unit,
    mine: Collection[int | None],
    initiatives: Sequence[Initiative],
) -> list[Found]:
    """Keep, in order, what the member may see of these, and how much of each.

    Their own in full; otherwise what the organization recognized, a confidential one
    by its title and to its own unit's members only.
    """
    unit_ids = list({i.unit_id for i in initiatives})
    units = {u.id: u for u in units_by_ids(session=session, unit_ids=unit_ids)}
    seen = []
    for initiative in initiatives:
        unit = units.get(initiative.unit_id)
        if unit is None:
            continue
        if initiative.id in mine:
            seen.append(Found(initiative, unit, False))
        elif initiative.status not in RECOGNIZED or not unit.path.startswith(organization.path):
            continue
        elif not initiative.confidential:
            seen.append(Found(initiative, unit, False))
        elif initiative.unit_id == member.unit_id:
            seen.append(Found(initiative, unit, True))
    return seen


class Texts(Protocol):
    """What ranking reads of an initiative: a loaded one, or a row of its texts."""

    title: str | None
    problem: str | None
    solution: str | None
    confidential: bool


def _body(initiative: Texts) -> Sequence[str | None]:
    """The texts besides the title that matching may read (none of a confidential one)."""
    return () if initiative.confidential else (initiative.problem, initiative.solution)


def _relevance(wanted: Profile, initiative: Texts) -> float:
    """How well an initiative answers a query: its title counts double."""
    title = profile(initiative.title)
    whole = joined(title, profile(*_body(initiative)))
    return 2 * score(wanted, title) + score(wanted, whole)
