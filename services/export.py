"""The export of initiatives: which ones (subtree, period, campaign, status), the CSV
(UTF-8 with BOM, readable by Excel) and the summary a workbook adds to its rows."""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from sqlmodel import Session

from core.errors import Refused
from core.folding import loose
from core.status import Status
from core.typed import number_in
from services import roles
from services.dates import local_midnight
from storage import campaigns
from storage import initiatives as store
from storage.models import Author, Campaign, Initiative, Member, Unit

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
# Every status an exported initiative may have (drafts are never exported).
STATUSES = tuple(status.value for status in Status if status != Status.DRAFT)
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True)
class Filters:
    """Which initiatives an export holds: submitted in [since, until) (UTC instants, from
    local calendar days), counted toward a campaign, in one of `statuses`."""

    since: datetime | None = None
    until: datetime | None = None
    campaign_id: int | None = None
    statuses: frozenset[str] = frozenset()

    def query(self, unit: Unit | None) -> store.ExportQuery:
        """The storage query of these filters over a unit's subtree (None: everything)."""
        path = unit.path if unit else None
        return store.ExportQuery(path, self.since, self.until, self.campaign_id, self.statuses)


def read_day(option: str, text: str) -> date:
    """Read an operator's local calendar day: dd/mm/yyyy or yyyy-mm-dd."""
    typed = text.strip()
    iso, local = _ISO_DAY.match(typed), _DAY.match(typed)
    try:
        if iso:
            return date(*(int(part) for part in iso.groups()))
        if local:
            day, month, year = (int(part) for part in local.groups())
            return date(year, month, day)
    except ValueError:
        pass
    raise Refused("cli.export_date_invalid", option=option, value=text)


def filters(
    *,
    session: Session,
    since: str | None,
    until: str | None,
    campaign: str | None,
    statuses: Iterable[str],
    zone: tzinfo,
) -> Filters:
    """Check what an operator typed and turn it into filters, or refuse it."""
    first = read_day("--from", since) if since is not None else None
    last = read_day("--to", until) if until is not None else None
    if first is not None and last is not None and first > last:
        raise Refused("cli.export_period_reversed", since=since, until=until)
    campaign_id = None if campaign is None else find_campaign(session, campaign).id
    wanted = frozenset(status.strip() for status in statuses)
    unknown = sorted(wanted - set(STATUSES))
    if unknown:
        raise Refused("cli.status_unknown", status=unknown[0], statuses=", ".join(STATUSES))
    return Filters(
        since=local_midnight(first, zone) if first else None,
        until=local_midnight(last + timedelta(days=1), zone) if last else None,
        campaign_id=campaign_id,
        statuses=wanted,
    )


def find_campaign(session: Session, ref: str) -> Campaign:
    """Return the campaign an operator named by its id or its whole name (any case, any
    accents typed or not), or refuse: unknown, or a name several campaigns share."""
    typed = ref.strip()
    if (number := number_in(typed)) is not None:
        found = session.get(Campaign, number)
        if found is not None:
            return found
    wanted = loose(typed)
    named = [found for found in campaigns.every(session=session) if loose(found.name) == wanted]
    if len(named) == 1:
        return named[0]
    if not named:
        raise Refused("cli.campaign_unknown", ref=ref)
    ids = ", ".join(str(campaign.id) for campaign in named)
    raise Refused("cli.campaign_ambiguous", ref=ref, ids=ids)


@dataclass(frozen=True)
class Row:
    """One exported initiative with its unit, its authors and its campaign's name."""

    initiative: Initiative
    unit: Unit
    authors: list[Author]
    campaign: str | None


def rows(*, session: Session, unit: Unit | None, only: Filters) -> Iterator[Row]:
    """Yield the initiatives an export holds, oldest first, read in batches (flat memory)."""
    names: dict[int, str] = {}  # a campaign's name, looked up once
    for initiative, owner, authors in store.export_rows(session=session, query=only.query(unit)):
        name = None
        if initiative.campaign_id is not None:
            name = names.get(initiative.campaign_id)
            if name is None:
                found = session.get(Campaign, initiative.campaign_id)
                name = names[initiative.campaign_id] = found.name if found else ""
        yield Row(initiative, owner, authors, name)


# Who may export in chat: each over the subtrees they hold the role for.
EXPORTERS = ("reviewer", "leader", "organizer", "admin")


def chat_scopes(*, session: Session, member: Member) -> list[Unit]:
    """Return the subtrees a member may export in chat, none inside another, in the
    tree's order; an empty list means the member may not export at all."""
    held = {
        unit.id: unit
        for role in EXPORTERS
        for unit in roles.scopes(session=session, member=member, role=role)
    }
    paths = sorted(held.values(), key=lambda unit: unit.path)
    return [
        unit
        for unit in paths
        if not any(unit.path.startswith(other.path) and other is not unit for other in paths)
    ]


def may_export(*, session: Session, member: Member, unit: Unit) -> bool:
    """Whether a member may export a unit's subtree in chat (it lies in one of theirs)."""
    scopes = chat_scopes(session=session, member=member)
    return any(unit.path.startswith(scope.path) for scope in scopes)


def count(*, session: Session, unit: Unit | None, only: Filters) -> int:
    """Count the initiatives `rows` yields."""
    return store.count_export_rows(session=session, query=only.query(unit))


def cell(text: str) -> str:
    """Return user text made safe for a spreadsheet cell."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_lines(*, session: Session, unit: Unit | None, only: Filters) -> Iterator[str]:
    """Yield the CSV text piece by piece: the BOM and header first, then a row each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield BOM + buffer.getvalue()
    for row in rows(session=session, unit=unit, only=only):
        initiative, authors = row.initiative, row.authors
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            (
                initiative.id,
                cell(initiative.title or ""),
                cell(row.unit.name),
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


@dataclass
class Totals:
    """Initiatives by status and benefit summed, for one unit or campaign (None: the
    initiatives counted toward no campaign, or all of them)."""

    name: str | None
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    count: int = 0
    estimated_vnd: int = 0
    verified_vnd: int = 0

    def add(self, initiative: Initiative) -> None:
        """Count one initiative in."""
        self.by_status[initiative.status] = self.by_status.get(initiative.status, 0) + 1
        self.count += 1
        self.estimated_vnd += initiative.estimated_benefit_vnd or 0
        self.verified_vnd += initiative.verified_benefit_vnd or 0


@dataclass
class Summary:
    """The totals of an export per unit and per campaign: as many as there are units and
    campaigns, whatever the number of initiatives."""

    units: dict[int, tuple[list[int], Totals]] = field(default_factory=dict)
    campaigns: dict[int | None, Totals] = field(default_factory=dict)
    total: Totals = field(default_factory=lambda: Totals(None))

    def add(self, row: Row) -> None:
        """Count one exported initiative in its unit, its campaign and the total."""
        unit_id = row.unit.id or 0
        if unit_id not in self.units:
            place = [int(part) for part in row.unit.path.split("/") if part]
            self.units[unit_id] = (place, Totals(row.unit.name))
        self.units[unit_id][1].add(row.initiative)
        campaign_id = row.initiative.campaign_id
        if campaign_id not in self.campaigns:
            self.campaigns[campaign_id] = Totals(row.campaign)
        self.campaigns[campaign_id].add(row.initiative)
        self.total.add(row.initiative)

    def by_unit(self) -> list[Totals]:
        """The units' totals in the order of the tree (a parent before its children)."""
        return [totals for _, totals in sorted(self.units.values(), key=lambda u: u[0])]

    def by_campaign(self) -> list[Totals]:
        """The campaigns' totals by name, then those counted toward no campaign."""
        named = [totals for key, totals in self.campaigns.items() if key is not None]
        named.sort(key=lambda totals: totals.name or "")
        return named + ([self.campaigns[None]] if None in self.campaigns else [])
