"""A submitter's answers, one setter each: the answer is checked and cleaned where it is
written, so a step cannot save it unchecked, nor write anything but that answer.

No setter takes a column name; the columns they write are `COLUMNS`, and a status, a
level or a council's verdict is never among them. Each write also checks, in the same
statement, that the member submitted the initiative and may still edit it (as
`initiatives.editable` does): the answer is saved the moment it is given.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from core.errors import Refused
from core.messages import t
from core.money import MAX_VND
from core.status import Status
from services.dates import parse_day
from services.initiatives import EDITABLE, FIELDS, editable, touch
from storage import initiatives as store
from storage import search
from storage.models import Member

TITLE_LIMITS = (5, 200)
TEXT_LIMITS = (10, 4000)
EFFECTS_LIMITS = (3, TEXT_LIMITS[1])
# Everything an answer may write; anything else is the services' own business.
COLUMNS = frozenset(
    {
        "title",
        "problem",
        "solution",
        "field",
        "estimated_benefit_vnd",
        "other_effects",
        "applied",
        "first_applied_on",
        "confidential",
        "difference",
        "apply_conditions",
        "apply_participants",
    }
)

# What the search index holds (storage/search.py): an answer to one of these refreshes it.
SEARCHED = frozenset({"title", "problem", "solution", "confidential"})


@dataclass(frozen=True)
class Edit:
    """Who answers, for which initiative, and when: what every setter is given."""

    session: Session
    member: Member
    initiative_id: int
    now: datetime


def clean_text(text: str, limits: tuple[int, int]) -> str:
    """Return text with tidy whitespace if its length is within limits, else refuse."""
    text = "\n".join(" ".join(line.split()) for line in text.strip().splitlines()).strip()
    low, high = limits
    if len(text) < low:
        raise Refused("wizard.text_too_short", min=low)
    if len(text) > high:
        raise Refused("wizard.text_too_long", max=high, length=len(text))
    return text


def set_title(edit: Edit, text: str) -> None:
    """Save the title: one line of 5 to 200 characters, with letters or digits in it."""
    title = clean_text(" ".join(text.split()), TITLE_LIMITS)
    if sum(char.isalnum() for char in title) < TITLE_LIMITS[0]:
        raise Refused("wizard.title_needs_words", min=TITLE_LIMITS[0])  # "🙂🙂🙂🙂🙂🙂", "....."
    _save(edit, title=title)


def set_problem(edit: Edit, text: str) -> None:
    """Save the description of the problem as it is today."""
    _save(edit, problem=clean_text(text, TEXT_LIMITS))


def set_solution(edit: Edit, text: str) -> None:
    """Save the description of the solution."""
    _save(edit, solution=clean_text(text, TEXT_LIMITS))


def set_field(edit: Edit, field: str) -> None:
    """Save the field of application, one of the fixed list."""
    if field not in FIELDS:
        raise Refused("wizard.field_unknown")
    _save(edit, field=field)


def set_benefit(edit: Edit, amount: int) -> None:
    """Save the estimated annual benefit in VND (read by `core.money.parse_vnd`)."""
    if not 0 < amount <= MAX_VND:
        raise Refused("wizard.benefit_retry", why=t("money.too_large"))
    _save(edit, estimated_benefit_vnd=amount)


def set_no_benefit(edit: Edit) -> None:
    """Save that the benefit cannot be counted in money."""
    _save(edit, estimated_benefit_vnd=None)


def set_effects(edit: Edit, text: str | None) -> None:
    """Save the other effects (time, quality, safety), or that there are none."""
    _save(edit, other_effects=None if text is None else clean_text(text, EFFECTS_LIMITS))


def set_not_applied(edit: Edit) -> None:
    """Save that the initiative is not applied yet (so nobody took part in applying it)."""
    _save(edit, applied=False, first_applied_on=None, apply_participants=None)


def set_conditions(edit: Edit, text: str | None) -> None:
    """Save the conditions needed to apply the initiative, or that none are given."""
    _save(edit, apply_conditions=None if text is None else clean_text(text, EFFECTS_LIMITS))


def set_participants(edit: Edit, text: str | None) -> None:
    """Save who took part in applying it (one per line or separated by ;), or nobody."""
    _save(edit, apply_participants=None if text is None else clean_text(text, EFFECTS_LIMITS))


def set_applied_since(edit: Edit, text: str, today: date) -> date:
    """Save the dd/mm/yyyy day the initiative was first applied, not after `today`."""
    since = parse_day(text, today=today)
    _save(edit, applied=True, first_applied_on=since)
    return since


def set_difference(edit: Edit, text: str) -> None:
    """Save how the initiative differs from the similar ones the submitter was shown."""
    _save(edit, difference=clean_text(text, TEXT_LIMITS))


def set_confidential(edit: Edit, secret: bool) -> None:
    """Save whether the initiative is a technology secret."""
    _save(edit, confidential=secret)


def _save(edit: Edit, **values: object) -> None:
    """Write answers if the member may still edit the initiative, or refuse as `editable`.

    One statement checks and writes (a wizard step costs no read); only a refusal reads
    the initiative, to say why. A draft is not searchable, so its answers leave the
    search index alone.
    """
    if not values or not COLUMNS.issuperset(values):
        raise ValueError(f"not answers: {sorted(set(values) - COLUMNS)}")
    session, member = edit.session, edit.member
    assert member.id is not None
    status = store.write_if(
        session=session,
        initiative_id=edit.initiative_id,
        submitter_id=member.id,
        statuses=EDITABLE,
        values=values,
        now=edit.now,
    )
    if status is None:
        initiative = editable(session=session, member=member, initiative_id=edit.initiative_id)
        for name, value in values.items():  # it became editable since the statement
            setattr(initiative, name, value)
        touch(session=session, initiative=initiative, now=edit.now)
        status = initiative.status
    if status != Status.DRAFT and SEARCHED.intersection(values):
        search.refresh(session=session, initiative_ids=[edit.initiative_id])  # no draft's
