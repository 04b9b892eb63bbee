"""Every conversation the bot has, in one visible list."""

from handlers import (
    broadcast,
    campaigns,
    digest,
    export,
    groups,
    lifecycle,
    link,
    my,
    onboarding,
    privacy,
    review,
    search,
    settings,
    stats,
    wizard,
)
from handlers.conversation import Conversation


def get_conversations() -> list[Conversation]:
    """Return the conversations the dispatcher routes to."""
    return [  # in the order of the messengers' command menus
        wizard.CONVERSATION,
        my.CONVERSATION,
        search.CONVERSATION,
        review.CONVERSATION,
        stats.CONVERSATION,
        digest.CONVERSATION,
        export.CONVERSATION,
        broadcast.CONVERSATION,
        campaigns.CONVERSATION,
        privacy.CONVERSATION,
        settings.CONVERSATION,
        link.CONVERSATION,
        onboarding.CONVERSATION,
        groups.CONVERSATION,
        lifecycle.CONVERSATION,
    ]
