"""SQLModel tables: the unit tree, members, initiatives and conversation state."""

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _fk(target: str, *, ondelete: str, nullable: bool, index: bool = True) -> Any:
    return Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
        ),
    )


class Unit(SQLModel, table=True):
    """A node of the union tree; `path` is `/1/5/12/` so a subtree is a prefix."""

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    path: str = Field(default="", max_length=400, index=True)
    created_at: datetime = _utc()
    # Days a council has for a review before reminders (None: the parent's, else 7).
    review_sla_days: int | None = None


class FormTemplate(SQLModel, table=True):
    """An organization's own application form (a DOCX template), for its whole subtree
    unless a lower unit has its own; kept in the database, backed up with it."""

    unit_id: int = Field(
        sa_column=Column(Integer, ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    )
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    file_name: str = Field(max_length=255)
    uploaded_at: datetime = _utc()


class InviteCode(SQLModel, table=True):
    """A code that lets a person join a unit; revoked codes stay for a clear answer."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    created_at: datetime = _utc()
    revoked_at: datetime | None = _utc(default=None)


class Member(SQLModel, table=True):
    """A person who consented to the processing of their data and joined a unit."""

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    display_name: str = Field(max_length=200)
    language: str = Field(max_length=8)
    consent_at: datetime = _utc()
    created_at: datetime = _utc()


class ChannelIdentity(SQLModel, table=True):
    """How a member is reached on one messenger.

    `unreachable_at` is set while the person has blocked the bot there: notices and
    announcements then take the member's next messenger, or none.
    """

    __table_args__ = (UniqueConstraint("channel", "external_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = _fk("member.id", ondelete="CASCADE", nullable=False)
    channel: str = Field(max_length=20)
    external_user_id: str = Field(max_length=64)
    chat_id: str = Field(max_length=64)
    unreachable_at: datetime | None = _utc(default=None)
    # When the person last wrote from here, to within `members.USED_WITHIN`: notices go
    # to the reachable identity used last.
    last_used_at: datetime | None = _utc(default=None)


class LinkCode(SQLModel, table=True):
    """A one-time code that joins another messenger's identity to the member of
    `identity_id` (the one that asked for it); only its hash is kept."""

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = _fk("channelidentity.id", ondelete="CASCADE", nullable=False)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    used_at: datetime | None = _utc(default=None)


class LinkAttempt(SQLModel, table=True):
    """A /link CODE that failed, counted to stop guessing; the person is a one-way hash."""

    id: int | None = Field(default=None, primary_key=True)
    subject_hash: str = Field(max_length=64, index=True)
    attempted_at: datetime = _utc()


class Role(SQLModel, table=True):
    """A role a member holds over a unit and its whole subtree."""

    __table_args__ = (UniqueConstraint("member_id", "unit_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = _fk("member.id", ondelete="CASCADE", nullable=False)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    role: str = Field(max_length=20)
    granted_at: datetime = _utc()


class ConsentRefusal(SQLModel, table=True):
    """The fact that someone declined; the subject is a one-way hash only."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    subject_hash: str = Field(max_length=64, index=True)
    refused_at: datetime = _utc()


class Initiative(SQLModel, table=True):
    """An improvement initiative, from draft to decision."""

    # Digests and campaign progress read these indexes alone, not the table: a
    # subtree's initiatives submitted, decided (best ones first) or waiting, per unit
    # (services/digests.py), and what counts toward a campaign (services/campaigns.py).
    __table_args__ = (
        Index("ix_initiative_unit_submitted", "unit_id", "submitted_at", "estimated_benefit_vnd"),
        Index(
            "ix_initiative_unit_decided",
            "unit_id",
            "decided_at",
            "status",
            "verified_benefit_vnd",
            "id",
        ),
        Index("ix_initiative_unit_waiting", "unit_id", "status", "waiting_since"),
        Index(
            "ix_initiative_campaign_counted",
            "campaign_id",
            "status",
            "estimated_benefit_vnd",
            "verified_benefit_vnd",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    submitter_id: int | None = _fk("member.id", ondelete="SET NULL", nullable=True)
    status: str = Field(max_length=20, index=True)
    title: str | None = Field(default=None, max_length=200)
    problem: str | None = Field(default=None, sa_type=Text)
    solution: str | None = Field(default=None, sa_type=Text)
    field: str | None = Field(default=None, max_length=30)
    estimated_benefit_vnd: int | None = Field(default=None, sa_type=BigInteger)
    other_effects: str | None = Field(default=None, sa_type=Text)
    applied: bool | None = None
    first_applied_on: date | None = None
    confidential: bool = False
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    submitted_at: datetime | None = _utc(default=None, index=True)
    # Review: the unit whose council has it now (moves up when recommended), the
    # recognition level reached and the benefit the council verified.
    review_unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    level: str | None = Field(default=None, max_length=20)
    verified_benefit_vnd: int | None = Field(default=None, sa_type=BigInteger)
    # Since when a council has had it to decide (None when it waits for nobody), and
    # when it was last approved or rejected: digests count by them.
    waiting_since: datetime | None = _utc(default=None)
    decided_at: datetime | None = _utc(default=None)
    # The campaign it counts toward, chosen when it was first submitted.
    campaign_id: int | None = _fk("campaign.id", ondelete="SET NULL", nullable=True)
    # How the submitter says it differs from the similar initiatives shown before it was
    # submitted (None: none was shown, or they submitted without saying).
    difference: str | None = Field(default=None, sa_type=Text)
    # The application form's "conditions for applying it" and "people who took part in
    # applying it" (one per line), asked after the day it was first applied.
    apply_conditions: str | None = Field(default=None, sa_type=Text)
    apply_participants: str | None = Field(default=None, sa_type=Text)


class Campaign(SQLModel, table=True):
    """A peak emulation campaign over a unit's subtree, with targets.

    The period runs from `starts_at` up to, not including, `ends_at`: local midnights
    of the first and the day after the last day, stored in UTC.
    """

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_type=Text)
    starts_at: datetime = _utc()
    ends_at: datetime = _utc()
    target_count: int | None = None
    target_benefit_vnd: int | None = Field(default=None, sa_type=BigInteger)
    created_by: int | None = _fk("member.id", ondelete="SET NULL", nullable=True)
    created_at: datetime = _utc()
    closed_at: datetime | None = _utc(default=None)


class Author(SQLModel, table=True):
    """An author of an initiative; `name` is None once the member erased their data."""

    id: int | None = Field(default=None, primary_key=True)
    initiative_id: int = _fk("initiative.id", ondelete="CASCADE", nullable=False)
    member_id: int | None = _fk("member.id", ondelete="SET NULL", nullable=True)
    name: str | None = Field(default=None, max_length=200)
    share_percent: int
    is_submitter: bool = False


class Attachment(SQLModel, table=True):
    """A photo or document attached to an initiative, kept by its channel file id."""

    id: int | None = Field(default=None, primary_key=True)
    initiative_id: int = _fk("initiative.id", ondelete="CASCADE", nullable=False)
    kind: str = Field(max_length=20)
    channel: str = Field(max_length=20)
    file_ref: str = Field(max_length=500)
    file_name: str | None = Field(default=None, max_length=255)
    mime_type: str | None = Field(default=None, max_length=100)
    size: int | None = None
    created_at: datetime = _utc()


class StatusChange(SQLModel, table=True):
    """One step of an initiative's status history."""

    id: int | None = Field(default=None, primary_key=True)
    initiative_id: int = _fk("initiative.id", ondelete="CASCADE", nullable=False)
    actor_id: int | None = _fk("member.id", ondelete="SET NULL", nullable=True)
    at: datetime = _utc()
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    comment: str | None = Field(default=None, sa_type=Text)


class ConversationState(SQLModel, table=True):
    """Where one person stands in a conversation, so a restart loses nothing.

    `replies` holds the answer to the person's last update until the channel confirms it
    was sent (`replies_to` names that update), so a crash between the commit and the
    send cannot lose it.
    """

    __table_args__ = (
        UniqueConstraint("channel", "chat_id", "user_id"),
        Index(
            "ix_conversationstate_unsent",
            "channel",
            sqlite_where=text("replies_to IS NOT NULL"),
            postgresql_where=text("replies_to IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    step: str | None = Field(default=None, max_length=60)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _utc()
    replies: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    replies_to: str | None = Field(default=None, max_length=64)


class InboxUpdate(SQLModel, table=True):
    """A messenger update, stored before it is acknowledged.

    Once processed (`done_at` set, payload emptied) the row stays a while, so that a
    redelivery of the same update id is recognised and skipped.
    """

    __table_args__ = (Index("ix_inboxupdate_waiting", "channel", "done_at", "seq"),)

    channel: str = Field(max_length=20, primary_key=True)
    update_id: str = Field(max_length=64, primary_key=True)
    seq: int = Field(sa_type=BigInteger)
    chat_id: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = _utc()
    attempts: int = 0
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class GroupChat(SQLModel, table=True):
    """A group chat linked to a unit, for digests and announcements.

    `removed_at` is set while the bot is out of the group: nothing is posted there.
    """

    channel: str = Field(max_length=20, primary_key=True)
    chat_id: str = Field(max_length=64, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    linked_by: int | None = _fk("member.id", ondelete="SET NULL", nullable=True)
    linked_at: datetime = _utc()
    digest_sent_until: datetime | None = _utc(default=None)  # end of the last digest posted
    removed_at: datetime | None = _utc(default=None)


class RewardPolicy(SQLModel, table=True):
    """How an organization rewards initiatives (Decree 13/2012 minimums by default).

    The policy of a unit applies to its whole subtree unless a lower unit has its own.
    """

    unit_id: int = Field(foreign_key="unit.id", primary_key=True)
    rate_percent: int = 7  # of the annual benefit, in each of the first 3 years
    base_wage_vnd: int | None = Field(default=None, sa_type=BigInteger)  # x5 if no benefit


class OutboxMessage(SQLModel, table=True):
    """A message queued in the transaction that caused it, until it is delivered.

    The content is a reply in JSON (see `core.codec`), rendered when it is sent, in the
    recipient member's language at that moment (else `language`).
    """

    __table_args__ = (
        Index("ix_outboxmessage_due", "status", "next_attempt_at"),
        Index("ix_outboxmessage_queue", "status", "priority", "id"),
        Index("ix_outboxmessage_broadcast", "broadcast_id", "status"),
        # The chat's earlier queued messages, which hold a message back (see outbox.due).
        Index("ix_outboxmessage_chat", "channel", "chat_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=64, index=True)
    chat_kind: str = Field(max_length=10)  # "private" or "group": their flood limits differ
    member_id: int | None = _fk("member.id", ondelete="SET NULL", nullable=True)
    language: str = Field(max_length=8)
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="queued", max_length=12)
    attempts: int = 0  # sends tried, not counting a messenger's "wait" (429): see outbox
    next_attempt_at: datetime = _utc()
    created_at: datetime = _utc()
    sent_at: datetime | None = _utc(default=None)
    # A broadcast's messages: the content names the broadcast, which holds the text, and
    # they yield to everything else queued (priority 1 after 0).
    broadcast_id: int | None = _fk("broadcast.id", ondelete="CASCADE", nullable=True, index=False)
    priority: int = 0
    # A message may take several sends (texts, then files, then documents): how many went
    # out in earlier attempts, so that a retry sends only the rest.
    parts_sent: int = 0


class OutboxAttempt(SQLModel, table=True):
    """One try at delivering an outbox message, and how it went."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = _fk("outboxmessage.id", ondelete="CASCADE", nullable=False)
    at: datetime = _utc()
    outcome: str = Field(max_length=12)  # sent, retry_after, blocked, transient, rejected
    retry_after: float | None = None
    detail: str | None = Field(default=None, max_length=300)


class Reminder(SQLModel, table=True):
    """A reminder that went out (or was skipped), so that none goes out twice.

    `subject_id` is what it is about: a campaign, a draft, or the status change that
    made an initiative wait for review.
    """

    kind: str = Field(max_length=30, primary_key=True)
    subject_id: int = Field(primary_key=True, sa_type=BigInteger)
    at: datetime = _utc()
    recipients: int = 0


class DigestSetting(SQLModel, table=True):
    """How often a leader gets the digest: daily, weekly (on `weekday`), monthly or off.

    `sent_until` is the end of the last period sent, so no period goes out twice.
    """

    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    frequency: str = Field(default="weekly", max_length=10)
    at_hour: int = 8  # local time
    weekday: int = 0  # Monday
    to_groups: bool = False  # also post it to the group chats linked to the led units
    sent_until: datetime | None = _utc(default=None)


class Lease(SQLModel, table=True):
    """Who does a job only one process may do (the scheduler and the outbox), until when."""

    name: str = Field(max_length=40, primary_key=True)
    holder: str = Field(max_length=100)
    expires_at: datetime = _utc()


def table(model: type[SQLModel]) -> Table:
    """Return a model's table, for Core statements on the hot path (no ORM bookkeeping)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


class Broadcast(SQLModel, table=True):
    """An organizer's announcement to an audience inside their subtree.

    Its messages are outbox rows pointing here; their statuses are its progress. The
    organizer's chat gets a progress message (`report_message_id`) edited as it goes.
    """

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)  # the audience's subtree
    created_by: int | None = _fk("member.id", ondelete="SET NULL", nullable=True)
    audience: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # {"default": language, "versions": {language: reply JSON}}
    contents: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="scheduled", max_length=12)  # sending, done, cancelled
    send_at: datetime = _utc()
    created_at: datetime = _utc()
    started_at: datetime | None = _utc(default=None)
    finished_at: datetime | None = _utc(default=None)
    recipients: int = 0
    report_channel: str = Field(max_length=20)
    report_chat_id: str = Field(max_length=64)
    report_language: str = Field(max_length=8)
    report_message_id: str | None = Field(default=None, max_length=64)
    reported_final: bool = False


class RosterEntry(SQLModel, table=True):
    """A person on a union's member list, imported from its spreadsheet.

    Not yet a `Member`: a member is someone who consented. The entry carries a personal
    join code; whoever first joins with it (and consents) becomes `member_id`, in the
    entry's unit with its roles. `organization_id` is the unit the list was imported
    for; an employee id and a phone number are each unique within it.
    """

    __table_args__ = (
        UniqueConstraint("organization_id", "employee_id"),
        UniqueConstraint("organization_id", "phone"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No index of its own: both unique keys below start with it (one of its own would
    # tempt PostgreSQL, before statistics, to read every entry of an organization).
    organization_id: int = Field(foreign_key="unit.id")
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name: str = Field(max_length=200)
    employee_id: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=20)  # +84 and the national number
    language: str = Field(max_length=8)
    roles: str = Field(default="worker", max_length=200)  # comma-separated, sorted
    code: str = Field(max_length=64, unique=True)
    member_id: int | None = _fk("member.id", ondelete="SET NULL", nullable=True)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
