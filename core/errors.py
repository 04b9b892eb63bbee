"""The one way a rule says no to a user."""

from typing import Any

from core.messages import Text


class Refused(Exception):  # noqa: N818  (a refusal is an expected answer, not a fault)
    """A rule refused an action or an answer; `text` tells the user why."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.text = Text(key, params)
