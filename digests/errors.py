"""The one error hierarchy of the functional core."""


class DigestsError(Exception):
    """Base class of every error raised by ``digests``."""


class FeedParseError(DigestsError):
    """A feed or archive could not be turned into articles."""


class ArticleError(DigestsError):
    """One input record is not a usable article (missing or bad fields)."""


class RenderError(DigestsError):
    """A digest could not be rendered within the target's limits."""
