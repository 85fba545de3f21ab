"""The functional core of digestbot: pure functions over articles, stories and facts.

Nothing here performs I/O, reads the clock or the environment; callers pass
``now`` and bytes in and get values out. This package never imports ``bot``.
"""
