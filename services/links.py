"""One person, two messengers: a one-time code joins another messenger's identity to a member.

`/link` in a messenger where the person is a member gives a code; `/link CODE` in another
messenger joins that messenger's identity to the same member (roles, initiatives,
language and consent are the member's). Only one identity per messenger and member.

An identity of another member is joined only when that member has nothing of their own
(no initiative, draft or authorship, no role but worker, no other messenger): the empty
member is then dropped. Otherwise the person is told to link the other way round, from
the account that has nothing, and nothing changes: two members' initiatives and roles
are never merged by a chat command.
"""

import hashlib
import logging
import math
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session

from core.errors import Refused
from core.messages import Reply, t
from services import notices
from storage import initiatives, links
from storage import members as store
from storage.models import ChannelIdentity, LinkCode, Member

logger = logging.getLogger(__name__)
DIGITS = 6
VALID_FOR = timedelta(minutes=10)
# At most this many failed codes per messenger user in the window, against guessing:
# 5 tries in 10 minutes among 10^6 codes.
MAX_FAILURES = 5
# And this many by everybody together, or as many as codes were handed out in the window
# if more (a day when a whole factory links makes typos, not guesses): many accounts
# guessing at once would multiply the tries. Past it, every /link CODE waits out the
# window (a warning is logged).
MAX_FAILURES_OF_ALL = 50
FAILURE_WINDOW = timedelta(minutes=10)
# How long a used or expired code is kept to say so (instead of "wrong").
KEPT_FOR = timedelta(days=1)


def code_hash(code: str) -> str:
    """Return the stored form of a code.

    It keeps codes out of backups, logs and data exports; 10^6 codes are no secret from
    someone reading the live database, who could as well write to it.
    """
    return hashlib.sha256(f"link:{code}".encode()).hexdigest()


def subject_hash(channel: str, user_id: str) -> str:
    """Return the one-way hash a messenger user's failed attempts are counted under."""
    return hashlib.sha256(f"link-attempt:{channel}:{user_id}".encode()).hexdigest()


def issue(*, session: Session, member: Member, channel: str, user_id: str, now: datetime) -> str:
    """Return a new one-time code for the member's identity here; earlier unused ones stop."""
    identity = store.identity_for(session=session, channel=channel, user_id=user_id)
    if identity is None or identity.member_id != member.id:
        raise Refused("common.join_first")
    links.forget_codes(session=session, expired_before=now - KEPT_FOR)
    while True:  # a few codes live at a time among 10^6: a repeat is rare
        code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
        if links.code_by_hash(session=session, code_hash=code_hash(code)) is None:
            break
    links.add_code(
        session=session,
        identity_id=identity.id or 0,
        code_hash=code_hash(code),
        now=now,
        expires_at=now + VALID_FOR,
    )
    return code


def redeem(
    *,
    session: Session,
    typed: str,
    member: Member | None,
    channel: str,
    user_id: str,
    chat_id: str,
    now: datetime,
) -> Member | Refused:
    """Join this messenger user to the member of the code `typed`; return that member.

    A wrong, used or expired code counts as a failed attempt, which must be kept: that
    refusal is returned, not raised (a raised one undoes the update's writes).
    """
    subject = subject_hash(channel, user_id)
    since = now - FAILURE_WINDOW
    of_all = max(MAX_FAILURES_OF_ALL, links.codes_since(session=session, since=since))
    for whose, limit in ((subject, MAX_FAILURES), (None, of_all)):
        failed, first = links.failures_since(session=session, subject_hash=whose, since=since)
        if failed >= limit and first is not None:
            if whose is None:
                minutes = FAILURE_WINDOW.total_seconds() // 60
                logger.warning("%s link codes failed in %.0f minutes: all wait", failed, minutes)
            wait = math.ceil((first + FAILURE_WINDOW - now).total_seconds() / 60)
            raise Refused("link.too_many", minutes=max(wait, 1))
    found = _valid_code(session, typed, now)
    if isinstance(found, Refused):
        links.add_failure(session=session, subject_hash=subject, now=now, before=since)
        return found
    origin = session.get(ChannelIdentity, found.identity_id)
    target = session.get(Member, origin.member_id) if origin is not None else None
    if origin is None or target is None:
        raise Refused("link.code_wrong")
    _check_joinable(session, origin, target, member, channel, user_id)
    if not links.use_code(session=session, code_id=found.id or 0, now=now):
        raise Refused("link.code_used")  # a concurrent update took it
    _join(session, target, member, channel=channel, user_id=user_id, chat_id=chat_id, now=now)
    notices.to_chat(
        session=session,
        chat=(origin.channel, origin.chat_id),
        reply=Reply(t("link.notice_linked")),
        language=target.language,
        now=now,
        member_id=target.id,
    )
    return target


def _valid_code(session: Session, typed: str, now: datetime) -> LinkCode | Refused:
    """Return the live code typed, or why there is none."""
    digits = "".join(typed.split())
    code = None
    if len(digits) == DIGITS and digits.isascii() and digits.isdigit():
        code = links.code_by_hash(session=session, code_hash=code_hash(digits))
    if code is None:
        return Refused("link.code_wrong")
    if code.used_at is not None:
        return Refused("link.code_used")
    if code.expires_at <= now:
        return Refused("link.code_expired", minutes=int(VALID_FOR.total_seconds() // 60))
    return code


def _check_joinable(
    session: Session,
    origin: ChannelIdentity,
    target: Member,
    member: Member | None,
    channel: str,
    user_id: str,
) -> None:
    """Refuse a link that would give the member two identities on one messenger, or
    swallow another member who has something of their own."""
    if origin.channel == channel:
        raise Refused("link.same_messenger")
    identities = store.identities_of(session=session, member_id=target.id or 0)
    here = [i for i in identities if i.channel == channel]
    if here and here[0].external_user_id == user_id:
        raise Refused("link.already_linked")
    if here:
        raise Refused("link.messenger_taken")
    if member is not None and not has_nothing(session=session, member=member):
        raise Refused("link.other_member")


def has_nothing(*, session: Session, member: Member) -> bool:
    """Whether a member has nothing of their own a link could lose: no initiative, draft or
    authorship, no role but worker, one messenger only."""
    member_id = member.id or 0
    return (
        initiatives.draft_of(session=session, member_id=member_id) is None
        and not initiatives.authored_by(session=session, member_id=member_id)
        and all(r.role == "worker" for r in store.roles_of(session=session, member_id=member_id))
        and len(store.identities_of(session=session, member_id=member_id)) == 1
    )


def _join(
    session: Session,
    target: Member,
    member: Member | None,
    *,
    channel: str,
    user_id: str,
    chat_id: str,
    now: datetime,
) -> None:
    """Give `target` this messenger user's identity (a new one, or the empty member's)."""
    identity = store.identity_for(session=session, channel=channel, user_id=user_id)
    if identity is None:
        identity = ChannelIdentity(
            member_id=target.id or 0, channel=channel, external_user_id=user_id, chat_id=chat_id
        )
    identity.member_id = target.id or 0
    identity.last_used_at = now
    session.add(identity)
    session.flush()
    if member is not None:
        session.delete(member)  # its worker role goes with it
        session.flush()
