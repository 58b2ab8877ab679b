"""How an upstream's address is shown in messages: host and port only, never credentials."""

from __future__ import annotations

from urllib.parse import urlsplit


def display_host(url: str) -> str:
    """``host:port`` of ``url``, without any ``user:password@`` part (messages reach the screen).

    >>> display_host("https://bot:s3cret@prometheus.internal:9090/prom")
    'prometheus.internal:9090'
    """
    netloc = urlsplit(url).netloc.rsplit("@", 1)[-1]
    return netloc or url.rsplit("@", 1)[-1]
