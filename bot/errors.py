"""The one error hierarchy of the shell. The CLI maps each class to an exit status."""


class BotError(Exception):
    """Base class of every error raised by ``bot``."""

    exit_code = 1


class ConfigError(BotError):
    """The configuration file or a value in it is unusable (exit status 2)."""

    exit_code = 2

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(where + problem)


class StoreUnavailable(BotError):
    """Redis cannot be reached or the embedded server cannot start."""


class FetchError(BotError):
    """One feed or page could not be fetched; other feeds are unaffected."""


class InputError(BotError):
    """A file given on the command line cannot be read as articles."""

    exit_code = 2


class UnsafeURL(FetchError):
    """A URL the SSRF guard refuses (a non-public address, or its host cannot be resolved)."""


class ServeError(BotError):
    """``digestbot serve`` could not start (the port is taken, setWebhook refused, …)."""


class IngestError(BotError):
    """A pushed body is not an article or a batch of them; the message says why (HTTP 400)."""


def store_problem(exc: Exception) -> str:
    """One line for an error of the store met mid-run, saying what to do about it."""
    text = " ".join(str(exc).split())[:300]
    # redis-py turns the server's "OOM ..." reply into OutOfMemoryError without the prefix.
    if text.startswith("OOM") or "maxmemory" in text or type(exc).__name__ == "OutOfMemoryError":
        return (
            "Redis is out of memory (maxmemory reached, writes refused); raise maxmemory or "
            "free memory, then run again: unfinished work resumes"
        )
    return f"Redis failed mid-run: {text}; run again once it is back: unfinished work resumes"
