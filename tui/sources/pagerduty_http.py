"""Small HTTP details of the PagerDuty client: IDs as path segments, error text, reset times."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from tui.sources.pagerduty_parse import error_detail
from tui.sources.retry_after import retry_after_seconds

MAX_RESET_WAIT = 60.0
"""Longest single wait for ``ratelimit-reset`` (a bogus header must not hang a worker)."""


def reset_seconds(response: httpx.Response) -> float:
    """``ratelimit-reset`` (or ``Retry-After``) in seconds, bounded; 1 s when missing or garbled."""
    wait = retry_after_seconds(response.headers)
    return 1.0 if wait is None else min(wait, MAX_RESET_WAIT)


def segment(ident: str) -> str:
    """An ID as one URL path segment (an ID with ``/`` must not reach another endpoint)."""
    return quote(ident, safe="")


def error_text(response: httpx.Response) -> str:
    """The human part of an error answer, whatever its body."""
    try:
        return error_detail(response.json()) or response.reason_phrase
    except ValueError:
        return response.text[:200] or response.reason_phrase
