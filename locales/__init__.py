"""Gettext catalogs (read with Babel) and rendering of texts in a language."""

import html
from collections.abc import Callable, Sequence
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from core.folding import loose
from core.messages import Lines, Money, Number, Option, Text
from core.money import format_number, format_vnd
from core.typed import number_in

DIRECTORY = Path(__file__).parent
FALLBACK = "en"


def plain(text: str) -> str:
    """Leave text as it is (for channels that show plain text)."""
    return text


def escape_html(text: str) -> str:
    """Escape text for an HTML message."""
    return html.escape(text, quote=False)


class Catalogs:
    """Every language's messages, loaded once from `locales/<lang>/LC_MESSAGES`."""

    def __init__(self, directory: Path = DIRECTORY, *, zone: tzinfo | None = None) -> None:
        self.messages: dict[str, dict[str, str]] = {}
        for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
            with po.open("rb") as handle:
                catalog = read_po(handle)
            self.messages[po.parent.parent.name] = {
                str(m.id): str(m.string) for m in catalog if m.id and m.string
            }
        self.zone = zone
        self._words: dict[str, tuple[str, ...]] = {}  # see `words`

    @property
    def languages(self) -> tuple[str, ...]:
        """Return the languages that have a catalog."""
        return tuple(self.messages)

    def template(self, key: str, language: str) -> str:
        """Return the raw message of a key, falling back to English, then the key."""
        for lang in (language, FALLBACK):
            found = self.messages.get(lang, {}).get(key)
            if found:
                return found
        return key

    def render(self, text: Text | str, language: str, escape: Callable[[str], str] = plain) -> str:
        """Render a text in a language; user-supplied strings pass through `escape`."""
        if isinstance(text, str):
            return escape(text)
        params = {name: self._value(v, language, escape) for name, v in text.params.items()}
        return self.template(text.key, language).format(**params)

    def _value(self, value: Any, language: str, escape: Callable[[str], str]) -> str:
        if isinstance(value, Text):
            return self.render(value, language, escape)
        if isinstance(value, Lines):
            return "\n".join(self.render(item, language, escape) for item in value.items)
        if isinstance(value, Money):
            return format_vnd(value.vnd, language)
        if isinstance(value, Number):
            return format_number(value.value, language)
        if isinstance(value, datetime):
            local = value.astimezone(self.zone) if self.zone else value
            return local.strftime("%d/%m/%Y %H:%M")
        if isinstance(value, date):
            return value.strftime("%d/%m/%Y")
        if isinstance(value, bool | int):
            return str(int(value))
        return escape(str(value))

    def match_option(
        self, options: Sequence[Option], language: str, *, text: str | None, choice: str | None
    ) -> str | None:
        """Return the value of the option a user picked by button, number or label."""
        values = [option.value for option in options]
        if choice is not None:
            return choice if choice in values else None
        if not text:
            return None
        wanted = loose(text)
        number = number_in(wanted)
        if number is not None and 1 <= number <= len(options):
            return values[number - 1]
        for option in options:
            if loose(self.render(option.label, language)) == wanted:
                return option.value
        for option in options:
            if option.words is not None and wanted in self.words(option.words):
                return option.value
        return None

    def is_word(self, text: Text, typed: str) -> bool:
        """Whether `typed` is one of a text's comma-separated words, in any language."""
        return bool(typed) and loose(typed) in self.words(text)

    def words(self, text: Text) -> tuple[str, ...]:
        """A word list's comma-separated words in every language, folded. A word list is a
        catalog text without parameters, read once: typed answers are compared with them
        on every wizard step."""
        found = self._words.get(text.key)
        if found is None:
            rendered = (self.render(text, language) for language in self.languages)
            found = tuple(loose(word) for words in rendered for word in words.split(","))
            self._words[text.key] = found
        return found

    def after_word(self, text: Text, typed: str) -> str | None:
        """Return what follows one of a text's comma-separated words, in any language, at
        the start of `typed` (compared loosely: no case, no diacritics); None if none does."""
        tokens = typed.split()
        for word in self.words(text):
            size = len(word.split())
            if size and loose(" ".join(tokens[:size])) == word:
                return " ".join(tokens[size:])
        return None
