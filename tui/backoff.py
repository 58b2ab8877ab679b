"""When to try a failing upstream again: exponential backoff with jitter, honouring the server.

Every poller of the dashboard shares the rule, so a dead API is asked less and less often (instead
of once per refresh tick, for as long as the shift lasts), many clients that failed together do
not come back in lockstep (the jitter), and a server that said when to come back (a 429's
``ratelimit-reset`` or ``Retry-After``) is not asked before then.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_CAP = 60.0
"""Longest wait between two attempts, in seconds, unless the server asks for more."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait after the n-th failure in a row."""

    base: float
    """Wait after the first failure (the poller's own interval)."""
    cap: float = DEFAULT_CAP
    """Longest wait the policy picks by itself."""

    def delay(self, failures: int, *, retry_after: float | None = None, permanent: bool = False,
              rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before the next attempt.

        Args:
            failures: Failures in a row so far, at least 1.
            retry_after: What the server asked for, if anything; never waited less than that.
            permanent: The failure needs the user (bad token, no permission): wait the cap, since
                retrying sooner cannot help, but do retry, in case the upstream was wrong.
            rng: Uniform [0, 1) source, for the jitter.

        Returns:
            ``min(cap, base * 2**(failures-1))`` with "equal jitter" (a uniform pick in its upper
            half, so the wait never collapses towards zero), raised to ``retry_after``.
        """
        ceiling = self.cap if permanent else min(self.cap, self.base * 2 ** max(failures - 1, 0))
        wait = ceiling / 2 + rng() * ceiling / 2
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait
