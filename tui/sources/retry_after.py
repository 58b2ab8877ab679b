"""What a server said about when to come back: ``ratelimit-reset``, ``Retry-After``, ``x-ratelimit-reset``.

Shared by the HTTP adapters so every upstream's rate limit is honoured the same way.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

MAX_WAIT = 300.0
"""Longest wait a header may ask for; a bogus value must not park a poller for hours."""


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, bounded to [0, :data:`MAX_WAIT`]; ``None`` when it did not say.

    Reads, in order: ``ratelimit-reset`` (PagerDuty: seconds), ``Retry-After`` (seconds or an
    HTTP date) and ``x-ratelimit-reset`` (GitHub: epoch seconds). Header names are case-insensitive.

    Args:
        headers: The response headers.
        now: Epoch seconds for date-valued headers (the current time when ``None``).
    """
    lower = {str(key).lower(): str(value).strip() for key, value in headers.items()}
    now = time.time() if now is None else now
    wait: float | None = None
    if (value := lower.get("ratelimit-reset")) is not None:
        wait = _number(value)
    if wait is None and (value := lower.get("retry-after")) is not None:
        wait = _number(value)
        if wait is None:
            try:
                wait = parsedate_to_datetime(value).timestamp() - now
            except (TypeError, ValueError, IndexError, OverflowError):
                wait = None
    if wait is None and (value := lower.get("x-ratelimit-reset")) is not None and (epoch := _number(value)) is not None:
        wait = epoch - now
    if wait is None:
        return None
    return min(max(wait, 0.0), MAX_WAIT)


def _number(text: str) -> float | None:
    """``text`` as a finite number, else ``None``."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None
