"""A local Telegram Bot API emulator: the Bot API for real clients, a control API for tests."""
