"""Every conversation the bot has, in one visible list."""

from handlers import (
    broadcast,
    campaigns,
    digest,
    groups,
    lifecycle,
    my,
    onboarding,
    privacy,
    review,
    settings,
    stats,
    wizard,
)
from handlers.conversation import Conversation


def get_conversations() -> list[Conversation]:
    """Return the conversations the dispatcher routes to."""
    return [
        onboarding.CONVERSATION,
        settings.CONVERSATION,
        privacy.CONVERSATION,
        wizard.CONVERSATION,
        my.CONVERSATION,
        review.CONVERSATION,
        groups.CONVERSATION,
        campaigns.CONVERSATION,
        stats.CONVERSATION,
        digest.CONVERSATION,
        broadcast.CONVERSATION,
        lifecycle.CONVERSATION,
    ]
