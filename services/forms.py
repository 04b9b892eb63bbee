"""The application for recognition (đơn yêu cầu công nhận sáng kiến): who may have an
initiative's form, what goes into it, and which organization's template it is filled in.

Its authors may always have it; reviewers and leaders over its unit once it is
submitted. A confidential initiative's form stays with the council that first
recognizes it (and the leaders at or below it): reviewers and leaders of the units
above, who see only its title, effects and level (`review.in_full`), do not get it.
A refusal is logged without personal data.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from core.errors import Refused
from core.status import Status
from services import roles
from services.units import path_ids
from storage import form_templates
from storage import initiatives as store
from storage.members import members_by_id
from storage.models import FormTemplate, Initiative, Member, Unit
from storage.units import unit_by_id

logger = logging.getLogger(__name__)
READERS = ("reviewer", "leader")  # the roles over its unit that may have a form
OWNER_KIND = "enterprise"  # the organization that owns an initiative made in its subtree
MAX_TEMPLATE_BYTES = 1_000_000  # a form with its logo; the reply carries it in JSON


@dataclass(frozen=True)
class FormAuthor:
    """An author as the form lists them: workplace units from theirs up to the owner."""

    name: str | None  # None once the member erased their data
    share_percent: int
    workplace: tuple[str, ...]  # e.g. ("Tổ SMT1", "Công ty TNHH ABC"); () if unknown


@dataclass(frozen=True)
class Form:
    """Everything an initiative's application form is filled from."""

    initiative: Initiative
    authors: tuple[FormAuthor, ...]
    owner: Unit  # the organization whose means made it (chủ đầu tư tạo ra sáng kiến)
    council: Unit  # the unit whose council the application is addressed to
    template: bytes | None  # the nearest organization's own template (None: ours)


def readable(*, session: Session, member: Member, initiative_id: int) -> Initiative:
    """Return an initiative whose form the member may have, or refuse."""
    initiative = session.get(Initiative, initiative_id)
    if initiative is None:
        raise _refused(member, initiative_id)
    authors = store.authors_of(session=session, initiative_id=initiative_id)
    if any(a.member_id == member.id for a in authors):
        return initiative
    own = unit_by_id(session=session, unit_id=initiative.unit_id)
    if own is None or initiative.status == Status.DRAFT:
        raise _refused(member, initiative_id)
    within = first_council(session=session, unit=own) if initiative.confidential else None
    for role in READERS:
        for scope in roles.scopes(session=session, member=member, role=role):
            over = own.path.startswith(scope.path)
            if over and (within is None or scope.path.startswith(within.path)):
                return initiative
    raise _refused(member, initiative_id)


def for_member(*, session: Session, member: Member, initiative_id: int) -> Form:
    """Return what an initiative's form is filled from, if the member may have it."""
    initiative = readable(session=session, member=member, initiative_id=initiative_id)
    return form_of(session=session, initiative=initiative)


def _refused(member: Member, initiative_id: int) -> Refused:
    logger.warning("refused the form of initiative %s to member %s", initiative_id, member.id)
    return Refused("form.not_allowed")


def first_council(*, session: Session, unit: Unit) -> Unit:
    """Return the unit whose council first decides on initiatives of `unit` (the nearest
    with reviewers up the tree, else the unit itself, as submission chooses)."""
    return roles.nearest_with(session=session, unit=unit, role="reviewer") or unit


def owner_of(*, session: Session, unit: Unit) -> Unit:
    """Return the organization an initiative of `unit` belongs to: the nearest
    enterprise up the tree, else the unit itself."""
    for unit_id in reversed(path_ids(unit)):
        above = unit_by_id(session=session, unit_id=unit_id)
        if above is not None and above.kind == OWNER_KIND:
            return above
    return unit


def form_of(*, session: Session, initiative: Initiative) -> Form:
    """Gather what the initiative's form is filled from (permission checked before)."""
    own = unit_by_id(session=session, unit_id=initiative.unit_id)
    if own is None:
        raise Refused("form.not_allowed")
    owner = owner_of(session=session, unit=own)
    council = unit_by_id(session=session, unit_id=initiative.review_unit_id or 0)
    if council is None or initiative.level is not None:
        council = first_council(session=session, unit=own)  # it applied there first
    authors = store.authors_of(session=session, initiative_id=initiative.id or 0)
    members = members_by_id(
        session=session, member_ids=[a.member_id for a in authors if a.member_id]
    )
    places = {m.id: _workplace(session, m.unit_id, owner) for m in members}
    listed = tuple(
        FormAuthor(a.name, a.share_percent, places.get(a.member_id, ()) if a.member_id else ())
        for a in sorted(authors, key=lambda a: (not a.is_submitter, a.id or 0))
    )
    return Form(initiative, listed, owner, council, template_for(session=session, unit=own))


def _workplace(session: Session, unit_id: int, owner: Unit) -> tuple[str, ...]:
    """A member's unit and, when it lies below, the owner organization."""
    unit = unit_by_id(session=session, unit_id=unit_id)
    if unit is None:
        return ()
    if unit.id != owner.id and unit.path.startswith(owner.path):
        return (unit.name, owner.name)
    return (unit.name,)


def template_for(*, session: Session, unit: Unit) -> bytes | None:
    """Return the template of the nearest unit up the tree that has its own, if any."""
    nearest = nearest_template(session=session, unit=unit)
    return None if nearest is None else nearest.content


def nearest_template(*, session: Session, unit: Unit) -> FormTemplate | None:
    """Return the own template of the unit, or else of the nearest unit above with one."""
    path = path_ids(unit)
    kept = {t.unit_id: t for t in form_templates.templates_of(session=session, unit_ids=path)}
    return next((kept[unit_id] for unit_id in reversed(path) if unit_id in kept), None)


def set_template(
    *, session: Session, unit: Unit, content: bytes, file_name: str, now: datetime
) -> None:
    """Keep a unit's own template, which the caller checked renders with our context."""
    if len(content) > MAX_TEMPLATE_BYTES:
        raise Refused("form.template_too_large", limit=MAX_TEMPLATE_BYTES // 1000)
    kept = form_templates.template_of(session=session, unit_id=unit.id or 0)
    if kept is None:
        kept = FormTemplate(unit_id=unit.id or 0, content=content, file_name="", uploaded_at=now)
    kept.content, kept.file_name, kept.uploaded_at = content, file_name[:255], now
    session.add(kept)
    session.flush()


def remove_template(*, session: Session, unit: Unit) -> bool:
    """Drop a unit's own template (its subtree takes the next one up); False if none."""
    kept = form_templates.template_of(session=session, unit_id=unit.id or 0)
    if kept is None:
        return False
    session.delete(kept)
    session.flush()
    return True
