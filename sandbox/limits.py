"""Telegram's flood control and size limits, enforced the way the real Bot API does."""

import math
from collections import deque
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sandbox.errors import bad_request, too_many_requests

GROUP_TYPES = frozenset({"group", "supergroup"})


@dataclass
class LimitSet:
    """Named non-negative integer limits that tests may change at run time."""

    def update(self, values: Mapping[str, Any]) -> None:
        """Change the named limits, refusing unknown names and non-integers."""
        known = {f.name for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown limit {name!r}")
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"limit {name!r} must be a non-negative integer")
        for name, value in values.items():
            setattr(self, name, value)

    def to_json(self) -> dict[str, int]:
        """Return the limits as a JSON object."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Limits(LimitSet):
    """Rate and size limits; a rate of 0 switches that limit off."""

    bot_per_second: int = 30
    private_per_second: int = 1
    group_per_minute: int = 20
    text_max: int = 4096
    caption_max: int = 1024
    callback_data_max: int = 64


# One sliding window: what it counts, how many it allows (0: no limit), over how many seconds.
Window = tuple[Hashable, int, float]


class RateLimiter:
    """Sliding-window counters per bot and per chat, answering 429 when a window is full."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._windows: dict[Hashable, deque[float]] = {}

    def reset(self) -> None:
        """Forget every counted message."""
        self._windows.clear()

    def acquire(self, limits: Limits, *, bot_id: int, chat_id: int, chat_type: str) -> None:
        """Count one outgoing message, or raise 429 with the seconds to wait."""
        checks: list[Window] = [((bot_id, None), limits.bot_per_second, 1.0)]
        if chat_type == "private":
            checks.append(((bot_id, chat_id), limits.private_per_second, 1.0))
        elif chat_type in GROUP_TYPES:
            checks.append(((bot_id, chat_id), limits.group_per_minute, 60.0))
        wait = self.take(checks)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))

    def take(self, checks: Sequence[Window]) -> float:
        """Count one event in every window and return 0, or return the seconds until all
        of them have room (counting nothing)."""
        now = self._clock()
        wait = 0.0
        for key, count, window in checks:
            if count <= 0:
                continue
            stamps = self._windows.setdefault(key, deque())
            while stamps and stamps[0] <= now - window:
                stamps.popleft()
            if len(stamps) >= count:
                wait = max(wait, stamps[len(stamps) - count] + window - now)
        if wait > 0:
            return wait
        for key, count, _ in checks:
            if count > 0:
                self._windows[key].append(now)
        return 0.0


def check_text(plain: str, limits: Limits) -> None:
    """Refuse empty or over-long message text (measured after entity parsing)."""
    if not plain.strip():
        raise bad_request("message text is empty")
    if len(plain) > limits.text_max:
        raise bad_request("message is too long")


def check_caption(plain: str, limits: Limits) -> None:
    """Refuse an over-long media caption."""
    if len(plain) > limits.caption_max:
        raise bad_request("message caption is too long")


def check_reply_markup(markup: Any, limits: Limits) -> None:
    """Validate a reply_markup object, refusing malformed keyboards and oversized button data."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            _check_button(button, limits)


def _check_button(button: Any, limits: Limits) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text is not specified")
    url = button.get("url")
    if url is not None and (
        not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://"))
    ):
        raise bad_request("BUTTON_URL_INVALID")
    data = button.get("callback_data")
    if data is not None:
        size = len(str(data).encode("utf-8"))
        if size == 0 or size > limits.callback_data_max:
            raise bad_request("BUTTON_DATA_INVALID")
        return
    actions = set(button) - {"text"}
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
