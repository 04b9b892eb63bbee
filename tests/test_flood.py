"""The client-side flood limiter: Telegram's windows, and a second spread over its tenths."""

from bot.flood import MARGIN, FloodLimiter, Rates


class Ticks:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def take(limiter: FloodLimiter, chats: range) -> int:
    """Count how many messages to these chats may go right now (each counted)."""
    taken = 0
    for chat in chats:
        if limiter.wait_time(str(chat), "private") > 0:
            break
        limiter.count(str(chat), "private")
        taken += 1
    return taken


def test_a_fast_rate_goes_out_a_tenth_at_a_time_and_never_beyond_the_second() -> None:
    ticks = Ticks()
    limiter = FloodLimiter(Rates(per_second=1000, private_per_second=1), clock=ticks)
    assert take(limiter, range(0, 5000)) == 100  # not the whole second in one burst
    ticks.now += 0.1
    assert take(limiter, range(1000, 5000)) == 100
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
