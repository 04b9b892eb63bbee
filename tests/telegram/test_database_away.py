"""The database away for a while: updates wait for it, uncounted, and nobody is told of
an error or loses a message (the Zalo channel's side is in tests/zalo/test_polling.py)."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.app import Core
from bot.channels.inbox import MAX_ATTEMPTS
from bot.channels.telegram.channel import TelegramChannel
from core.messages import t
from sandbox.client import SandboxClient
from storage import db, inbox, pg_pipeline
from tests.conftest import DEMO_CODE
from tests.telegram.conftest import TelegramUser, texts

OUTAGE = 2 * MAX_ATTEMPTS  # more failed tries than an update's attempts


def away_for(tries: list[int], real: Callable[..., Any]) -> Callable[..., Any]:
    """`real`, failing as a database that is away does while `tries` counts down."""

    def failing(*args: Any, **kwargs: Any) -> Any:
        if tries[0] > 0:
            tries[0] -= 1
            lost = Exception("server closed the connection unexpectedly")
            raise OperationalError("BEGIN", {}, lost, connection_invalidated=True)
        return real(*args, **kwargs)

    return failing


async def test_an_update_waits_out_the_database_and_is_answered_once(
    core: Core,
    unit_id: int,
    polling: TelegramChannel,
    users: SandboxClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db, "AWAY_PAUSE", 0.05)
    tries = [OUTAGE]
    # The first statement of an update's transaction, on each database.
    monkeypatch.setattr(pg_pipeline, "begin", away_for(tries, pg_pipeline.begin))
    monkeypatch.setattr(inbox, "store_or_claim", away_for(tries, inbox.store_or_claim))
    user = TelegramUser(users, 7401)
    said = texts(await user.say(f"/start {DEMO_CODE}"))
    assert "ngôn ngữ" in said.lower()
    assert tries == [0]  # it did wait the outage out
    await asyncio.sleep(0.5)
    sent = await users.messages(user.user_id)
    assert len(sent) == 1  # the answer, once, and no word of an error before it
    assert core.catalogs.render(t("common.internal_error"), "vi") not in texts(sent)
