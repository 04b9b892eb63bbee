"""Initiatives that read like a draft, shown to its submitter before it goes in.

The ones looked at are those of the submitter's organization (services.search) past
their draft, whatever became of them. A confidential one is compared by its title only
and shown only to a submitter of its own unit; showing them never blocks a submission.
"""

from dataclasses import dataclass

from sqlmodel import Session

from core.errors import Refused
from core.similar import profile, score, similar
from core.status import Status
from services.review import reviewable
from services.search import organization_of
from storage import initiatives as store
from storage import search as index
from storage.models import Initiative, Member, Unit
from storage.units import unit_by_id, units_by_ids

SHOWN = 3
CANDIDATES = 1000  # the newest initiatives sharing a word with the draft are compared
LOOKED_AT = tuple(status for status in Status if status != Status.DRAFT)


@dataclass(frozen=True)
class Alike:
    """An initiative like the draft, its unit, and how alike (0 to 1)."""

    initiative: Initiative
    unit: Unit
    score: float


def like(*, session: Session, member: Member, initiative: Initiative) -> list[Alike]:
    """Return up to three initiatives of the organization like this one, closest first."""
    unit = unit_by_id(session=session, unit_id=initiative.unit_id)
    if unit is None or not initiative.title:
        return []
    organization = organization_of(session=session, unit=unit)
    ids = index.matching(
        session=session,
        words=index.words_of(initiative.title, initiative.solution),
        every_word=False,
        unit_id=organization.id or 0,
        statuses=LOOKED_AT,
        limit=CANDIDATES,
    )
    wanted = profile(initiative.title, initiative.solution)
    found = []
    for other in index.texts(session=session, initiative_ids=ids):
        if other.id == initiative.id:
            continue
        if other.confidential and other.unit_id != member.unit_id:
            continue
        # A confidential one's solution stays out of it, so that no draft can probe it.
        theirs = profile(other.title, None if other.confidential else other.solution)
        if similar(wanted, theirs):
            found.append((score(wanted, theirs), int(other.id)))
    found.sort(reverse=True)
    scores = {initiative_id: value for value, initiative_id in found[:SHOWN]}
    loaded = store.initiatives_by_ids(session=session, initiative_ids=list(scores))
    unit_ids = [i.unit_id for i in loaded]
    units = {u.id: u for u in units_by_ids(session=session, unit_ids=unit_ids)}
    alike = [Alike(i, units[i.unit_id], scores[i.id or 0]) for i in loaded if i.unit_id in units]
    return sorted(alike, key=lambda a: (a.score, a.initiative.id or 0), reverse=True)


def for_review(*, session: Session, reviewer: Member, initiative_id: int) -> list[Alike]:
    """Return the initiatives like one a reviewer may decide on (the review card's list),
    as that reviewer may see them; refuse one they may not review."""
    initiative, _ = reviewable(
        session=session, member=reviewer, initiative_id=initiative_id, action="similar"
    )
    return like(session=session, member=reviewer, initiative=initiative)


def opened_for_review(
    *, session: Session, reviewer: Member, initiative_id: int, similar_id: int
) -> Alike:
    """Return one of the review card's similar initiatives to open; any other is refused
    (a button's payload proves nothing)."""
    for alike in for_review(session=session, reviewer=reviewer, initiative_id=initiative_id):
        if alike.initiative.id == similar_id:
            return alike
    raise Refused("review.not_found")
