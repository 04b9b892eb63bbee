"""Numbers people type to pick an option or name a row: odd digits get a clear answer."""

import pytest

from bot.app import Core
from core.typed import number_in
from tests.conftest import DEMO_CODE
from tests.person import Person


@pytest.mark.parametrize(
    ("typed", "number"),
    [("12", 12), (" 7 ", 7), ("１２", 12), ("²", None), ("①", None), ("9" * 25, None), ("", None)],
)
def test_only_decimal_digits_within_an_id_are_a_number(typed: str, number: int | None) -> None:
    assert number_in(typed) == number


@pytest.mark.parametrize("typed", ["²", "①", "9" * 25])
def test_an_odd_number_at_an_option_question_is_asked_again(
    core: Core, unit_id: int, typed: str
) -> None:
    person = Person(core.dispatcher)
    person.say(f"/start {DEMO_CODE}")
    answer = person.say(typed)
    assert "common.internal_error" not in answer and "onboarding.ask_language" in answer
    assert person.say("１") == ["onboarding.consent_text", "onboarding.ask_consent"]  # full-width


def test_an_odd_number_naming_a_co_author_is_refused(core: Core, unit_id: int) -> None:
    person = Person(core.dispatcher)
    person.join(DEMO_CODE)
    person.core_answers()
    person.press("next:details")
    person.say("/skip")
    person.press("authors:others")
    assert person.say("Lê Văn C 30%") == ["wizard.coauthor_added"]
    assert person.say("/remove ²") == ["wizard.coauthor_unknown", "wizard.ask_coauthor_line"]
