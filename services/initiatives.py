"""The rules of an initiative's life before review: drafting, details, submission, and
the one table of which status may follow which."""

import re
from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session

from core.errors import Refused
from core.messages import InAttachment, Reply, t
from core.status import Status
from core.typed import number_in
from services import campaigns, notices, roles
from storage import initiatives as store
from storage import search
from storage.models import Attachment, Author, Initiative, Member, StatusChange
from storage.units import unit_by_id

FIELDS = (
    "technical",
    "rationalization",
    "management",
    "safety",
    "environment",
    "quality",
    "other",
)
# The statuses by the names digests, reminders and the benchmarks import from here.
DRAFT, SUBMITTED, UNDER_REVIEW = Status.DRAFT, Status.SUBMITTED, Status.UNDER_REVIEW
CHANGES_REQUESTED = Status.CHANGES_REQUESTED
APPROVED, REJECTED, RECOMMENDED = Status.APPROVED, Status.REJECTED, Status.RECOMMENDED
WAITING = (SUBMITTED, UNDER_REVIEW, RECOMMENDED)  # what a council has to decide on
DECIDED = (APPROVED, REJECTED)
AMENDABLE = (SUBMITTED, UNDER_REVIEW, CHANGES_REQUESTED)
EDITABLE = (DRAFT, *AMENDABLE)  # what its submitter may still change
# Which status may follow which; `change_status` refuses any other move. A draft is
# submitted; a council member opening it puts it under review; a council approves,
# rejects or sends back what waits for it, and may recommend what it approved to the
# next council up, which raises the level or declines (it stays approved).
TRANSITIONS: Mapping[str, frozenset[Status]] = {
    DRAFT: frozenset({SUBMITTED}),
    SUBMITTED: frozenset({UNDER_REVIEW, APPROVED, REJECTED, CHANGES_REQUESTED}),
    UNDER_REVIEW: frozenset({APPROVED, REJECTED, CHANGES_REQUESTED}),
    CHANGES_REQUESTED: frozenset({SUBMITTED}),
    APPROVED: frozenset({RECOMMENDED}),
    RECOMMENDED: frozenset({APPROVED}),
    REJECTED: frozenset(),
}
MAX_ATTACHMENTS = 20
MAX_COAUTHORS = 20
_SHARE = re.compile(r"^(?P<name>.*?)[\s:,;–—-]*(?P<share>\d{1,3}(?:[.,]\d+)?)\s*%?\s*$", re.S)


def start_draft(*, session: Session, member: Member, now: datetime) -> Initiative:
    """Create an empty draft whose only author is the member."""
    draft = Initiative(
        unit_id=member.unit_id,
        submitter_id=member.id,
        status=DRAFT,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    assert draft.id is not None
    session.add(
        Author(
            initiative_id=draft.id,
            member_id=member.id,
            name=member.display_name,
            share_percent=100,
            is_submitter=True,
        )
    )
    session.add(StatusChange(initiative_id=draft.id, actor_id=member.id, at=now, to_status=DRAFT))
    session.flush()
    return draft


def editable(*, session: Session, member: Member, initiative_id: int) -> Initiative:
    """Return an initiative the member may still edit, or refuse."""
    initiative = session.get(Initiative, initiative_id)
    if initiative is None or initiative.submitter_id != member.id:
        raise Refused("initiative.not_yours")
    if initiative.status not in EDITABLE:
        raise Refused("initiative.decided", status=initiative.status)
    return initiative


def parse_coauthor(text: str) -> tuple[str, int]:
    """Read one `Name share%` line into a name and a whole-percent share."""
    match = _SHARE.match(" ".join(text.split()))
    if not match or not match["name"].strip(" :-"):
        raise Refused("wizard.coauthor_format")
    share_text = match["share"].replace(",", ".")
    if "." in share_text:
        raise Refused("wizard.coauthor_whole_percent")
    share = int(share_text)
    if not 1 <= share <= 99:
        raise Refused("wizard.coauthor_share_range")
    name = " ".join(match["name"].split()).strip(" :-")
    if len(name) > 100:
        raise Refused("onboarding.name_too_long", limit=100)
    return name, share


def add_coauthor(
    *, session: Session, initiative: Initiative, line: str
) -> tuple[Author, int, bool]:
    """Add a co-author, or change the share of one of the same name; return them, the
    share the submitter keeps, and whether they were already there."""
    name, share = parse_coauthor(line)
    submitter, others = _authors(session, initiative)
    author = next((a for a in others if _same_name(a.name, name)), None)
    if author is None and len(others) >= MAX_COAUTHORS:
        raise Refused("wizard.coauthor_too_many", max=MAX_COAUTHORS)
    available = submitter.share_percent + (author.share_percent if author else 0)
    if available - share < 1:
        raise Refused("wizard.coauthor_share_total", left=available - 1)
    submitter.share_percent = available - share
    known = author is not None
    if author is None:
        author = Author(initiative_id=initiative.id or 0, name=name, share_percent=share)
    author.share_percent = share
    session.add_all([submitter, author])
    session.flush()
    return author, submitter.share_percent, known


def remove_coauthor(*, session: Session, initiative: Initiative, which: str) -> tuple[Author, int]:
    """Remove a co-author named `which`, or numbered so in `coauthors`; their share goes
    back to the submitter. Return who was removed and the submitter's share."""
    submitter, others = _authors(session, initiative)
    which = " ".join(which.split())
    number = number_in(which)
    if number is not None and 1 <= number <= len(others):
        author: Author | None = others[number - 1]
    else:
        author = next((a for a in others if _same_name(a.name, which)), None)
    if author is None:
        raise Refused("wizard.coauthor_unknown", name=which)
    submitter.share_percent += author.share_percent
    session.add(submitter)
    session.delete(author)
    session.flush()
    return author, submitter.share_percent


def coauthors(*, session: Session, initiative: Initiative) -> list[Author]:
    """The co-authors in the order they were added (the numbers `remove_coauthor` reads)."""
    return _authors(session, initiative)[1]


def _authors(session: Session, initiative: Initiative) -> tuple[Author, list[Author]]:
    authors = list(store.authors_of(session=session, initiative_id=initiative.id or 0))
    submitter = next(a for a in authors if a.is_submitter)
    return submitter, sorted((a for a in authors if not a.is_submitter), key=lambda a: a.id or 0)


def _same_name(known: str | None, typed: str) -> bool:
    return " ".join((known or "").casefold().split()) == " ".join(typed.casefold().split())


def clear_coauthors(*, session: Session, initiative: Initiative) -> None:
    """Remove every co-author; the submitter holds 100% again."""
    for author in store.authors_of(session=session, initiative_id=initiative.id or 0):
        if author.is_submitter:
            author.share_percent = 100
            session.add(author)
        else:
            session.delete(author)
    session.flush()


def add_attachment(
    *, session: Session, initiative: Initiative, channel: str, item: InAttachment, now: datetime
) -> int:
    """Attach a photo or document and return how many the initiative now has."""
    count = len(store.attachments_of(session=session, initiative_id=initiative.id or 0))
    if count >= MAX_ATTACHMENTS:
        raise Refused("wizard.attachments_too_many", max=MAX_ATTACHMENTS)
    session.add(
        Attachment(
            initiative_id=initiative.id or 0,
            kind=item.kind,
            channel=item.channel or channel,
            file_ref=item.file_ref,
            file_name=item.file_name,
            mime_type=item.mime_type,
            size=item.size,
            created_at=now,
        )
    )
    session.flush()
    return count + 1


def missing_core(initiative: Initiative) -> str | None:
    """Return the first required answer a draft lacks, or None when it can be submitted."""
    for name in ("title", "problem", "solution", "field"):
        if not getattr(initiative, name):
            return name
    return None


def missing_details(*, session: Session, initiative: Initiative) -> list[str]:
    """Return the optional details not given yet, in the order the wizard asks them."""
    missing = []
    if initiative.other_effects is None:
        missing.append("effects")
    if len(store.authors_of(session=session, initiative_id=initiative.id or 0)) == 1:
        missing.append("coauthors")
    if initiative.applied is None:
        missing.append("applied")
    if not store.attachments_of(session=session, initiative_id=initiative.id or 0):
        missing.append("attachments")
    return missing


def submit(
    *,
    session: Session,
    member: Member,
    initiative: Initiative,
    now: datetime,
    campaign: int | None = None,
) -> None:
    """Submit a complete draft, or resubmit one the council sent back for changes.

    A first submission counts toward the campaign running for the unit (`campaign`:
    the author's pick when several run). The change goes into the history; the authors
    hear it was received, and the reviewers of the initiative's unit that it waits
    for them.
    """
    if initiative.status not in (DRAFT, CHANGES_REQUESTED):
        raise Refused("initiative.decided", status=initiative.status)
    if initiative.submitter_id != member.id:
        raise Refused("initiative.not_yours")
    if missing_core(initiative):
        raise Refused("wizard.incomplete")
    authors = list(store.authors_of(session=session, initiative_id=initiative.id or 0))
    if sum(a.share_percent for a in authors) != 100:
        raise Refused("wizard.coauthor_share_total", left=0)
    own = unit_by_id(session=session, unit_id=initiative.unit_id)
    if own is None:
        raise Refused("initiative.not_yours")
    if initiative.submitted_at is None:
        campaigns.choose(session=session, initiative=initiative, unit=own, at=now, picked=campaign)
        initiative.submitted_at = now
    if initiative.review_unit_id is None:
        council = roles.nearest_with(session=session, unit=own, role="reviewer")
        initiative.review_unit_id = (council or own).id
    change_status(session=session, initiative=initiative, actor=member, to=SUBMITTED, now=now)
    session.flush()
    title = initiative.title or ""
    notices.to_authors(
        session=session, authors=authors, reply=Reply(t("notice.received", title=title)), now=now
    )
    council = unit_by_id(session=session, unit_id=initiative.review_unit_id or own.id or 0)
    if council is not None:
        notices.review_waiting(session=session, initiative=initiative, unit=council, now=now)


def discard(*, session: Session, member: Member, initiative: Initiative) -> None:
    """Delete a draft with everything attached to it."""
    if initiative.status != DRAFT or initiative.submitter_id != member.id:
        raise Refused("initiative.not_yours")
    session.delete(initiative)
    session.flush()


def touch(*, session: Session, initiative: Initiative, now: datetime) -> None:
    """Mark the initiative as changed now."""
    initiative.updated_at = now
    session.add(initiative)


def allows(current: str, to: Status) -> bool:
    """Tell whether an initiative in status `current` may move to `to`."""
    return to in TRANSITIONS.get(current, frozenset())


def change_status(
    *,
    session: Session,
    initiative: Initiative,
    actor: Member,
    to: Status,
    now: datetime,
    comment: str | None = None,
) -> None:
    """Move an initiative to a status, recording who, when, from, to and why.

    A move the table does not allow is refused. Waiting starts when the initiative
    comes to a council, not again when one of its members opens it.
    """
    if not allows(initiative.status, to):
        raise Refused("initiative.status_refused")
    session.add(
        StatusChange(
            initiative_id=initiative.id or 0,
            actor_id=actor.id,
            at=now,
            from_status=initiative.status,
            to_status=to,
            comment=comment,
        )
    )
    if to not in WAITING:
        initiative.waiting_since = None
    elif initiative.status not in WAITING or initiative.waiting_since is None:
        initiative.waiting_since = now
    initiative.status = to
    if to in DECIDED:
        initiative.decided_at = now
    touch(session=session, initiative=initiative, now=now)
    search.refresh(session=session, initiative_ids=[initiative.id or 0])
