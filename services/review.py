"""The Initiative Council's decisions, who may take them, and who hears about them.

Every action checks its permission here (a button payload can be forged): the actor
must hold the reviewer role over the unit the initiative is reviewed at now, and may
not decide on an initiative they authored. A refusal is logged without personal data.
"""

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from core.errors import Refused
from core.messages import LaterDocument, Money, Reply, Text, t
from core.status import Status
from services import levels, notices, presses, reward, roles
from services.answers import clean_text
from services.initiatives import WAITING, change_status
from services.levels import LEVEL_LABELS, LEVELS
from services.roles import holds
from services.units import path_ids
from storage import initiatives as store
from storage.models import Attachment, Initiative, Member, Unit
from storage.units import unit_by_id

logger = logging.getLogger(__name__)
COMMENT_LIMITS = (5, 2000)
MAX_BENEFIT_VND = 10**15


def _logged(refusal: Refused, member: Member, action: str, initiative_id: int) -> Refused:
    logger.warning(
        "refused %s of initiative %s to member %s: %s",
        action,
        initiative_id,
        member.id,
        refusal.text.key,
    )
    return refusal


def reviewable(
    *, session: Session, member: Member, initiative_id: int, action: str
) -> tuple[Initiative, Unit]:
    """Return an initiative the member may decide on now, and the unit it is reviewed at."""
    initiative = session.get(Initiative, initiative_id)
    if initiative is None or initiative.review_unit_id is None:
        raise _logged(Refused("review.not_found"), member, action, initiative_id)
    unit = unit_by_id(session=session, unit_id=initiative.review_unit_id)
    if unit is None or not holds(session=session, member=member, role="reviewer", unit=unit):
        raise _logged(Refused("review.not_allowed"), member, action, initiative_id)
    authors = store.authors_of(session=session, initiative_id=initiative_id)
    if any(a.member_id == member.id for a in authors):
        raise _logged(Refused("review.own_initiative"), member, action, initiative_id)
    return initiative, unit


def pressed(
    *, session: Session, member: Member, initiative_id: int, opened: object, action: str
) -> Initiative:
    """Return the initiative a press names if the member may decide on it and it is open."""
    initiative, _ = reviewable(
        session=session, member=member, initiative_id=initiative_id, action=action
    )
    presses.check_open(pressed=initiative_id, opened=opened, what="initiative")
    return initiative


def open_card(
    *, session: Session, member: Member, initiative_id: int, now: datetime
) -> Initiative:
    """Open an initiative's card for a member who may decide on it.

    The first opening of a submitted initiative puts it under review, recorded in its
    history like any change; opening it again changes nothing.
    """
    initiative, _ = reviewable(
        session=session, member=member, initiative_id=initiative_id, action="open"
    )
    if initiative.status == Status.SUBMITTED:
        change_status(
            session=session, initiative=initiative, actor=member, to=Status.UNDER_REVIEW, now=now
        )
    return initiative


def in_full(initiative: Initiative) -> bool:
    """Tell whether its reviewers see an initiative in full: not a confidential one
    reviewed above the council that first recognized it (title, effects, level only)."""
    return not (initiative.confidential and initiative.level is not None)


def attachments_for(
    *, session: Session, member: Member, initiative_id: int
) -> Sequence[Attachment]:
    """Return the attachments of an initiative the member may see as its reviewer."""
    initiative, _ = reviewable(
        session=session, member=member, initiative_id=initiative_id, action="files"
    )
    if not in_full(initiative):
        return ()
    return store.attachments_of(session=session, initiative_id=initiative_id)


def levels_for(*, session: Session, member: Member, initiative_id: int) -> tuple[str, ...]:
    """Return the levels the member's council may recognize an initiative at now."""
    initiative, unit = reviewable(
        session=session, member=member, initiative_id=initiative_id, action="approve"
    )
    return levels.awardable(unit, initiative.level)


def queue(
    *,
    session: Session,
    member: Member,
    unit: Unit | None = None,
    field: str | None = None,
    limit: int = 20,
) -> list[Initiative]:
    """Return what waits for the member's decision, oldest first, optionally filtered."""
    scopes = roles.scopes(session=session, member=member, role="reviewer")
    if unit is not None:
        if not any(unit.path.startswith(s.path) for s in scopes):
            raise _logged(Refused("review.not_allowed"), member, "queue", 0)
        scopes = [unit]
    if not scopes:
        return []
    mine = {a.initiative_id for a in store.authored_by(session=session, member_id=member.id or 0)}
    waiting = store.waiting_under(
        session=session,
        statuses=WAITING,
        paths=[s.path for s in scopes],
        field=field,
        limit=limit,
    )
    return [i for i in waiting if i.id not in mine]


def _waiting(initiative: Initiative, member: Member, action: str) -> None:
    if initiative.status not in WAITING:
        raise _logged(Refused("review.already_decided"), member, action, initiative.id or 0)


def approve(
    *,
    session: Session,
    reviewer: Member,
    initiative_id: int,
    benefit_vnd: int | None,
    level: str,
    now: datetime,
) -> reward.Suggestion:
    """Recognize an initiative at a level with a verified annual benefit; notify authors,
    each with their certificate (drawn as the notice is sent: `views.later`)."""
    initiative, unit = reviewable(
        session=session, member=reviewer, initiative_id=initiative_id, action="approve"
    )
    _waiting(initiative, reviewer, "approve")
    try:
        levels.check(unit, level, initiative.level)
    except Refused as refusal:
        raise _logged(refusal, reviewer, "approve", initiative_id) from None
    if benefit_vnd is not None and not 0 <= benefit_vnd <= MAX_BENEFIT_VND:
        raise Refused("review.benefit_invalid")
    authors = list(store.authors_of(session=session, initiative_id=initiative_id))
    suggestion = reward.suggest(
        session=session, initiative=initiative, authors=authors, benefit_vnd=benefit_vnd
    )
    initiative.level = level
    initiative.verified_benefit_vnd = benefit_vnd
    change_status(
        session=session, initiative=initiative, actor=reviewer, to=Status.APPROVED, now=now
    )
    amounts: dict[int, int | None] = {id(a): None for a in authors}
    amounts.update({id(a): amount for a, amount in suggestion.shares})
    for author in authors:
        member = session.get(Member, author.member_id) if author.member_id else None
        if member is None:
            continue
        text = t(
            "notice.approved",
            title=initiative.title or "",
            level=LEVEL_LABELS[level],
            benefit=Money(benefit_vnd or 0),
            reward=_reward_text(suggestion, amounts[id(author)]),
        )
        drawn = LaterDocument(
            "certificate", {"initiative": initiative_id, "author": author.id, "council": unit.id}
        )
        notices.to_member(
            session=session, member=member, reply=Reply(text, later=(drawn,)), now=now
        )
    return suggestion


def _reward_text(suggestion: reward.Suggestion, amount: int | None) -> object:
    if amount is None:
        return t("reward.unknown")
    if suggestion.per_year:
        return t("reward.per_year", amount=Money(amount), years=reward.YEARS, due=due(suggestion))
    return t("reward.once", amount=Money(amount))


def due(suggestion: reward.Suggestion) -> Text:
    """When each year's reward falls due: dates if the first application is known."""
    if suggestion.due:
        first, second, third = suggestion.due
        return t("reward.due_dates", first=first, second=second, third=third)
    return t("reward.due_yearly")


def reject(
    *, session: Session, reviewer: Member, initiative_id: int, reason: str, now: datetime
) -> None:
    """Reject an initiative; the reason is required and reaches every author.

    A recommended initiative keeps the level it was recognized at below: the superior
    council only declines to raise it.
    """
    before = session.get(Initiative, initiative_id)
    if before is not None and before.status == Status.RECOMMENDED:
        initiative = _decide_with_comment(
            session, reviewer, initiative_id, Status.APPROVED, reason, now
        )
        text = t("notice.declined", title=initiative.title or "", reason=reason)
    else:
        initiative = _decide_with_comment(
            session, reviewer, initiative_id, Status.REJECTED, reason, now
        )
        text = t("notice.rejected", title=initiative.title or "", reason=reason)
    _tell_authors(session, initiative, text, now)


def request_changes(
    *, session: Session, reviewer: Member, initiative_id: int, comment: str, now: datetime
) -> None:
    """Send an initiative back to its authors with what to change."""
    initiative = _decide_with_comment(
        session, reviewer, initiative_id, Status.CHANGES_REQUESTED, comment, now
    )
    text = t("notice.changes_requested", title=initiative.title or "", comment=comment)
    _tell_authors(session, initiative, text, now)


def _decide_with_comment(
    session: Session,
    reviewer: Member,
    initiative_id: int,
    status: Status,
    comment: str,
    now: datetime,
) -> Initiative:
    initiative, _ = reviewable(
        session=session, member=reviewer, initiative_id=initiative_id, action=status
    )
    _waiting(initiative, reviewer, status)
    comment = clean_text(comment, COMMENT_LIMITS)
    change_status(
        session=session,
        initiative=initiative,
        actor=reviewer,
        to=status,
        now=now,
        comment=comment,
    )
    return initiative


def _tell_authors(session: Session, initiative: Initiative, text: Text, now: datetime) -> None:
    authors = list(store.authors_of(session=session, initiative_id=initiative.id or 0))
    notices.to_authors(session=session, authors=authors, reply=Reply(text), now=now)


def recommend(*, session: Session, reviewer: Member, initiative_id: int, now: datetime) -> Unit:
    """Send an approved initiative up to a council that may raise its level; return its unit."""
    initiative, unit = reviewable(
        session=session, member=reviewer, initiative_id=initiative_id, action="recommend"
    )
    if initiative.status != Status.APPROVED or initiative.level == LEVELS[-1]:
        raise _logged(Refused("review.cannot_recommend"), reviewer, "recommend", initiative_id)
    superior = _raising(session, unit, initiative.level)
    if superior is None:
        raise _logged(Refused("review.no_superior"), reviewer, "recommend", initiative_id)
    initiative.review_unit_id = superior.id
    change_status(
        session=session, initiative=initiative, actor=reviewer, to=Status.RECOMMENDED, now=now
    )
    text = t("notice.recommended", title=initiative.title or "", unit=superior.name)
    _tell_authors(session, initiative, text, now)
    notices.review_waiting(session=session, initiative=initiative, unit=superior, now=now)
    return superior


def _raising(session: Session, unit: Unit, reached: str | None) -> Unit | None:
    """The nearest council above `unit` whose kind may award a level above `reached`;
    without one, the nearest unit above of such a kind (its council is yet to be named)."""
    council = roles.nearest_with(session=session, unit=unit, role="reviewer", above=True)
    while council is not None and not levels.awardable(council, reached):
        council = roles.nearest_with(session=session, unit=council, role="reviewer", above=True)
    if council is not None:
        return council
    for unit_id in reversed(path_ids(unit)[:-1]):
        above = unit_by_id(session=session, unit_id=unit_id)
        if above is not None and levels.awardable(above, reached):
            return above
    return None
