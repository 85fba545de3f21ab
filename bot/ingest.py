"""``POST /ingest``: articles pushed as JSON, read exactly as a JSONL archive line is.

The body is one article object, a list of them, or ``{"articles": [...]}``; each
object has the JSONL fields (``id``, ``url``, ``source``, ``title``,
``published``, ``language``, ``text``) and goes through
:func:`digests.feeds.parse_jsonl`, so pushed and polled articles are the same
Articles. Any problem is a :class:`bot.errors.IngestError` whose message says what
is wrong (the server answers it with 400).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.errors import IngestError
from digests.feeds import parse_jsonl
from digests.models import Article


def decode_json(body: bytes) -> Any:
    """JSON from a request body, or :class:`IngestError` with the reason."""
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise IngestError("body is not UTF-8") from None
    except RecursionError:
        raise IngestError("JSON nested too deeply") from None
    except ValueError as exc:
        raise IngestError(f"malformed JSON: {exc}") from None


def records_of(data: Any, max_articles: int) -> list[dict[str, Any]]:
    if isinstance(data, dict) and "articles" in data:
        data = data["articles"]
    records = data if isinstance(data, list) else [data]
    if not records:
        raise IngestError("no articles")
    if len(records) > max_articles:
        raise IngestError(f"at most {max_articles} articles per request")
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise IngestError(f"article {number}: not a JSON object")
    return records


def parse_articles(
    body: bytes, *, max_articles: int, now: datetime, source: str = "ingest"
) -> list[Article]:
    """The articles of a pushed body, all or none (a batch with a bad article is refused)."""
    records = records_of(decode_json(body), max_articles)
    lines = b"\n".join(json.dumps(r, ensure_ascii=False).encode() for r in records)
    articles, problems = parse_jsonl(lines, source=source, now=now)
    if problems:
        raise IngestError("; ".join(p.replace("line", "article", 1) for p in problems[:5]))
    return articles
