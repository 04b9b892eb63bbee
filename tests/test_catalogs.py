"""Every user-facing text exists, non-empty, in every language, with the same parameters."""

import re
import string
from pathlib import Path
from typing import get_args

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from core.money import MoneyError, Reason, parse_vnd
from locales import Catalogs
from services.initiatives import FIELDS
from views.labels import FIELD_LABELS, LANGUAGE_LABELS, STATUS_LABELS, money_problem

ROOT = Path(__file__).resolve().parent.parent
REQUIRED_LANGUAGES = ("vi", "en", "id")
KEYWORDS = {"t": None, "Refused": None, "Text": None}


def keys_in_code() -> set[str]:
    """Return every catalog key the code passes to t(), Text() or Refused()."""
    found = set()
    for folder in ("core", "storage", "services", "locales", "views", "handlers", "bot"):
        for _name, _line, message, *_rest in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(str(message))
    return found


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


CATALOGS = Catalogs()
KEYS = keys_in_code()


def test_code_uses_a_plausible_number_of_keys() -> None:
    assert len(KEYS) > 100
    assert "wizard.ask_title" in KEYS and "money.unreadable" in KEYS


def missing(catalogs: Catalogs, language: str) -> list[str]:
    """Return the keys used in code that a language lacks or leaves empty."""
    catalog = catalogs.messages.get(language, {})
    return sorted(key for key in KEYS if not catalog.get(key, "").strip())


@pytest.mark.parametrize("language", REQUIRED_LANGUAGES)
def test_no_key_is_missing_or_empty(language: str) -> None:
    assert missing(CATALOGS, language) == []


@pytest.mark.parametrize("language", REQUIRED_LANGUAGES)
def test_no_catalog_keeps_keys_the_code_no_longer_uses(language: str) -> None:
    assert sorted(set(CATALOGS.messages[language]) - KEYS) == []


@pytest.mark.parametrize("language", ("vi", "id"))
def test_parameters_match_english(language: str) -> None:
    wrong = [
        key
        for key in KEYS
        if fields(CATALOGS.messages[language][key]) != fields(CATALOGS.messages["en"][key])
    ]
    assert wrong == []


def test_labels_cover_every_code_the_services_use() -> None:
    assert set(FIELD_LABELS) == set(FIELDS)
    assert set(LANGUAGE_LABELS) == set(REQUIRED_LANGUAGES)
    assert {"draft", "submitted", "under_review"} <= set(STATUS_LABELS)


REFUSED_AMOUNTS = ["", "abc", "-5", "0", "9" * 20, "1-2 tỷ", "1-2", "200", "1.500 tr"]


@pytest.mark.parametrize("language", REQUIRED_LANGUAGES)
@pytest.mark.parametrize("text", REFUSED_AMOUNTS)
def test_every_money_refusal_renders(language: str, text: str) -> None:
    with pytest.raises(MoneyError) as caught:
        parse_vnd(text)
    rendered = CATALOGS.render(money_problem(caught.value), language)
    assert rendered.strip()
    assert "{" not in rendered


def test_every_money_reason_is_exercised() -> None:
    reasons = set()
    for text in REFUSED_AMOUNTS:
        with pytest.raises(MoneyError) as caught:
            parse_vnd(text)
        reasons.add(caught.value.reason)
    assert reasons == set(get_args(Reason))


def test_vietnamese_is_really_vietnamese() -> None:
    assert "sáng kiến" in CATALOGS.template("wizard.ask_title", "vi").lower()


def test_a_missing_or_empty_key_is_detected(tmp_path: Path) -> None:
    for language in REQUIRED_LANGUAGES:
        source = ROOT / "locales" / language / "LC_MESSAGES" / "messages.po"
        target = tmp_path / language / "LC_MESSAGES" / "messages.po"
        target.parent.mkdir(parents=True)
        text = source.read_text("utf-8")
        if language == "id":
            text = text.replace('msgid "wizard.ask_title"', 'msgid "wizard.ask_title_gone"')
        if language == "vi":
            text = re.sub(r'(msgid "my.empty"\nmsgstr ).*', r'\1""', text)
        target.write_text(text, "utf-8")
    damaged = Catalogs(tmp_path)
    assert missing(damaged, "id") == ["wizard.ask_title"]
    assert missing(damaged, "vi") == ["my.empty"]
    assert missing(damaged, "en") == []


@pytest.mark.parametrize("language", REQUIRED_LANGUAGES)
def test_every_catalog_is_well_formed(language: str) -> None:
    path = ROOT / "locales" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po, abort_invalid=True)  # a raw line break in a msgstr is an error
    assert {str(m.id) for m in catalog if m.id} == set(CATALOGS.messages[language])
