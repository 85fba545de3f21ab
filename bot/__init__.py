"""The imperative shell of digestbot: configuration, Redis, HTTP, Telegram, delivery."""

# First: decides, before anything imports the digests core, whether its compiled build
# is current (bot.native).
from bot import native as _native  # noqa: F401
