"""A confidential initiative's attachments stay with the council that first recognized it."""

import pytest

from bot.app import Core
from core.errors import Refused
from services import review
from storage.db import transaction
from storage.models import Attachment, Initiative, Member
from tests.conftest import Clock
from tests.person import Person
from tests.test_review import act
from tests.tree import Tree, submitted


def seen_by(core: Core, who: int, initiative_id: int) -> list[str]:
    """Return the file refs of the attachments the services let a member see."""
    with transaction(core.engine) as session:
        member = session.get(Member, who)
        assert member is not None
        found = review.attachments_for(session=session, member=member, initiative_id=initiative_id)
        return [a.file_ref for a in found]


def confidential_with_a_photo(core: Core, tree: Tree, clock: Clock) -> int:
    initiative_id = submitted(core, tree, clock)
    with transaction(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        assert initiative is not None
        initiative.confidential = True
        session.add(
            Attachment(
                initiative_id=initiative_id,
                kind="photo",
                channel="telegram",
                file_ref="jig-drawing",
                created_at=clock(),
            )
        )
    return initiative_id


def opened(core: Core, who: str, initiative_id: int, card: str) -> Person:
    """Open the initiative's card from the queue, as a council member does."""
    council = Person(core.dispatcher, user_id=who, channel="telegram")
    council.say("/review")
    assert council.say(choice=f"review:{initiative_id}") == [card]
    return council


def test_the_first_council_sees_the_files_the_one_above_does_not(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = confidential_with_a_photo(core, tree, clock)
    assert seen_by(core, tree.people["reviewer"], initiative_id) == ["jig-drawing"]
    first = opened(core, "reviewer", initiative_id, "review.card")
    assert f"act:files:{initiative_id}" in first.options
    act(core, clock, tree.people["reviewer"], "approve", initiative_id)
    act(core, clock, tree.people["reviewer"], "recommend", initiative_id)
    assert seen_by(core, tree.people["superior"], initiative_id) == []
    zone = opened(core, "superior", initiative_id, "review.card_confidential")
    assert not any(o.startswith("act:files") for o in zone.options)
    assert zone.say(choice=f"act:files:{initiative_id}") == [
        "common.pick_option",
        "review.card_confidential",
    ]
    assert zone.last is not None and all(not r.files for r in zone.last.replies)


def test_an_initiative_that_is_not_confidential_shows_its_files_above_too(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = confidential_with_a_photo(core, tree, clock)
    with transaction(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        assert initiative is not None
        initiative.confidential = False
    act(core, clock, tree.people["reviewer"], "approve", initiative_id)
    act(core, clock, tree.people["reviewer"], "recommend", initiative_id)
    assert seen_by(core, tree.people["superior"], initiative_id) == ["jig-drawing"]


@pytest.mark.parametrize("who", ["sibling", "worker"])
def test_only_its_reviewers_are_shown_any_file(
    core: Core, tree: Tree, clock: Clock, who: str
) -> None:
    initiative_id = confidential_with_a_photo(core, tree, clock)
    with pytest.raises(Refused, match="review.not_allowed"):
        seen_by(core, tree.people[who], initiative_id)
