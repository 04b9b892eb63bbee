"""What a channel is: the one contract every messenger (and the console) implements.

The runtime (`bot.runtime`) serves any number of channels in one process, all on one
inbox, one outbox and one leader; a channel brings only what its messenger needs:

- **In**: `serve` receives updates until `stop` is set, and stores each in the inbox
  (or processes it in the transaction that stores it) before the messenger learns it
  arrived, so a crash loses nothing. The core processes each update id once.
- **Out**: `deliver` sends one outbox message (the outbox retries, not the channel);
  `post_status` sends or edits an organizer's live status message (a channel that
  cannot edit sends it anew, at its own cadence). A channel's own
  replies to updates are its business, within its flood limiter.
- **What it can show**: `capabilities` (buttons or numbered options, edits in place,
  the longest text, the markup) — views stay neutral; the channel renders.
- **Its flood profile**: `limiter`, built from the messenger's published (or configured)
  rates; replies, outbox messages and status messages of a channel share it.
- **Files across messengers** (optional): a file a person sent is stored by its
  messenger's id, which means nothing to another messenger. A channel that can fetch
  its files' bytes by that id `Downloads`; a channel that sends such files from their
  bytes `Fetches`, and the runtime hands it one `Fetch` over all the channels that
  download (a file of a channel that does not is `FileGone`).

Modelled on errbot's `Backend`: small and explicit.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from bot.channels.flood import FloodLimiter
from core.messages import Reply
from storage.outbox import Due


@dataclass(frozen=True)
class Capabilities:
    """What a channel can show a person."""

    buttons: bool  # options as buttons; False: numbered options answered by number or label
    edits: bool  # a sent message can be replaced (a card after a decision, live progress)
    max_text: int  # the longest text of one message, in characters; 0: no limit
    markup: Literal["html", "plain"]
    # The bot can message a person unprompted. A channel that cannot (the console) shows
    # a person's queued notices after its next answer, and the outbox sender leaves them.
    push: bool


@dataclass(frozen=True)
class Delivery:
    """What a channel says about one attempt to send an outbox message."""

    outcome: Literal["sent", "retry_after", "blocked", "transient", "rejected"]
    retry_after: float | None = None
    detail: str | None = None
    parts_sent: int = 0  # of a message of several sends: those that went out before a failure


class Channel(Protocol):
    """A messenger as the runtime sees it."""

    name: str  # the `channel` of its updates, outbox rows and identities ("telegram")
    capabilities: Capabilities
    limiter: FloodLimiter
    # Called when an update queued outbox messages; the runtime wakes the outbox sender.
    after_update: Callable[[], None]

    async def start(self) -> None:
        """Connect: learn the bot's identity, register its command menu."""

    async def serve(self, stop: asyncio.Event) -> None:
        """Receive and answer updates until `stop` is set (or the input ends)."""

    async def deliver(self, item: Due) -> Delivery:
        """Send one outbox message once; the outbox decides about retries."""

    async def post_status(
        self,
        chat_id: str,
        reply: Reply,
        language: str,
        message_id: str | None,
        *,
        final: bool = False,
        done: float = 0.0,
    ) -> str | None:
        """Send a status message, or edit `message_id`; its id, None if it failed.

        `final`: the last one (the report, which the outbox also sends as a new message);
        a channel that cannot edit may leave it to that copy. `done`: the share of the
        work behind it (0–1), for a channel that sends each status anew to space them.
        """

    async def close(self) -> None:
        """Release connections."""


class FetchFailed(Exception):
    """A file of another messenger could not be fetched now; a later try may work."""


class FileGone(FetchFailed):
    """The messenger no longer has the file (or refuses its id): no try will fetch it."""


# The bytes of a file by its channel and that channel's file id; raises FetchFailed.
Fetch = Callable[[str, str], Awaitable[bytes]]


@runtime_checkable
class Downloads(Protocol):
    """A channel whose people's files can be fetched by the ids it stored them under."""

    name: str

    async def download(self, file_ref: str) -> bytes:
        """Return a file's bytes; FileGone if the messenger refuses the id, FetchFailed
        if it cannot be fetched now. Nothing secret (a token in a URL) is in the error."""


@runtime_checkable
class Fetches(Protocol):
    """A channel that sends the files of other messengers from their bytes."""

    def fetch_with(self, fetch: Fetch) -> None:
        """Fetch other channels' files with `fetch` from now on."""
