"""A small union tree with people in roles, for tests of rules that depend on the tree."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot.app import Core
from services import initiatives, roles, units
from storage.db import transaction
from storage.models import Author, ChannelIdentity, Member, Unit

Clock = Callable[[], datetime]


@dataclass
class Tree:
    """zone > enterprise A > workshop A1; zone > enterprise B. Member ids by name."""

    zone: int
    a: int
    a1: int
    b: int
    people: dict[str, int]


def person(session: Session, unit: Unit, name: str, language: str, clock: Clock) -> Member:
    member = Member(
        unit_id=unit.id or 0,
        display_name=name,
        language=language,
        consent_at=clock(),
        created_at=clock(),
    )
    session.add(member)
    session.flush()
    session.add(
        ChannelIdentity(
            member_id=member.id or 0, channel="telegram", external_user_id=name, chat_id=name
        )
    )
    return member


def build_tree(core: Core, clock: Clock) -> Tree:
    """Create the tree with its people and roles."""
    with transaction(core.engine) as session:
        now = clock()
        zone = units.add_unit(session=session, name="KCN", kind="zone_union", parent=None, now=now)
        a = units.add_unit(
            session=session, name="Công ty A", kind="enterprise", parent=zone, now=now
        )
        a1 = units.add_unit(session=session, name="Xưởng A1", kind="workshop", parent=a, now=now)
        b = units.add_unit(
            session=session, name="Công ty B", kind="enterprise", parent=zone, now=now
        )
        people = {
            "worker": person(session, a1, "worker", "vi", clock),
            "coauthor": person(session, a1, "coauthor", "en", clock),
            "reviewer": person(session, a, "reviewer", "vi", clock),
            "sibling": person(session, b, "sibling", "vi", clock),
            "revoked": person(session, a, "revoked", "vi", clock),
            "superior": person(session, zone, "superior", "id", clock),
        }
        roles.grant(session=session, member=people["reviewer"], unit=a, role="reviewer", now=now)
        roles.grant(session=session, member=people["sibling"], unit=b, role="reviewer", now=now)
        roles.grant(session=session, member=people["revoked"], unit=a, role="reviewer", now=now)
        roles.revoke(session=session, member=people["revoked"], unit=a, role="reviewer")
        roles.grant(
            session=session, member=people["superior"], unit=zone, role="reviewer", now=now
        )
        roles.grant(session=session, member=people["worker"], unit=a1, role="worker", now=now)
        return Tree(
            zone.id or 0,
            a.id or 0,
            a1.id or 0,
            b.id or 0,
            {k: v.id or 0 for k, v in people.items()},
        )


# Another initiative, nothing like the default one (no similar-initiatives step).
UNLIKE = {
    "title": "Băng tải tiết kiệm điện",
    "problem": "Băng tải chạy không tải ngoài ca",
    "solution": "Hẹn giờ ngắt điện băng tải",
}


def submitted(
    core: Core,
    tree: Tree,
    clock: Clock,
    coauthor_share: int = 0,
    *,
    title: str = "Máy dán nhãn tự động",
    problem: str = "Dán nhãn bằng tay mất nhiều thời gian",
    solution: str = "Lắp cảm biến và cơ cấu dán tự động",
) -> int:
    """Submit a complete initiative by the worker (with the co-author's share, if any)."""
    with transaction(core.engine) as session:
        worker = session.get(Member, tree.people["worker"])
        assert worker is not None
        draft = initiatives.start_draft(session=session, member=worker, now=clock())
        draft.title, draft.problem, draft.solution = title, problem, solution
        draft.field = "technical"
        draft.estimated_benefit_vnd = 120_000_000
        if coauthor_share:
            mine = session.exec(select(Author).where(Author.initiative_id == draft.id)).one()
            mine.share_percent = 100 - coauthor_share
            session.add(
                Author(
                    initiative_id=draft.id or 0,
                    member_id=tree.people["coauthor"],
                    name="coauthor",
                    share_percent=coauthor_share,
                )
            )
            session.flush()
        initiatives.submit(session=session, member=worker, initiative=draft, now=clock())
        return draft.id or 0
