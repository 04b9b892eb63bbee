"""The client-side flood limiter: Telegram's windows, a second spread over its tenths,
pauses ordered by 429s, a rate that adapts to them, and replies ahead of the outbox."""

import asyncio
import heapq
import itertools

import pytest

from bot.channels.flood import MARGIN, MIN_SHARE, RECOVERY_HOLD, FloodLimiter, Rates


class Ticks:
    """A clock the test moves by hand, and a sleep that ends when the clock gets there."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self.order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock has moved `seconds` on."""
        woken = asyncio.get_running_loop().create_future()
        heapq.heappush(self.sleepers, (self.now + seconds, next(self.order), woken))
        await woken

    async def advance(self, seconds: float) -> None:
        """Move the clock on, waking each sleeper at its time (in the order they slept)."""
        end = self.now + seconds
        await settle()
        while self.sleepers and self.sleepers[0][0] <= end:
            at, _, woken = heapq.heappop(self.sleepers)
            self.now = max(self.now, at)
            if not woken.done():
                woken.set_result(None)
            await settle()
        self.now = end


async def settle() -> None:
    """Let every task that can run, run (the clock does not move)."""
    for _ in range(20):
        await asyncio.sleep(0)


def take(limiter: FloodLimiter, chats: range) -> int:
    """Count how many messages to these chats may go right now (each counted)."""
    taken = 0
    for chat in chats:
        if limiter.wait_time(str(chat), "private") > 0:
            break
        limiter.count(str(chat), "private")
        taken += 1
    return taken


def test_a_fast_rate_goes_out_a_fifth_at_a_time_at_most_and_never_beyond_the_second() -> None:
    ticks = Ticks()
    limiter = FloodLimiter(Rates(per_second=1000, private_per_second=1), clock=ticks)
    assert take(limiter, range(0, 5000)) == 200  # not the whole second in one burst
    ticks.now += 0.1
    assert take(limiter, range(1000, 5000)) == 200  # a tenth catches up on the one before
    for _ in range(8):
        ticks.now += 0.1
        take(limiter, range(10_000 + int(ticks.now * 1000), 20_000 + int(ticks.now * 1000)))
    ticks.now += 0.05  # 1,000 sent in the last second: wait
    assert limiter.wait_time("999999", "private") > 0


def test_a_chat_gets_one_message_a_second_and_slow_rates_are_not_sliced() -> None:
    ticks = Ticks()
    limiter = FloodLimiter(Rates(per_second=10, private_per_second=1), clock=ticks)
    assert take(limiter, range(0, 100)) == 10
    assert limiter.wait_time("0", "private") > 0
    ticks.now += 1.0
    assert limiter.wait_time("0", "private") > 0  # Telegram's second, and a margin for jitter
    ticks.now += MARGIN
    assert limiter.wait_time("0", "private") == 0


async def test_a_send_counts_from_its_answer_so_a_stall_before_it_left_earns_no_429() -> None:
    # Three a second: two sends acquired at once; the first leaves late (a stall) and
    # is answered 0.3 s on. Telegram may have counted it as late as that, so its place in
    # the second frees 0.3 s later than if it were counted from its acquire.
    ticks = Ticks()
    limiter = FloodLimiter(Rates(per_second=3, private_per_second=0), clock=ticks)
    limiter.sleep = ticks.sleep
    limiter.count("quick", "private")

    async def stalled() -> None:
        async with limiter.slot("late", "private"):
            await ticks.sleep(0.3)

    send = asyncio.create_task(stalled())
    await settle()
    assert limiter.wait_time("x", "private") == 0  # one place of three left
    await ticks.advance(0.3)
    await send
    limiter.count("third", "private")
    ticks.now = 101.0 + MARGIN  # the first second is over: the quick send's place frees
    assert limiter.wait_time("x", "private") == 0
    limiter.count("fourth", "private")
    assert limiter.wait_time("x", "private") == pytest.approx(0.3)  # not 0: counted late
    ticks.now += 0.3
    assert limiter.wait_time("x", "private") == 0


async def test_a_failed_send_still_counts_from_its_answer() -> None:
    ticks = Ticks()
    limiter = FloodLimiter(Rates(per_second=1, private_per_second=0), clock=ticks)
    limiter.sleep = ticks.sleep
    with pytest.raises(RuntimeError):
        async with limiter.slot("1", "private"):
            ticks.now += 0.5
            raise RuntimeError("network")
    assert limiter.wait_time("2", "private") == pytest.approx(1.0 + MARGIN)
    assert list(limiter.windows[("*",)]) == [100.5]  # moved, not doubled


@pytest.mark.parametrize("rates", [Rates(), Rates(0, 0, 0)], ids=["limits", "no limits"])
async def test_a_private_chats_429_pauses_the_whole_bot_and_no_pause_is_shortened(
    rates: Rates,
) -> None:
    ticks = Ticks()
    limiter = FloodLimiter(rates, clock=ticks, sleep=ticks.sleep)
    limiter.count("1", "private")
    limiter.pause("1", "private", 3.0)
    assert limiter.wait_time("2", "private") == pytest.approx(3.0)  # another person
    assert limiter.wait_time("-5", "group") == pytest.approx(3.0)  # a group
    limiter.pause("2", "private", 1.0)  # a shorter retry_after leaves the longer pause
    ticks.now += 1.5
    assert limiter.wait_time("3", "private") == pytest.approx(1.5)

    later = [
        asyncio.create_task(limiter.acquire("4", "private")),
        asyncio.create_task(limiter.acquire("-5", "group", urgent=True)),
    ]
    await ticks.advance(1.4)
    assert not any(task.done() for task in later)  # every sender waits it out
    await ticks.advance(0.1)
    assert all(task.done() for task in later)
    assert limiter.wait_time("6", "private") == 0


def test_a_groups_429_pauses_that_group_when_the_bot_wide_window_had_room() -> None:
    ticks = Ticks()
    limiter = FloodLimiter(Rates(per_second=30, group_per_minute=20), clock=ticks)
    limiter.count("-7", "group")
    limiter.pause("-7", "group", 5.0)
    assert limiter.wait_time("-7", "group") == pytest.approx(5.0)
    assert limiter.wait_time("-8", "group") == 0
    assert limiter.wait_time("1", "private") == 0
    assert limiter.per_second(ticks.now) == 30  # not the bot's limit: its rate stays
    ticks.now += 5.0
    assert limiter.wait_time("-7", "group") == 0


def test_a_groups_429_pauses_the_whole_bot_when_the_bot_wide_window_was_near_full() -> None:
    ticks = Ticks()
    limiter = FloodLimiter(Rates(per_second=10, group_per_minute=20), clock=ticks)
    assert take(limiter, range(9)) == 9
    limiter.count("-7", "group")
    limiter.pause("-7", "group", 2.0)
    assert limiter.wait_time("-8", "group") == pytest.approx(2.0)
    assert limiter.wait_time("99", "private") == pytest.approx(2.0)
    assert limiter.per_second(ticks.now) == 9  # what Telegram accepted of the 10


def test_a_bot_wide_429_lowers_the_rate_to_what_was_accepted_then_it_recovers() -> None:
    ticks = Ticks()
    limiter = FloodLimiter(Rates(per_second=30, private_per_second=1), clock=ticks)
    for tenth in range(2):  # 6 a tenth at most: 12 in 0.2 s, where Telegram takes 10 a second
        assert take(limiter, range(100 * tenth, 100 * tenth + 50)) == 6
        ticks.now += 0.1
    limiter.pause("10", "private", 1.0)  # the 11th: 429
    limiter.pause("11", "private", 1.0)  # the 12th, answered during the pause: one burst
    assert limiter.per_second(ticks.now) == 10
    ticks.now += 1.0  # the pause ends
    assert take(limiter, range(1000, 1100)) == 10  # at the learned rate, not 30
    ticks.now += RECOVERY_HOLD - 0.01
    assert limiter.per_second(ticks.now) == 10  # held a while
    ticks.now += 1.01
    assert limiter.per_second(ticks.now) == 11  # then rising a little at a time
    ticks.now += 3.0
    assert 11 < limiter.per_second(ticks.now) < 20
    ticks.now += 60.0
    assert limiter.per_second(ticks.now) == 30  # back to the configured rate
    assert limiter.lowered is None


def test_a_429_while_the_rate_is_still_lowered_holds_it_down_twice_as_long() -> None:
    ticks = Ticks()
    limiter = FloodLimiter(Rates(per_second=30, private_per_second=1), clock=ticks)
    for tenth in range(4):
        take(limiter, range(100 * tenth, 100 * tenth + 3))
        ticks.now += 0.1
    limiter.pause("10", "private", 1.0)
    limiter.pause("11", "private", 1.0)
    ticks.now += 1.0 + RECOVERY_HOLD + 1.0 + MARGIN  # the pause, the hold, a second rising
    assert take(limiter, range(1000, 1100)) == 11
    limiter.pause("1010", "private", 1.0)  # Telegram still takes 10
    assert limiter.per_second(ticks.now) == 10
    ticks.now += 1.0 + 2 * RECOVERY_HOLD - 0.01
    assert limiter.per_second(ticks.now) == 10
    ticks.now += 1.01
    assert limiter.per_second(ticks.now) == 11


def test_one_429_with_little_sent_lowers_the_rate_fourfold_at_most() -> None:
    ticks = Ticks()
    limiter = FloodLimiter(Rates(per_second=1000), clock=ticks)
    limiter.count("1", "private")
    limiter.pause("1", "private", 1.0)  # not the bot-wide limit: Telegram's own reasons
    assert limiter.per_second(ticks.now) == int(1000 * MIN_SHARE)


async def test_a_reply_waiting_for_the_bot_wide_budget_goes_before_the_outbox() -> None:
    ticks = Ticks()
    limiter = FloodLimiter(Rates(per_second=2), clock=ticks, sleep=ticks.sleep)
    assert take(limiter, range(2)) == 2  # the bot's second is full
    order: list[str] = []

    async def send(chat: str, urgent: bool = False) -> None:
        await limiter.acquire(chat, "private", urgent=urgent)
        order.append(chat)

    notices = [asyncio.create_task(send(f"n{i}")) for i in range(3)]
    await settle()  # the notices wait first, and wake first
    reply = asyncio.create_task(send("reply", urgent=True))
    await ticks.advance(0.5)
    assert order == []
    await ticks.advance(0.52)  # the second is over: two slots
    assert order == ["reply", "n0"]
    await ticks.advance(1.1)
    assert order == ["reply", "n0", "n1", "n2"]
    await asyncio.gather(reply, *notices)


async def test_a_reply_held_by_its_own_chats_window_holds_nobody_else() -> None:
    ticks = Ticks()
    limiter = FloodLimiter(Rates(per_second=10, private_per_second=1), clock=ticks)
    limiter.sleep = ticks.sleep
    limiter.count("person", "private")
    reply = asyncio.create_task(limiter.acquire("person", "private", urgent=True))
    notice = asyncio.create_task(limiter.acquire("other", "private"))
    await settle()
    assert notice.done() and not reply.done()  # no time passed: the notice did not wait
    assert limiter.urgent_waiting == 0
    await ticks.advance(1.0 + MARGIN)
    assert reply.done()


async def test_a_cancelled_reply_stops_holding_the_others() -> None:
    ticks = Ticks()
    limiter = FloodLimiter(Rates(per_second=1, private_per_second=0), clock=ticks)
    limiter.sleep = ticks.sleep
    limiter.count("1", "private")
    reply = asyncio.create_task(limiter.acquire("2", "private", urgent=True))
    await settle()
    assert limiter.urgent_waiting == 1
    reply.cancel()
    await settle()
    assert limiter.urgent_waiting == 0
    notice = asyncio.create_task(limiter.acquire("3", "private"))
    await ticks.advance(1.0 + MARGIN)
    assert notice.done()
