"""Joining, consent, language, and a member's rights over their personal data."""

import hashlib
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.errors import Refused
from core.messages import KEPT
from core.settings import LANGUAGES
from services.links import subject_hash
from services.roles import grant
from services.units import path_ids
from storage import broadcasts, links, outbox, roster
from storage import initiatives as initiative_store
from storage import members as store
from storage.conversations import states_of_user
from storage.file_references import forget_when_committed
from storage.files import FileStore, keys_in
from storage.models import ChannelIdentity, ConsentRefusal, Initiative, Member, Role, Unit
from storage.units import unit_by_id


def join(
    *,
    session: Session,
    unit: Unit,
    channel: str,
    user_id: str,
    chat_id: str,
    name: str,
    language: str,
    now: datetime,
) -> Member:
    """Create a consenting member of `unit` with the worker role and their identity."""
    if store.identity_for(session=session, channel=channel, user_id=user_id):
        raise Refused("onboarding.already_member")
    member = Member(
        unit_id=unit.id or 0,
        display_name=clean_name(name),
        language=checked_language(language),
        consent_at=now,
        created_at=now,
    )
    session.add(member)
    session.flush()
    assert member.id is not None
    session.add(
        ChannelIdentity(
            member_id=member.id,
            channel=channel,
            external_user_id=user_id,
            chat_id=chat_id,
            last_used_at=now,
        )
    )
    session.add(Role(member_id=member.id, unit_id=member.unit_id, role="worker", granted_at=now))
    session.flush()
    return member


def move(*, session: Session, member: Member, unit: Unit, now: datetime) -> None:
    """Make the member a worker of another unit.

    Drafts and initiatives stay the member's. A role is kept only where it was granted
    over both units (on a unit above both); the rest belonged to the old place.
    """
    old = unit_by_id(session=session, unit_id=member.unit_id)
    if old is None or old.id == unit.id:
        return
    above_both = set(path_ids(old)) & set(path_ids(unit))
    for role in store.roles_of(session=session, member_id=member.id or 0):
        if role.unit_id not in above_both:
            session.delete(role)
    session.flush()
    member.unit_id = unit.id or 0
    session.add(member)
    grant(session=session, member=member, unit=unit, role="worker", now=now)


def clean_name(name: str) -> str:
    """Return a display name with collapsed spaces, refusing empty or overlong ones."""
    name = " ".join(name.split())
    if not name:
        raise Refused("onboarding.name_empty")
    if len(name) > 100:
        raise Refused("onboarding.name_too_long", limit=100)
    return name


def checked_language(language: str) -> str:
    """Return the language code if the bot speaks it."""
    if language not in LANGUAGES:
        raise Refused("language.unknown")
    return language


def record_refusal(*, session: Session, channel: str, user_id: str, now: datetime) -> None:
    """Remember only that someone declined consent, under a one-way hash."""
    digest = hashlib.sha256(f"{channel}:{user_id}".encode()).hexdigest()
    session.add(ConsentRefusal(channel=channel, subject_hash=digest, refused_at=now))


def set_language(*, session: Session, member: Member, language: str) -> None:
    """Change the language a member is spoken to in."""
    member.language = checked_language(language)
    session.add(member)


def personal_data(*, session: Session, member: Member) -> dict[str, Any]:
    """Return everything stored about a member, as plain JSON-ready data."""
    member_id = member.id or 0
    authored = initiative_store.authored_by(session=session, member_id=member_id)
    initiatives = []
    for author in authored:
        initiative = session.get(Initiative, author.initiative_id)
        if initiative is None:
            continue
        initiatives.append(
            {
                **initiative.model_dump(mode="json"),
                "your_share_percent": author.share_percent,
                "attachments": [
                    a.model_dump(mode="json")
                    for a in initiative_store.attachments_of(
                        session=session, initiative_id=author.initiative_id
                    )
                ],
            }
        )
    identities = store.identities_of(session=session, member_id=member_id)
    chats = [(i.channel, i.chat_id) for i in identities]
    states = [
        state.model_dump(mode="json")
        for identity in identities
        for state in states_of_user(
            session=session, channel=identity.channel, user_id=identity.external_user_id
        )
    ]
    subjects = [subject_hash(i.channel, i.external_user_id) for i in identities]
    return {
        "member": member.model_dump(mode="json"),
        "identities": [i.model_dump(mode="json") for i in identities],
        "link_codes": [  # the hash of a live code would give the code away
            code.model_dump(mode="json", exclude={"code_hash"})
            for code in links.codes_of(session=session, member_id=member_id)
        ],
        "failed_link_attempts": [
            attempt.model_dump(mode="json", exclude={"subject_hash"})
            for attempt in links.failures_of(session=session, subject_hashes=subjects)
        ],
        "roles": [
            r.model_dump(mode="json") for r in store.roles_of(session=session, member_id=member_id)
        ],
        "initiatives": initiatives,
        "authorships": [a.model_dump(mode="json") for a in authored],
        "status_history": [
            change.model_dump(mode="json")
            for author in authored
            for change in initiative_store.history_of(
                session=session, initiative_id=author.initiative_id
            )
        ],
        "notices": [
            notice.model_dump(mode="json")
            for notice in outbox.addressed_to(session=session, member_id=member_id, chats=chats)
        ],
        "conversation_state": states,
        "member_list_entries": [
            entry.model_dump(mode="json")
            for entry in roster.entries_of_member(session=session, member_id=member_id)
        ],
        "broadcasts_made": [
            b.model_dump(mode="json")
            for b in broadcasts.made_by(session=session, member_id=member_id)
        ],
    }


def erase(*, session: Session, member: Member, files: FileStore, now: datetime) -> None:
    """Erase a member: drafts go, authorship stays anonymous, identities and state go,
    and so do the list entry they joined with and their chat on the broadcasts they made
    (those not started are cancelled).

    Once the erasure commits, the kept files of what went (the draft's photos and
    documents, a file held by an unfinished conversation) are removed, unless something
    left still refers to them (the same bytes attached to another initiative).
    """
    member_id = member.id or 0
    kept: set[str] = set()
    draft = initiative_store.draft_of(session=session, member_id=member_id)
    if draft is not None:
        attachments = initiative_store.attachments_of(session=session, initiative_id=draft.id or 0)
        kept |= {a.file_ref for a in attachments if a.channel == KEPT}
        session.delete(draft)
    for author in initiative_store.authored_by(session=session, member_id=member_id):
        author.member_id = None
        author.name = None
        session.add(author)
    for initiative in initiative_store.submitted_by(session=session, member_id=member_id):
        initiative.submitter_id = None
        session.add(initiative)
    for change in initiative_store.changes_by(session=session, member_id=member_id):
        change.actor_id = None
        session.add(change)
    identities = store.identities_of(session=session, member_id=member_id)
    chats = [(i.channel, i.chat_id) for i in identities]
    outbox.forget(session=session, member_id=member_id, chats=chats)
    subjects = [subject_hash(i.channel, i.external_user_id) for i in identities]
    links.forget_failures(session=session, subject_hashes=subjects)
    for identity in identities:
        for state in states_of_user(
            session=session, channel=identity.channel, user_id=identity.external_user_id
        ):
            kept |= keys_in(state.data) | keys_in(state.replies)
            session.delete(state)
        session.delete(identity)
    for role in store.roles_of(session=session, member_id=member_id):
        session.delete(role)
    roster.forget_member(session=session, member_id=member_id)
    broadcasts.forget_organizer(session=session, member_id=member_id, now=now)
    session.flush()
    session.delete(member)
    session.flush()
    forget_when_committed(session=session, files=files, keys=kept)
