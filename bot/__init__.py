"""The imperative shell of digestbot: configuration, Redis, HTTP, Telegram, delivery."""
