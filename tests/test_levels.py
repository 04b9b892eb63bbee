"""A council recognizes at most at the level of its unit's kind; higher means recommending up."""

import pytest
from sqlmodel import func, select

from bot.app import Core
from core.errors import Refused
from core.messages import t
from locales import Catalogs
from services import levels, review, roles, units
from storage.db import reading, transaction
from storage.models import Initiative, Member, OutboxMessage, StatusChange, Unit
from tests.conftest import Clock
from tests.person import Person
from tests.test_review import act
from tests.tree import Tree, person, submitted


def test_every_kind_of_unit_has_a_ceiling_and_every_level_a_label() -> None:
    assert set(levels.CEILINGS) == set(units.KINDS)
    assert set(levels.CEILINGS.values()) == set(levels.LEVELS)
    assert set(levels.LEVEL_LABELS) == set(levels.LEVELS)


@pytest.mark.parametrize(
    ("kind", "reached", "offered"),
    [
        ("enterprise", None, ("grassroots",)),
        ("workshop", None, ("grassroots",)),
        ("zone_union", None, ("grassroots", "superior")),
        ("zone_union", "grassroots", ("superior",)),
        ("cluster", "superior", ()),
        ("federation", "grassroots", ("superior", "provincial")),
        ("sector_union", "superior", ("provincial",)),
        ("confederation", "provincial", ("national",)),
        ("confederation", "national", ()),
    ],
)
def test_the_levels_a_council_may_award(
    kind: str, reached: str | None, offered: tuple[str, ...]
) -> None:
    assert levels.awardable(Unit(name="x", kind=kind), reached) == offered


def snapshot(core: Core, initiative_id: int) -> tuple[object, ...]:
    with reading(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        assert initiative is not None
        changes = session.exec(select(func.count()).select_from(StatusChange)).one()
        queued = session.exec(select(func.count()).select_from(OutboxMessage)).one()
        return initiative.status, initiative.level, initiative.review_unit_id, changes, queued


def approve(core: Core, clock: Clock, who: int, initiative_id: int, level: str) -> None:
    with transaction(core.engine) as session:
        reviewer = session.get(Member, who)
        assert reviewer is not None
        review.approve(
            session=session,
            reviewer=reviewer,
            initiative_id=initiative_id,
            benefit_vnd=100_000_000,
            level=level,
            now=clock(),
        )


def test_a_forged_national_level_from_an_enterprise_council_is_refused(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    council = Person(core.dispatcher, user_id="reviewer", channel="telegram")
    council.say("/review")
    council.say(choice=f"review:{initiative_id}")
    council.press("act:approve")
    assert council.say("100 triệu") == ["review.ask_level"]
    assert council.options == [f"level:grassroots:{initiative_id}"]  # only its own level
    before = snapshot(core, initiative_id)
    assert council.say(choice=f"level:national:{initiative_id}") == [
        "common.pick_option",
        "review.ask_level",
    ]
    for level in ("national", "provincial", "superior"):
        with pytest.raises(Refused) as refused:
            approve(core, clock, tree.people["reviewer"], initiative_id, level)
        assert refused.value.text.key == "review.level_not_allowed"
        rendered = core.catalogs.render(refused.value.text, "vi")
        assert "Công ty A" in rendered and "cơ sở" in rendered
    assert snapshot(core, initiative_id) == before
    assert council.say(choice=f"level:grassroots:{initiative_id}") == [
        "review.approved",
        "review.ask_after",
    ]
    assert snapshot(core, initiative_id)[:2] == ("approved", "grassroots")


def test_the_zone_council_raises_a_recommended_initiative_to_its_own_level_only(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    act(core, clock, tree.people["reviewer"], "approve", initiative_id)  # grassroots
    act(core, clock, tree.people["reviewer"], "recommend", initiative_id)
    zone = Person(core.dispatcher, user_id="superior", channel="telegram")
    zone.say("/review")
    zone.say(choice=f"review:{initiative_id}")
    zone.press("act:approve")
    assert zone.say("/skip") == ["review.ask_level"]
    assert zone.options == [f"level:superior:{initiative_id}"]
    with pytest.raises(Refused, match="review.level_not_allowed"):
        approve(core, clock, tree.people["superior"], initiative_id, "provincial")
    assert zone.press("level:superior") == ["review.approved", "review.ask_after"]
    assert snapshot(core, initiative_id)[:2] == ("approved", "superior")
    # Nothing above the zone may raise it further.
    with pytest.raises(Refused, match="review.no_superior"):
        act(core, clock, tree.people["superior"], "recommend", initiative_id)


def test_recommending_passes_over_a_council_that_could_not_raise_the_level(
    core: Core, tree: Tree, clock: Clock
) -> None:
    with transaction(core.engine) as session:
        workshop = session.get(Unit, tree.a1)
        assert workshop is not None
        foreman = person(session, workshop, "foreman", "vi", clock)
        roles.grant(session=session, member=foreman, unit=workshop, role="reviewer", now=clock())
        foreman_id = foreman.id or 0
    initiative_id = submitted(core, tree, clock)  # the workshop's council is the nearest
    with reading(core.engine) as session:
        first = session.get(Initiative, initiative_id)
        assert first is not None and first.review_unit_id == tree.a1
    act(core, clock, foreman_id, "approve", initiative_id)
    with transaction(core.engine) as session:
        reviewer = session.get(Member, foreman_id)
        assert reviewer is not None
        superior = review.recommend(
            session=session, reviewer=reviewer, initiative_id=initiative_id, now=clock()
        )
        assert superior.id == tree.zone  # not enterprise A: it awards grassroots only


@pytest.mark.parametrize("level", levels.LEVELS)
def test_the_approval_notice_names_each_level_without_a_doubled_word(level: str) -> None:
    """ "công nhận cấp {level}" once read "cấp cấp trên trực tiếp" (and Indonesian "tingkat
    tingkat dasar"): each template around a level reads right with every level's name."""
    catalogs = Catalogs()
    for language in catalogs.languages:
        for key in ("notice.approved", "review.card_confidential", "certificate.level"):
            text = t(
                key,
                title="T",
                level=levels.LEVEL_LABELS[level],
                benefit="1",
                reward="2",
                id=1,
                effects="E",
                history="H",
            )
            words = catalogs.render(text, language).lower().replace("/", " ").split()
            doubled = [a for a, b in zip(words, words[1:], strict=False) if a == b]
            assert not doubled, (language, key, doubled)
