"""Amounts typed in a conversation: each language's spellings, and a question back with
the amounts meant when the text is a range, a bare number or "1.500 triệu"."""

from sqlmodel import select

from bot.app import Core
from storage.db import reading
from storage.models import Initiative
from tests.conftest import DEMO_CODE, Clock
from tests.person import Person
from tests.test_campaigns import organizer
from tests.test_stale_buttons import opened
from tests.tree import Tree, submitted


def at_benefit(core: Core, language: str = "lang:vi") -> Person:
    """A member who has answered the wizard up to the benefit question."""
    person = Person(core.dispatcher)
    person.join(DEMO_CODE, language)
    person.say("/new")
    person.say("Máy dán nhãn tự động")
    person.say("Công nhân dán nhãn bằng tay, mất nhiều thời gian")
    person.say("Lắp cảm biến và cơ cấu dán nhãn tự động")
    assert person.press("field:technical") == ["wizard.ask_benefit"]
    return person


def benefit(core: Core) -> int | None:
    with reading(core.engine) as session:
        return session.exec(select(Initiative)).one().estimated_benefit_vnd


def test_indonesian_amounts_are_read_in_the_wizard(core: Core, unit_id: int) -> None:
    person = at_benefit(core, "lang:id")
    assert person.say("120 juta") == ["wizard.benefit_saved", "wizard.ask_next"]
    assert benefit(core) == 120_000_000
    assert "120.000.000" in core.catalogs.render(person.last.replies[0].text, "id")  # type: ignore[union-attr]


def test_english_amounts_in_words_are_read_in_the_wizard(core: Core, unit_id: int) -> None:
    person = at_benefit(core, "lang:en")
    assert person.say("half a billion") == ["wizard.benefit_saved", "wizard.ask_next"]
    assert benefit(core) == 500_000_000


def test_a_bare_number_asks_thousands_or_millions(core: Core, unit_id: int) -> None:
    person = at_benefit(core)
    assert person.say("200") == ["money.no_unit", "wizard.ask_benefit"]
    assert person.options == ["amount:200000", "amount:200000000"]
    assert benefit(core) is None
    assert person.press("amount:200000000") == ["wizard.benefit_saved", "wizard.ask_next"]
    assert benefit(core) == 200_000_000


def test_a_range_offers_its_ends_and_midpoint_and_a_typed_figure_still_answers(
    core: Core, unit_id: int
) -> None:
    person = at_benefit(core)
    assert person.say("khoảng 300-500 triệu") == ["money.range", "wizard.ask_benefit"]
    assert person.options == ["amount:300000000", "amount:400000000", "amount:500000000"]
    assert person.say("450 triệu") == ["wizard.benefit_saved", "wizard.ask_next"]
    assert benefit(core) == 450_000_000


def test_a_forged_amount_button_saves_nothing(core: Core, unit_id: int) -> None:
    person = at_benefit(core)
    assert person.say(choice="amount:999") == ["common.stale_button", "wizard.ask_benefit"]
    person.say("1.500 triệu")
    assert person.options == ["amount:1500000", "amount:1500000000"]
    assert person.say(choice="amount:7") == ["common.pick_option", "wizard.ask_benefit"]
    assert benefit(core) is None
    assert person.press("amount:1500000") == ["wizard.benefit_saved", "wizard.ask_next"]
    assert benefit(core) == 1_500_000


def test_the_council_reads_its_own_language_and_picks_from_a_range(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    council = Person(core.dispatcher, "superior", channel="telegram")  # speaks Indonesian
    opened(council, initiative_id)
    council.say(choice=f"act:approve:{initiative_id}")
    assert council.say("120 juta") == ["review.ask_level"]
    assert council.say("/back") == ["review.ask_benefit"]
    assert council.say("100-200 juta") == ["money.range", "review.ask_benefit"]
    assert council.press("amount:150000000") == ["review.ask_level"]


def test_a_campaign_target_asks_back_too(core: Core, clock: Clock, tree: Tree) -> None:
    organizer(core, clock, tree.zone)
    boss = Person(core.dispatcher, "organizer", channel="telegram")
    boss.say("/campaign")
    boss.say(choice="campaign:new")
    for answer in ("Đợt thi đua 95 ngày", "/skip", "01/03/2027", "03/06/2027", "300"):
        boss.say(answer)
    assert boss.say("5") == ["money.no_unit", "campaign.ask_target_benefit"]
    assert boss.press("amount:5000000") == ["campaign.confirm"]


def test_amounts_offered_in_a_left_conversation_are_not_offered_elsewhere(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = submitted(core, tree, clock)
    reviewer = Person(core.dispatcher, "reviewer", channel="telegram")
    reviewer.say("/new")  # a draft of their own first
    for answer in ("Máy dán nhãn tự động", "Dán nhãn bằng tay", "Lắp cảm biến dán nhãn"):
        reviewer.say(answer)
    reviewer.press("field:technical")
    assert reviewer.say("300-500 triệu") == ["money.range", "wizard.ask_benefit"]
    reviewer.say("/cancel")
    opened(reviewer, initiative_id)
    assert reviewer.say(choice=f"act:approve:{initiative_id}")[-1] == "review.ask_benefit"
    assert not any(value.startswith("amount:") for value in reviewer.options)
    assert reviewer.say(choice="amount:400000000")[0] == "common.stale_button"  # not saved
