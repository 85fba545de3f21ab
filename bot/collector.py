"""The garbage collector's settings for a worker that holds large caches.

A worker keeps lexicons, word caches and fact profiles for its whole life, hundreds
of thousands of objects, and makes a few hundred short-lived ones per article. With
CPython's default thresholds (700 allocations) the collector ran ~600 young and
several full collections per 1,000 articles, and each full one walked every cached
object: about 1 ms of CPU per article on 10kGNAD, a fifth of the pipeline. Our data
forms almost no reference cycles (what dies goes by reference counting), so
collections can be rarer without letting garbage pile up.
"""

from __future__ import annotations

import gc

# Young collections every 50,000 net allocations instead of 700. With 10,000: 0.1-0.17 ms
# of collector time per article instead of 0.9-1.1 (10kGNAD through the pipeline, timed
# with a gc.callbacks hook, 2026-11-21). Compiled core, 2026-11-22: 0.11-0.12 ms with
# 10,000, 0.048 with 50,000, 0.06-0.07 with 100,000; but the poller's peak RSS with
# 10,000 feeds (bench/poller.py, limit 250 MB) is 226 / 232 / 241 MB.
YOUNG_THRESHOLD = 50_000


def tune_collector() -> None:
    """Rarer collections, and what exists now (modules, lexicons) left out of them."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 20, 20)
