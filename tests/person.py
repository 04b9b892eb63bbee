"""A test user who talks to the dispatcher and reads the reply keys."""

from bot.dispatch.dispatcher import Dispatcher
from core.messages import InAttachment, Incoming, Response


class Person:
    """One messenger user; `say` returns the catalog keys of the bot's replies."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        user_id: str = "u1",
        name: str = "Nguyễn Văn An",
        channel: str = "console",
    ) -> None:
        self.dispatcher = dispatcher
        self.user_id = user_id
        self.name = name
        self.channel = channel
        self.last: Response | None = None
        self.shown: list[str] = []  # the option values of the last reply that had some

    def say(
        self,
        text: str | None = None,
        *,
        choice: str | None = None,
        attachments: tuple[InAttachment, ...] = (),
        update_id: str | None = None,
        unsupported: bool = False,
    ) -> list[str]:
        """Send one message and return the keys of the replies (empty if skipped)."""
        self.last = self.dispatcher.handle(
            Incoming(
                channel=self.channel,
                chat_id=self.user_id,
                user_id=self.user_id,
                text=text,
                choice=choice,
                attachments=attachments,
                update_id=update_id,
                display_name=self.name,
                unsupported=unsupported,
            )
        )
        for reply in reversed(self.last.replies if self.last is not None else ()):
            if reply.options:
                self.shown = [o.value for o in reply.options]
                break
        return [] if self.last is None else [r.text.key for r in self.last.replies]

    def press(self, action: str) -> list[str]:
        """Press the shown button that does `action` (`act:reject` presses `act:reject:17`)."""
        named = [v for v in self.shown if v == action or v.rpartition(":")[0] == action]
        assert named, f"no {action} among {self.shown}"
        return self.say(choice=named[0])

    @property
    def options(self) -> list[str]:
        """Return the option values of the last reply."""
        assert self.last is not None and self.last.replies
        return [o.value for o in self.last.replies[-1].options]

    def join(self, code: str, language: str = "lang:vi") -> list[str]:
        """Join a unit with an invite code, a language and consent."""
        self.say(f"/start {code}")
        self.say(choice=language)
        return self.say(choice="consent:yes")

    def core_answers(self) -> list[str]:
        """Start /new and give the five required answers."""
        self.say("/new")
        self.say("Máy dán nhãn tự động")
        self.say("Công nhân dán nhãn bằng tay, mất nhiều thời gian")
        self.say("Lắp cảm biến và cơ cấu dán nhãn tự động")
        self.press("field:technical")
        return self.say("1,5 tỷ")
